//! Incremental updates: a node joining or leaving the tailnet recomputes only what it
//! changes.
//!
//! 1. The policy entries that name the node (by identity, `autogroup:self`, or, for
//!    capability grants and SSH, by `*` or by an address range holding it) are resolved
//!    again; the others cannot change.
//! 2. Of those, only rules that differ are handed out again, and only to the nodes that
//!    receive them (before or after).
//! 3. Each affected node is re-rendered: rules whose merge group no changed rule
//!    contributes to are moved from its previous output, the others rebuilt
//!    ([`super::render::Reuse`]).
//!
//! A node with approved subnet routes changes what `*` means in every source, and so does
//! a node failing a device-posture gate (its addresses are cut out of the gated rules'
//! `*` and address-range sources), so its arrival or departure recompiles everything.

use super::entries::{self, Body, DstAddr};
use super::render::{Dirty, Reuse, Scratch, View, render};
use super::{Compiler, NodeCompiled, distribute, receivers, receives, ssh, ssh_index, to_u32};
use crate::inventory::{Node, is_exit_route};
use crate::resolve::{NodeId, Resolver};
use policy::model::{Alias, Autogroup};
use std::collections::HashMap;

impl Compiler<'_> {
    /// Adds a node (a node joining the tailnet) and recomputes only what changes.
    /// Returns the names of the nodes whose output changed, the new node included: what
    /// a control plane must push. Their new output is then in [`Compiler::node`].
    pub fn add_node(&mut self, node: Node) -> Vec<String> {
        let new_id = NodeId(self.inventory.nodes.len());
        self.inventory.nodes.push(node);
        let inventory = std::mem::take(&mut self.inventory);
        let policy = self.policy.clone();
        let r = Resolver::new(&policy, &inventory, self.resolve_options());
        let changed = if changes_address_sources(&r, new_id) {
            None
        } else if let Some(node) = r.node(new_id) {
            self.per_node.push(Vec::new());
            Some(self.update(&r, node, Some(new_id)))
        } else {
            Some(Vec::new())
        };
        drop(r);
        self.inventory = inventory;
        if let Some(n) = self.inventory.nodes.get(new_id.0) {
            self.by_name.entry(n.name.clone()).or_insert(new_id);
        }
        changed.unwrap_or_else(|| self.recompile())
    }

    /// Removes the node called `name` (a node leaving the tailnet) and recomputes only
    /// what changes. Returns the names of the remaining nodes whose output changed, or
    /// `None` when there is no such node.
    pub fn remove_node(&mut self, name: &str) -> Option<Vec<String>> {
        let gone = NodeId(self.inventory.nodes.iter().position(|n| n.name == name)?);
        let routes = {
            let r = Resolver::new(&self.policy, &self.inventory, self.resolve_options());
            changes_address_sources(&r, gone)
        };
        if gone.0 < self.inventory.nodes.len() {
            let node = self.inventory.nodes.remove(gone.0);
            if routes {
                self.out.remove(gone.0);
                return Some(self.recompile());
            }
            self.forget(gone);
            let inventory = std::mem::take(&mut self.inventory);
            let policy = self.policy.clone();
            let r = Resolver::new(&policy, &inventory, self.resolve_options());
            let changed = self.update(&r, &node, None);
            drop(r);
            self.inventory = inventory;
            self.index_names();
            return Some(changed);
        }
        None
    }

    /// Recompiles everything; returns the nodes whose output differs from before.
    fn recompile(&mut self) -> Vec<String> {
        let before = std::mem::take(&mut self.out);
        self.full();
        let by_name: HashMap<&str, &NodeCompiled> =
            before.iter().map(|n| (n.name.as_str(), n)).collect();
        self.out
            .iter()
            .filter(|n| by_name.get(n.name.as_str()) != Some(n))
            .map(|n| n.name.clone())
            .collect()
    }

    /// Drops node `gone` from the distributed state and renumbers the nodes after it;
    /// references to it become [`NodeId::NONE`].
    fn forget(&mut self, gone: NodeId) {
        let remap = |id: &mut NodeId| {
            if *id == gone {
                *id = NodeId::NONE;
            } else if *id > gone && *id != NodeId::NONE {
                *id = NodeId(id.0 - 1);
            }
        };
        for rule in self.entries.iter_mut().flat_map(|e| e.rules.iter_mut()) {
            match &mut rule.body {
                Body::Ports(dsts) => {
                    for d in dsts {
                        if let DstAddr::Node(id, _) = &mut d.addr {
                            remap(id);
                        }
                    }
                }
                Body::Caps { nodes, .. } => nodes.iter_mut().for_each(remap),
            }
        }
        for e in &mut self.ssh_entries {
            e.retain(|(id, _)| *id != gone);
            for (id, _) in e.iter_mut() {
                remap(id);
            }
        }
        if gone.0 < self.per_node.len() {
            self.per_node.remove(gone.0);
        }
        if gone.0 < self.out.len() {
            self.out.remove(gone.0);
        }
        if gone.0 < self.keys.len() {
            self.keys.remove(gone.0);
        }
        self.ssh_index = ssh_index(&self.ssh_entries, self.per_node.len());
    }

    /// Recomputes what `subject` (the node that joined as `joined`, or the node that
    /// left) changes, over the resolver of the new inventory. Returns the nodes whose
    /// output changed.
    fn update(&mut self, r: &Resolver<'_>, subject: &Node, joined: Option<NodeId>) -> Vec<String> {
        let node_count = r.node_count();
        let mut names = Names::new(r, subject);
        let mut affected: Vec<NodeId> = joined.into_iter().collect();
        let mut touched_everyone = false;
        // Per entry, `None` when unchanged, else which of its (new) rules changed.
        let mut changed_rules: Vec<Option<Vec<bool>>> = vec![None; self.entries.len()];
        let mut dirty_groups = vec![false; self.srcs.group_count()];
        let policy = self.policy.clone();
        let grants: Vec<_> = policy.grants.iter().flatten().collect();
        let acls: Vec<_> = policy.acls.iter().flatten().collect();
        let mut candidates: Vec<usize> = Vec::new();
        if !policy.is_allow_all_default() {
            for (e, g) in grants.iter().enumerate() {
                let caps = !g.app.is_empty();
                let mut aliases = g.src.iter().map(|s| &s.value);
                let mut dsts = g.dst.iter().map(|d| &d.value);
                if aliases.any(|a| names.names(a, caps)) || dsts.any(|a| names.names(a, caps)) {
                    candidates.push(e);
                }
            }
            for (i, a) in acls.iter().enumerate() {
                let mut srcs = a.src.iter().map(|s| &s.value);
                let mut dsts = a.dst.iter().map(|d| &d.value.alias);
                if srcs.any(|x| names.names(x, false)) || dsts.any(|x| names.names(x, false)) {
                    candidates.push(grants.len() + i);
                }
            }
        }
        for e in candidates {
            let fresh = if let Some(g) = grants.get(e) {
                entries::grant_rules(r, &mut self.srcs, g)
            } else if let Some(a) = e.checked_sub(grants.len()).and_then(|i| acls.get(i)) {
                entries::acl_rules(r, &mut self.srcs, a)
            } else {
                continue;
            };
            let Some(old) = self.entries.get(e) else {
                continue;
            };
            if *old == fresh {
                continue;
            }
            // Rules at the same place with the same content reach the same nodes with
            // the same items; only the others are handed out again.
            let same_shape = old.rules.len() == fresh.rules.len();
            let differs = |i: usize| !same_shape || old.rules.get(i) != fresh.rules.get(i);
            for entry in [old, &fresh] {
                for (ri, rule) in entry.rules.iter().enumerate() {
                    if !differs(ri) {
                        continue;
                    }
                    if let Some(d) = dirty_groups.get_mut(rule.group as usize) {
                        *d = true;
                    } else {
                        dirty_groups.resize(rule.group as usize + 1, false);
                        if let Some(d) = dirty_groups.get_mut(rule.group as usize) {
                            *d = true;
                        }
                    }
                    match &rule.body {
                        Body::Ports(dsts) => {
                            for d in dsts {
                                if d.addr == DstAddr::Any {
                                    touched_everyone = true;
                                } else {
                                    affected.extend(receivers(r, rule, &d.addr));
                                }
                            }
                        }
                        Body::Caps { nodes, .. } => affected.extend(nodes.iter().copied()),
                    }
                }
            }
            let fresh_len = fresh.rules.len();
            let differs: Vec<bool> = (0..fresh_len).map(differs).collect();
            if let Some(slot) = self.entries.get_mut(e) {
                *slot = fresh;
            }
            if let Some(c) = changed_rules.get_mut(e) {
                *c = Some(differs);
            }
        }
        if touched_everyone {
            affected.extend((0..node_count).map(NodeId));
        }
        affected.retain(|id| id.0 < node_count);
        affected.sort_unstable();
        affected.dedup();
        self.redistribute(r, &changed_rules, &affected, joined);
        self.update_ssh(r, &mut names, &mut affected);
        affected.sort_unstable();
        affected.dedup();
        let dirty = Dirty {
            groups: &dirty_groups,
            rules: &changed_rules,
        };
        self.rerender(r, &affected, &dirty)
    }

    /// Hands the changed entries out again to the affected nodes, and every entry that
    /// reaches the node that joined by address to it.
    fn redistribute(
        &mut self,
        r: &Resolver<'_>,
        changed_rules: &[Option<Vec<bool>>],
        affected: &[NodeId],
        joined: Option<NodeId>,
    ) {
        let changed = |e: u32, ri: u32| rule_changed(changed_rules, e, ri);
        self.everyone.retain(|(e, ri, _)| !changed(*e, *ri));
        let mut sink = vec![Vec::new(); self.per_node.len()];
        for (e, entry) in self.entries.iter().enumerate() {
            if let Some(Some(only)) = changed_rules.get(e) {
                distribute(r, e, entry, &mut self.everyone, &mut sink, Some(only));
            }
        }
        self.everyone.sort_unstable();
        for id in affected {
            let (Some(list), Some(new)) = (self.per_node.get_mut(id.0), sink.get_mut(id.0)) else {
                continue;
            };
            // Both are sorted: keep the unchanged items and merge the new ones in.
            let kept = std::mem::take(list);
            let mut merged = Vec::with_capacity(kept.len() + new.len());
            let mut kept = kept
                .into_iter()
                .filter(|(e, ri, _)| !changed(*e, *ri))
                .peekable();
            let mut new = std::mem::take(new).into_iter().peekable();
            loop {
                let next = match (kept.peek(), new.peek()) {
                    (Some(a), Some(b)) => {
                        if a <= b {
                            kept.next()
                        } else {
                            new.next()
                        }
                    }
                    (Some(_), None) => kept.next(),
                    (None, Some(_)) => new.next(),
                    (None, None) => None,
                };
                let Some(item) = next else { break };
                merged.push(item);
            }
            *list = merged;
        }
        // The node that joined also receives the unchanged entries whose destinations
        // hold its address (or, for an exit node, the internet).
        let Some(id) = joined else { return };
        let mut extra = Vec::new();
        for (e, entry) in self.entries.iter().enumerate() {
            for (ri, rule) in entry.rules.iter().enumerate() {
                if changed(to_u32(e), to_u32(ri)) {
                    continue;
                }
                if let Body::Ports(dsts) = &rule.body {
                    for (di, d) in dsts.iter().enumerate() {
                        if matches!(d.addr, DstAddr::Lit(_) | DstAddr::Internet(_))
                            && receives(r, rule, &d.addr, id)
                        {
                            extra.push((to_u32(e), to_u32(ri), to_u32(di)));
                        }
                    }
                }
            }
        }
        if let Some(list) = self.per_node.get_mut(id.0) {
            list.extend(extra);
            list.sort_unstable();
        }
    }

    /// Recomputes the SSH entries naming the subject; adds the nodes whose SSH rules
    /// differ to `affected`.
    fn update_ssh(
        &mut self,
        r: &Resolver<'_>,
        names: &mut Names<'_, '_>,
        affected: &mut Vec<NodeId>,
    ) {
        let mut any = false;
        let policy = self.policy.clone();
        for (i, e) in policy.ssh.iter().flatten().enumerate() {
            let hit = e
                .src
                .iter()
                .map(|s| &s.value)
                .chain(e.dst.iter().map(|d| &d.value))
                .any(|a| names.names(a, true));
            if !hit {
                continue;
            }
            let fresh = ssh::entry_rules(r, e, &self.options.control_url);
            if let Some(old) = self.ssh_entries.get(i) {
                let new_map = per_node(&fresh);
                let old_map = per_node(old);
                for (n, rules) in &old_map {
                    if new_map.get(n) != Some(rules) {
                        affected.push(*n);
                    }
                }
                for (n, rules) in &new_map {
                    if old_map.get(n) != Some(rules) {
                        affected.push(*n);
                    }
                }
            }
            if let Some(slot) = self.ssh_entries.get_mut(i) {
                *slot = fresh;
                any = true;
            }
        }
        affected.retain(|id| id.0 < r.node_count());
        if any || self.ssh_index.len() != r.node_count() {
            self.ssh_index = ssh_index(&self.ssh_entries, r.node_count());
        }
    }

    /// Re-renders the affected nodes, reusing what no change touches; returns those
    /// whose output changed.
    fn rerender(
        &mut self,
        r: &Resolver<'_>,
        affected: &[NodeId],
        dirty: &Dirty<'_>,
    ) -> Vec<String> {
        let groups = self.srcs.group_count();
        let (mut scratch, mut old_slot) = (Scratch::new(groups), Scratch::new(groups));
        let mut changed = Vec::new();
        let view = View {
            srcs: &self.srcs,
            entries: &self.entries,
            ssh_entries: &self.ssh_entries,
            ssh_index: &self.ssh_index,
            everyone: &self.everyone,
            per_node: &self.per_node,
        };
        for &id in affected {
            let previous = self
                .out
                .get_mut(id.0)
                .map(|slot| std::mem::replace(slot, empty_output()));
            let Some(previous) = previous else {
                let done = render(r, view, id, &mut scratch, None);
                changed.push(done.node.name.clone());
                self.out.push(done.node);
                self.keys.push(done.keys);
                continue;
            };
            let old_keys = self
                .keys
                .get_mut(id.0)
                .map(std::mem::take)
                .unwrap_or_default();
            let NodeCompiled {
                packet_filter,
                ssh_policy,
                approved_routes,
                ..
            } = previous;
            let mut reuse = Reuse::new(packet_filter, old_keys, &mut old_slot, dirty);
            let done = render(r, view, id, &mut scratch, Some(&mut reuse));
            let differs = reuse.differs(&done)
                || done.node.ssh_policy != ssh_policy
                || done.node.approved_routes != approved_routes;
            if differs {
                changed.push(done.node.name.clone());
            }
            if let (Some(slot), Some(keys)) = (self.out.get_mut(id.0), self.keys.get_mut(id.0)) {
                *slot = done.node;
                *keys = done.keys;
            }
        }
        changed
    }
}

