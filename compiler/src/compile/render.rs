//! Step three of compilation: one node's output assembled from the items distributed to
//! it, in policy order, merging network rules with the same sources and protocols
//! (policy-spec §5.7).
//!
//! Every rule of a node's filter has a [`RuleKey`]: the merge group it was assembled from,
//! or the capability rule it copies. When an update re-renders a node, a rule whose key
//! no changed entry contributes to is the same as before, so it is moved from the
//! previous output instead of being rebuilt ([`Reuse`]); only the rules an update
//! touches are spelled again.

use super::entries::{Body, DstAddr, EntryRules};
use super::srcset::{GroupId, SrcTable};
use super::ssh::{self, CompiledSshRule, SshEntryRules};
use super::{CompiledRule, Item, NodeCompiled, to_u32};
use crate::resolve::{NodeId, Resolver};
use ipnet::IpNet;
use policy::model::Origin;
use std::collections::HashMap;
use wire::{CapGrant, FilterRule, NetPortRange, PortRange};

/// The distributed state a node's output is assembled from.
#[derive(Clone, Copy)]
pub(super) struct View<'s> {
    /// Interned sources and merge groups.
    pub srcs: &'s SrcTable,
    /// Global rules per entry.
    pub entries: &'s [EntryRules],
    /// SSH rules per entry.
    pub ssh_entries: &'s [SshEntryRules],
    /// Per node, its SSH rules as (entry, rule).
    pub ssh_index: &'s [Vec<(u32, u32)>],
    /// Items every node receives.
    pub everyone: &'s [Item],
    /// Items per node, sorted.
    pub per_node: &'s [Vec<Item>],
}

/// What a node's packet-filter rule was assembled from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum RuleKey {
    /// Every network item of one merge group (same sources and protocols).
    Group(GroupId),
    /// The capability rule `(entry, rule)`.
    Cap(u32, u32),
}

/// Reusable per-render memory: merge group → 1 + index of its rule in the filter being
/// built (0: none yet). Sized to the number of groups; reset after each node.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    slot: Vec<u32>,
}

impl Scratch {
    /// Memory for `groups` merge groups.
    pub(super) fn new(groups: usize) -> Self {
        Self {
            slot: vec![0; groups],
        }
    }

    fn get(&self, g: GroupId) -> Option<usize> {
        match self.slot.get(g as usize) {
            Some(0) | None => None,
            Some(i) => Some(*i as usize - 1),
        }
    }

    fn set(&mut self, g: GroupId, i: usize) {
        let i = to_u32(i + 1);
        if let Some(s) = self.slot.get_mut(g as usize) {
            *s = i;
        } else {
            self.slot.resize(g as usize + 1, 0);
            if let Some(s) = self.slot.get_mut(g as usize) {
                *s = i;
            }
        }
    }

    fn clear(&mut self, keys: &[RuleKey]) {
        for k in keys {
            if let RuleKey::Group(g) = k
                && let Some(s) = self.slot.get_mut(*g as usize)
            {
                *s = 0;
            }
        }
    }
}

/// What changed in an update: rules keyed by these are rebuilt, the others reused.
pub(super) struct Dirty<'a> {
    /// Per merge group, whether a changed entry contributes to it (before or after).
    pub groups: &'a [bool],
    /// Per entry, `None` when unchanged, else whether each of its rules changed.
    pub rules: &'a [Option<Vec<bool>>],
}

impl Dirty<'_> {
    fn touches(&self, key: RuleKey) -> bool {
        match key {
            RuleKey::Group(g) => self.groups.get(g as usize).copied().unwrap_or(true),
            RuleKey::Cap(e, ri) => match self.rules.get(e as usize) {
                Some(Some(rules)) => rules.get(ri as usize).copied().unwrap_or(true),
                Some(None) => false,
                None => true,
            },
        }
    }
}

