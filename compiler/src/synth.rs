//! Synthetic tailnets for benchmarks and property tests: a policy text and an
//! inventory of the requested size, generated deterministically from a seed.
//!
//! The shape imitates real tailnets: users in groups, tagged servers, subnet routers
//! auto-approved under `10.0.0.0/8`, an `autogroup:self` rule, a `/8` destination, and a
//! mix of ACLs and grants between groups, users and tags.

use crate::inventory::{Inventory, Node, Role, User};
use ipnet::IpNet;
use policy::model::{Alias, Policy, PortRange, PostureAttrs};
use policy::{Span, Spanned};
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The size of a synthetic tailnet.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Number of nodes (routers and tagged servers included).
    pub nodes: usize,
    /// Number of users.
    pub users: usize,
    /// Number of groups.
    pub groups: usize,
    /// Number of `acls`/`grants` entries.
    pub rules: usize,
    /// Number of subnet routers (tagged `tag:router`, one `/24` each under `10.0.0.0/8`).
    pub routers: usize,
    /// Number of distinct server tags.
    pub tags: usize,
    /// Seed of the generator.
    pub seed: u64,
}

impl Shape {
    /// The benchmarks' M tailnet: 1,000 nodes, 300 users and groups, 500 rules, 10
    /// routers, 40 tags.
    pub const M: Shape = Shape {
        nodes: 1_000,
        users: 300,
        groups: 300,
        rules: 500,
        routers: 10,
        tags: 40,
        seed: 1,
    };

    /// The benchmarks' L tailnet: 2,000 nodes, 600 users, 300 groups, 15,000 rules,
    /// 150 routers, 80 tags.
    pub const L: Shape = Shape {
        nodes: 2_000,
        users: 600,
        groups: 300,
        rules: 15_000,
        routers: 150,
        tags: 80,
        seed: 2,
    };
}

/// `inv` in tailpolicy's inventory format (what `--nodes` reads), as JSON.
pub fn inventory_json(inv: &Inventory) -> serde_json::Value {
    let nodes: Vec<serde_json::Value> = inv
        .nodes
        .iter()
        .map(|n| {
            let addresses: Vec<String> = n.addresses().map(|a| a.to_string()).collect();
            serde_json::json!({
                "name": n.name, "user": n.user, "tags": n.tags, "addresses": addresses,
                "advertisedRoutes": n.advertised_routes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "approvedRoutes": n.approved_routes.iter().map(ToString::to_string).collect::<Vec<_>>(),
            })
        })
        .collect();
    let users: Vec<serde_json::Value> = inv
        .users
        .iter()
        .map(|u| serde_json::json!({"login": u.login, "role": u.role.name()}))
        .collect();
    serde_json::json!({"tailnet": {"owner": inv.tailnet_owner}, "users": users, "nodes": nodes})
}

/// A typical review's change of a policy's ACLs (the diff benchmarks' edit): the entries
/// at 1/3 and 2/3 removed, the middle entry's first destination moved to port 8443, the
/// sources of the entry at 1/4 replaced by `autogroup:member`, and two entries added at
/// the end (copies of the first two with port 9000). Entries are renumbered as the file
/// would be. A policy without ACLs is returned unchanged.
pub fn reviewed_edit(p: &Policy) -> Policy {
    let mut out = p.clone();
    let Some(acls) = out.acls.as_mut() else {
        return out;
    };
    let n = acls.len();
    let mut added: Vec<_> = acls.iter().take(2).cloned().collect();
    for a in &mut added {
        for d in &mut a.dst {
            d.value.ports = vec![PortRange {
                first: 9000,
                last: 9000,
            }];
        }
    }
    if let Some(a) = acls.get_mut(n / 2)
        && let Some(d) = a.dst.first_mut()
    {
        d.value.ports = vec![PortRange {
            first: 8443,
            last: 8443,
        }];
    }
    if let Some(a) = acls.get_mut(n / 4)
        && let Ok(member) = Alias::parse("autogroup:member", false)
    {
        a.src = vec![Spanned::new(member, Span::default())];
    }
    if n >= 3 {
        acls.remove(2 * n / 3);
        acls.remove(n / 3);
    }
    acls.extend(added);
    for (i, a) in acls.iter_mut().enumerate() {
        a.origin.index = i;
    }
    out
}

