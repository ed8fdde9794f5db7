//! Compilation: a checked policy and an inventory to every node's packet filter, SSH
//! policy and approved routes (policy-spec §5).
//!
//! Three steps, each linear in what it produces:
//! 1. every `grants`/`acls` entry is resolved once into global rules;
//! 2. each global rule's destinations are distributed to the nodes that receive them
//!    through the resolver's address and route indexes (never nodes × rules);
//! 3. each node's rules are assembled in policy order, merging rules with the same
//!    sources and protocols (§5.7).
//!
//! [`Compiler`] keeps steps 1 and 2 so that a node joining the tailnet recomputes only
//! the entries that name it and the nodes that receive them ([`Compiler::add_node`]).

mod entries;
mod json;
mod srcset;
pub mod ssh;

pub use json::{NodeJson, OutputJson};
pub use ssh::CompiledSshRule;

use crate::addr::{self, Addr};
use crate::inventory::{Inventory, Node};
use crate::resolve::{NodeId, ResolveOptions, Resolver};
use entries::{Body, DstAddr, EntryRules, GlobalRule};
use ipnet::IpNet;
use policy::Policy;
use policy::model::{Alias, Autogroup, Origin};
use srcset::SrcTable;
use std::collections::HashMap;
use wire::{CapGrant, FilterRule, NetPortRange, PortRange};

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Apply the policy's `autoApprovers` on top of the inventory's manual approvals
    /// (default). Off reproduces captures whose approvals are given in full.
    pub auto_approve: bool,
    /// The control server URL used in SSH check actions.
    pub control_url: String,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            auto_approve: true,
            control_url: "https://login.tailscale.com".to_owned(),
        }
    }
}

/// A packet-filter rule with the policy entries that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledRule {
    /// The wire rule, exactly as sent to the node.
    pub rule: FilterRule,
    /// Every entry that contributed (several when rules with the same sources merged),
    /// in order of first contribution.
    pub origins: Vec<Origin>,
    /// For each `rule.dst_ports` entry (or each `rule.cap_grant` entry), the index in
    /// `origins` of the entry that produced it.
    pub dst_origins: Vec<u32>,
}

/// Everything one node receives.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeCompiled {
    /// The node's name.
    pub name: String,
    /// Its `PacketFilter`.
    pub packet_filter: Vec<CompiledRule>,
    /// Its `SSHPolicy` rules; `None` when the policy has no `ssh` section.
    pub ssh_policy: Option<Vec<CompiledSshRule>>,
    /// Its approved routes (manual and automatic), in advertised order.
    pub approved_routes: Vec<IpNet>,
}

/// A destination entry delivered to a node: (entry, rule, destination) indices.
type Item = (u32, u32, u32);

/// The compiler state for one policy over a changing inventory.
#[derive(Clone, Debug)]
pub struct Compiler<'p> {
    policy: &'p Policy,
    inventory: Inventory,
    options: CompileOptions,
    srcs: SrcTable,
    entries: Vec<EntryRules>,
    ssh_entries: Vec<ssh::SshEntryRules>,
    /// Per node, the (entry, rule) indices of its SSH rules.
    ssh_index: Vec<Vec<(u32, u32)>>,
    /// Items every node receives (`*` destinations).
    everyone: Vec<Item>,
    /// Items per node.
    per_node: Vec<Vec<Item>>,
    /// Compiled output per node.
    out: Vec<NodeCompiled>,
}

impl<'p> Compiler<'p> {
    /// Compiles `policy` (which should have passed `policy::check`) for `inventory`.
    pub fn new(policy: &'p Policy, inventory: Inventory, options: CompileOptions) -> Self {
        let mut c = Compiler {
            policy,
            inventory,
            options,
            srcs: SrcTable::default(),
            entries: Vec::new(),
            ssh_entries: Vec::new(),
            ssh_index: Vec::new(),
            everyone: Vec::new(),
            per_node: Vec::new(),
            out: Vec::new(),
        };
        c.full();
        c
    }

    fn resolve_options(&self) -> ResolveOptions {
        ResolveOptions {
            auto_approve: self.options.auto_approve,
        }
    }

