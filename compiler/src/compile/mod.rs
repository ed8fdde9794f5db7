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
//! [`Compiler`] keeps the three steps' results (with, per node, what each rule of its
//! filter was assembled from) so that a node joining or leaving the tailnet
//! ([`Compiler::add_node`], [`Compiler::remove_node`]) recomputes only the entries that
//! name it, hands out again only the rules that changed, and rebuilds only the filter
//! rules those contribute to, on the nodes that receive them; the call returns the nodes
//! whose output changed (what a control plane must push), readable with
//! [`Compiler::node`]. See the `join` module for what "names it" covers.

mod entries;
mod join;
mod json;
mod render;
mod srcset;
pub mod ssh;

pub use json::{NodeJson, OutputJson};
pub use ssh::CompiledSshRule;

use crate::addr::{self, Addr};
use crate::inventory::Inventory;
use crate::resolve::{NodeId, ResolveOptions, Resolver};
use entries::{Body, DstAddr, EntryRules, GlobalRule};
use ipnet::IpNet;
use policy::Policy;
use policy::model::Origin;
use render::{RuleKey, Scratch, View, render};
use srcset::SrcTable;
use std::collections::HashMap;
use std::ops::Deref;
use std::sync::Arc;
use wire::FilterRule;

/// How to compile.
#[derive(Clone, Debug)]
pub struct CompileOptions {
    /// Apply the policy's `autoApprovers` on top of the inventory's manual approvals
    /// (default). Off reproduces captures whose approvals are given in full.
    pub auto_approve: bool,
    /// The control server URL used in SSH check actions.
    pub control_url: String,
    /// Whose compilation to reproduce where Tailscale and headscale deliberately
    /// differ: a policy with neither `acls` nor `grants` allows `*` sources expanded to
    /// the tailnet's ranges and routes in Tailscale, the literal `*` in headscale
    /// (juanfont/headscale#3211).
    pub dialect: policy::Dialect,
}

impl Default for CompileOptions {
    fn default() -> Self {
        Self {
            auto_approve: true,
            control_url: "https://login.tailscale.com".to_owned(),
            dialect: policy::Dialect::Tailscale,
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

/// The policy a [`Compiler`] reads: borrowed for one compilation, or shared so that a
/// long-lived owner (the analysis host) can keep the compiler beside the policy.
#[derive(Clone, Debug)]
enum PolicyRef<'p> {
    Borrowed(&'p Policy),
    Shared(Arc<Policy>),
}

impl Deref for PolicyRef<'_> {
    type Target = Policy;

    fn deref(&self) -> &Policy {
        match self {
            PolicyRef::Borrowed(p) => p,
            PolicyRef::Shared(p) => p,
        }
    }
}

/// The compiler state for one policy over a changing inventory.
#[derive(Clone, Debug)]
pub struct Compiler<'p> {
    policy: PolicyRef<'p>,
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
    /// Per node, what each rule of its packet filter was assembled from (parallel to
    /// `out[node].packet_filter`), so that an update rebuilds only the rules it touches.
    keys: Vec<Vec<RuleKey>>,
    /// Node name → index of its first node.
    by_name: HashMap<String, NodeId>,
}

impl<'p> Compiler<'p> {
    /// Compiles `policy` (which should have passed `policy::check`) for `inventory`.
    pub fn new(policy: &'p Policy, inventory: Inventory, options: CompileOptions) -> Self {
        Self::with_policy(PolicyRef::Borrowed(policy), inventory, options)
    }

    fn with_policy(policy: PolicyRef<'p>, inventory: Inventory, options: CompileOptions) -> Self {
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
            keys: Vec::new(),
            by_name: HashMap::new(),
        };
        c.full();
        c
    }

    /// Rebuilds the name index.
    fn index_names(&mut self) {
        self.by_name.clear();
        for (id, n) in self.inventory.nodes.iter().enumerate() {
            self.by_name.entry(n.name.clone()).or_insert(NodeId(id));
        }
    }

    fn resolve_options(&self) -> ResolveOptions {
        ResolveOptions {
            auto_approve: self.options.auto_approve,
        }
    }

