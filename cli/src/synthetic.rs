//! The tailnet a policy describes, for evaluating its `tests` and `sshTests` when no
//! inventory is given: one personal device per user the policy names, one device per
//! tag it defines. Tailscale evaluates tests against the real tailnet; without one,
//! this is the closest offline reading (an identity-based evaluation), and the README
//! says so.

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr};
use tailpolicy_compiler::inventory::{Inventory, Node, Role, User};
use tailpolicy_policy::Span;
use tailpolicy_policy::model::{Alias, Policy};

/// The synthetic inventory of `policy`.
pub fn inventory(policy: &Policy) -> Inventory {
    let mut users: BTreeSet<String> = policy
        .groups
        .iter()
        .flat_map(|g| &g.members)
        .filter(|m| m.value.contains('@'))
        .map(|m| m.value.trim().to_owned())
        .collect();
    let mut add = |a: &Alias| {
        if let Alias::User(u) = a {
            users.insert(u.clone());
        }
    };
    for acl in policy.acls.iter().flatten() {
        acl.src.iter().for_each(|s| add(&s.value));
        acl.dst.iter().for_each(|d| add(&d.value.alias));
    }
    for g in policy.grants.iter().flatten() {
        g.src.iter().chain(&g.dst).for_each(|s| add(&s.value));
    }
    for r in policy.ssh.iter().flatten() {
        r.src.iter().chain(&r.dst).for_each(|s| add(&s.value));
    }
    for t in &policy.tag_owners {
        t.owners.iter().for_each(|s| add(&s.value));
    }
    let test_srcs = policy
        .tests
        .iter()
        .filter_map(|t| t.src.as_ref())
        .chain(policy.ssh_tests.iter().filter_map(|t| t.src.as_ref()));
    for s in test_srcs {
        if let Ok(a) = Alias::parse(&s.value, false) {
            add(&a);
        }
    }
    let mut nodes = Vec::new();
    let mut next: u32 = 1;
    let mut device = |name: String, user: Option<String>, tags: Vec<String>| {
        // 100.64.0.0/10 and fd7a:115c:a1e0::/48, numbered from 1.
        let v4 = Ipv4Addr::from(u32::from(Ipv4Addr::new(100, 64, 0, 0)) + next);
        let v6 = Ipv6Addr::from(
            u128::from(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 0)) + u128::from(next),
        );
        next += 1;
        Node {
            name,
            user,
            tags,
            ipv4: Some(v4),
            ipv6: Some(v6),
            advertised_routes: Vec::new(),
            approved_routes: Vec::new(),
            span: Span::default(),
        }
    };
    for u in &users {
        nodes.push(device(format!("{u} (device)"), Some(u.clone()), Vec::new()));
    }
    for t in &policy.tag_owners {
        nodes.push(device(
            format!("{} (device)", t.tag.value),
            None,
            vec![t.tag.value.clone()],
        ));
    }
    Inventory {
        tailnet_owner: None,
        users: users
            .into_iter()
            .map(|login| User {
                login,
                role: Role::Member,
                span: Span::default(),
            })
            .collect(),
        nodes,
    }
}
