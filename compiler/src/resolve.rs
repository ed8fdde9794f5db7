//! An indexed, resolved view of a policy over an inventory: which nodes each selector
//! names, group membership, tag sets, user-domain matching, effective route approvals
//! (manual plus `autoApprovers`), the `*` source expansion and the internet ranges.
//!
//! Built once per compilation ([`Resolver::new`]); every lookup afterwards is a hash
//! lookup or a binary search, never a scan of all nodes per rule.

use crate::addr::{self, Addr, Interval};
use crate::inventory::{Inventory, Node, Role, is_exit_route};
use crate::posture::{Gate, Gates};
use ipnet::IpNet;
use policy::Policy;
use policy::Spanned;
use policy::model::{Alias, Autogroup, IpSet};
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

pub use crate::inventory::NodeId;

/// Options that change how the inventory is read.
#[derive(Clone, Copy, Debug)]
pub struct ResolveOptions {
    /// Apply the policy's `autoApprovers` on top of the inventory's manual approvals.
    /// Turn off to use the inventory's approvals exactly (conformance captures).
    pub auto_approve: bool,
}

impl Default for ResolveOptions {
    fn default() -> Self {
        Self { auto_approve: true }
    }
}

/// The resolved view.
#[derive(Debug)]
pub struct Resolver<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The inventory.
    pub inventory: &'a Inventory,
    /// Effective approved routes of each node (advertised ∩ (manual ∪ auto)), in the
    /// order the node advertises them.
    pub approved: Vec<Vec<IpNet>>,
    /// Every approved non-exit route in the tailnet, each once, by first approving node.
    pub subnet_routes: Vec<IpNet>,
    /// Nodes with an approved exit route.
    pub exit_nodes: Vec<NodeId>,
    /// The posture gates of the policy's rules, evaluated on the nodes.
    pub gates: Gates,
    /// Untagged nodes by owner login.
    user_nodes: HashMap<&'a str, Vec<NodeId>>,
    /// Nodes by tag.
    tag_nodes: HashMap<&'a str, Vec<NodeId>>,
    /// All tagged nodes.
    tagged: Vec<NodeId>,
    /// All untagged nodes of non-shared users.
    members: Vec<NodeId>,
    /// Roles by login.
    roles: HashMap<&'a str, Role>,
    /// Approved non-exit routes with their node, sorted by (family, first address).
    route_holders: Vec<(Interval, NodeId)>,
    /// Per route holder, the highest last address of it and the holders before it in
    /// the same family (stops the overlap search early).
    route_reach: Vec<u128>,
    /// Node addresses sorted, for prefix lookups.
    addr_index: Vec<(bool, u128, NodeId)>,
}

