//! The evaluator's view of the tailnet: nodes with their identity (owner or tags),
//! addresses and approved routes, and the tailnet's users.
//!
//! This is deliberately small and independent of the compiler's inventory, so that the
//! reference evaluator does not share code with the compiler it checks.

use ipnet::IpNet;
use std::net::IpAddr;
use tailpolicy_policy::model::{Autogroup, Policy, PostureAttrs};

use crate::inventory::{Inventory, Role};
use crate::resolve::{ResolveOptions, Resolver};

/// One node as the evaluator sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TailnetNode {
    /// The node's name (given name).
    pub name: String,
    /// The owning user's login; ignored when the node is tagged (tags replace user
    /// identity).
    pub user: Option<String>,
    /// ACL tags (`tag:…`).
    pub tags: Vec<String>,
    /// Tailscale addresses (IPv4 and IPv6).
    pub addrs: Vec<IpAddr>,
    /// Approved routes, exit routes (`0.0.0.0/0`, `::/0`) included.
    pub approved_routes: Vec<IpNet>,
    /// Device posture attributes (empty: unknown, every condition but `NOT SET` fails).
    pub posture: PostureAttrs,
}

impl TailnetNode {
    /// Whether the node carries tags.
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The owner for policy purposes: the user of an untagged node.
    pub fn owner(&self) -> Option<&str> {
        if self.is_tagged() {
            None
        } else {
            self.user.as_deref()
        }
    }

    /// Whether it is an approved exit node.
    pub fn is_exit_node(&self) -> bool {
        self.approved_routes.iter().any(|r| r.prefix_len() == 0)
    }

    /// Approved subnet routes (exit routes left out).
    pub fn subnet_routes(&self) -> impl Iterator<Item = &IpNet> {
        self.approved_routes.iter().filter(|r| r.prefix_len() != 0)
    }

    /// Whether `ip` is one of the node's own addresses.
    pub fn owns(&self, ip: IpAddr) -> bool {
        self.addrs.contains(&ip)
    }
}

/// The nodes and users of a tailnet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tailnet {
    /// Every node.
    pub nodes: Vec<TailnetNode>,
    /// Logins of the tailnet's users, including those who own no node. Node owners are
    /// users too even when not listed.
    pub users: Vec<String>,
    /// Role autogroups of users (`autogroup:admin`, …, `autogroup:shared`), by login.
    pub roles: Vec<(String, Autogroup)>,
    /// Treat every login as a user of the tailnet (when no inventory is known, tests
    /// are then evaluated by identity alone instead of failing on unknown users).
    pub open_users: bool,
}

impl Tailnet {
    /// Whether `login` is a user of the tailnet (listed, or owning a node).
    /// Logins compare case-insensitively.
    pub fn has_user(&self, login: &str) -> bool {
        self.open_users
            || self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
            || self
                .nodes
                .iter()
                .filter_map(|n| n.user.as_deref())
                .any(|u| u.eq_ignore_ascii_case(login))
    }

    /// The evaluator's view of a compiler [`Inventory`]: the routes are the effective
    /// approvals (advertised and approved by hand or, with `options.auto_approve`, by the
    /// policy's `autoApprovers`), exactly as the compiler sees them.
    pub fn from_inventory(
        policy: &Policy,
        inventory: &Inventory,
        options: ResolveOptions,
    ) -> Tailnet {
        let resolver = Resolver::new(policy, inventory, options);
        let nodes = inventory
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| TailnetNode {
                name: n.name.clone(),
                user: n.user.clone(),
                tags: n.tags.clone(),
                addrs: n.addresses().collect(),
                approved_routes: resolver.approved.get(i).cloned().unwrap_or_default(),
                posture: n.posture.clone(),
            })
            .collect();
        let mut roles = Vec::new();
        for u in &inventory.users {
            let groups: &[Autogroup] = match u.role {
                Role::Owner => &[Autogroup::Owner, Autogroup::Admin],
                Role::Admin => &[Autogroup::Admin],
                Role::ItAdmin => &[Autogroup::ItAdmin],
                Role::NetworkAdmin => &[Autogroup::NetworkAdmin],
                Role::BillingAdmin => &[Autogroup::BillingAdmin],
                Role::Auditor => &[Autogroup::Auditor],
                Role::Shared => &[Autogroup::Shared],
                Role::Member => &[],
            };
            roles.extend(groups.iter().map(|g| (u.login.clone(), *g)));
        }
        Tailnet {
            nodes,
            users: inventory.users.iter().map(|u| u.login.clone()).collect(),
            roles,
            open_users: false,
        }
    }

    /// Whether `login` holds the role autogroup `group`.
    pub fn has_role(&self, login: &str, group: Autogroup) -> bool {
        self.roles
            .iter()
            .any(|(l, g)| *g == group && l.eq_ignore_ascii_case(login))
    }

    /// Every known user login (listed users first, then node owners), without
    /// duplicates.
    pub fn user_logins(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .users
            .iter()
            .map(String::as_str)
            .chain(self.nodes.iter().filter_map(|n| n.user.as_deref()));
        for u in all {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(u)) {
                out.push(u);
            }
        }
        out
    }

    /// The node that has `ip` as one of its own addresses.
    pub fn node_by_ip(&self, ip: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.owns(ip))
    }

    /// The node called `name`.
    pub fn node_by_name(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }
}
