//! The node inventory: the tailnet's users and nodes, the second input of compilation
//! besides the policy.
//!
//! Four kinds of text are read, detected automatically ([`load`]):
//! - tailpolicy's own (documented in the README, example in `testdata/example/nodes.json`):
//!   `{"tailnet": {"owner"}, "users": [{"login", "role"}], "nodes": [{"name", "user",
//!   "tags", "addresses", "advertisedRoutes", "approvedRoutes", "exitNode"}]}`;
//! - the output of `tailscale status --json` (`Self`, `Peer`, `User`);
//! - the Tailscale API's device list (`GET /api/v2/tailnet/-/devices?fields=all`);
//! - headscale's node listings: `headscale nodes list -o json`/`-o json-line`
//!   (0.23–0.29), `GET /api/v1/node`, and 0.30's camelCase output ([`headscale`]).
//!
//! The conformance corpus has a fourth, test-only format ([`conformance`]).
//!
//! ## tailpolicy's format
//!
//! ```jsonc
//! {"tailnet": {"owner": "odin@example.com"},          // its domain is the tailnet's
//!  "users": [{"login": "odin@example.com", "role": "owner"},   // owner, admin, it-admin,
//!            {"login": "thor@example.org", "role": "member"}], // network-admin, billing-admin,
//!                                                               // auditor, member, shared
//!  "nodes": [{"name": "bulbasaur", "user": "odin@example.com", // null for tagged nodes
//!             "tags": [], "addresses": ["100.117.235.15", "fd7a:115c:a1e0::37:eb0f"],
//!             "advertisedRoutes": ["10.33.0.0/16"],
//!             "approvedRoutes": [],    // approved by hand; autoApprovers add more
//!             "exitNode": false,       // true: also advertises 0.0.0.0/0 and ::/0
//!             "postureAttributes": {"node:os": "macos", "node:tsVersion": "1.62.0"}}]}
//! ```
//!
//! Problems are `TP05xx` diagnostics with spans into the inventory text: unknown user
//! on a node, malformed address or route, duplicate name or address, bad tag, unknown
//! role, approved-but-not-advertised route, tagged node with a user.
//!
//! From `tailscale status --json`: nodes are named by the first label of `DNSName`;
//! `PrimaryRoutes` (plus both exit routes when `ExitNodeOption`) count as advertised and
//! approved, since the status output shows only routes in use; `OS` gives the posture
//! attribute `node:os`. From the API device list: `advertisedRoutes` and `enabledRoutes`
//! (approved); `os` and `clientVersion` give `node:os` and `node:tsVersion`; a tagged
//! device's `user` (its creator) is dropped. Neither carries roles: every user is a
//! member. Posture attributes: see below.
//!
//! ## Posture
//!
//! `postureAttributes` (own format only) maps namespaced keys to strings, numbers or
//! booleans; built-in keys must have their documented type (`node:tsAutoUpdate` a
//! boolean, `node:os` a string, …). A node without attributes fails every posture
//! condition except `NOT SET`.

pub mod conformance;
pub mod headscale;
mod load;
mod posture;

pub use load::{from_document, load};

use ipnet::IpNet;
use policy::Span;
use policy::model::PostureAttrs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Index of a node in [`Inventory::nodes`] (what the resolver, the posture gates and
/// the compiler key nodes by). A type of its own so that a node's index is never mixed
/// up with a rule's, a class's or a count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub usize);

impl NodeId {
    /// No node: what references to a node that left become until they are dropped.
    pub const NONE: NodeId = NodeId(usize::MAX);

    /// The index into [`Inventory::nodes`].
    pub const fn index(self) -> usize {
        self.0
    }
}

/// A tailnet: its owner, its users and its nodes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Inventory {
    /// The login of the account that owns the tailnet; its e-mail domain is the
    /// tailnet's domain (used for `localpart:*@domain` and `user:*@domain`).
    pub tailnet_owner: Option<String>,
    /// Every user of the tailnet, including ones that own no node.
    pub users: Vec<User>,
    /// Every node.
    pub nodes: Vec<Node>,
    /// For an inventory read from headscale: each user's identities (provider id,
    /// e-mail, name), so that [`Inventory::adopt_policy_users`] can resolve a policy's
    /// user tokens as headscale does. Empty for other formats.
    pub headscale_users: Vec<headscale::HeadscaleUser>,
}