/// A node's previous output, being re-rendered.
pub(super) struct Reuse<'a> {
    old: Vec<Option<CompiledRule>>,
    old_keys: Vec<RuleKey>,
    /// Merge group → 1 + index in `old`.
    old_slot: &'a mut Scratch,
    /// Capability rule → index in `old`.
    old_caps: HashMap<(u32, u32), usize>,
    dirty: &'a Dirty<'a>,
}

impl<'a> Reuse<'a> {
    /// Takes a node's previous filter and its keys.
    pub(super) fn new(
        old: Vec<CompiledRule>,
        old_keys: Vec<RuleKey>,
        old_slot: &'a mut Scratch,
        dirty: &'a Dirty<'a>,
    ) -> Self {
        let mut old_caps = HashMap::new();
        for (i, k) in old_keys.iter().enumerate() {
            match *k {
                RuleKey::Group(g) => old_slot.set(g, i),
                RuleKey::Cap(e, r) => {
                    old_caps.insert((e, r), i);
                }
            }
        }
        Self {
            old: old.into_iter().map(Some).collect(),
            old_keys,
            old_slot,
            old_caps,
            dirty,
        }
    }

    fn index(&self, key: RuleKey) -> Option<usize> {
        match key {
            RuleKey::Group(g) => self.old_slot.get(g),
            RuleKey::Cap(e, r) => self.old_caps.get(&(e, r)).copied(),
        }
    }

    /// The previous rule for `key` when no change touches it.
    fn take(&mut self, key: RuleKey) -> Option<CompiledRule> {
        if self.dirty.touches(key) {
            return None;
        }
        let i = self.index(key)?;
        self.old.get_mut(i)?.take()
    }

    /// Whether the re-rendered packet filter differs from the previous one: another
    /// sequence of keys, or a rebuilt rule unlike the one it replaces. Resets the memory.
    pub(super) fn differs(self, new: &Rendered) -> bool {
        let differs = new.keys != self.old_keys
            || new
                .node
                .packet_filter
                .iter()
                .zip(&new.keys)
                .zip(&new.reused)
                .any(|((rule, key), reused)| {
                    !*reused
                        && self
                            .index(*key)
                            .and_then(|i| self.old.get(i))
                            .and_then(Option::as_ref)
                            != Some(rule)
                });
        self.old_slot.clear(&self.old_keys);
        differs
    }
}

/// A node's output as rendered: the output, the key of each packet-filter rule, and
/// whether each rule was moved from the previous output.
pub(super) struct Rendered {
    /// The output.
    pub node: NodeCompiled,
    /// Per packet-filter rule, its key.
    pub keys: Vec<RuleKey>,
    /// Per packet-filter rule, whether it was reused.
    pub reused: Vec<bool>,
}