/// Whether rule `ri` of entry `e` changed (a rule past the end of a changed entry did).
fn rule_changed(changed_rules: &[Option<Vec<bool>>], e: u32, ri: u32) -> bool {
    match changed_rules.get(e as usize) {
        Some(Some(rules)) => rules.get(ri as usize).copied().unwrap_or(true),
        _ => false,
    }
}

/// Whether node `id` changes the meaning of address sources: it has an approved subnet
/// (non-exit) route, or it fails some rule's posture gate.
fn changes_address_sources(r: &Resolver<'_>, id: NodeId) -> bool {
    r.gates.fails_any(id)
        || r.approved
            .get(id.0)
            .is_some_and(|v| v.iter().any(|n| !is_exit_route(n)))
}

fn empty_output() -> NodeCompiled {
    NodeCompiled {
        name: String::new(),
        packet_filter: Vec::new(),
        ssh_policy: None,
        approved_routes: Vec::new(),
    }
}

/// One SSH entry's rules grouped by node.
fn per_node(v: &ssh::SshEntryRules) -> HashMap<NodeId, Vec<&ssh::CompiledSshRule>> {
    let mut m: HashMap<NodeId, Vec<&ssh::CompiledSshRule>> = HashMap::new();
    for (n, rule) in v {
        m.entry(*n).or_default().push(rule);
    }
    m
}

