//! Filter benchmarks: established TCP, UDP flow-table hit (decode + `Filter::check_in`, and
//! the same through `Dataplane::run_in` with its raw-bytes fast path), new-flow rule
//! evaluation (against the plain-loop reference in the same run), and matcher build time.
//!
//! Two kinds of per-packet rows:
//! - one packet per iteration (`run_in_*`, `new_flow_fast`, …): the time includes divan's
//!   per-iteration cost, which `harness_only` measures on its own (0.5–0.9 ns on the
//!   2-core VM this project is developed on);
//! - `batch_*`: each iteration decides a batch of [`BATCH`] different packets in a loop, as
//!   the node does with a `recvmmsg`/GRO batch. Divan's `item/s` throughput line is packets
//!   per second; 1 / throughput is the cost per packet with the harness cost shared by the
//!   batch.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "benchmark setup"
)]

#[path = "common/mod.rs"]
mod common;

use common::{
    NODE_V4, Rng, established_batch, flow_setup, host_v4, live_replies, live_reply,
    node_table_flow_setup, packet, rules, syns,
};
use divan::counter::ItemsCount;
use divan::{Bencher, black_box};
use std::sync::OnceLock;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::reference::ReferenceFilter;
use tailpolicy_dataplane_filter::{
    Dataplane, DecisionScratch, Filter, FilterConfig, FlowTable, ParsedPacket, Reason, Verdict,
};

fn main() {
    divan::main();
}

/// Packets per iteration in the `batch_*` benches (of the order of one `recvmmsg` call's
/// datagrams).
const BATCH: usize = 64;

/// Rule-set shapes: rules × sources per rule.
const SETS: [&str; 4] = ["100x10", "1000x10", "1000x100", "10000x10"];

struct Setup {
    filter: Filter,
    reference: ReferenceFilter,
    syns: Vec<Vec<u8>>,
}

fn config() -> FilterConfig {
    FilterConfig {
        local_nets: Some(parse_addr_list(&["100.64.0.1/32", "fd7a:115c:a1e0::1/128"]).unwrap()),
        ..FilterConfig::default()
    }
}

fn setup(shape: &str) -> &'static Setup {
    static CELLS: [OnceLock<Setup>; 4] = [const { OnceLock::new() }; 4];
    let i = SETS.iter().position(|s| *s == shape).unwrap();
    CELLS[i].get_or_init(|| {
        let (n, k) = shape.split_once('x').unwrap();
        let rules = rules(n.parse().unwrap(), k.parse().unwrap(), 7);
        let config = config();
        Setup {
            filter: Filter::new(&rules, &config).0,
            reference: ReferenceFilter::new(&rules, config.local_nets.clone(), Vec::new()),
            syns: syns(&rules, 11),
        }
    })
}

/// Established TCP (ACK), the same packet repeated: decode + full inbound decision.
#[divan::bench(args = SETS, sample_size = 1000)]
fn tcp_established(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let flows = FlowTable::default();
    let pkt = packet(6, host_v4(&mut Rng(3)), NODE_V4, 443, 40000, 0x10, 0);
    let mut p = ParsedPacket::default();
    bencher.bench_local(|| {
        p.decode(black_box(&pkt));
        black_box(s.filter.check_in(&p, &flows, 1))
    });
}

/// UDP replies spread across a flow table holding 100,000 flows, a different flow each
/// packet: decode + decision. **Cache-cold**: the table (16 MiB) is larger than the CPU caches,
/// so most lookups wait for one DRAM access to the flow's slot. (A few replies miss because
/// their flow was evicted from a full 4-slot bucket; they take the rule path.)
#[divan::bench(args = SETS, sample_size = 1000)]
fn udp_flow_hit(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let (flows, replies) = flow_setup();
    let mut p = ParsedPacket::default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % replies.len();
        p.decode(black_box(&replies[i]));
        black_box(s.filter.check_in(&p, &flows, 2))
    });
}

/// The reply of one flow repeated, with the same 100,000 flows in the table: decode +
/// decision. **Cache-hot**: the slot stays in L1, as in Tailscale's filter benchmark, which
/// repeats one packet; this measures the instructions of the flow-hit path, not memory.
#[divan::bench(args = SETS, sample_size = 1000)]
fn udp_flow_hit_hot(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let (flows, replies) = flow_setup();
    let mut p = ParsedPacket::default();
    let reply = live_reply(&flows, &replies).unwrap();
    bencher.bench_local(|| {
        p.decode(black_box(reply));
        black_box(s.filter.check_in(&p, &flows, 2))
    });
}

