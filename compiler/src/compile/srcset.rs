//! Interned `SrcIPs` lists: sources are spelled and sorted once per distinct set, and
//! rules compare sources by id when merging.

use crate::addr::Addr;
use std::collections::HashMap;
use std::sync::Arc;

/// Id of an interned source list.
pub(crate) type SrcId = u32;

/// Id of an interned (source list, protocols) pair: network rules a node merges.
pub(crate) type GroupId = u32;

/// The interned source lists.
#[derive(Clone, Debug, Default)]
pub(crate) struct SrcTable {
    ids: HashMap<Arc<[String]>, SrcId>,
    lists: Vec<Arc<[String]>>,
    /// Each address as spelled (the same node addresses recur in many lists).
    spelled: HashMap<Addr, String>,
    /// Address lists already interned, as given (spelling is the costly part).
    by_addrs: HashMap<Box<[Addr]>, SrcId>,
    groups: HashMap<(SrcId, Box<[i32]>), GroupId>,
}

impl SrcTable {
    /// Interns the sources `addrs`: spelled, sorted as strings (as SaaS sends them) and
    /// de-duplicated.
    pub(crate) fn intern(&mut self, addrs: &[Addr]) -> SrcId {
        if let Some(id) = self.by_addrs.get(addrs) {
            return *id;
        }
        let id = self.intern_spelled(addrs);
        self.by_addrs.insert(addrs.into(), id);
        id
    }

    fn intern_spelled(&mut self, addrs: &[Addr]) -> SrcId {
        let spelled = &mut self.spelled;
        let mut v: Vec<String> = addrs
            .iter()
            .map(|a| spelled.entry(*a).or_insert_with(|| a.to_string()).clone())
            .collect();
        v.sort_unstable();
        v.dedup();
        let list: Arc<[String]> = v.into();
        if let Some(id) = self.ids.get(&list) {
            return *id;
        }
        let id = SrcId::try_from(self.lists.len()).unwrap_or(SrcId::MAX);
        self.lists.push(Arc::clone(&list));
        self.ids.insert(list, id);
        id
    }

    /// The list with id `id`.
    pub(crate) fn get(&self, id: SrcId) -> &[String] {
        usize::try_from(id)
            .ok()
            .and_then(|i| self.lists.get(i))
            .map_or(&[], |l| l)
    }

    /// Interns the pair (`src`, `proto`).
    pub(crate) fn group(&mut self, src: SrcId, proto: &[i32]) -> GroupId {
        let next = GroupId::try_from(self.groups.len()).unwrap_or(GroupId::MAX);
        *self.groups.entry((src, proto.into())).or_insert(next)
    }

    /// Number of interned groups (every [`GroupId`] is below it).
    pub(crate) fn group_count(&self) -> usize {
        self.groups.len()
    }
}
