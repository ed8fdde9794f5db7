//! Runs `N` inbound decisions of one benchmark shape, for load-independent instruction counts:
//!
//! ```sh
//! cargo build --release -p tailpolicy-dataplane-filter --example hot_path
//! valgrind --tool=callgrind --toggle-collect='hot_path::decide_loop' \
//!     target/release/examples/hot_path tcp 100000
//! ```
//!
//! Only `decide_loop` (decode + decision, the same calls as `benches/filter.rs`) is counted, so
//! the total divided by `N` is the instructions per decision, and `callgrind_annotate` shows
//! where they go. (Without `--toggle-collect`, run with `N` and with 0 and divide the difference
//! by `N`.) Modes: `tcp` (established ACK), `udp-hot` (the same reply repeated, 100,000 flows in
//! the table), `udp-cold` (replies spread over the 100,000 flows), `tcp64` / `udp64` /
//! `udp64-node` (64 connections / 64 live flows in turn, as the `batch_run_in_*` benches),
//! `syn-<rules>x<sources>` (new flows, as `new_flow_fast`). Prefix `run-` (`run-tcp`,
//! `run-udp-hot`, `run-udp-cold`, `run-syn-…`) decides through `Dataplane::run_in` instead (the
//! node's call, with the raw-bytes fast path), counted in `hot_path::run_loop`. Prefix
//! `batch-` (`batch-tcp64`, `batch-udp64`, `batch-udp64-node`) decides through
//! `Dataplane::run_in` in exactly the loop of the `batch_run_in_*` benches (passes over the
//! packets, each verdict kept whole), counted in `hot_path::batch_loop`.
//!
//! Comparing two builds on the wall clock (the host's speed changes by up to half within
//! seconds, so two benchmark runs one after the other do not compare):
//!
//! ```sh
//! cp target/release/examples/hot_path /tmp/hp-a    # build A, then change the code
//! cargo build --release -p tailpolicy-dataplane-filter --example hot_path
//! target/release/examples/hot_path ab /tmp/hp-a target/release/examples/hot_path syn-1000x100
//! ```
//!
//! `ab BIN_A BIN_B MODE [ROUNDS] [CHUNK]` runs both builds as servers (`serve MODE`, which
//! reads decision counts on stdin and answers with the nanoseconds they took) and lets them
//! take turns of `CHUNK` decisions, so each pair of turns sees the same machine; it prints
//! the median of the per-pair ratios B / A and their quartiles. Comparing a build with itself
//! gives medians within 1 % of 1.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "measurement harness"
)]

#[path = "../benches/common/mod.rs"]
mod common;