/// Whether a selector names the subject node, with group membership looked up once per
/// group.
struct Names<'r, 'a> {
    r: &'r Resolver<'a>,
    node: &'r Node,
    groups: HashMap<String, bool>,
}

impl<'r, 'a> Names<'r, 'a> {
    fn new(r: &'r Resolver<'a>, node: &'r Node) -> Self {
        Self {
            r,
            node,
            groups: HashMap::new(),
        }
    }

    /// Whether `alias` names the node. With `wide` (capability grants, SSH, which list
    /// their receiving nodes), `*` and address ranges holding the node count too.
    fn names(&mut self, alias: &Alias, wide: bool) -> bool {
        match alias {
            Alias::Autogroup(Autogroup::SelfDevices) => !self.node.is_tagged(),
            Alias::Wildcard => wide,
            Alias::Group(g) => {
                if let Some(hit) = self.groups.get(g.as_str()) {
                    return *hit;
                }
                let hit = self.r.node_matches(self.node, alias);
                self.groups.insert(g.clone(), hit);
                hit
            }
            Alias::Addr(_) | Alias::Host(_) | Alias::Range(..) | Alias::IpSet(_) => {
                wide && self.r.literal_addrs(alias).is_some_and(|lits| {
                    lits.iter()
                        .any(|a| self.node.addresses().any(|ip| a.contains_ip(ip)))
                })
            }
            other => self.r.node_matches(self.node, other),
        }
    }
}
