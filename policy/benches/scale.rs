//! Scale: `analyse` plus `// tailpolicy:ignore` processing (what `tailpolicy lint` does
//! before rendering) on three shapes that used to be quadratic:
//!
//! - `one_line_hosts`: 400,000 host aliases on one line (about 10 MB), every one
//!   unused, so 400,000 warnings on the same line;
//! - `used_hosts`: 80,000 hosts, each the destination of its own rule;
//! - `overlapping_rules`: the 15,000-rule policy of `parse.rs`'s sizes (2,000 hosts,
//!   300 groups) with rules that overlap as real ones do (popular destinations and
//!   groups, repeats, `*` sources), which is what makes the shadowed- and
//!   duplicate-rule lints (TP1005, TP1006) compare many pairs.
//!
//! Each is timed per megabyte. After divan's table the bench prints, for each shape,
//! the fastest of a few runs, its time per megabyte, and its ratio to the same
//! measurement on a quarter of the input (a linear check: about 4x; quadratic would be
//! about 16x).
//!
//! Run: `cargo bench -p tailpolicy-policy --bench scale`

#![expect(clippy::expect_used, reason = "benchmark setup")]

#[path = "gen/mod.rs"]
mod generator;
#[path = "gen/scale.rs"]
mod scale_gen;

use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tailpolicy_policy::apply_suppressions;
use tailpolicy_policy::{CheckOptions, SourceFile, analyse};

const HOSTS_ONE_LINE: usize = 400_000;
const HOSTS_USED: usize = 80_000;

fn overlapping(rules: usize) -> String {
    scale_gen::overlapping_policy(generator::Sizes {
        rules,
        ..generator::BIG
    })
}

static ONE_LINE: LazyLock<String> = LazyLock::new(|| scale_gen::one_line_hosts(HOSTS_ONE_LINE));
static USED: LazyLock<String> = LazyLock::new(|| scale_gen::used_hosts(HOSTS_USED));
static OVERLAPPING: LazyLock<String> = LazyLock::new(|| overlapping(generator::BIG.rules));
static DISJOINT: LazyLock<String> = LazyLock::new(generator::big_policy);

/// What `tailpolicy lint` computes for a file before rendering it.
fn lint(text: &str) -> usize {
    let analysis = analyse(text, &CheckOptions::default());
    let file = SourceFile::new("bench.hujson", text);
    apply_suppressions(&file, analysis.diagnostics).len()
}

fn main() {
    for (name, text) in [
        ("one_line_hosts", &*ONE_LINE),
        ("used_hosts", &*USED),
        ("overlapping_rules", &*OVERLAPPING),
    ] {
        println!(
            "{name}: {} bytes, {} diagnostics",
            text.len(),
            divan::black_box(lint(text))
        );
    }
    divan::main();
    let quarter = [
        (
            "one_line_hosts",
            scale_gen::one_line_hosts(HOSTS_ONE_LINE / 4),
        ),
        ("used_hosts", scale_gen::used_hosts(HOSTS_USED / 4)),
        ("overlapping_rules", overlapping(generator::BIG.rules / 4)),
    ];
    for ((name, quarter), full) in quarter.iter().zip([&*ONE_LINE, &*USED, &*OVERLAPPING]) {
        let t_full = fastest(full);
        let t_quarter = fastest(quarter);
        let mb = full.len() as f64 / 1e6;
        println!(
            "{name}: {t_full:.2?} for {mb:.1} MB ({:.1} ms/MB); a quarter of it {t_quarter:.2?}: ratio {:.1} (linear 4, quadratic 16)",
            t_full.as_secs_f64() * 1e3 / mb,
            t_full.as_secs_f64() / t_quarter.as_secs_f64().max(f64::MIN_POSITIVE)
        );
    }
}

/// The fastest of five runs: on a shared machine noise only ever adds time.
fn fastest(text: &str) -> Duration {
    (0..5)
        .map(|_| {
            let start = Instant::now();
            divan::black_box(lint(divan::black_box(text)));
            start.elapsed()
        })
        .min()
        .expect("five runs")
}

/// 400,000 unused host aliases on one line.
#[divan::bench(sample_count = 5)]
fn one_line_hosts(bencher: divan::Bencher<'_, '_>) {
    let text = &*ONE_LINE;
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| lint(divan::black_box(text)));
}

/// 80,000 hosts, each used once.
#[divan::bench(sample_count = 5)]
fn used_hosts(bencher: divan::Bencher<'_, '_>) {
    let text = &*USED;
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| lint(divan::black_box(text)));
}

/// The lints alone (`check::lint`: unused definitions, TP1005/TP1006 and the other
/// rule lints) on the lowered `overlapping_rules` policy: their share of the whole.
#[divan::bench(sample_count = 10)]
fn overlapping_rules_lints_only(bencher: divan::Bencher<'_, '_>) {
    let text = &*OVERLAPPING;
    let policy = analyse(text, &CheckOptions::default())
        .policy
        .expect("the generated policy parses");
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| tailpolicy_policy::lint(divan::black_box(&policy), text));
}

/// Baseline for `overlapping_rules`: `parse.rs`'s policy of the same sizes, whose
/// rules rarely overlap.
#[divan::bench(sample_count = 10)]
fn disjoint_rules(bencher: divan::Bencher<'_, '_>) {
    let text = &*DISJOINT;
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| lint(divan::black_box(text)));
}

/// 15,000 overlapping rules over 2,000 hosts and 300 groups.
#[divan::bench(sample_count = 10)]
fn overlapping_rules(bencher: divan::Bencher<'_, '_>) {
    let text = &*OVERLAPPING;
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| lint(divan::black_box(text)));
}
