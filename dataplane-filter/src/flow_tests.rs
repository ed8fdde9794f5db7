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
