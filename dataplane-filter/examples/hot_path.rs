//! Runs `N` inbound decisions of one benchmark shape, for load-independent instruction counts:
//!
//! ```sh
//! cargo build --release -p tailpolicy-dataplane-filter --example hot_path
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/hot_path tcp 1000000
//! valgrind --tool=cachegrind --cache-sim=no target/release/examples/hot_path tcp 0
//! ```
//!
//! The difference of the two totals divided by `N` is the instructions per decision (decode +
//! decision), the setup cost cancelling out. Modes: `tcp` (established ACK), `udp-hot` (the
//! same reply repeated, 100,000 flows in the table), `udp-cold` (replies spread over the
//! 100,000 flows), `syn-<rules>x<sources>` (new flows, as `new_flow_fast` in `benches/filter`).
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::cast_possible_truncation,
    reason = "measurement harness"
)]

#[path = "../benches/common/mod.rs"]
mod common;

use common::{NODE_V4, Rng, host_v4, packet, rules, syns};
use std::hint::black_box;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FlowTable, ParsedPacket};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("tcp", String::as_str);
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
    let mut p = ParsedPacket::default();
    let packets: Vec<Vec<u8>> = match mode {
        "tcp" => vec![packet(
            6,
            host_v4(&mut Rng(3)),
            NODE_V4,
            443,
            40000,
            0x10,
            0,
        )],
        _ if mode.starts_with("syn-") => syns(&rules, 11),
        _ => Vec::new(),
    };
    let flows = FlowTable::new(1 << 18, 180);
    let packets = if mode.starts_with("udp") {
        let mut rng = Rng(5);
        let mut replies = Vec::new();
        for i in 0..100_000u32 {
            let peer = host_v4(&mut rng);
            let sport = 1024 + (i % 60000) as u16;
            p.decode(&packet(17, NODE_V4, peer, sport, 53, 0, 0));
            flows.record_outbound(&p, 1);
            if i % 97 == 0 {
                replies.push(packet(17, peer, NODE_V4, 53, sport, 0, 0));
            }
        }
        if mode == "udp-hot" {
            replies.truncate(1);
        }
        replies
    } else {
        packets
    };
    let mut accepted = 0usize;
    let mut i = 0;
    for _ in 0..n {
        i = if i + 1 < packets.len() { i + 1 } else { 0 };
        p.decode(black_box(&packets[i]));
        accepted += usize::from(black_box(filter.check_in(&p, &flows, 2)).is_accept());
    }
    println!("{mode}: {accepted} of {n} accepted");
}
