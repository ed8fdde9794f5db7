//! The node format of the conformance corpus (`testdata/conformance/{compile,validate}`).
//!
//! This is the **test-corpus format**, not a user-facing one: a case file carries
//! `"tailnet": {"owner"}`, `"users": [{"name", "email"}]` and
//! `"nodes": [{"name", "user", "tags", "ipv4", "ipv6", "routes", "approved_routes",
//! "exit_node"}]`. Read such a case with `serde_json`, then convert its parts with
//! [`inventory_from_case`].
//!
//! `approved_routes` become the nodes' manual approvals; the captures recorded the
//! approvals in effect, so compile them with auto-approval turned off
//! ([`crate::CompileOptions::auto_approve`]) to reproduce the capture.

use super::load::parse_route;
use super::{Inventory, Node, Role, User};
use ipnet::IpNet;
use policy::Span;
use serde::Deserialize;
use std::net::{Ipv4Addr, Ipv6Addr};

/// `tailnet` of a case.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CaseTailnet {
    /// The owner's login.
    #[serde(default)]
    pub owner: Option<String>,
}

/// One entry of a case's `users`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CaseUser {
    /// Short name (`odin`).
    #[serde(default)]
    pub name: String,
    /// Login e-mail (may be empty in some captures).
    #[serde(default)]
    pub email: Option<String>,
}

/// One entry of a case's `nodes`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct CaseNode {
    /// The node's name.
    pub name: String,
    /// The owner's e-mail, `null` for tagged nodes.
    #[serde(default)]
    pub user: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// IPv4 address.
    #[serde(default)]
    pub ipv4: Option<Ipv4Addr>,
    /// IPv6 address.
    #[serde(default)]
    pub ipv6: Option<Ipv6Addr>,
    /// Advertised routes.
    #[serde(default)]
    pub routes: Vec<String>,
    /// Approved routes at capture time.
    #[serde(default)]
    pub approved_routes: Vec<String>,
    /// Whether an exit route is approved (derived; informational).
    #[serde(default)]
    pub exit_node: bool,
}

/// Builds an [`Inventory`] from a case's `tailnet`, `users` and `nodes`. Users without
/// an e-mail are left out; the tailnet owner gets [`Role::Owner`], everyone else
/// [`Role::Member`].
pub fn inventory_from_case(
    tailnet: Option<&CaseTailnet>,
    users: &[CaseUser],
    nodes: &[CaseNode],
) -> Inventory {
    let owner = tailnet.and_then(|t| t.owner.clone());
    let users = users
        .iter()
        .filter_map(|u| u.email.as_deref().filter(|e| !e.is_empty()))
        .map(|login| User {
            login: login.to_owned(),
            role: if Some(login) == owner.as_deref() {
                Role::Owner
            } else {
                Role::Member
            },
            span: Span::default(),
        })
        .collect();
    let nodes = nodes
        .iter()
        .map(|n| Node {
            name: n.name.clone(),
            user: if n.tags.is_empty() {
                n.user.clone()
            } else {
                None
            },
            tags: n.tags.clone(),
            ipv4: n.ipv4,
            ipv6: n.ipv6,
            advertised_routes: parse_routes(&n.routes),
            approved_routes: parse_routes(&n.approved_routes),
            posture: Default::default(),
            span: Span::default(),
        })
        .collect();
    Inventory {
        tailnet_owner: owner,
        users,
        nodes,
        ..Inventory::default()
    }
}

fn parse_routes(routes: &[String]) -> Vec<IpNet> {
    routes.iter().filter_map(|r| parse_route(r)).collect()
}
