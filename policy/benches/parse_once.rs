//! One run of each parser on the big generated policy, for instruction counting.
//!
//! Timing benchmarks on a shared machine are noisy; instruction counts are not. Run this
//! under callgrind and compare the inclusive counts of the three entry points, which
//! are measured on the same input in the same process:
//!
//! ```text
//! cargo bench -p tailpolicy-policy --bench parse_once --no-run
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out target/release/deps/parse_once-<hash>
//! callgrind_annotate --inclusive=yes /tmp/cg.out | grep -E 'parse_once::(serde|hujson|analyse)'
//! ```
//!
//! Without valgrind it prints one wall-clock time of each (a single run, for a sanity
//! check only; `benches/parse.rs` is the timing benchmark). An argument `serde`,
//! `hujson` or `analyse` runs only that one.

#![expect(clippy::expect_used, reason = "benchmark setup")]

#[path = "gen/mod.rs"]
mod generator;

use std::hint::black_box;
use std::time::Instant;
use tailpolicy_policy::hujson::parse;
use tailpolicy_policy::{CheckOptions, analyse};

fn main() {
    let text = generator::big_policy();
    let standard = parse(&text)
        .0
        .expect("generated policy parses")
        .to_standard_json();
    let only = std::env::args().nth(1).filter(|a| !a.starts_with('-'));
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    if wanted("serde") {
        let start = Instant::now();
        serde_once(&standard);
        println!("serde_json::from_str: {:.2?}", start.elapsed());
    }
    if wanted("hujson") {
        let start = Instant::now();
        hujson_once(&text);
        println!("hujson::parse: {:.2?}", start.elapsed());
    }
    if wanted("analyse") {
        let start = Instant::now();
        analyse_once(&text);
        println!("analyse: {:.2?}", start.elapsed());
    }
}

/// `serde_json::from_str::<serde_json::Value>` on the comment-free text.
#[inline(never)]
fn serde_once(standard: &str) {
    let value = serde_json::from_str::<serde_json::Value>(black_box(standard));
    black_box(value).expect("standard JSON parses");
}

/// `hujson::parse` on the HuJSON text.
#[inline(never)]
fn hujson_once(text: &str) {
    black_box(parse(black_box(text)));
}

/// The whole front end on the HuJSON text.
#[inline(never)]
fn analyse_once(text: &str) {
    black_box(analyse(black_box(text), &CheckOptions::default()));
}
