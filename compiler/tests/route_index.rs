//! `Resolver::nodes_with_route_overlapping` (an indexed search) agrees with checking
//! every approved route, on random nested and disjoint routes of both families.
#![expect(clippy::expect_used, reason = "test")]

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_compiler::Addr;
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::synth::Rng;
use tailpolicy_compiler::{Node, NodeId, Role, User};
use tailpolicy_compiler::{ResolveOptions, Resolver};
use tailpolicy_policy::CheckOptions;

fn random_net(rng: &mut Rng) -> IpNet {
    if rng.below(4) == 0 {
        let base = Ipv6Addr::new(
            0xfd00,
            0,
            u16::try_from(rng.below(4)).unwrap_or(0),
            0,
            0,
            0,
            0,
            0,
        );
        IpNet::new(
            IpAddr::V6(base),
            u8::try_from(16 + rng.below(40)).unwrap_or(64),
        )
        .expect("prefix")
        .trunc()
    } else {
        let ip = Ipv4Addr::new(
            10,
            u8::try_from(rng.below(4)).unwrap_or(0),
            u8::try_from(rng.below(256)).unwrap_or(0),
            0,
        );
        IpNet::new(
            IpAddr::V4(ip),
            u8::try_from(8 + rng.below(17)).unwrap_or(24),
        )
        .expect("prefix")
        .trunc()
    }
}

#[test]
fn indexed_route_search_matches_a_scan() {
    let analysis = tailpolicy_policy::analyse(
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#,
        &CheckOptions::default(),
    );
    let policy = analysis.policy.expect("parsed");
    for seed in 0..30 {
        let mut rng = Rng::new(seed);
        let nodes: Vec<Node> = (0..1 + rng.below(12))
            .map(|i| {
                let routes: Vec<IpNet> = (0..1 + rng.below(3))
                    .map(|_| random_net(&mut rng))
                    .collect();
                Node {
                    name: format!("r{i}"),
                    user: Some("a@example.com".to_owned()),
                    tags: Vec::new(),
                    ipv4: None,
                    ipv6: None,
                    advertised_routes: routes.clone(),
                    approved_routes: routes,
                    posture: Default::default(),
                    span: Default::default(),
                }
            })
            .collect();
        let inv = Inventory {
            tailnet_owner: None,
            users: vec![User {
                login: "a@example.com".to_owned(),
                role: Role::Owner,
                span: Default::default(),
            }],
            nodes,
            ..Inventory::default()
        };
        let r = Resolver::new(&policy, &inv, ResolveOptions::default());
        for _ in 0..40 {
            let q = Addr::net(random_net(&mut rng));
            let found = r.nodes_with_route_overlapping(&q);
            let scan: Vec<NodeId> = inv
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.approved_routes.iter().any(|net| q.overlaps_net(net)))
                .map(|(id, _)| NodeId(id))
                .collect();
            assert_eq!(found, scan, "seed {seed}, query {q}");
        }
    }
}
