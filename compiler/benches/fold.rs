//! Folded answers at scale (issue 19): the folded matrix, `reach --from` one user and
//! the folded diff, on `synth` tailnets with two exit nodes added and an
//! `autogroup:internet` grant for every member:
//! - M: 1,000 nodes, 500 rules, 10 subnet routers, 40 tags;
//! - L: issue 3's shape, 2,000 nodes, 15,000 rules (overlapping ACLs and grants between
//!   300 groups, 600 users and 80 tags), 150 subnet routers.
//!
//! Besides divan's times, each benchmark prints once (to stderr, before timing) one
//! run's time, the process's peak resident memory during that run (`VmHWM`, reset
//! through `/proc/self/clear_refs` before it; it includes the setup, whose resident
//! size is printed too) and the size of the answer's text (one line per cell: source,
//! destination, ports and rules, as the table prints it). The workspace forbids
//! `unsafe`, hence the kernel's count rather than a counting allocator.
//!
//! Run: `cargo bench -p tailpolicy-compiler --bench fold -- --sample-count 3`.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use std::hint::black_box;
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::diff::diff;
use tailpolicy_compiler::eval::fold::{FoldedMatrix, folded_from, folded_matrix};
use tailpolicy_compiler::eval::fold_diff::fold_diff;
use tailpolicy_compiler::eval::reach::resolve_sources;
use tailpolicy_compiler::eval::{Evaluator, Tailnet};
use tailpolicy_compiler::synth::{self, Shape, tailnet};
use tailpolicy_policy::model::Policy;
use tailpolicy_policy::{CheckOptions, analyse};

/// The process's resident set size and its peak (`VmRSS`, `VmHWM`), in bytes; zeros
/// where `/proc` is not there.
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn main() {
    divan::main();
}

const M: Shape = Shape::M;

const L: Shape = Shape::L;

/// The synthetic tailnet of `shape` with two exit nodes (the first two tagged servers)
/// and a grant of the internet to every member.
fn setup(shape: Shape) -> (Policy, Tailnet) {
    let (text, mut inv) = tailnet(shape);
    let text = text.replacen(
        "\"grants\": [\n  ",
        "\"grants\": [\n  {\"src\": [\"autogroup:member\"], \"dst\": [\"autogroup:internet\"], \"ip\": [\"*\"]},\n  ",
        1,
    );
    for n in inv.nodes.iter_mut().skip(shape.routers).take(2) {
        n.approved_routes = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
        n.advertised_routes = n.approved_routes.clone();
    }
    let analysis = analyse(&text, &CheckOptions::default());
    assert!(!analysis.diagnostics.has_errors(), "valid synthetic policy");
    let policy = analysis.policy.expect("parsed");
    let t = Tailnet::from_inventory(&policy, &inv, ResolveOptions::default());
    (policy, t)
}

/// The answer as the table prints it, for its size.
fn text(m: &FoldedMatrix) -> String {
    let mut s = String::new();
    for c in &m.cells {
        let rules: Vec<String> = m
            .origins(c)
            .map(|o| format!("{}[{}]", o.section.key(), o.index))
            .collect();
        s.push_str(&format!(
            "{} -> {}  {}  {}\n",
            m.rows.get(c.row).map_or("", |p| p.name.as_str()),
            m.columns.get(c.column).map_or("", |p| p.name.as_str()),
            c.ports.text(),
            rules.join(", ")
        ));
    }
    s
}

/// Runs `f` once, printing how long it took, the peak resident memory during it, and
/// the size of its answer.
fn measure(name: &str, f: impl FnOnce() -> (usize, usize)) {
    // Resets the peak resident size to the current one (Linux, `proc(5)`).
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    let (before, _) = rss();
    let start = std::time::Instant::now();
    let (lines, bytes) = f();
    let took = start.elapsed();
    let (_, peak) = rss();
    eprintln!(
        "{name}: one run {:.2} s, peak RSS {:.0} MB (setup {:.0} MB), answer {lines} lines, {:.2} MB",
        took.as_secs_f64(),
        peak as f64 / 1e6,
        before as f64 / 1e6,
        bytes as f64 / 1e6
    );
}

fn bench_matrix(bencher: divan::Bencher, shape: Shape, name: &str) {
    let (policy, t) = setup(shape);
    measure(name, || {
        let m = folded_matrix(&policy, &t);
        let s = text(&m);
        (m.cells.len(), s.len())
    });
    bencher.bench(|| folded_matrix(black_box(&policy), &t).cells.len());
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn matrix_m(bencher: divan::Bencher) {
    bench_matrix(bencher, M, "matrix_m");
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn matrix_l(bencher: divan::Bencher) {
    bench_matrix(bencher, L, "matrix_l");
}

fn bench_reach(bencher: divan::Bencher, shape: Shape, name: &str) {
    let (policy, t) = setup(shape);
    let from = |policy: &Policy, t: &Tailnet| {
        let ev = Evaluator::new(policy, t);
        let srcs = resolve_sources(&ev, "user1@example.com").unwrap();
        folded_from(policy, t, &srcs)
    };
    measure(name, || {
        let m = from(&policy, &t);
        (m.cells.len(), text(&m).len())
    });
    bencher.bench(|| from(black_box(&policy), &t).cells.len());
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn reach_from_m(bencher: divan::Bencher) {
    bench_reach(bencher, M, "reach_from_m");
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn reach_from_l(bencher: divan::Bencher) {
    bench_reach(bencher, L, "reach_from_l");
}

fn bench_diff(bencher: divan::Bencher, shape: Shape, name: &str) {
    let (policy, t) = setup(shape);
    let new = synth::reviewed_edit(&policy);
    let run = |old: &Policy, new: &Policy| fold_diff(&diff(old, new, &t), &[old, new], &t);
    measure(name, || {
        let lines = run(&policy, &new);
        let bytes = lines
            .iter()
            .map(|l| l.src.len() + l.dst.len() + 40 + 12 * l.rules.len())
            .sum();
        (lines.len(), bytes)
    });
    bencher.bench(|| run(black_box(&policy), &new).len());
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn diff_m(bencher: divan::Bencher) {
    bench_diff(bencher, M, "diff_m");
}

#[divan::bench(sample_count = 3, sample_size = 1)]
fn diff_l(bencher: divan::Bencher) {
    bench_diff(bencher, L, "diff_l");
}
