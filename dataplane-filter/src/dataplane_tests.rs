//! The raw-bytes fast path of `Dataplane::run_in` against the general path (decode +
//! `Filter::check_in`): same verdict (action, reason, rule) on edits and truncations of valid
//! packets and over random flow-table states, and the `DecisionScratch::packet` contract.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::*;
use crate::addr::parse_addr_list;
use crate::builder::{PacketSpec, build_packet};
use crate::filter::FilterConfig;
use crate::verdict::Reason;
use crate::wire::{FilterRule, NetPortRange, PortRange};
use std::net::IpAddr;

const NODE: [u8; 4] = [100, 64, 0, 1];
const PEER: [u8; 4] = [100, 64, 0, 2];

fn v4_packet(proto: u8, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    build_packet(&PacketSpec {
        proto,
        src: IpAddr::from(src),
        dst: IpAddr::from(dst),
        sport,
        dport,
        tcp_flags: flags,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: 16,
    })
    .unwrap()
}

/// Filters whose local sets differ: one node address, every address (so multicast and
/// link-local destinations are local and must be left to the pre-checks), a range that
/// covers multicast and link-local space partly, a subnet before the node's address (so the
/// address tested by equality is not the first range), and no IPv4 address at all. One
/// rule admits TCP/UDP port 22 from anywhere, so rule accepts and drops both occur.
fn dataplanes() -> Vec<Dataplane> {
    let rules = [FilterRule {
        src_ips: vec!["*".into()],
        dst_ports: vec![NetPortRange {
            ip: "*".into(),
            ports: PortRange {
                first: 22,
                last: 22,
            },
        }],
        ..FilterRule::default()
    }];
    let locals = [
        Some(parse_addr_list(&["100.64.0.1/32", "fd7a:115c:a1e0::1/128"]).unwrap()),
        None,
        Some(parse_addr_list(&["100.64.0.0/10", "160.0.0.0/3"]).unwrap()),
        Some(parse_addr_list(&["10.0.0.0/16", "100.64.0.1/32", "100.64.0.2/32"]).unwrap()),
        Some(parse_addr_list(&["fd7a:115c:a1e0::1/128"]).unwrap()),
    ];
    locals
        .into_iter()
        .map(|local_nets| {
            let config = FilterConfig {
                local_nets,
                ..FilterConfig::default()
            };
            Dataplane::new(Filter::new(&rules, &config).0, FlowTable::new(64, 100))
        })
        .collect()
}

/// Records the outbound UDP flow `NODE:22 -> PEER:40000` (whose reply is the UDP base
/// packet) at `at`.
fn record_reply_flow(dp: &Dataplane, at: u32) {
    let out = v4_packet(17, NODE, PEER, 22, 40000, 0);
    let mut scratch = DecisionScratch::default();
    dp.run_out(&out, &mut scratch, at);
}

/// `run_in` and the general path agree on `bytes`; `scratch.packet()` holds the decoded
/// packet unless the fast path accepted, in which case it is unchanged. Returns whether the
/// fast path decided.
fn check(dp: &Dataplane, bytes: &[u8], now: u32) -> bool {
    let mut decoded = ParsedPacket::default();
    decoded.decode(bytes);
    let general = dp.filter().check_in(&decoded, dp.flows(), now);
    // A scratch holding a packet no input decodes to, to see whether `run_in` wrote it.
    let marker = ParsedPacket {
        proto: 99,
        sport: 7,
        src: 12345,
        ..ParsedPacket::default()
    };
    let mut scratch = DecisionScratch {
        packet: marker,
        ..DecisionScratch::default()
    };
    let fast = dp.run_in(bytes, &mut scratch, now);
    assert_eq!(
        fast, general,
        "run_in differs from decode + check_in on {bytes:02x?}"
    );
    let took_fast_path = *scratch.packet() == marker;
    if took_fast_path {
        assert!(
            fast == Verdict::accept(Reason::TcpNonSyn) || fast == Verdict::accept(Reason::Flow),
            "fast path gave {fast:?} on {bytes:02x?}"
        );
    } else {
        assert_eq!(
            *scratch.packet(),
            decoded,
            "scratch not filled on {bytes:02x?}"
        );
    }
    took_fast_path
}

/// Every single-byte edit (every offset, every value), every truncation and a few trailing
/// byte counts of valid TCP (several flag bytes) and UDP packets, with the reply flow
/// absent, live and expired, under each local-address set of [`dataplanes`].
#[test]
fn run_in_agrees_with_the_general_path_on_edits_and_truncations() {
    let bases = [
        v4_packet(6, PEER, NODE, 40000, 22, 0x10),
        v4_packet(6, PEER, NODE, 40000, 443, 0x02),
        v4_packet(6, PEER, NODE, 40000, 443, 0x12),
        v4_packet(17, PEER, NODE, 40000, 22, 0),
        v4_packet(17, PEER, NODE, 40000, 53, 0),
    ];
    let mut fast = 0usize;
    let mut total = 0usize;
    for dp in dataplanes() {
        // Flow states: none; live at `now` = 10; expired at `now` = 500 (TTL 100).
        for (record, now) in [(false, 10), (true, 10), (true, 500)] {
            if record {
                record_reply_flow(&dp, 5);
            }
            for base in &bases {
                for n in 0..=base.len() {
                    fast += usize::from(check(&dp, &base[..n], now));
                    total += 1;
                }
                for extra in [1, 2, 7, 64] {
                    let mut b = base.clone();
                    b.resize(base.len() + extra, 0xee);
                    fast += usize::from(check(&dp, &b, now));
                    total += 1;
                }
                for at in 0..base.len() {
                    for v in 0..=255u8 {
                        let mut b = base.clone();
                        b[at] = v;
                        fast += usize::from(check(&dp, &b, now));
                        total += 1;
                    }
                }
            }
        }
    }
    // Both outcomes occur in quantity (the test exercises the fast path and the fallback).
    assert!(
        fast > total / 10 && fast < total * 9 / 10,
        "{fast} of {total}"
    );
}