    fn full(&mut self) {
        let r = Resolver::new(self.policy, &self.inventory, self.resolve_options());
        self.srcs = SrcTable::default();
        self.entries = entries::all_entries(&r, &mut self.srcs);
        self.ssh_entries = self
            .policy
            .ssh
            .iter()
            .flatten()
            .map(|e| ssh::entry_rules(&r, e, &self.options.control_url))
            .collect();
        self.ssh_index = ssh_index(&self.ssh_entries, r.node_count());
        self.everyone.clear();
        self.per_node = vec![Vec::new(); r.node_count()];
        for (ei, e) in self.entries.iter().enumerate() {
            distribute(&r, ei, e, &mut self.everyone, &mut self.per_node, None);
        }
        self.out = (0..r.node_count())
            .map(|id| render(&r, &self.view(), id))
            .collect();
    }

    fn view(&self) -> View<'_> {
        View {
            srcs: &self.srcs,
            entries: &self.entries,
            ssh_entries: &self.ssh_entries,
            ssh_index: &self.ssh_index,
            everyone: &self.everyone,
            per_node: &self.per_node,
        }
    }

    /// The inventory as compiled.
    pub fn inventory(&self) -> &Inventory {
        &self.inventory
    }

    /// Every node's output, in inventory order.
    pub fn nodes(&self) -> &[NodeCompiled] {
        &self.out
    }

    /// The output of the node called `name`.
    pub fn node(&self, name: &str) -> Option<&NodeCompiled> {
        self.out.iter().find(|n| n.name == name)
    }

    /// Adds a node (a node joining the tailnet) and recomputes only what changes: the
    /// policy entries whose sources or destinations name it, and the nodes that receive
    /// those entries. Returns the names of the nodes whose output changed (including the
    /// new node). A node bringing approved subnet routes changes what `*` means, which
    /// changes every rule with a `*` source: that case recompiles everything.
    pub fn add_node(&mut self, node: Node) -> Vec<String> {
        let new_id = self.inventory.nodes.len();
        self.inventory.nodes.push(node);
        let r = Resolver::new(self.policy, &self.inventory, self.resolve_options());
        let routes = r
            .approved
            .get(new_id)
            .is_some_and(|v| v.iter().any(|n| !crate::inventory::is_exit_route(n)));
        // A node failing a posture gate is cut out of address sources (`*`, CIDRs) too.
        if routes || r.gates.fails_any(new_id) {
            let before = std::mem::take(&mut self.out);
            self.full();
            return self
                .out
                .iter()
                .enumerate()
                .filter(|(i, n)| before.get(*i) != Some(*n))
                .map(|(_, n)| n.name.clone())
                .collect();
        }
        let Some(new_node) = r.node(new_id) else {
            return Vec::new();
        };
        // Which entries change: those naming the node by identity.
        let names_node = |aliases: Vec<&Alias>| {
            aliases.into_iter().any(|a| match a {
                Alias::Autogroup(Autogroup::SelfDevices) => !new_node.is_tagged(),
                Alias::Wildcard => false,
                other => r.node_matches(new_node, other),
            })
        };
        let mut changed_entries: Vec<usize> = Vec::new();
        let mut ei = 0usize;
        if !self.policy.is_allow_all_default() {
            for g in self.policy.grants.iter().flatten() {
                let it = g
                    .src
                    .iter()
                    .map(|s| &s.value)
                    .chain(g.dst.iter().map(|d| &d.value));
                if names_node(it.collect()) {
                    changed_entries.push(ei);
                }
                ei += 1;
            }
            for a in self.policy.acls.iter().flatten() {
                let it = a
                    .src
                    .iter()
                    .map(|s| &s.value)
                    .chain(a.dst.iter().map(|d| &d.value.alias));
                if names_node(it.collect()) {
                    changed_entries.push(ei);
                }
                ei += 1;
            }
        }
        let mut affected: Vec<NodeId> = vec![new_id];
        self.per_node.push(Vec::new());
        // Recompute the changed entries; the nodes affected are those receiving a rule
        // that differs (before or after).
        let grants: Vec<_> = self.policy.grants.iter().flatten().collect();
        let acls: Vec<_> = self.policy.acls.iter().flatten().collect();
        let mut touched_everyone = false;
        let mut really_changed: Vec<usize> = Vec::new();
        for &e in &changed_entries {
            let fresh = if let Some(g) = grants.get(e) {
                entries::grant_rules(&r, &mut self.srcs, g)
            } else if let Some(a) = acls.get(e - grants.len()) {
                entries::acl_rules(&r, &mut self.srcs, a)
            } else {
                continue;
            };
            let Some(old) = self.entries.get(e) else {
                continue;
            };
            if *old == fresh {
                continue;
            }
            let mut nodes_of = |entry: &EntryRules, which: &dyn Fn(usize) -> bool| {
                for (ri, rule) in entry.rules.iter().enumerate() {
                    if !which(ri) {
                        continue;
                    }
                    match &rule.body {
                        Body::Ports(dsts) => {
                            for d in dsts {
                                if d.addr == DstAddr::Any {
                                    touched_everyone = true;
                                } else {
                                    affected.extend(receivers(&r, rule, &d.addr));
                                }
                            }
                        }
                        Body::Caps { nodes, .. } => affected.extend(nodes.iter().copied()),
                    }
                }
            };
            if old.rules.len() == fresh.rules.len() {
                let differs: Vec<bool> = old
                    .rules
                    .iter()
                    .zip(&fresh.rules)
                    .map(|(x, y)| x != y)
                    .collect();
                let which = |i: usize| differs.get(i).copied().unwrap_or(true);
                nodes_of(old, &which);
                nodes_of(&fresh, &which);
            } else {
                nodes_of(old, &|_| true);
                nodes_of(&fresh, &|_| true);
            }
            if let Some(slot) = self.entries.get_mut(e) {
                *slot = fresh;
            }
            really_changed.push(e);
        }
        let changed_entries = really_changed;
        if touched_everyone {
            affected.extend(0..self.per_node.len());
        }
        affected.sort_unstable();
        affected.dedup();
        // Redistribute the changed entries to the affected nodes only.
        let changed_set: std::collections::HashSet<u32> =
            changed_entries.iter().map(|e| to_u32(*e)).collect();
        for id in &affected {
            if let Some(items) = self.per_node.get_mut(*id) {
                items.retain(|(ie, _, _)| !changed_set.contains(ie));
            }
        }
        self.everyone.retain(|(ie, _, _)| !changed_set.contains(ie));
        let mut sink = vec![Vec::new(); self.per_node.len()];
        for &e in &changed_entries {
            if let Some(entry) = self.entries.get(e) {
                distribute(&r, e, entry, &mut self.everyone, &mut sink, None);
            }
        }
        for id in &affected {
            if let (Some(items), Some(list)) = (sink.get_mut(*id), self.per_node.get_mut(*id)) {
                list.append(items);
            }
        }
        self.everyone.sort_unstable();
        // The new node also receives unchanged entries that reach it by address.
        for (e, entry) in self.entries.iter().enumerate() {
            if changed_set.contains(&to_u32(e)) {
                continue;
            }
            for (ri, rule) in entry.rules.iter().enumerate() {
                if let Body::Ports(dsts) = &rule.body {
                    for (di, d) in dsts.iter().enumerate() {
                        if matches!(d.addr, DstAddr::Lit(_) | DstAddr::Internet(_))
                            && receivers(&r, rule, &d.addr).contains(&new_id)
                        {
                            if let Some(items) = self.per_node.get_mut(new_id) {
                                items.push((to_u32(e), to_u32(ri), to_u32(di)));
                            }
                        }
                    }
                }
            }
        }
        // SSH entries naming the node.
        let mut ssh_changed = false;
        for (i, e) in self.policy.ssh.iter().flatten().enumerate() {
            let it = e
                .src
                .iter()
                .map(|s| &s.value)
                .chain(e.dst.iter().map(|d| &d.value));
            if names_node(it.collect()) {
                let fresh = ssh::entry_rules(&r, e, &self.options.control_url);
                // Only nodes whose rules from this entry differ are affected.
                let new_map = ssh_per_node(&fresh);
                if let Some(old) = self.ssh_entries.get(i) {
                    let old_map = ssh_per_node(old);
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
                drop(new_map);
                if let Some(slot) = self.ssh_entries.get_mut(i) {
                    *slot = fresh;
                }
                ssh_changed = true;
            }
        }
        if ssh_changed || self.policy.ssh.is_some() {
            self.ssh_index = ssh_index(&self.ssh_entries, r.node_count());
        }
        affected.sort_unstable();
        affected.dedup();
        for id in &affected {
            if let Some(items) = self.per_node.get_mut(*id) {
                items.sort_unstable();
            }
        }
        let mut changed = Vec::new();
        for id in affected {
            let fresh = render(&r, &self.view(), id);
            match self.out.get_mut(id) {
                Some(slot) => {
                    if *slot != fresh {
                        changed.push(fresh.name.clone());
                        *slot = fresh;
                    }
                }
                None => {
                    changed.push(fresh.name.clone());
                    self.out.push(fresh);
                }
            }
        }
        changed
    }
}

