//! `Compiler::add_node` and `Compiler::remove_node` give the same output as compiling the
//! new inventory from scratch, and report every node whose output changed.
#![expect(clippy::expect_used, reason = "test")]

use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_compiler::{CompileOptions, Compiler, Node, Role, User};
use tailpolicy_policy::{CheckOptions, Policy};

fn parse(text: &str) -> Policy {
    let analysis = tailpolicy_policy::analyse(text, &CheckOptions::default());
    assert!(
        !analysis.diagnostics.has_errors(),
        "{:?}",
        analysis.diagnostics
    );
    analysis.policy.expect("parsed")
}

/// Asserts that `inc` (updated incrementally from `old`) equals a full compile of its
/// inventory, and that `changed` names every node whose output differs from `old`.
fn assert_matches_scratch(
    policy: &Policy,
    inc: &Compiler<'_>,
    old: &[tailpolicy_compiler::NodeCompiled],
    changed: &[String],
    what: &str,
) {
    let scratch = Compiler::new(policy, inc.inventory().clone(), CompileOptions::default());
    assert_eq!(inc.nodes().len(), scratch.nodes().len(), "{what}");
    for (a, b) in inc.nodes().iter().zip(scratch.nodes()) {
        assert_eq!(a, b, "node {} differs ({what})", a.name);
    }
    for n in scratch.nodes() {
        if old.iter().find(|o| o.name == n.name) != Some(n) {
            assert!(
                changed.contains(&n.name),
                "{} changed but was not reported ({what})",
                n.name
            );
        }
    }
}

/// Node `joining` of the synthetic tailnet joins last; then node `leaving` leaves.
fn check_join_and_leave(shape: Shape, joining: usize, leaving: usize) {
    let (text, full_inv) = synth::tailnet(shape);
    let policy = parse(&text);
    let mut before = full_inv;
    let node = before.nodes.remove(joining);
    let mut inc = Compiler::new(&policy, before, CompileOptions::default());
    let old = inc.nodes().to_vec();
    let changed = inc.add_node(node);
    let what = format!("joining #{joining}");
    assert_matches_scratch(&policy, &inc, &old, &changed, &what);

    let name = inc
        .inventory()
        .nodes
        .get(leaving)
        .expect("leaving node")
        .name
        .clone();
    let old = inc.nodes().to_vec();
    let changed = inc.remove_node(&name).expect("known node");
    let what = format!("leaving #{leaving} after joining #{joining}");
    assert_matches_scratch(&policy, &inc, &old, &changed, &what);
    assert!(inc.remove_node(&name).is_none());
}

#[test]
fn synthetic_joins_and_departures_match_a_full_compile() {
    let shape = Shape {
        nodes: 120,
        users: 20,
        groups: 10,
        rules: 200,
        routers: 5,
        tags: 6,
        seed: 11,
    };
    // Routers (auto-approved subnet routes: everything is recompiled), tagged servers,
    // and user devices (autogroup:self, groups, users).
    for (joining, leaving) in [
        (2, 3),
        (7, 100),
        (30, 9),
        (60, 0),
        (61, 61),
        (100, 119),
        (119, 50),
    ] {
        check_join_and_leave(shape, joining, leaving);
    }
    let shape = Shape {
        nodes: 60,
        users: 4,
        groups: 3,
        rules: 60,
        routers: 0,
        tags: 3,
        seed: 5,
    };
    for (joining, leaving) in [(0, 59), (13, 14), (40, 2), (59, 59)] {
        check_join_and_leave(shape, joining, leaving);
    }
}

/// A user with only one device: joining adds (and leaving removes) a whole
/// `autogroup:self` rule.
#[test]
fn a_users_first_device_matches_a_full_compile() {
    let shape = Shape {
        nodes: 40,
        users: 60,
        groups: 8,
        rules: 80,
        routers: 2,
        tags: 3,
        seed: 9,
    };
    for (joining, leaving) in [(35, 35), (39, 20), (25, 39)] {
        check_join_and_leave(shape, joining, leaving);
    }
}

const HAND_POLICY: &str = r#"{
  "groups": {"group:eng": ["alice@example.com", "bob@example.com"]},
  "tagOwners": {"tag:exit": ["alice@example.com"], "tag:db": ["alice@example.com"],
                "tag:router": ["alice@example.com"]},
  "hosts": {"lab": "100.64.0.0/24"},
  "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"]}, "exitNode": ["tag:exit"]},
  "grants": [
    {"src": ["group:eng"], "dst": ["*"], "app": {"example.com/cap/all": [{"a": 1}]}},
    {"src": ["*"], "dst": ["lab"], "app": {"tailscale.com/cap/drive": [{"shares": ["*"]}]}},
    {"src": ["alice@example.com"], "dst": ["autogroup:self"], "ip": ["*"],
     "app": {"tailscale.com/cap/drive": [{"shares": ["*"]}]}},
    {"src": ["group:eng"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:exit"]},
    {"src": ["tag:db"], "dst": ["10.1.0.0/16"], "ip": ["tcp:5432"]}
  ],
  "acls": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:db:5432", "lab:22"]},
    {"action": "accept", "src": ["*"], "dst": ["*:443"]},
    {"action": "accept", "src": ["bob@example.com"], "dst": ["8.8.8.8:53"], "proto": "udp"}
  ],
  "ssh": [
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"],
     "users": ["autogroup:nonroot"]},
    {"action": "check", "src": ["group:eng"], "dst": ["tag:db"], "users": ["root"]}
  ]
}"#;