use common::{
    NODE_V4, Rng, established_batch, flow_setup, host_v4, live_replies, live_reply,
    node_table_flow_setup, packet, rules, syns,
};
use std::hint::black_box;
use std::time::Instant;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{
    Dataplane, DecisionScratch, Filter, FilterConfig, FlowTable, ParsedPacket,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("ab") {
        return ab(&args[2..]);
    }
    let serve = args.get(1).map(String::as_str) == Some("serve");
    let args: Vec<String> = if serve { args[1..].to_vec() } else { args };
    let arg = args.get(1).map_or("tcp", String::as_str);
    let (kind, mode) = if let Some(m) = arg.strip_prefix("batch-") {
        (Kind::Batch, m)
    } else if let Some(m) = arg.strip_prefix("run-") {
        (Kind::RunIn, m)
    } else {
        (Kind::Decide, arg)
    };
    let n: usize = args
        .get(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let shape = mode.strip_prefix("syn-").unwrap_or("1000x10");
    let (r, k) = shape.split_once('x').unwrap();
    let rules = rules(r.parse().unwrap(), k.parse().unwrap(), 7);
    let config = FilterConfig {
        local_nets: Some(parse_addr_list(&["100.64.0.1/32", "fd7a:115c:a1e0::1/128"]).unwrap()),
        ..FilterConfig::default()
    };
    let filter = Filter::new(&rules, &config).0;
    let (flows, packets) = match mode {
        "tcp" => (
            FlowTable::default(),
            vec![packet(
                6,
                host_v4(&mut Rng(3)),
                NODE_V4,
                443,
                40000,
                0x10,
                0,
            )],
        ),
        "udp-hot" => {
            let (flows, replies) = flow_setup();
            let reply = live_reply(&flows, &replies).unwrap().to_vec();
            (flows, vec![reply])
        }
        "udp-cold" => flow_setup(),
        "tcp64" => (FlowTable::default(), established_batch(64)),
        "udp64" | "udp64-node" => {
            let (flows, replies) = if mode == "udp64" {
                flow_setup()
            } else {
                node_table_flow_setup()
            };
            let batch = live_replies(&flows, &replies)
                .take(64)
                .map(<[u8]>::to_vec)
                .collect();
            (flows, batch)
        }
        _ => (FlowTable::default(), syns(&rules, 11)),
    };
    let target = match kind {
        Kind::Decide => Target::Decide(Box::new(filter), flows),
        Kind::RunIn => Target::RunIn(Dataplane::new(filter, flows)),
        Kind::Batch => Target::Batch(Dataplane::new(filter, flows)),
    };
    let run = |n: usize| match &target {
        Target::Decide(filter, flows) => decide_loop(filter, flows, &packets, n),
        Target::RunIn(dataplane) => run_loop(dataplane, &packets, n),
        Target::Batch(dataplane) => batch_loop(dataplane, &packets, n),
    };
    if serve {
        // One request per line: a number of decisions; answered with the nanoseconds taken.
        for line in std::io::stdin().lines() {
            let n: usize = line.unwrap().trim().parse().unwrap();
            let start = Instant::now();
            black_box(run(n));
            println!("{}", start.elapsed().as_nanos());
        }
        return;
    }
    let result = run(n);
    if matches!(kind, Kind::Batch) {
        println!("{arg}: {result} decisions");
    } else {
        println!("{arg}: {result} of {n} accepted");
    }
}

/// How a mode decides: decode + `Filter::check_in`, `Dataplane::run_in` one packet at a
/// time, or `Dataplane::run_in` in the loop of the `batch_run_in_*` benches.
#[derive(Clone, Copy)]
enum Kind {
    Decide,
    RunIn,
    Batch,
}

/// What a mode decides through (see [`Kind`]).
enum Target {
    Decide(Box<Filter>, FlowTable),
    RunIn(Dataplane),
    Batch(Dataplane),
}

/// `ab BIN_A BIN_B MODE [ROUNDS] [CHUNK]`: compares two builds of this program on one mode.
/// Both run as servers (`serve MODE`) and take turns deciding `CHUNK` packets (default
/// 100,000), `ROUNDS` times each (default 200), in alternating order. Turns are tens of
/// milliseconds, much shorter than the host's changes of speed, so each pair of turns
/// sees the same machine: the median of the per-pair ratios B / A is the comparison, with
/// its quartiles.
fn ab(args: &[String]) {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let (bin_a, bin_b, mode) = (&args[0], &args[1], &args[2]);
    let rounds: usize = args.get(3).map_or(200, |s| s.parse().unwrap());
    let chunk: usize = args.get(4).map_or(100_000, |s| s.parse().unwrap());
    let spawn = |bin: &String| {
        let mut child = Command::new(bin)
            .args(["serve", mode])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let input = child.stdin.take().unwrap();
        let output = BufReader::new(child.stdout.take().unwrap());
        (child, input, output)
    };
    let mut servers = [spawn(bin_a), spawn(bin_b)];
    let mut turn = |k: usize| -> f64 {
        let (_, input, output) = &mut servers[k];
        writeln!(input, "{chunk}").unwrap();
        let mut line = String::new();
        output.read_line(&mut line).unwrap();
        line.trim().parse::<f64>().unwrap() / chunk as f64
    };
    // Warm-up turns (page faults, caches).
    for _ in 0..3 {
        turn(0);
        turn(1);
    }
    let (mut a, mut b, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for r in 0..rounds {
        let (x, y) = if r % 2 == 0 {
            let x = turn(0);
            (x, turn(1))
        } else {
            let y = turn(1);
            (turn(0), y)
        };
        a.push(x);
        b.push(y);
        ratios.push(y / x);
    }
    for v in [&mut a, &mut b, &mut ratios] {
        v.sort_by(f64::total_cmp);
    }
    let q = |v: &[f64], f: f64| v[((v.len() - 1) as f64 * f) as usize];
    println!(
        "{mode}: A {:.2} ns (min {:.2}), B {:.2} ns (min {:.2}); B/A median {:.3}, quartiles {:.3}..{:.3}",
        q(&a, 0.5),
        a[0],
        q(&b, 0.5),
        b[0],
        q(&ratios, 0.5),
        q(&ratios, 0.25),
        q(&ratios, 0.75)
    );
    // Closing a server's input ends it.
    for (mut child, input, _) in servers {
        drop(input);
        child.wait().unwrap();
    }
}

/// Decodes and decides `n` packets, cycling through `packets`; returns the accept count.
#[inline(never)]
fn decide_loop(filter: &Filter, flows: &FlowTable, packets: &[Vec<u8>], n: usize) -> usize {
    let mut p = ParsedPacket::default();
    let mut accepted = 0usize;
    let mut i = 0;
    for _ in 0..n {
        i = if i + 1 < packets.len() { i + 1 } else { 0 };
        p.decode(black_box(&packets[i]));
        accepted += usize::from(black_box(filter.check_in(&p, flows, 2)).is_accept());
    }
    accepted
}

/// The loop of the `batch_run_in_*` benches: `n / packets.len()` passes over `packets`, each
/// verdict kept whole (`black_box`); returns the number of decisions.
#[inline(never)]
fn batch_loop(dp: &Dataplane, packets: &[Vec<u8>], n: usize) -> usize {
    let mut scratch = DecisionScratch::default();
    let passes = n / packets.len().max(1);
    for _ in 0..passes {
        for pkt in black_box(packets) {
            black_box(dp.run_in(pkt, &mut scratch, 2));
        }
    }
    passes * packets.len()
}

/// [`decide_loop`] through `Dataplane::run_in`.
#[inline(never)]
fn run_loop(dp: &Dataplane, packets: &[Vec<u8>], n: usize) -> usize {
    let mut scratch = DecisionScratch::default();
    let mut accepted = 0usize;
    let mut i = 0;
    for _ in 0..n {
        i = if i + 1 < packets.len() { i + 1 } else { 0 };
        accepted +=
            usize::from(black_box(dp.run_in(black_box(&packets[i]), &mut scratch, 2)).is_accept());
    }
    accepted
}
