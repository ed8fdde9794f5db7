use super::*;
use crate::builder::{PacketSpec, build_packet};
use std::net::IpAddr;

fn udp(src: &str, dst: &str, sport: u16, dport: u16) -> ParsedPacket {
    let spec = PacketSpec {
        proto: proto::UDP,
        src: src.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
        dst: dst.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
        sport,
        dport,
        tcp_flags: 0,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: 0,
    };
    let mut p = ParsedPacket::default();
    p.decode(&build_packet(&spec).unwrap_or_default());
    p
}

#[test]
fn records_the_reply_direction_with_ttl() {
    let t = FlowTable::new(64, 10);
    let out = udp("1.2.3.4", "5.6.7.8", 33333, 53);
    let reply = udp("5.6.7.8", "1.2.3.4", 53, 33333);
    assert!(!t.contains_reply(&reply, 100));
    t.record_outbound(&out, 100);
    assert!(t.contains_reply(&reply, 100));
    assert!(t.contains_reply(&reply, 109));
    assert!(!t.contains_reply(&reply, 110), "expired after the TTL");
    assert!(
        !t.contains_reply(&out, 100),
        "the outbound direction itself is not a reply"
    );
    assert!(!t.contains_reply(&udp("5.6.7.8", "1.2.3.4", 53, 33334), 100));
    t.record_outbound(&out, 200);
    assert!(
        t.contains_reply(&reply, 205),
        "refreshed by a later outbound packet"
    );
    assert_eq!(t.live_entries(205), 1);
}

#[test]
fn stays_bounded_and_keeps_recent_flows() {
    let t = FlowTable::new(16, 1000);
    for i in 0..1000u16 {
        t.record_outbound(&udp("fd7a::1", "fd7a::2", 10000 + i, 53), u32::from(i));
    }
    assert!(t.live_entries(1000) <= 16);
    assert_eq!(t.capacity(), 16);
    let last = udp("fd7a::2", "fd7a::1", 53, 10999);
    assert!(
        t.contains_reply(&last, 1000),
        "the newest flow survives eviction"
    );
}

/// A key's protocol and family are part of it: a UDP flow admits no SCTP reply with the
/// same addresses and ports and the other way round, and an IPv4 key never matches an IPv6
/// one whose low address bits are the same (a one-bucket table, so they meet).
#[test]
fn protocol_and_family_are_part_of_the_key() {
    let t = FlowTable::new(4, 1000);
    let out = udp("1.2.3.4", "5.6.7.8", 33333, 53);
    let reply = udp("5.6.7.8", "1.2.3.4", 53, 33333);
    let mut sctp_out = out;
    sctp_out.proto = proto::SCTP;
    let mut sctp_reply = reply;
    sctp_reply.proto = proto::SCTP;
    t.record_outbound(&out, 0);
    assert!(t.contains_reply(&reply, 1));
    assert!(!t.contains_reply(&sctp_reply, 1), "UDP flow, SCTP reply");
    let t = FlowTable::new(4, 1000);
    t.record_outbound(&sctp_out, 0);
    assert!(t.contains_reply(&sctp_reply, 1));
    assert!(!t.contains_reply(&reply, 1), "SCTP flow, UDP reply");
    let t = FlowTable::new(4, 1000);
    t.record_outbound(&udp("::1.2.3.4", "::5.6.7.8", 33333, 53), 0);
    assert!(!t.contains_reply(&reply, 1), "IPv6 flow, IPv4 reply");
    assert!(t.contains_reply(&udp("::5.6.7.8", "::1.2.3.4", 53, 33333), 1));
    let t = FlowTable::new(4, 1000);
    t.record_outbound(&out, 0);
    assert!(!t.contains_reply(&udp("::5.6.7.8", "::1.2.3.4", 53, 33333), 1));
}

#[test]
fn ignores_non_udp() {
    let t = FlowTable::new(16, 1000);
    let mut p = udp("1.2.3.4", "5.6.7.8", 1, 2);
    p.proto = proto::TCP;
    t.record_outbound(&p, 0);
    assert_eq!(t.live_entries(0), 0);
}