impl<'a> Resolver<'a> {
    /// Indexes `inventory` for `policy`.
    pub fn new(policy: &'a Policy, inventory: &'a Inventory, options: ResolveOptions) -> Self {
        let mut r = Resolver {
            policy,
            inventory,
            approved: Vec::with_capacity(inventory.nodes.len()),
            subnet_routes: Vec::new(),
            exit_nodes: Vec::new(),
            gates: Gates::new(policy, inventory),
            user_nodes: HashMap::new(),
            tag_nodes: HashMap::new(),
            tagged: Vec::new(),
            members: Vec::new(),
            roles: inventory
                .users
                .iter()
                .map(|u| (u.login.as_str(), u.role))
                .collect(),
            route_holders: Vec::new(),
            route_reach: Vec::new(),
            addr_index: Vec::new(),
        };
        for (id, node) in inventory
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i), n))
        {
            if node.is_tagged() {
                r.tagged.push(id);
                for t in &node.tags {
                    r.tag_nodes.entry(t.as_str()).or_default().push(id);
                }
            } else if let Some(u) = node.user.as_deref() {
                r.user_nodes.entry(u).or_default().push(id);
                if r.roles.get(u) != Some(&Role::Shared) {
                    r.members.push(id);
                }
            }
            for a in node.addresses() {
                let (v6, x) = addr::ip_to_int(a);
                r.addr_index.push((v6, x, id));
            }
        }
        r.addr_index.sort_unstable();
        let mut seen_routes = BTreeSet::new();
        for (id, node) in inventory
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (NodeId(i), n))
        {
            let approved = r.effective_approvals(node, options);
            for net in &approved {
                if is_exit_route(net) {
                    if r.exit_nodes.last() != Some(&id) {
                        r.exit_nodes.push(id);
                    }
                } else {
                    r.route_holders.push((Interval::of_net(net), id));
                    if seen_routes.insert(*net) {
                        r.subnet_routes.push(*net);
                    }
                }
            }
            r.approved.push(approved);
        }
        r.route_holders
            .sort_unstable_by_key(|(i, id)| (i.v6, i.lo, i.hi, *id));
        let mut reach: Option<(bool, u128)> = None;
        for (i, _) in &r.route_holders {
            let hi = match reach {
                Some((v6, hi)) if v6 == i.v6 => hi.max(i.hi),
                _ => i.hi,
            };
            reach = Some((i.v6, hi));
            r.route_reach.push(hi);
        }
        r
    }

    /// The node with id `id`.
    pub fn node(&self, id: NodeId) -> Option<&'a Node> {
        self.inventory.nodes.get(id.0)
    }

    /// Number of nodes.
    pub fn node_count(&self) -> usize {
        self.inventory.nodes.len()
    }

    fn effective_approvals(&self, node: &Node, options: ResolveOptions) -> Vec<IpNet> {
        node.advertised_routes
            .iter()
            .filter(|net| {
                node.approved_routes.contains(net)
                    || (options.auto_approve && self.auto_approves(node, net))
            })
            .copied()
            .collect()
    }

    /// Whether the policy's `autoApprovers` approve `route` for `node`: an exit route
    /// only through `exitNode`; any other route through a `routes` key containing it.
    pub fn auto_approves(&self, node: &Node, route: &IpNet) -> bool {
        let aa = &self.policy.auto_approvers;
        if is_exit_route(route) {
            return aa
                .exit_node
                .iter()
                .any(|a| self.node_matches(node, &a.value));
        }
        aa.routes.iter().any(|(key, approvers)| {
            key.value.contains(route) && approvers.iter().any(|a| self.node_matches(node, &a.value))
        })
    }

    /// Whether `node` is one of the nodes an identity selector names.
    pub fn node_matches(&self, node: &Node, alias: &Alias) -> bool {
        let owner = node.owner();
        match alias {
            Alias::Tag(t) => node.tags.iter().any(|x| x == t),
            Alias::User(u) => owner == Some(u.as_str()),
            Alias::UserDomain(d) => owner.is_some_and(|o| login_in_domain(o, d)),
            Alias::Group(g) => owner.is_some_and(|o| self.group_has(g, o)),
            Alias::Autogroup(Autogroup::Tagged) => node.is_tagged(),
            Alias::Autogroup(Autogroup::Member) => {
                owner.is_some_and(|o| self.roles.get(o) != Some(&Role::Shared))
            }
            Alias::Autogroup(Autogroup::Shared) => {
                owner.is_some_and(|o| self.roles.get(o) == Some(&Role::Shared))
            }
            Alias::Autogroup(a) if a.is_role() => {
                owner.is_some_and(|o| self.roles.get(o).is_some_and(|r| role_matches(*a, *r)))
            }
            Alias::Wildcard => true,
            _ => false,
        }
    }

    /// Whether `login` is a member of group `group` (directly, or through a
    /// `user:*@domain` member).
    pub fn group_has(&self, group: &str, login: &str) -> bool {
        self.policy.group(group).is_some_and(|g| {
            g.members.iter().any(|m| {
                m.value == login
                    || m.value
                        .strip_prefix("user:*@")
                        .is_some_and(|d| login_in_domain(login, d))
            })
        })
    }

    /// The nodes an identity selector names, sorted and unique; `None` for selectors
    /// that are not identities (addresses, `*`, `autogroup:self`, …).
    pub fn identity_nodes(&self, alias: &Alias) -> Option<Vec<NodeId>> {
        let mut out: Vec<NodeId> = match alias {
            Alias::Tag(t) => self.tag_nodes.get(t.as_str()).cloned().unwrap_or_default(),
            Alias::User(u) => self.user_nodes.get(u.as_str()).cloned().unwrap_or_default(),
            Alias::Group(g) => {
                let mut v = Vec::new();
                if let Some(group) = self.policy.group(g) {
                    for m in &group.members {
                        if let Some(d) = m.value.strip_prefix("user:*@") {
                            v.extend(self.domain_nodes(d));
                        } else if let Some(ns) = self.user_nodes.get(m.value.as_str()) {
                            v.extend_from_slice(ns);
                        }
                    }
                }
                v
            }
            Alias::UserDomain(d) => self.domain_nodes(d),
            Alias::Autogroup(Autogroup::Tagged) => self.tagged.clone(),
            Alias::Autogroup(Autogroup::Member) => self.members.clone(),
            Alias::Autogroup(
                a @ (Autogroup::Shared
                | Autogroup::Admin
                | Autogroup::Owner
                | Autogroup::ItAdmin
                | Autogroup::NetworkAdmin
                | Autogroup::BillingAdmin
                | Autogroup::Auditor),
            ) => {
                let mut v = Vec::new();
                for (login, role) in &self.roles {
                    let hit = if *a == Autogroup::Shared {
                        *role == Role::Shared
                    } else {
                        role_matches(*a, *role)
                    };
                    if hit && let Some(ns) = self.user_nodes.get(login) {
                        v.extend_from_slice(ns);
                    }
                }
                v
            }
            _ => return None,
        };
        out.sort_unstable();
        out.dedup();
        Some(out)
    }

    fn domain_nodes(&self, domain: &str) -> Vec<NodeId> {
        self.user_nodes
            .iter()
            .filter(|(login, _)| login_in_domain(login, domain))
            .flat_map(|(_, ns)| ns.iter().copied())
            .collect()
    }

    /// The untagged nodes of `login`.
    pub fn nodes_of_user(&self, login: &str) -> &[NodeId] {
        self.user_nodes.get(login).map_or(&[], Vec::as_slice)
    }

    /// The logins that own untagged nodes, sorted.
    pub fn owners(&self) -> Vec<&'a str> {
        let mut v: Vec<&str> = self.user_nodes.keys().copied().collect();
        v.sort_unstable();
        v
    }

    /// What `*` in a source becomes: the tailnet ranges plus every approved subnet route.
    pub fn wildcard_sources(&self) -> Vec<Addr> {
        let mut v: Vec<Addr> = addr::tailnet_wildcard().to_vec();
        v.extend(self.subnet_routes.iter().map(|n| Addr::net(*n)));
        v
    }

    /// The address items a non-identity selector stands for, as written (hosts and
    /// addresses literally; ipsets computed). `None` for identities and autogroups.
    pub fn literal_addrs(&self, alias: &Alias) -> Option<Vec<Addr>> {
        match alias {
            Alias::Addr(lit) => Some(vec![Addr::Net {
                net: lit.net,
                bare: lit.bare,
            }]),
            Alias::Host(h) => Some(
                self.policy
                    .host(h)
                    .map(|host| {
                        vec![Addr::Net {
                            net: host.addr.value.net,
                            bare: host.addr.value.bare,
                        }]
                    })
                    .unwrap_or_default(),
            ),
            Alias::Range(a, b) => Some(vec![Addr::Range(*a, *b)]),
            Alias::IpSet(name) => {
                let mut visiting = Vec::new();
                let iv = self.ipset_intervals(name, &mut visiting);
                Some(addr::intervals_to_addrs(&iv))
            }
            _ => None,
        }
    }

    fn ipset_intervals(&self, name: &str, visiting: &mut Vec<String>) -> Vec<Interval> {
        if visiting.iter().any(|v| v == name) {
            return Vec::new();
        }
        let Some(set) = self.policy.ipset(name) else {
            return Vec::new();
        };
        visiting.push(name.to_owned());
        let mut acc: Vec<Interval> = Vec::new();
        for op in &set.ops {
            let target = self.ipset_target(set, &op.value.target, visiting);
            acc = if op.value.add {
                addr::normalise([acc, target].concat())
            } else {
                addr::subtract(&acc, &addr::normalise(target))
            };
        }
        visiting.pop();
        acc
    }

    fn ipset_target(
        &self,
        _set: &IpSet,
        target: &Alias,
        visiting: &mut Vec<String>,
    ) -> Vec<Interval> {
        match target {
            Alias::IpSet(n) => self.ipset_intervals(n, visiting),
            Alias::Autogroup(Autogroup::Internet) => addr::internet_intervals(),
            other => self
                .literal_addrs(other)
                .unwrap_or_default()
                .iter()
                .flat_map(Addr::intervals)
                .collect(),
        }
    }

    /// The source address items of a rule's `src` list, spelled as SaaS does: `*`
    /// expands to the tailnet ranges and routes, identities to every node address
    /// (bare), addresses literally, `autogroup:danger-all` to `*`.
    pub fn sources(&self, src: &[Spanned<Alias>]) -> Vec<Addr> {
        let mut out = Vec::new();
        for s in src {
            self.source_into(&s.value, &mut out);
        }
        out
    }

    /// [`Self::sources`] of a rule with `srcPosture` `own_posture`: the addresses of
    /// devices failing the rule's effective posture are left out (the `posture` module).
    pub fn gated_sources(
        &self,
        src: &[Spanned<Alias>],
        own_posture: &[Spanned<String>],
    ) -> Vec<Addr> {
        let addrs = self.sources(src);
        match self.posture_gate(own_posture) {
            Some(g) => g.apply(addrs),
            None => addrs,
        }
    }

    /// The posture gate of a rule with `srcPosture` `own_posture`; `None` when no device
    /// fails it.
    pub fn posture_gate(&self, own_posture: &[Spanned<String>]) -> Option<&Gate> {
        self.gates.gate(self.policy, own_posture)
    }

    /// Adds the items of one source selector to `out`.
    pub fn source_into(&self, alias: &Alias, out: &mut Vec<Addr>) {
        match alias {
            Alias::Wildcard => out.extend(self.wildcard_sources()),
            Alias::Autogroup(Autogroup::DangerAll) => out.push(Addr::Any),
            other => {
                if let Some(nodes) = self.identity_nodes(other) {
                    for id in nodes {
                        if let Some(n) = self.node(id) {
                            out.extend(n.addresses().map(Addr::ip));
                        }
                    }
                } else if let Some(lits) = self.literal_addrs(other) {
                    out.extend(lits);
                }
            }
        }
    }

    /// Nodes whose own address lies inside `a`.
    pub fn nodes_with_address_in(&self, a: &Addr) -> Vec<NodeId> {
        let mut out = Vec::new();
        for i in a.intervals() {
            let start = self
                .addr_index
                .partition_point(|(v6, x, _)| (*v6, *x) < (i.v6, i.lo));
            for (v6, x, id) in self.addr_index.iter().skip(start) {
                if (*v6, *x) > (i.v6, i.hi) {
                    break;
                }
                out.push(*id);
            }
        }
        out
    }

    /// Nodes with an approved non-exit route that overlaps `a`.
    /// Sorted and unique.
    pub fn nodes_with_route_overlapping(&self, a: &Addr) -> Vec<NodeId> {
        let mut out: Vec<NodeId> = Vec::new();
        for q in a.intervals() {
            // Holders starting at or before the end of `q`, walked backwards while one of
            // them (or one before) still reaches the start of `q`.
            let end = self
                .route_holders
                .partition_point(|(r, _)| (r.v6, r.lo) <= (q.v6, q.hi));
            let holders = self.route_holders.iter().zip(&self.route_reach).take(end);
            for ((r, id), reach) in holders.rev() {
                if r.v6 != q.v6 || *reach < q.lo {
                    break;
                }
                if r.hi >= q.lo {
                    out.push(*id);
                }
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Whether node `id` has an approved non-exit route overlapping `a`.
    pub fn node_routes_overlap(&self, id: NodeId, a: &Addr) -> bool {
        self.approved.get(id.0).is_some_and(|routes| {
            routes
                .iter()
                .any(|r| !is_exit_route(r) && a.overlaps_net(r))
        })
    }

    /// Whether `addr` is one of node `id`'s own addresses.
    pub fn is_own_address(&self, id: NodeId, ip: IpAddr) -> bool {
        self.node(id)
            .is_some_and(|n| n.addresses().any(|a| a == ip))
    }
}

/// Whether `login` is `…@domain` (domain compared case-insensitively).
pub fn login_in_domain(login: &str, domain: &str) -> bool {
    login
        .rsplit_once('@')
        .is_some_and(|(_, d)| d.eq_ignore_ascii_case(domain))
}

/// Whether users with `role` are in role autogroup `group` (the owner is also an admin).
fn role_matches(group: Autogroup, role: Role) -> bool {
    matches!(
        (group, role),
        (Autogroup::Owner, Role::Owner)
            | (Autogroup::Admin, Role::Owner | Role::Admin)
            | (Autogroup::ItAdmin, Role::ItAdmin)
            | (Autogroup::NetworkAdmin, Role::NetworkAdmin)
            | (Autogroup::BillingAdmin, Role::BillingAdmin)
            | (Autogroup::Auditor, Role::Auditor)
    )
}
