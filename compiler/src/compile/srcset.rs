//! Interned `SrcIPs` lists: sources are spelled and sorted once per distinct set, and
//! rules compare sources by id when merging.

use crate::addr::Addr;
use std::collections::HashMap;
use std::sync::Arc;

/// Id of an interned source list.
pub(crate) type SrcId = u32;

/// The interned source lists.
#[derive(Debug, Default)]
pub(crate) struct SrcTable {
    ids: HashMap<Arc<[String]>, SrcId>,
    lists: Vec<Arc<[String]>>,
}

impl SrcTable {
    /// Interns the sources `addrs`: spelled, sorted as strings (as SaaS sends them) and
    /// de-duplicated.
    pub(crate) fn intern(&mut self, addrs: &[Addr]) -> SrcId {
        let mut v: Vec<String> = addrs.iter().map(ToString::to_string).collect();
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
}
