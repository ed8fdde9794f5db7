//! Compilation benchmarks on synthetic tailnets (`tailpolicy_compiler::synth`).
//!
//! - `m`: 1,000 nodes, 300 users, 300 groups, 500 rules: every node's filter.
//! - `l`: 2,000 nodes, 15,000 rules, a `/8` destination, `autogroup:self`, 150 subnet
//!   routers.
//! - `xl`: 10,000 and 50,000 nodes with 500 rules: growth with the tailnet.
//! - `join_l` / `join_l_tagged`: a user device / a tagged server joining the L tailnet
//!   (`Compiler::add_node`), against the full
//!   compile of the same tailnet in the same run (`l`).
//!
//! Run: `cargo bench -p tailpolicy-compiler --bench compile`.
#![expect(clippy::expect_used, reason = "benchmark setup")]

use divan::{AllocProfiler, Bencher, black_box};
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_compiler::{CompileOptions, Compiler, Node};
use tailpolicy_policy::{CheckOptions, Policy};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

const M: Shape = Shape {
    nodes: 1_000,
    users: 300,
    groups: 300,
    rules: 500,
    routers: 10,
    tags: 40,
    seed: 1,
};
const L: Shape = Shape {
    nodes: 2_000,
    users: 600,
    groups: 300,
    rules: 15_000,
    routers: 150,
    tags: 80,
    seed: 2,
};

fn build(shape: Shape) -> (Policy, Inventory) {
    let (text, inv) = synth::tailnet(shape);
    let analysis = tailpolicy_policy::analyse(&text, &CheckOptions::default());
    assert!(
        !analysis.diagnostics.has_errors(),
        "synthetic policy must be valid"
    );
    (analysis.policy.expect("parsed"), inv)
}

fn compile_all(b: Bencher<'_, '_>, shape: Shape) {
    let (policy, inv) = build(shape);
    b.bench_local(|| {
        let c = Compiler::new(&policy, black_box(inv.clone()), CompileOptions::default());
        black_box(
            c.nodes()
                .iter()
                .map(|n| n.packet_filter.len())
                .sum::<usize>(),
        )
    });
}

#[divan::bench(sample_count = 10)]
fn m(b: Bencher<'_, '_>) {
    compile_all(b, M);
}

#[divan::bench(sample_count = 5)]
fn l(b: Bencher<'_, '_>) {
    compile_all(b, L);
}

#[divan::bench(sample_count = 3, args = [10_000, 50_000])]
fn xl(b: Bencher<'_, '_>, nodes: usize) {
    compile_all(
        b,
        Shape {
            nodes,
            users: nodes / 3,
            groups: 300,
            rules: 500,
            routers: 20,
            tags: 80,
            seed: 3,
        },
    );
}

/// A user's laptop joins the L tailnet.
#[divan::bench(sample_count = 10)]
fn join_l(b: Bencher<'_, '_>) {
    let (policy, inv) = build(L);
    let base = Compiler::new(&policy, inv.clone(), CompileOptions::default());
    let i = inv.nodes.len();
    let joining = Node {
        name: "joining".to_owned(),
        user: Some("user7@example.com".to_owned()),
        tags: Vec::new(),
        ipv4: Some(synth::node_v4(i)),
        ipv6: Some(synth::node_v6(i)),
        advertised_routes: Vec::new(),
        approved_routes: Vec::new(),
        posture: Default::default(),
        span: Default::default(),
    };
    b.with_inputs(|| base.clone()).bench_local_values(|mut c| {
        let changed = black_box(c.add_node(joining.clone()).len());
        // Returned so that dropping the compiler is not timed.
        (c, changed)
    });
}

/// A tagged server (`tag:t3`) joins the L tailnet.
#[divan::bench(sample_count = 10)]
fn join_l_tagged(b: Bencher<'_, '_>) {
    let (policy, inv) = build(L);
    let base = Compiler::new(&policy, inv.clone(), CompileOptions::default());
    let i = inv.nodes.len();
    let joining = Node {
        name: "joining".to_owned(),
        user: None,
        tags: vec!["tag:t3".to_owned()],
        ipv4: Some(synth::node_v4(i)),
        ipv6: Some(synth::node_v6(i)),
        advertised_routes: Vec::new(),
        approved_routes: Vec::new(),
        posture: Default::default(),
        span: Default::default(),
    };
    b.with_inputs(|| base.clone()).bench_local_values(|mut c| {
        let changed = black_box(c.add_node(joining.clone()).len());
        // Returned so that dropping the compiler is not timed.
        (c, changed)
    });
}