/// A fresh filter of `shape` (the same rules as [`setup`]) for a [`Dataplane`], which owns
/// its filter.
fn dataplane(shape: &str, flows: FlowTable) -> Dataplane {
    let (n, k) = shape.split_once('x').unwrap();
    let rules = rules(n.parse().unwrap(), k.parse().unwrap(), 7);
    Dataplane::new(Filter::new(&rules, &config()).0, flows)
}

/// [`tcp_established`] through `Dataplane::run_in` (the call nodes make, with its
/// `DecisionScratch`): the same packet, rules and flow table; decided by the raw-bytes fast
/// path, without the `ParsedPacket` decode.
#[divan::bench(args = SETS, sample_size = 1000)]
fn run_in_tcp_established(bencher: Bencher, shape: &str) {
    let dp = dataplane(shape, FlowTable::default());
    let pkt = packet(6, host_v4(&mut Rng(3)), NODE_V4, 443, 40000, 0x10, 0);
    let mut scratch = DecisionScratch::default();
    bencher.bench_local(|| black_box(dp.run_in(black_box(&pkt), &mut scratch, 1)));
}

/// The harness alone, for reading the per-packet figures above: divan's loop, the packet
/// through `black_box` and a verdict out, with no decision. Subtract it to get the
/// decision's own cost. (The verdict is returned as it is, not through a second
/// `black_box`: a constant `Verdict` put through `black_box` is written field by field and
/// read back whole, a failed store-to-load forwarding that made this row 8 ns, more than
/// the decisions it was meant to be subtracted from.)
#[divan::bench(sample_size = 1000)]
fn harness_only(bencher: Bencher) {
    let pkt = packet(6, host_v4(&mut Rng(3)), NODE_V4, 443, 40000, 0x10, 0);
    bencher.bench_local(|| {
        black_box(black_box(&pkt));
        Verdict::accept(Reason::TcpNonSyn)
    });
}

/// [`udp_flow_hit_hot`] through `Dataplane::run_in`: the same reply repeated, the same
/// 100,000 flows (cache-hot); decided by the raw-bytes fast path. Which of its bucket's four
/// slots the flow sits in depends on the table's random hash keys (a new table per argument
/// and per run), so this row moves by a few nanoseconds between arguments and runs;
/// [`batch_run_in_udp_flow_hit`] averages over 64 flows.
#[divan::bench(args = SETS, sample_size = 1000)]
fn run_in_udp_flow_hit_hot(bencher: Bencher, shape: &str) {
    let (flows, replies) = flow_setup();
    let reply = live_reply(&flows, &replies).unwrap().to_vec();
    let dp = dataplane(shape, flows);
    let mut scratch = DecisionScratch::default();
    bencher.bench_local(|| black_box(dp.run_in(black_box(&reply), &mut scratch, 2)));
}

/// New flow (TCP SYN, full rule evaluation), compiled matcher: decode + decision. 1,024
/// SYNs in turn, half from a rule's source to its port, half random (mostly no match).
#[divan::bench(args = SETS, sample_size = 1000)]
fn new_flow_fast(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let flows = FlowTable::default();
    let mut p = ParsedPacket::default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) & 1023;
        p.decode(black_box(&s.syns[i]));
        black_box(s.filter.check_in(&p, &flows, 1))
    });
}

/// New flow, plain loop over the rules (the reference): decode + decision.
#[divan::bench(args = SETS, sample_count = 20, sample_size = 4)]
fn new_flow_reference(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let mut p = ParsedPacket::default();
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) & 1023;
        p.decode(black_box(&s.syns[i]));
        black_box(s.reference.check_in(&p))
    });
}

/// Building the matcher from 15,000 rules × 10 sources (150,000 prefixes).
#[divan::bench(sample_count = 5, sample_size = 1)]
fn build_15000_rules(bencher: Bencher) {
    let rules = rules(15_000, 10, 13);
    let config = config();
    bencher.bench_local(|| black_box(Filter::new(&rules, &config)));
}

/// Decoding alone (the share of the packet parser in the paths above).
#[divan::bench(sample_size = 1000)]
fn decode_only(bencher: Bencher) {
    let pkt = packet(6, host_v4(&mut Rng(3)), NODE_V4, 443, 40000, 0x10, 0);
    let mut p = ParsedPacket::default();
    bencher.bench_local(|| {
        p.decode(black_box(&pkt));
        black_box(p.dport)
    });
}

