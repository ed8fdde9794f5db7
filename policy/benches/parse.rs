//! Parsing speed on a generated policy of the size of the largest public one
//! (15,000 ACL rules, 300 groups, 2,000 hosts, ~150k lines; see `gen/mod.rs`).
//!
//! Baseline: `serde_json::from_str::<serde_json::Value>` on the same document with the
//! comments blanked out and trailing commas removed (`Document::to_standard_json`).
//! After divan's table, the bench prints the median and the fastest of each over
//! interleaved runs, and their ratios.
//!
//! A third bench, `analyse`, runs the whole front end (parse, lower, check, lints) on
//! the same text: the figure users wait for in `tailpolicy lint`.
//!
//! The two ratios answer different questions: divan runs each bench back to back (a warm
//! allocator, which helps `serde_json` most), the interleaved medians run each parser right
//! after the others (closer to one parse in a CLI run). For load-independent instruction
//! counts of the same three calls, see `parse_once.rs`.
//!
//! Before divan starts, each of the three runs once, the whole front end first: the
//! allocator's heap then has its working size for every bench, whatever divan's order
//! (alphabetical). Without that, whichever bench ran first would pay for growing the heap
//! (page faults), and the later ones would not.
//!
//! Run: `cargo bench -p tailpolicy-policy --bench parse`

#![expect(clippy::expect_used, reason = "benchmark setup")]

#[path = "gen/mod.rs"]
mod generator;

use std::sync::LazyLock;
use std::time::{Duration, Instant};
use tailpolicy_policy::hujson::parse;
use tailpolicy_policy::{CheckOptions, analyse};

/// (HuJSON text, the same as standard JSON).
static INPUT: LazyLock<(String, String)> = LazyLock::new(|| {
    let text = generator::big_policy();
    let standard = parse(&text)
        .0
        .expect("generated policy parses")
        .to_standard_json();
    (text, standard)
});

fn main() {
    let (text, standard) = &*INPUT;
    println!(
        "input: {} lines, {} bytes",
        text.lines().count(),
        text.len()
    );
    // Warm-up (see the module docs).
    divan::black_box(analyse(text, &CheckOptions::default()));
    divan::black_box(parse(text));
    divan::black_box(serde_json::from_str::<serde_json::Value>(standard))
        .expect("standard JSON parses");
    divan::main();
    print_ratio(text, standard);
}

/// The tailpolicy HuJSON parser: text to lossless tree (with duplicate-key checks).
#[divan::bench]
fn hujson_parse(bencher: divan::Bencher<'_, '_>) {
    let text = &INPUT.0;
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| parse(divan::black_box(text)));
}

/// Baseline: serde_json into `serde_json::Value` on the comment-free text.
#[divan::bench]
fn serde_json_baseline(bencher: divan::Bencher<'_, '_>) {
    let standard = &INPUT.1;
    bencher
        .counter(divan::counter::BytesCount::new(standard.len()))
        .bench(|| serde_json::from_str::<serde_json::Value>(divan::black_box(standard)));
}

/// The whole front end: parse, lower, check and lint.
#[divan::bench]
fn analyse_full(bencher: divan::Bencher<'_, '_>) {
    let text = &INPUT.0;
    let options = CheckOptions::default();
    bencher
        .counter(divan::counter::BytesCount::new(text.len()))
        .bench(|| analyse(divan::black_box(text), &options));
}

/// Which statistic of a set of run times to report.
#[derive(Clone, Copy)]
enum Pick {
    /// The middle run.
    Median,
    /// The fastest run: on a shared machine, noise only ever adds time.
    Fastest,
}

impl Pick {
    fn of(self, runs: &mut [Duration]) -> Duration {
        runs.sort();
        let i = match self {
            Self::Median => runs.len() / 2,
            Self::Fastest => 0,
        };
        runs.get(i).copied().unwrap_or_default()
    }
}

/// Medians and minima of interleaved runs of all three, and their ratios to serde_json.
fn print_ratio(text: &str, standard: &str) {
    const RUNS: usize = 21;
    let mut ours = Vec::with_capacity(RUNS);
    let mut theirs = Vec::with_capacity(RUNS);
    let mut full = Vec::with_capacity(RUNS);
    let options = CheckOptions::default();
    for _ in 0..RUNS {
        let start = Instant::now();
        divan::black_box(analyse(divan::black_box(text), &options));
        full.push(start.elapsed());
        let start = Instant::now();
        divan::black_box(parse(divan::black_box(text)));
        ours.push(start.elapsed());
        let start = Instant::now();
        divan::black_box(serde_json::from_str::<serde_json::Value>(divan::black_box(
            standard,
        )))
        .expect("standard JSON parses");
        theirs.push(start.elapsed());
    }
    for (what, pick) in [("median", Pick::Median), ("fastest", Pick::Fastest)] {
        let (ours, theirs, full) = (pick.of(&mut ours), pick.of(&mut theirs), pick.of(&mut full));
        let ratio = |d: Duration| d.as_secs_f64() / theirs.as_secs_f64().max(f64::MIN_POSITIVE);
        println!(
            "{what} of {RUNS} interleaved runs: serde_json {theirs:.2?}; hujson::parse {ours:.2?} ({:.2}x); analyse (parse+check+lints) {full:.2?} ({:.2}x)",
            ratio(ours),
            ratio(full)
        );
    }
}
