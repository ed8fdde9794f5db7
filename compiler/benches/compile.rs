//! Compilation benchmarks on synthetic tailnets (`tailpolicy_compiler::synth`).
//!
//! Full compiles (`Compiler::new`: resolve every entry, hand out every destination,
//! render every node's packet filter, SSH policy and routes; cloning the inventory in):
//! - `m`: 1,000 nodes, 300 users, 300 groups, 500 rules.
//! - `l`: 2,000 nodes, 15,000 rules, a `/8` destination, `autogroup:self`, 150 subnet
//!   routers.
//! - `xl`: 10,000 and 50,000 nodes with 500 rules: growth with the tailnet.
//! - `l_rules`: the L tailnet with 5,000 / 15,000 / 30,000 rules: growth with the policy.
//!
//! Incremental updates of the L tailnet: what a control plane calls when a node joins or
//! leaves, and what it then reads to push. Each timed call is `Compiler::add_node` (or
//! `Compiler::remove_node`), which returns the names of the nodes whose output changed,
//! followed by `Compiler::node` for each of them, reading its new packet filter (the
//! rules are built, in memory). Not timed: cloning the compiled L tailnet before each
//! call and dropping it after. Not included: serialising the filters to JSON, which is
//! proportional to the size of the changed nodes' filters, not to the change — except in
//! `join_l_json`, which also serialises each changed node's packet filter
//! (`serde_json::to_vec`), as a control plane sending full filters would.
//! - `join_l`: a user's laptop joins (its user is in several groups and has devices:
//!   `autogroup:self`, group sources on the `/8` received by the 150 routers).
//! - `join_l_json`: the same, plus the JSON of every changed node's packet filter.
//! - `join_l_tagged`: a tagged server (`tag:t3`) joins.
//! - `join_l_router`: a subnet router with an auto-approved route joins: `*` sources
//!   change, so this recompiles everything (compare with `l`).
//! - `leave_l`: a user's laptop leaves.
//!
//! Compare each with `l` measured in the same run (the machine may be loaded).
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

const M: Shape = Shape::M;
const L: Shape = Shape::L;

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

#[divan::bench(sample_count = 3, args = [5_000, 15_000, 30_000])]
fn l_rules(b: Bencher<'_, '_>, rules: usize) {
    compile_all(b, Shape { rules, ..L });
}

/// A node of the L tailnet, numbered after the last one.
fn l_node(inv: &Inventory, user: Option<&str>, tags: &[&str], routes: &[&str]) -> Node {
    synth::node(inv.nodes.len(), "joining", user, tags, routes)
}

/// The changed nodes' packet filters, read as a control plane would: rule count.
fn read_changed(c: &Compiler<'_>, changed: &[String]) -> usize {
    changed
        .iter()
        .filter_map(|name| c.node(name))
        .map(|n| n.packet_filter.len())
        .sum()
}

/// Times `joining` joining the compiled L tailnet; with `json`, also serialises every
/// changed node's packet filter.
fn bench_join(b: Bencher<'_, '_>, user: Option<&str>, tags: &[&str], routes: &[&str], json: bool) {
    let (policy, inv) = build(L);
    let base = Compiler::new(&policy, inv.clone(), CompileOptions::default());
    let joining = l_node(&inv, user, tags, routes);
    b.with_inputs(|| base.clone()).bench_local_values(|mut c| {
        let changed = c.add_node(joining.clone());
        let mut size = read_changed(&c, &changed);
        if json {
            for n in changed.iter().filter_map(|name| c.node(name)) {
                let rules: Vec<_> = n.packet_filter.iter().map(|r| &r.rule).collect();
                size += serde_json::to_vec(&rules).map_or(0, |v| v.len());
            }
        }
        black_box(size);
        // Returned so that dropping the compiler is not timed.
        (c, changed)
    });
}

/// A user's laptop joins the L tailnet.
#[divan::bench(sample_count = 10)]
fn join_l(b: Bencher<'_, '_>) {
    bench_join(b, Some("user7@example.com"), &[], &[], false);
}

/// A user's laptop joins the L tailnet; the changed filters are serialised.
#[divan::bench(sample_count = 10)]
fn join_l_json(b: Bencher<'_, '_>) {
    bench_join(b, Some("user7@example.com"), &[], &[], true);
}

/// A tagged server (`tag:t3`) joins the L tailnet.
#[divan::bench(sample_count = 10)]
fn join_l_tagged(b: Bencher<'_, '_>) {
    bench_join(b, None, &["tag:t3"], &[], false);
}

/// A subnet router with an auto-approved route joins the L tailnet.
#[divan::bench(sample_count = 5)]
fn join_l_router(b: Bencher<'_, '_>) {
    bench_join(b, None, &["tag:router"], &["10.200.0.0/24"], false);
}

/// A user's laptop (the last node, `user7`'s) leaves the L tailnet.
#[divan::bench(sample_count = 10)]
fn leave_l(b: Bencher<'_, '_>) {
    let (policy, mut inv) = build(L);
    let leaving = l_node(&inv, Some("user7@example.com"), &[], &[]);
    let name = leaving.name.clone();
    inv.nodes.push(leaving);
    let base = Compiler::new(&policy, inv, CompileOptions::default());
    b.with_inputs(|| base.clone()).bench_local_values(|mut c| {
        let changed = c.remove_node(&name).unwrap_or_default();
        black_box(read_changed(&c, &changed));
        (c, changed)
    });
}