/// [`BATCH`] established TCP packets (ACKs of [`BATCH`] connections from different peers)
/// through `Dataplane::run_in`, per iteration. Per packet: 1 / the `item/s` line.
#[divan::bench(args = SETS, sample_size = 100)]
fn batch_run_in_tcp_established(bencher: Bencher, shape: &str) {
    let dp = dataplane(shape, FlowTable::default());
    run_in_batch(bencher, &dp, &established_batch(BATCH), 1);
}

/// The batch loop alone, for reading the `batch_*` rows: the same [`BATCH`] established
/// TCP packets as [`batch_run_in_tcp_established`] and the same loop, with a decision that
/// reads one byte of each packet and returns a fixed verdict. Per packet: 1 / the `item/s`
/// line.
#[divan::bench(sample_size = 100)]
fn batch_harness_only(bencher: Bencher) {
    let batch = established_batch(BATCH);
    bencher
        .counter(ItemsCount::new(batch.len()))
        .bench_local(|| {
            for pkt in black_box(&batch) {
                black_box(if pkt.first() == Some(&0x45) {
                    Verdict::accept(Reason::TcpNonSyn)
                } else {
                    Verdict::drop(Reason::ShortPacket)
                });
            }
        });
}

/// Decides all of `batch` through `dp.run_in` per iteration, counting packets as items.
fn run_in_batch(bencher: Bencher, dp: &Dataplane, batch: &[Vec<u8>], now: u32) {
    let mut scratch = DecisionScratch::default();
    bencher
        .counter(ItemsCount::new(batch.len()))
        .bench_local(|| {
            for pkt in black_box(batch) {
                black_box(dp.run_in(pkt, &mut scratch, now));
            }
        });
}

/// [`BATCH`] UDP replies of [`BATCH`] different live flows (of the 100,000 in the table)
/// through `Dataplane::run_in`, per iteration; the batch repeats, so its slots stay in cache
/// (a node's active flows). Per packet: 1 / the `item/s` line.
#[divan::bench(args = SETS, sample_size = 100)]
fn batch_run_in_udp_flow_hit(bencher: Bencher, shape: &str) {
    run_in_reply_batch(bencher, shape, flow_setup(), 2);
}

/// Decides [`BATCH`] of `replies` whose flows are live in `flows` through a dataplane of
/// `shape` at `now`, as [`run_in_batch`] does.
fn run_in_reply_batch(
    bencher: Bencher,
    shape: &str,
    (flows, replies): (FlowTable, Vec<Vec<u8>>),
    now: u32,
) {
    let batch: Vec<Vec<u8>> = live_replies(&flows, &replies)
        .take(BATCH)
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(batch.len(), BATCH);
    run_in_batch(bencher, &dataplane(shape, flows), &batch, now);
}

/// [`batch_run_in_udp_flow_hit`] in the node's own flow table (the default 4,096 slots)
/// at about half load: 2,000 flows, of which the replying ones have sent again since the
/// others were recorded, as the flows a node exchanges packets with do. Per packet: 1 / the
/// `item/s` line.
#[divan::bench(args = SETS, sample_size = 100)]
fn batch_run_in_udp_flow_hit_node_table(bencher: Bencher, shape: &str) {
    run_in_reply_batch(bencher, shape, node_table_flow_setup(), 3);
}

/// New flows through `Dataplane::run_in`, [`BATCH`] SYNs per iteration, in turn from the
/// same 1,024 SYNs as [`new_flow_fast`]. Per packet: 1 / the `item/s` line; compare with
/// `new_flow_reference` (one packet per iteration, so its ratio to this row is, if anything,
/// understated).
#[divan::bench(args = SETS, sample_size = 100)]
fn batch_run_in_new_flow(bencher: Bencher, shape: &str) {
    let s = setup(shape);
    let dp = dataplane(shape, FlowTable::default());
    let mut scratch = DecisionScratch::default();
    let mut k = 0;
    bencher.counter(ItemsCount::new(BATCH)).bench_local(|| {
        k = (k + BATCH) & 1023;
        for pkt in black_box(&s.syns[k..k + BATCH]) {
            black_box(dp.run_in(pkt, &mut scratch, 1));
        }
    });
}