    fn full(&mut self) {
        let policy = self.policy.clone();
        let r = Resolver::new(&policy, &self.inventory, self.resolve_options());
        self.srcs = SrcTable::default();
        self.entries = entries::all_entries(&r, &mut self.srcs, self.options.dialect);
        self.ssh_entries = policy
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
        let mut scratch = Scratch::new(self.srcs.group_count());
        let (out, keys) = (0..r.node_count())
            .map(NodeId)
            .map(|id| {
                let done = render(&r, self.view(), id, &mut scratch, None);
                (done.node, done.keys)
            })
            .unzip();
        self.out = out;
        self.keys = keys;
        self.index_names();
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

    /// The policy being compiled.
    pub fn policy(&self) -> &Policy {
        &self.policy
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
        self.by_name.get(name).and_then(|id| self.out.get(id.0))
    }
}

impl Compiler<'static> {
    /// Compiles a shared `policy`: a compiler that owns its share of the policy and so
    /// can be kept (and updated as nodes join and leave) beside it.
    pub fn shared(policy: Arc<Policy>, inventory: Inventory, options: CompileOptions) -> Self {
        Self::with_policy(PolicyRef::Shared(policy), inventory, options)
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
        DstAddr::Any => (0..r.node_count()).map(NodeId).collect(),
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
            if !r.exit_nodes.is_empty() && addr::within_internet(a) {
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

/// Whether node `id` receives destination `addr` of `rule`: the same answer as
/// `receivers(r, rule, addr).contains(&id)`, for one node.
fn receives(r: &Resolver<'_>, rule: &GlobalRule, addr: &DstAddr, id: NodeId) -> bool {
    let via_ok = || {
        rule.via.is_empty()
            || r.node(id)
                .is_some_and(|n| n.tags.iter().any(|t| rule.via.contains(t)))
    };
    let is_exit = || r.exit_nodes.binary_search(&id).is_ok();
    match addr {
        DstAddr::Any => true,
        DstAddr::Node(n, ip) => *n == id || (r.node_routes_overlap(id, &Addr::ip(*ip)) && via_ok()),
        DstAddr::Lit(a) => {
            r.node(id)
                .is_some_and(|n| n.addresses().any(|ip| a.contains_ip(ip)))
                || (r.node_routes_overlap(id, a) && via_ok())
                || (is_exit() && addr::within_internet(a) && via_ok())
        }
        DstAddr::Internet(_) => is_exit() && via_ok(),
    }
}

/// Hands every destination of an entry to the nodes that receive it; with `only`, just
/// the destinations of the rules it marks.
fn distribute(
    r: &Resolver<'_>,
    ei: usize,
    e: &EntryRules,
    everyone: &mut Vec<Item>,
    per_node: &mut [Vec<Item>],
    only: Option<&[bool]>,
) {
    for (ri, rule) in e.rules.iter().enumerate() {
        if only.is_some_and(|o| !o.get(ri).copied().unwrap_or(true)) {
            continue;
        }
        match &rule.body {
            Body::Ports(dsts) => {
                for (di, d) in dsts.iter().enumerate() {
                    let item = (to_u32(ei), to_u32(ri), to_u32(di));
                    if d.addr == DstAddr::Any {
                        everyone.push(item);
                        continue;
                    }
                    for id in receivers(r, rule, &d.addr) {
                        if let Some(items) = per_node.get_mut(id.0) {
                            items.push(item);
                        }
                    }
                }
            }
            Body::Caps { nodes, .. } => {
                for id in nodes {
                    if let Some(items) = per_node.get_mut(id.0) {
                        items.push((to_u32(ei), to_u32(ri), u32::MAX));
                    }
                }
            }
        }
    }
}

fn ssh_index(entries: &[ssh::SshEntryRules], nodes: usize) -> Vec<Vec<(u32, u32)>> {
    let mut idx = vec![Vec::new(); nodes];
    for (e, rules) in entries.iter().enumerate() {
        for (k, (n, _)) in rules.iter().enumerate() {
            if let Some(v) = idx.get_mut(n.0) {
                v.push((to_u32(e), to_u32(k)));
            }
        }
    }
    idx
}