/// A tailnet user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Login name, e.g. `odin@example.com`.
    pub login: String,
    /// The user's role in the tailnet.
    pub role: Role,
    /// Where the user is defined in the inventory text (empty when synthesised).
    pub span: Span,
}

/// A user's role, which decides the role autogroups (`autogroup:admin`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// The tailnet owner (also an admin).
    Owner,
    /// Admin.
    Admin,
    /// IT admin.
    ItAdmin,
    /// Network admin.
    NetworkAdmin,
    /// Billing admin.
    BillingAdmin,
    /// Auditor.
    Auditor,
    /// An ordinary member.
    Member,
    /// A user from another tailnet that was shared a node (`autogroup:shared`).
    Shared,
}

impl Role {
    /// Every role with its spelling in the inventory format.
    pub const ALL: [(Role, &'static str); 8] = [
        (Role::Owner, "owner"),
        (Role::Admin, "admin"),
        (Role::ItAdmin, "it-admin"),
        (Role::NetworkAdmin, "network-admin"),
        (Role::BillingAdmin, "billing-admin"),
        (Role::Auditor, "auditor"),
        (Role::Member, "member"),
        (Role::Shared, "shared"),
    ];

    /// Parses a role name (case-insensitive; `_` accepted for `-`).
    pub fn parse(s: &str) -> Option<Role> {
        let norm = s.trim().to_ascii_lowercase().replace('_', "-");
        Self::ALL.iter().find(|(_, n)| *n == norm).map(|(r, _)| *r)
    }

    /// The spelling in the inventory format.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(r, _)| *r == self)
            .map_or("member", |(_, n)| n)
    }
}

/// One node (device) of the tailnet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// The node's name; compiled output is keyed by it.
    pub name: String,
    /// The owning user's login; `None` for tagged nodes (tags replace user identity).
    pub user: Option<String>,
    /// The node's ACL tags (`tag:…`).
    pub tags: Vec<String>,
    /// Tailscale IPv4 address (in 100.64.0.0/10).
    pub ipv4: Option<Ipv4Addr>,
    /// Tailscale IPv6 address (in fd7a:115c:a1e0::/48).
    pub ipv6: Option<Ipv6Addr>,
    /// Routes the node advertises (subnet routes; `0.0.0.0/0` and `::/0` offer an exit node).
    pub advertised_routes: Vec<IpNet>,
    /// Routes an admin approved by hand. Approvals by the policy's `autoApprovers` are
    /// added by the compiler ([`crate::Resolver`]).
    pub approved_routes: Vec<IpNet>,
    /// Device posture attributes (`node:os`, `custom:…`); empty when unknown, and then
    /// every posture condition but `NOT SET` fails for the node.
    pub posture: PostureAttrs,
    /// Where the node is defined in the inventory text (empty when synthesised).
    pub span: Span,
}

impl Node {
    /// Whether the node carries tags (and so has no user identity).
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The node's Tailscale addresses, IPv4 first.
    pub fn addresses(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.ipv4
            .map(IpAddr::V4)
            .into_iter()
            .chain(self.ipv6.map(IpAddr::V6))
    }

    /// The owning user for policy purposes: `None` when tagged.
    pub fn owner(&self) -> Option<&str> {
        if self.is_tagged() {
            None
        } else {
            self.user.as_deref()
        }
    }
}

/// Whether `net` is an exit route (`0.0.0.0/0` or `::/0`).
pub fn is_exit_route(net: &IpNet) -> bool {
    net.prefix_len() == 0
}

impl Inventory {
    /// The tailnet's e-mail domain: the domain of the owner's login.
    pub fn tailnet_domain(&self) -> Option<&str> {
        self.tailnet_owner
            .as_deref()
            .and_then(|o| o.rsplit_once('@'))
            .map(|(_, d)| d)
            .filter(|d| !d.is_empty())
    }

    /// The user with login `login`.
    pub fn user(&self, login: &str) -> Option<&User> {
        self.users.iter().find(|u| u.login == login)
    }

    /// Renames headscale users to the tokens `policy` names them by
    /// ([`headscale::match_policy_users`]); nothing for other inventories.
    pub fn adopt_policy_users(&mut self, policy: &policy::Policy) {
        let users = std::mem::take(&mut self.headscale_users);
        headscale::match_policy_users(self, &users, policy);
        self.headscale_users = users;
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&Node> {
        self.nodes.iter().find(|n| n.name == name)
    }
}

#[cfg(test)]
mod tests;