/// A small deterministic generator (SplitMix64).
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed`.
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A value in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        usize::try_from(self.next_u64() % u64::try_from(n).unwrap_or(u64::MAX)).unwrap_or(0)
    }
}

/// The tailnet address of node `i`.
pub fn node_v4(i: usize) -> Ipv4Addr {
    let n = u32::try_from(i + 1).unwrap_or(0) & 0x003f_ffff;
    Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) | n)
}

/// The tailnet IPv6 address of node `i`.
pub fn node_v6(i: usize) -> Ipv6Addr {
    let n = u128::try_from(i + 1).unwrap_or(0);
    Ipv6Addr::from(u128::from(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 0)) | n)
}

/// Node `i` of a synthetic tailnet (addresses [`node_v4`]`(i)` and [`node_v6`]`(i)`),
/// owned by `user` or tagged, advertising `routes` (entries that are not CIDRs are
/// skipped), none approved yet.
pub fn node(i: usize, name: &str, user: Option<&str>, tags: &[&str], routes: &[&str]) -> Node {
    Node {
        name: name.to_owned(),
        user: user.map(str::to_owned),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        ipv4: Some(node_v4(i)),
        ipv6: Some(node_v6(i)),
        advertised_routes: routes.iter().filter_map(|r| r.parse().ok()).collect(),
        approved_routes: Vec::new(),
        posture: PostureAttrs::default(),
        span: Span::default(),
    }
}

/// Generates a tailnet of `shape`: the policy text (HuJSON) and the inventory.
pub fn tailnet(shape: Shape) -> (String, Inventory) {
    let mut rng = Rng::new(shape.seed);
    let users = shape.users.max(1);
    let tags = shape.tags.max(1);
    let login = |u: usize| format!("user{u}@example.com");
    let mut inv = Inventory {
        tailnet_owner: Some(login(0)),
        users: (0..users)
            .map(|u| User {
                login: login(u),
                role: if u == 0 { Role::Owner } else { Role::Member },
                span: Span::default(),
            })
            .collect(),
        nodes: Vec::with_capacity(shape.nodes),
        ..Inventory::default()
    };
    let servers = shape.nodes / 5;
    for i in 0..shape.nodes {
        let mut node = Node {
            name: format!("node{i}"),
            user: None,
            tags: Vec::new(),
            ipv4: Some(node_v4(i)),
            ipv6: Some(node_v6(i)),
            advertised_routes: Vec::new(),
            approved_routes: Vec::new(),
            posture: Default::default(),
            span: Span::default(),
        };
        if i < shape.routers {
            node.tags.push("tag:router".to_owned());
            let b = u8::try_from(i / 256).unwrap_or(0);
            let c = u8::try_from(i % 256).unwrap_or(0);
            if let Ok(net) = IpNet::new(Ipv4Addr::new(10, b, c, 0).into(), 24) {
                node.advertised_routes.push(net);
            }
        } else if i < shape.routers + servers {
            node.tags.push(format!("tag:t{}", rng.below(tags)));
            if rng.below(4) == 0 {
                node.tags.push(format!("tag:t{}", rng.below(tags)));
                node.tags.dedup();
            }
        } else {
            node.user = Some(login(i % users));
        }
        inv.nodes.push(node);
    }

    let mut p = String::new();
    p.push_str("{\n\"groups\": {\n");
    for g in 0..shape.groups {
        let members: Vec<String> = (0..5)
            .map(|_| format!("\"{}\"", login(rng.below(users))))
            .collect();
        let sep = if g + 1 == shape.groups { "" } else { "," };
        let _ = writeln!(p, "  \"group:g{g}\": [{}]{sep}", members.join(", "));
    }
    p.push_str("},\n\"tagOwners\": {\n  \"tag:router\": [\"user0@example.com\"]");
    for t in 0..tags {
        let _ = write!(p, ",\n  \"tag:t{t}\": [\"user0@example.com\"]");
    }
    p.push_str("\n},\n\"hosts\": {\"internal\": \"10.0.0.0/8\"},\n");
    p.push_str("\"autoApprovers\": {\"routes\": {\"10.0.0.0/8\": [\"tag:router\"]}},\n");
    let groups = shape.groups.max(1);
    let mut acls = Vec::new();
    let mut grants = Vec::new();
    for r in 0..shape.rules {
        let port = 1 + rng.below(9000);
        let tag = format!("tag:t{}", rng.below(tags));
        let group = format!("group:g{}", rng.below(groups));
        let user = login(rng.below(users));
        match r % 10 {
            0 if r == 0 => acls.push(
                "{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self:*\"]}".to_owned(),
            ),
            0 => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"{group}\"], \"dst\": [\"internal:{port}\"]}}"
            )),
            1 => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"{tag}:{port}\"]}}"
            )),
            2 | 3 => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"{group}\", \"{user}\"], \"dst\": [\"{tag}:{port},{}\"], \"proto\": \"tcp\"}}",
                port + 1
            )),
            4 => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"{tag}\"], \"dst\": [\"{group}:{port}\"]}}"
            )),
            5 => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"{group}\"], \"dst\": [\"10.{}.{}.0/24:{port}\"]}}",
                rng.below(1 + shape.routers / 256),
                rng.below(256)
            )),
            6 | 7 => grants.push(format!(
                "{{\"src\": [\"{group}\"], \"dst\": [\"{tag}\"], \"ip\": [\"tcp:{port}\", \"udp:{port}\"]}}"
            )),
            8 => grants.push(format!(
                "{{\"src\": [\"{user}\"], \"dst\": [\"{tag}\"], \"app\": {{\"example.com/cap/x\": [{{\"n\": {port}}}]}}}}"
            )),
            _ => acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [\"{user}\"], \"dst\": [\"{}:22\"]}}",
                login(rng.below(users))
            )),
        }
    }
    let _ = write!(p, "\"acls\": [\n  {}\n],\n", acls.join(",\n  "));
    let _ = write!(p, "\"grants\": [\n  {}\n],\n", grants.join(",\n  "));
    p.push_str(
        "\"ssh\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:self\"], \"users\": [\"autogroup:nonroot\"]}]\n}\n",
    );
    (p, inv)
}