/// Compiles `policy` for `inventory` in one call.
pub fn compile(
    policy: &Policy,
    inventory: &Inventory,
    options: &CompileOptions,
) -> Vec<NodeCompiled> {
    Compiler::new(policy, inventory.clone(), options.clone()).out
}

fn to_u32(x: usize) -> u32 {
    u32::try_from(x).unwrap_or(u32::MAX)
}

/// The nodes that receive a destination of `rule` (policy-spec §5.4, §5.5, §5.9).
fn receivers(r: &Resolver<'_>, rule: &GlobalRule, addr: &DstAddr) -> Vec<NodeId> {
    let via_ok = |id: &NodeId| {
        rule.via.is_empty()
            || r.node(*id)
                .is_some_and(|n| n.tags.iter().any(|t| rule.via.contains(t)))
    };
    let mut out: Vec<NodeId> = match addr {
        DstAddr::Any => (0..r.node_count()).collect(),
        DstAddr::Node(id, ip) => {
            let mut v = vec![*id];
            v.extend(
                r.nodes_with_route_overlapping(&Addr::ip(*ip))
                    .into_iter()
                    .filter(|x| via_ok(x)),
            );
            v
        }
        DstAddr::Lit(a) => {
            let mut v = r.nodes_with_address_in(a);
            v.extend(
                r.nodes_with_route_overlapping(a)
                    .into_iter()
                    .filter(|x| via_ok(x)),
            );
            if addr::within_internet(a) {
                v.extend(r.exit_nodes.iter().copied().filter(|x| via_ok(x)));
            }
            v
        }
        DstAddr::Internet(_) => r.exit_nodes.iter().copied().filter(|x| via_ok(x)).collect(),
    };
    out.sort_unstable();
    out.dedup();
    out
}

