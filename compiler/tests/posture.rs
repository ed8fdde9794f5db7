//! Device posture end to end: `testdata/policies/valid/posture.hujson` compiled for
//! `testdata/inventory/posture.json`, whose nodes carry `postureAttributes`.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "tests"
)]

use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::{Tailnet, all_passed, run_policy_tests};
use tailpolicy_compiler::inventory::{Inventory, load};
use tailpolicy_compiler::{CompileOptions, Compiler, NodeCompiled};
use tailpolicy_policy::{CheckOptions, Policy, analyse};

fn inputs() -> (Policy, Inventory) {
    let text = include_str!("../../testdata/policies/valid/posture.hujson");
    let analysis = analyse(text, &CheckOptions::default());
    assert!(
        !analysis.diagnostics.has_errors(),
        "{:?}",
        analysis.diagnostics
    );
    let (inv, diags) = load(include_str!("../../testdata/inventory/posture.json"));
    assert!(diags.is_empty(), "{diags:?}");
    (analysis.policy.expect("policy"), inv.expect("inventory"))
}

fn node<'a>(out: &'a [NodeCompiled], name: &str) -> &'a NodeCompiled {
    out.iter().find(|n| n.name == name).expect("node")
}

#[test]
fn sources_failing_the_posture_are_left_out() {
    let (policy, inv) = inputs();
    let c = Compiler::new(&policy, inv, CompileOptions::default());
    // Production: the grant's own postures (latest macOS or managed Linux), not the
    // default.
    let prod = node(c.nodes(), "prod-1");
    let srcs: Vec<&str> = prod.packet_filter[0]
        .rule
        .src_ips
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        srcs,
        [
            "100.64.0.1",
            "100.64.0.3",
            "100.64.0.4",
            "fd7a:115c:a1e0::1",
            "fd7a:115c:a1e0::3",
            "fd7a:115c:a1e0::4",
        ]
    );
    // The router: `*` under the default posture is cut around every failing device
    // (the old Mac, the quarantined laptop, and the two tagged nodes without
    // attributes); the office subnet is not gated.
    let router = node(c.nodes(), "router");
    let srcs = &router.packet_filter[0].rule.src_ips;
    for want in [
        "100.64.0.0/31",
        "100.64.0.3",
        "100.64.0.5-100.64.0.9",
        "192.168.10.0/24",
        "fd7a:115c:a1e0::5-fd7a:115c:a1e0::9",
    ] {
        assert!(
            srcs.iter().any(|s| s == want),
            "{want} missing from {srcs:?}"
        );
    }
    for failing in ["100.64.0.2", "100.64.0.4", "100.64.0.10", "100.64.0.20"] {
        let ip: std::net::IpAddr = failing.parse().unwrap();
        assert!(
            !srcs
                .iter()
                .any(|s| tailpolicy_compiler::compare::addr_intervals(s)
                    .iter()
                    .any(|i| i.contains(&tailpolicy_compiler::compare::Interval::of_ip(ip)))),
            "{failing} is still a source: {srcs:?}"
        );
    }
    // SSH: only the managed Linux devices are principals.
    let ssh = prod.ssh_policy.as_ref().unwrap();
    let principals: Vec<&str> = ssh[0]
        .rule
        .principals
        .iter()
        .map(|p| p.node_ip.as_str())
        .collect();
    assert_eq!(
        principals,
        [
            "100.64.0.3",
            "fd7a:115c:a1e0::3",
            "100.64.0.4",
            "fd7a:115c:a1e0::4"
        ]
    );
}

#[test]
fn policy_tests_use_src_posture_attrs() {
    let (policy, inv) = inputs();
    let tailnet = Tailnet::from_inventory(&policy, &inv, ResolveOptions::default());
    let out = run_policy_tests(&policy, &tailnet);
    assert!(all_passed(&out), "{out:#?}");
}

#[test]
fn a_joining_device_that_fails_a_posture_matches_a_full_compile() {
    let (policy, inv) = inputs();
    for joining in 0..inv.nodes.len() {
        let mut before = inv.clone();
        let node = before.nodes.remove(joining);
        let mut inc = Compiler::new(&policy, before.clone(), CompileOptions::default());
        inc.add_node(node.clone());
        before.nodes.push(node);
        let scratch = Compiler::new(&policy, before, CompileOptions::default());
        assert_eq!(inc.nodes(), scratch.nodes(), "joining #{joining}");
    }
}