/// The UDP fast path hits exactly when the reply flow is live, and a fast accept leaves
/// the scratch's packet alone while a drop fills it.
#[test]
fn packet_contract_after_fast_accepts_and_drops() {
    let dp = dataplanes().into_iter().next().unwrap();
    let reply = v4_packet(17, PEER, NODE, 40000, 53, 0);
    let mut scratch = DecisionScratch::default();
    assert_eq!(
        dp.run_in(&reply, &mut scratch, 10),
        Verdict::drop(Reason::NoRule)
    );
    let dropped = *scratch.packet();
    assert_eq!((dropped.dport, dropped.proto), (53, 17));
    record_reply_flow_to(&dp, 53, 5);
    let ack = v4_packet(6, PEER, NODE, 40000, 443, 0x10);
    assert_eq!(
        dp.run_in(&ack, &mut scratch, 10),
        Verdict::accept(Reason::TcpNonSyn)
    );
    assert_eq!(
        dp.run_in(&reply, &mut scratch, 10),
        Verdict::accept(Reason::Flow)
    );
    assert_eq!(
        *scratch.packet(),
        dropped,
        "fast accepts leave packet() unchanged"
    );
    let syn = v4_packet(6, PEER, NODE, 40000, 22, 0x02);
    assert_eq!(dp.run_in(&syn, &mut scratch, 10), Verdict::rule(0));
    assert_eq!(
        (scratch.packet().dport, scratch.packet().tcp_flags),
        (22, 0x02)
    );
}

fn record_reply_flow_to(dp: &Dataplane, local_port: u16, at: u32) {
    let out = v4_packet(17, NODE, PEER, local_port, 40000, 0);
    let mut scratch = DecisionScratch::default();
    dp.run_out(&out, &mut scratch, at);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2_000))]

    /// Random flow-table states (flows between a few peers and ports, recorded at random
    /// times into a small table, so some are evicted or expired) and random replies, mutated
    /// at one random byte or not: `run_in` agrees with the general path.
    #[test]
    fn run_in_agrees_over_random_flow_tables(
        flows in proptest::collection::vec((0u8..4, 0u16..4, 0u16..4, 0u32..300), 0..80),
        probes in proptest::collection::vec(
            (0u8..4, 0u16..4, 0u16..4, proptest::prelude::any::<bool>(),
             proptest::option::of((0usize..60, proptest::prelude::any::<u8>())),
             0usize..60),
            1..20),
        now in 0u32..400,
    ) {
        for dp in dataplanes() {
            for &(peer, lport, pport, at) in &flows {
                let out = v4_packet(17, NODE, [100, 64, 0, 2 + peer], 50 + lport, 40000 + pport, 0);
                let mut scratch = DecisionScratch::default();
                dp.run_out(&out, &mut scratch, at);
            }
            for &(peer, lport, pport, tcp, edit, cut) in &probes {
                let (proto, flags) = if tcp { (6, 0x10) } else { (17, 0) };
                let mut b = v4_packet(proto, [100, 64, 0, 2 + peer], NODE, 40000 + pport, 50 + lport, flags);
                if let Some((at, v)) = edit
                    && let Some(x) = b.get_mut(at)
                {
                    *x = v;
                }
                let keep = b.len().saturating_sub(cut % 4);
                b.truncate(keep);
                check(&dp, &b, now);
            }
        }
    }
}

/// A swap at the last generation of an identity takes a fresh identity (no stamp repeats),
/// and a scratch that cached the old filter picks up the new one.
#[test]
fn swap_at_the_last_generation_takes_a_fresh_identity() {
    use std::sync::atomic::Ordering;
    let mut planes = dataplanes().into_iter();
    let (dp, other) = (planes.next().unwrap(), planes.next().unwrap());
    let last = dp.stamp.load(Ordering::Relaxed) | u64::from(u32::MAX);
    dp.stamp.store(last, Ordering::Relaxed);
    let syn = v4_packet(6, PEER, NODE, 40000, 22, 0x02);
    let mut scratch = DecisionScratch::default();
    assert_eq!(dp.run_in(&syn, &mut scratch, 0), Verdict::rule(0));
    dp.swap(Filter::new(&[], &FilterConfig::default()).0);
    let now = dp.stamp.load(Ordering::Relaxed);
    assert_ne!(now >> 32, last >> 32);
    assert_eq!(now & u64::from(u32::MAX), 0);
    assert_ne!(now, other.stamp.load(Ordering::Relaxed));
    assert_eq!(
        dp.run_in(&syn, &mut scratch, 0),
        Verdict::drop(Reason::NoRule)
    );
}