/// Hands every destination of an entry to the nodes that receive it.
fn distribute(
    r: &Resolver<'_>,
    ei: usize,
    e: &EntryRules,
    everyone: &mut Vec<Item>,
    per_node: &mut [Vec<Item>],
    mut touched: Option<&mut Vec<NodeId>>,
) {
    for (ri, rule) in e.rules.iter().enumerate() {
        match &rule.body {
            Body::Ports(dsts) => {
                for (di, d) in dsts.iter().enumerate() {
                    let item = (to_u32(ei), to_u32(ri), to_u32(di));
                    if d.addr == DstAddr::Any {
                        everyone.push(item);
                        if let Some(t) = touched.as_deref_mut() {
                            t.extend(0..per_node.len());
                        }
                        continue;
                    }
                    for id in receivers(r, rule, &d.addr) {
                        if let Some(items) = per_node.get_mut(id) {
                            items.push(item);
                        }
                        if let Some(t) = touched.as_deref_mut() {
                            t.push(id);
                        }
                    }
                }
            }
            Body::Caps { nodes, .. } => {
                for id in nodes {
                    if let Some(items) = per_node.get_mut(*id) {
                        items.push((to_u32(ei), to_u32(ri), u32::MAX));
                    }
                    if let Some(t) = touched.as_deref_mut() {
                        t.push(*id);
                    }
                }
            }
        }
    }
}