fn hand_node(i: usize, name: &str, user: Option<&str>, tags: &[&str], routes: &[&str]) -> Node {
    synth::node(i, name, user, tags, routes)
}

fn hand_inventory() -> Inventory {
    let user = |login: &str, role| User {
        login: login.to_owned(),
        role,
        span: Default::default(),
    };
    Inventory {
        tailnet_owner: Some("alice@example.com".to_owned()),
        users: vec![
            user("alice@example.com", Role::Owner),
            user("bob@example.com", Role::Member),
            user("carol@example.com", Role::Member),
            user("dave@example.com", Role::Shared),
        ],
        nodes: vec![
            hand_node(0, "alice-laptop", Some("alice@example.com"), &[], &[]),
            hand_node(1, "bob-laptop", Some("bob@example.com"), &[], &[]),
            hand_node(2, "db", None, &["tag:db"], &[]),
            hand_node(3, "router", None, &["tag:router"], &["10.1.0.0/16"]),
            hand_node(4, "exit", None, &["tag:exit"], &["0.0.0.0/0", "::/0"]),
            hand_node(5, "carol-phone", Some("carol@example.com"), &[], &[]),
            hand_node(300, "far", Some("dave@example.com"), &[], &[]),
        ],
        ..Inventory::default()
    }
}

/// Capability grants to `*` and to an address range, companion capabilities,
/// `autogroup:self` with capabilities, exit nodes, `via`, a second router, SSH: every
/// kind of node joins (with the others present), then leaves again.
#[test]
fn hand_made_tailnet_joins_and_departures_match_a_full_compile() {
    let policy = parse(HAND_POLICY);
    let extra = [
        hand_node(6, "alice-phone", Some("alice@example.com"), &[], &[]),
        hand_node(7, "bob-desktop", Some("bob@example.com"), &[], &[]),
        hand_node(8, "erin-laptop", Some("erin@example.com"), &[], &[]),
        hand_node(9, "db2", None, &["tag:db"], &[]),
        hand_node(10, "exit2", None, &["tag:exit"], &["0.0.0.0/0"]),
        hand_node(11, "router2", None, &["tag:router"], &["10.2.0.0/16"]),
        hand_node(12, "dave-tablet", Some("dave@example.com"), &[], &[]),
    ];
    for node in extra {
        let name = node.name.clone();
        let mut inc = Compiler::new(&policy, hand_inventory(), CompileOptions::default());
        let old = inc.nodes().to_vec();
        let changed = inc.add_node(node);
        assert!(changed.contains(&name));
        assert_matches_scratch(&policy, &inc, &old, &changed, &format!("{name} joins"));
        let old = inc.nodes().to_vec();
        let changed = inc.remove_node(&name).expect("known node");
        assert_matches_scratch(&policy, &inc, &old, &changed, &format!("{name} leaves"));
    }
    for leaving in hand_inventory().nodes {
        let mut inc = Compiler::new(&policy, hand_inventory(), CompileOptions::default());
        let old = inc.nodes().to_vec();
        let changed = inc.remove_node(&leaving.name).expect("known node");
        let what = format!("{} leaves", leaving.name);
        assert_matches_scratch(&policy, &inc, &old, &changed, &what);
        let old = inc.nodes().to_vec();
        let changed = inc.add_node(leaving.clone());
        let what = format!("{} comes back", leaving.name);
        assert_matches_scratch(&policy, &inc, &old, &changed, &what);
    }
}

/// Chains of departures and arrivals on random small tailnets: the state an update
/// leaves behind must serve the next one.
#[test]
fn chains_of_updates_match_a_full_compile() {
    for seed in 0..10u64 {
        let mut rng = synth::Rng::new(seed);
        let shape = Shape {
            nodes: 20 + rng.below(30),
            users: 2 + rng.below(12),
            groups: 1 + rng.below(6),
            rules: 10 + rng.below(60),
            routers: rng.below(3),
            tags: 1 + rng.below(4),
            seed,
        };
        let (text, inv) = synth::tailnet(shape);
        let policy = parse(&text);
        let mut inc = Compiler::new(&policy, inv, CompileOptions::default());
        let mut away: Vec<Node> = Vec::new();
        for step in 0..8 {
            let old = inc.nodes().to_vec();
            let leave = away.is_empty() || rng.below(2) == 0;
            let (changed, what) = if leave && !inc.inventory().nodes.is_empty() {
                let i = rng.below(inc.inventory().nodes.len());
                let node = inc.inventory().nodes.get(i).expect("node").clone();
                let changed = inc.remove_node(&node.name).expect("known node");
                let what = format!("seed {seed} step {step}: {} leaves", node.name);
                away.push(node);
                (changed, what)
            } else {
                let node = away.swap_remove(rng.below(away.len()));
                let what = format!("seed {seed} step {step}: {} joins", node.name);
                (inc.add_node(node), what)
            };
            assert_matches_scratch(&policy, &inc, &old, &changed, &what);
        }
    }
}