/// Assembles node `id`'s output from the distributed items. With `reuse`, rules no
/// change touches are moved from the previous output instead of being rebuilt.
pub(super) fn render(
    r: &Resolver<'_>,
    v: View<'_>,
    id: NodeId,
    scratch: &mut Scratch,
    mut reuse: Option<&mut Reuse<'_>>,
) -> Rendered {
    let Some(node) = r.node(id) else {
        return Rendered {
            node: NodeCompiled {
                name: String::new(),
                packet_filter: Vec::new(),
                ssh_policy: None,
                approved_routes: Vec::new(),
            },
            keys: Vec::new(),
            reused: Vec::new(),
        };
    };
    let mine = v.per_node.get(id.0).map_or(&[][..], Vec::as_slice);
    let expect = reuse.as_deref().map_or(0, |u| u.old_keys.len());
    let mut filter: Vec<CompiledRule> = Vec::with_capacity(expect);
    let mut keys: Vec<RuleKey> = Vec::with_capacity(expect);
    let mut reused: Vec<bool> = Vec::with_capacity(expect);
    let (mut a, mut b) = (v.everyone.iter().peekable(), mine.iter().peekable());
    loop {
        let item = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) => {
                if x <= y {
                    a.next()
                } else {
                    b.next()
                }
            }
            (Some(_), None) => a.next(),
            (None, Some(_)) => b.next(),
            (None, None) => None,
        };
        let Some(&(ei, ri, di)) = item else { break };
        let Some(entry) = v.entries.get(ei as usize) else {
            continue;
        };
        let Some(rule) = entry.rules.get(ri as usize) else {
            continue;
        };
        match &rule.body {
            Body::Ports(dsts) => {
                let Some(d) = dsts.get(di as usize) else {
                    continue;
                };
                let idx = match scratch.get(rule.group) {
                    Some(i) => i,
                    None => {
                        let key = RuleKey::Group(rule.group);
                        let previous = reuse.as_deref_mut().and_then(|u| u.take(key));
                        reused.push(previous.is_some());
                        filter.push(previous.unwrap_or_else(|| CompiledRule {
                            rule: FilterRule {
                                src_ips: v.srcs.get(rule.src).to_vec(),
                                ip_proto: rule.proto.clone(),
                                ..FilterRule::default()
                            },
                            origins: Vec::new(),
                            dst_origins: Vec::new(),
                        }));
                        keys.push(key);
                        scratch.set(rule.group, filter.len() - 1);
                        filter.len() - 1
                    }
                };
                if reused.get(idx).copied().unwrap_or(false) {
                    continue;
                }
                if let Some(cr) = filter.get_mut(idx) {
                    let oi = origin_index(&mut cr.origins, entry.origin);
                    cr.rule.dst_ports.push(NetPortRange {
                        ip: dst_string(&d.addr),
                        ports: PortRange {
                            first: d.ports.first,
                            last: d.ports.last,
                        },
                    });
                    cr.dst_origins.push(oi);
                }
            }
            Body::Caps { caps, .. } => {
                let key = RuleKey::Cap(ei, ri);
                let previous = reuse.as_deref_mut().and_then(|u| u.take(key));
                reused.push(previous.is_some());
                keys.push(key);
                filter.push(previous.unwrap_or_else(|| {
                    let dsts: Vec<String> = node
                        .addresses()
                        .map(|ip| IpNet::from(ip).to_string())
                        .collect();
                    CompiledRule {
                        rule: FilterRule {
                            src_ips: v.srcs.get(rule.src).to_vec(),
                            cap_grant: vec![CapGrant {
                                dsts,
                                caps: Vec::new(),
                                cap_map: caps.clone(),
                            }],
                            ..FilterRule::default()
                        },
                        origins: vec![entry.origin],
                        dst_origins: vec![0],
                    }
                }));
            }
        }
    }
    scratch.clear(&keys);
    let ssh_policy = r.policy.ssh.as_ref().map(|_| {
        let mut rules: Vec<CompiledSshRule> = v
            .ssh_index
            .get(id.0)
            .into_iter()
            .flatten()
            .filter_map(|(e, k)| {
                v.ssh_entries
                    .get(*e as usize)
                    .and_then(|x| x.get(*k as usize))
                    .map(|(_, rule)| rule.clone())
            })
            .collect();
        ssh::order_node_rules(&mut rules);
        rules
    });
    Rendered {
        node: NodeCompiled {
            name: node.name.clone(),
            packet_filter: filter,
            ssh_policy,
            approved_routes: r.approved.get(id.0).cloned().unwrap_or_default(),
        },
        keys,
        reused,
    }
}

fn origin_index(origins: &mut Vec<Origin>, o: Origin) -> u32 {
    let pos = origins
        .iter()
        .position(|x| x.section == o.section && x.index == o.index);
    to_u32(pos.unwrap_or_else(|| {
        origins.push(o);
        origins.len() - 1
    }))
}

fn dst_string(a: &DstAddr) -> String {
    match a {
        DstAddr::Any => "*".to_owned(),
        DstAddr::Node(_, ip) => ip.to_string(),
        DstAddr::Lit(a) | DstAddr::Internet(a) => a.to_string(),
    }
}