/// Assembles one node's output from the distributed items.
/// The distributed state a node's output is assembled from.
struct View<'s> {
    srcs: &'s SrcTable,
    entries: &'s [EntryRules],
    ssh_entries: &'s [ssh::SshEntryRules],
    ssh_index: &'s [Vec<(u32, u32)>],
    everyone: &'s [Item],
    per_node: &'s [Vec<Item>],
}

fn render(r: &Resolver<'_>, v: &View<'_>, id: NodeId) -> NodeCompiled {
    let View {
        srcs,
        entries,
        ssh_entries,
        ssh_index,
        everyone,
        per_node,
    } = *v;
    let Some(node) = r.node(id) else {
        return NodeCompiled {
            name: String::new(),
            packet_filter: Vec::new(),
            ssh_policy: None,
            approved_routes: Vec::new(),
        };
    };
    let mine = per_node.get(id).map_or(&[][..], Vec::as_slice);
    let mut filter: Vec<CompiledRule> = Vec::new();
    let mut merge: HashMap<(u32, &[i32]), usize> = HashMap::new();
    let (mut a, mut b) = (everyone.iter().peekable(), mine.iter().peekable());
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
        let Some(entry) = entries.get(ei as usize) else {
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
                let npr = NetPortRange {
                    ip: dst_string(&d.addr),
                    ports: PortRange {
                        first: d.ports.first,
                        last: d.ports.last,
                    },
                };
                let key = (rule.src, rule.proto.as_slice());
                let idx = match merge.get(&key) {
                    Some(i) => *i,
                    None => {
                        filter.push(CompiledRule {
                            rule: FilterRule {
                                src_ips: srcs.get(rule.src).to_vec(),
                                ip_proto: rule.proto.clone(),
                                ..FilterRule::default()
                            },
                            origins: Vec::new(),
                            dst_origins: Vec::new(),
                        });
                        merge.insert(key, filter.len() - 1);
                        filter.len() - 1
                    }
                };
                if let Some(cr) = filter.get_mut(idx) {
                    let oi = origin_index(&mut cr.origins, entry.origin);
                    cr.rule.dst_ports.push(npr);
                    cr.dst_origins.push(oi);
                }
            }
            Body::Caps { caps, .. } => {
                let dsts: Vec<String> = node
                    .addresses()
                    .map(|ip| IpNet::from(ip).to_string())
                    .collect();
                filter.push(CompiledRule {
                    rule: FilterRule {
                        src_ips: srcs.get(rule.src).to_vec(),
                        cap_grant: vec![CapGrant {
                            dsts,
                            caps: Vec::new(),
                            cap_map: caps.clone(),
                        }],
                        ..FilterRule::default()
                    },
                    origins: vec![entry.origin],
                    dst_origins: vec![0],
                });
            }
        }
    }
    let ssh_policy = r.policy.ssh.as_ref().map(|_| {
        let mut rules: Vec<CompiledSshRule> = ssh_index
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|(e, k)| {
                ssh_entries
                    .get(*e as usize)
                    .and_then(|v| v.get(*k as usize))
                    .map(|(_, rule)| rule.clone())
            })
            .collect();
        ssh::order_node_rules(&mut rules);
        rules
    });
    NodeCompiled {
        name: node.name.clone(),
        packet_filter: filter,
        ssh_policy,
        approved_routes: r.approved.get(id).cloned().unwrap_or_default(),
    }
}

/// One SSH entry's rules grouped by node.
fn ssh_per_node(v: &ssh::SshEntryRules) -> HashMap<NodeId, Vec<&CompiledSshRule>> {
    let mut m: HashMap<NodeId, Vec<&CompiledSshRule>> = HashMap::new();
    for (n, rule) in v {
        m.entry(*n).or_default().push(rule);
    }
    m
}

fn ssh_index(entries: &[ssh::SshEntryRules], nodes: usize) -> Vec<Vec<(u32, u32)>> {
    let mut idx = vec![Vec::new(); nodes];
    for (e, rules) in entries.iter().enumerate() {
        for (k, (n, _)) in rules.iter().enumerate() {
            if let Some(v) = idx.get_mut(*n) {
                v.push((to_u32(e), to_u32(k)));
            }
        }
    }
    idx
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
