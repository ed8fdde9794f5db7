//! `Compiler::add_node` gives the same output as compiling the grown inventory from
//! scratch, and reports every node whose output changed.
#![expect(clippy::expect_used, reason = "test")]

use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_compiler::{CompileOptions, Compiler};
use tailpolicy_policy::CheckOptions;

fn check_join(shape: Shape, joining: usize) {
    let (text, full_inv) = synth::tailnet(shape);
    let analysis = tailpolicy_policy::analyse(&text, &CheckOptions::default());
    assert!(
        !analysis.diagnostics.has_errors(),
        "{:?}",
        analysis.diagnostics
    );
    let policy = analysis.policy.expect("parsed");
    let mut before = full_inv.clone();
    let node = before.nodes.remove(joining);
    before.nodes.push(node.clone());
    let mut grown = before.clone();
    let node = grown.nodes.pop().expect("node");
    let mut inc = Compiler::new(&policy, grown, CompileOptions::default());
    let old = inc.nodes().to_vec();
    let changed = inc.add_node(node);
    let scratch = Compiler::new(&policy, before, CompileOptions::default());
    assert_eq!(inc.nodes().len(), scratch.nodes().len());
    for (a, b) in inc.nodes().iter().zip(scratch.nodes()) {
        assert_eq!(
            a, b,
            "node {} differs after add_node (joining #{joining})",
            a.name
        );
    }
    for (i, n) in scratch.nodes().iter().enumerate() {
        if old.get(i) != Some(n) {
            assert!(
                changed.contains(&n.name),
                "{} changed but was not reported",
                n.name
            );
        }
    }
}

#[test]
fn joining_nodes_match_a_full_compile() {
    let shape = Shape {
        nodes: 120,
        users: 20,
        groups: 10,
        rules: 200,
        routers: 5,
        tags: 6,
        seed: 11,
    };
    // A router (recompiles everything), tagged servers, and user devices.
    for joining in [2, 7, 30, 60, 61, 100, 119] {
        check_join(shape, joining);
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
    for joining in [0, 13, 40, 59] {
        check_join(shape, joining);
    }
}