/// Two flows with the same ports in one bucket (a one-bucket table): the probe for the second
/// looks past the first, for both families and through the raw IPv4 word path.
#[test]
fn same_ports_other_addresses_share_a_bucket() {
    for (local, a, b) in [
        ("100.64.0.1", "100.64.0.2", "100.64.0.3"),
        ("fd7a::1", "fd7a::2", "fd7a::3"),
    ] {
        let t = FlowTable::new(4, 100);
        t.record_outbound(&udp(local, a, 40000, 53), 1);
        t.record_outbound(&udp(local, b, 40000, 53), 1);
        assert!(t.contains_reply(&udp(a, local, 53, 40000), 2), "{a}");
        assert!(t.contains_reply(&udp(b, local, 53, 40000), 2), "{b}");
        assert!(!t.contains_reply(&udp("100.64.0.4", local, 53, 40000), 2));
    }
}

/// The position of the reply key of outbound packet `out` in the one-bucket table `t`.
fn slot_of(t: &FlowTable, out: &ParsedPacket) -> Option<usize> {
    let k = FlowKey::reply_to(out);
    t.buckets.first()?.iter().position(|s| s.holds(&k))
}

/// A flow that sends takes its bucket's first slot over from one quiet for a second or more;
/// the displaced flow keeps its expiry in the other slot, and both are still found.
#[test]
fn a_sending_flow_takes_the_first_slot_from_a_quiet_one() {
    let t = FlowTable::new(WAYS, 10);
    let a = udp("10.0.0.1", "10.0.0.2", 1000, 53);
    let b = udp("10.0.0.1", "10.0.0.2", 1001, 53);
    let reply = |p: &ParsedPacket| udp("10.0.0.2", "10.0.0.1", 53, p.sport);
    t.record_outbound(&a, 1);
    t.record_outbound(&b, 1);
    assert_eq!((slot_of(&t, &a), slot_of(&t, &b)), (Some(0), Some(1)));
    // Both sent in the same second: no move.
    t.record_outbound(&b, 1);
    assert_eq!((slot_of(&t, &a), slot_of(&t, &b)), (Some(0), Some(1)));
    // `a` has been quiet for two seconds when `b` sends again.
    t.record_outbound(&b, 3);
    assert_eq!((slot_of(&t, &a), slot_of(&t, &b)), (Some(1), Some(0)));
    assert!(t.contains_reply(&reply(&a), 10) && !t.contains_reply(&reply(&a), 11));
    assert!(t.contains_reply(&reply(&b), 12) && !t.contains_reply(&reply(&b), 13));
    // A new flow also takes the first slot over from a quiet one, keeping it.
    let c = udp("10.0.0.1", "10.0.0.2", 1002, 53);
    t.record_outbound(&c, 5);
    assert_eq!(slot_of(&t, &c), Some(0));
    assert_eq!(t.live_entries(5), 3);
    for p in [&a, &b, &c] {
        assert!(t.contains_reply(&reply(p), 5), "{}", p.sport);
    }
}

/// Writers recording, refreshing, evicting and swapping the entries of one bucket while
/// readers look up. Flows from two local addresses use disjoint ports, so a reader that mixed
/// the words of two entries (a torn read) would find a key never recorded: one local address
/// with the other's port. None is ever found, and once the writers stop, the flows they
/// recorded last are.
#[test]
fn concurrent_writes_never_make_a_false_hit() {
    // Every entry stays live for the whole test, so every torn read would be a hit.
    let t = FlowTable::new(WAYS, 1000);
    let local = |i: u16| {
        if i.is_multiple_of(2) {
            "10.0.0.1"
        } else {
            "10.0.0.3"
        }
    };
    let outs: Vec<ParsedPacket> = (0..6u16)
        .map(|i| udp(local(i), "10.0.0.2", 1000 + i, 53))
        .collect();
    // The reply to flow `i`'s port at the other local address: never recorded.
    let never = |i: u16| udp("10.0.0.2", local(i + 1), 53, 1000 + i);
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for w in 0..2usize {
            let (t, outs) = (&t, &outs);
            s.spawn(move || {
                for (n, out) in (0..20_000u32).zip(outs.iter().skip(w).cycle().step_by(5)) {
                    t.record_outbound(out, n / 100);
                }
            });
        }
        for _ in 0..2 {
            let (t, stop) = (&t, &stop);
            s.spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    for i in 0..6 {
                        assert!(!t.contains_reply(&never(i), 150), "false hit on port {i}");
                    }
                }
            });
        }
        s.spawn(|| {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stop.store(true, Ordering::Relaxed);
        });
    });
    for p in outs.iter().take(2) {
        t.record_outbound(p, 500);
    }
    for p in outs.iter().take(2) {
        let reply = udp("10.0.0.2", local(p.sport - 1000), 53, p.sport);
        assert!(t.contains_reply(&reply, 500), "{}", p.sport);
    }
}
