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
//! node's call, with the raw-bytes fast path), counted in `hot_path::run_loop`.
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
use std::sync::Arc;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{
    Dataplane, DecisionScratch, Filter, FilterConfig, FlowTable, ParsedPacket,
};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = args.get(1).map_or("tcp", String::as_str);
    let (through_run_in, mode) = arg.strip_prefix("run-").map_or((false, arg), |m| (true, m));
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
    let accepted = if through_run_in {
        run_loop(&Dataplane::new(filter, Arc::new(flows)), &packets, n)
    } else {
        decide_loop(&filter, &flows, &packets, n)
    };
    println!("{arg}: {accepted} of {n} accepted");
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
