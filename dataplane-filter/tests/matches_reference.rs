//! Property: the compiled filter agrees with the plain-loop reference on random rule sets and
//! packets (nested and overlapping prefixes, ranges, `*`, `cap:`, port edges 0 and 65535,
//! both families, empty and wildcard lists, local-net sets).
#![expect(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::builder::{PacketSpec, build_packet};
use tailpolicy_dataplane_filter::reference::ReferenceFilter;
use tailpolicy_dataplane_filter::wire::{FilterRule, NetPortRange, PortRange};
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FlowTable, ParsedPacket};

fn v4(x: u8) -> Ipv4Addr {
    Ipv4Addr::new(10, 0, 0, x)
}

fn v6(x: u8) -> Ipv6Addr {
    Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, u16::from(x))
}

/// An address string over a small universe so that rules overlap and nest.
fn addr_string(allow_cap: bool) -> BoxedStrategy<String> {
    let mut options: Vec<BoxedStrategy<String>> = vec![
        Just("*".to_owned()).boxed(),
        any::<u8>().prop_map(|x| v4(x).to_string()).boxed(),
        any::<u8>().prop_map(|x| v6(x).to_string()).boxed(),
        (any::<u8>(), 24u32..=32)
            .prop_map(|(x, len)| {
                let host = u32::MAX.checked_shr(len).unwrap_or(0);
                format!("{}/{len}", Ipv4Addr::from(u32::from(v4(x)) & !host))
            })
            .boxed(),
        (any::<u8>(), 120u32..=128)
            .prop_map(|(x, len)| {
                let host = u128::MAX.checked_shr(len).unwrap_or(0);
                format!("{}/{len}", Ipv6Addr::from(u128::from(v6(x)) & !host))
            })
            .boxed(),
        (any::<u8>(), any::<u8>())
            .prop_map(|(a, b)| format!("{}-{}", v4(a.min(b)), v4(a.max(b))))
            .boxed(),
        (any::<u8>(), any::<u8>())
            .prop_map(|(a, b)| format!("{}-{}", v6(a.min(b)), v6(a.max(b))))
            .boxed(),
        Just("0.0.0.0/0".to_owned()).boxed(),
        Just("::/0".to_owned()).boxed(),
        Just("10.0.0.0/8".to_owned()).boxed(),
        Just("10.0.0.1/24".to_owned()).boxed(), // malformed: skipped by both
    ];
    if allow_cap {
        options.push(prop_oneof![Just("cap:c0".to_owned()), Just("cap:c1".to_owned())].boxed());
    }
    proptest::strategy::Union::new(options).boxed()
}

fn port() -> impl Strategy<Value = u16> {
    prop_oneof![
        Just(0u16),
        Just(65535u16),
        Just(22u16),
        Just(443u16),
        any::<u16>(),
        20u16..30
    ]
}

fn port_range() -> impl Strategy<Value = PortRange> {
    prop_oneof![
        Just(PortRange::ALL),
        port().prop_map(|p| PortRange { first: p, last: p }),
        (port(), port()).prop_map(|(a, b)| PortRange {
            first: a.min(b),
            last: a.max(b)
        }),
    ]
}

fn protos() -> impl Strategy<Value = Vec<i32>> {
    prop_oneof![
        Just(vec![]),
        Just(vec![6]),
        Just(vec![17]),
        Just(vec![6, 17]),
        Just(vec![132]),
        Just(vec![116]),
        Just(vec![1, 58]),
        Just(vec![116, 6, 300, -1]),
    ]
}

/// Destinations: often one of a few shared lists, so that rules with identical protocols and
/// destinations (one group) appear at non-adjacent indices.
fn dst_list() -> impl Strategy<Value = Vec<(String, PortRange)>> {
    let shared = |ip: &str, first: u16, last: u16| vec![(ip.to_owned(), PortRange { first, last })];
    prop_oneof![
        1 => prop::collection::vec((addr_string(false), port_range()), 0..4),
        1 => Just(shared("*", 22, 22)),
        1 => Just(shared("10.0.0.0/24", 0, 65535)),
        1 => Just(shared("fd7a:115c:a1e0::/120", 20, 443)),
    ]
}

fn rule() -> impl Strategy<Value = FilterRule> {
    (
        prop_oneof![
            prop::collection::vec(addr_string(true), 0..5),
            any::<u8>().prop_map(|x| vec![v4(x).to_string()]),
        ],
        dst_list(),
        prop_oneof![protos(), Just(vec![])],
    )
        .prop_map(|(srcs, dsts, ip_proto)| FilterRule {
            src_ips: srcs,
            dst_ports: dsts
                .into_iter()
                .map(|(ip, ports)| NetPortRange { ip, ports })
                .collect(),
            ip_proto,
            cap_grant: Vec::new(),
        })
}

fn addr() -> impl Strategy<Value = (IpAddr, IpAddr)> {
    prop_oneof![
        4 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| (IpAddr::V4(v4(a)), IpAddr::V4(v4(b)))),
        4 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| (IpAddr::V6(v6(a)), IpAddr::V6(v6(b)))),
        1 => Just((IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251)))),
        1 => Just((IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)))),
        1 => any::<u8>().prop_map(|a| (IpAddr::V6(v6(a)), "fe80::1".parse().unwrap())),
        1 => Just((IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), IpAddr::V4(Ipv4Addr::new(8, 8, 8, 8)))),
    ]
}

fn packet() -> impl Strategy<Value = PacketSpec> {
    (
        prop_oneof![
            Just(6u8),
            Just(17u8),
            Just(132u8),
            Just(1u8),
            Just(58u8),
            Just(116u8),
            Just(127u8),
            Just(99u8)
        ],
        addr(),
        port(),
        port(),
        prop_oneof![
            Just(0x02u8),
            Just(0x12u8),
            Just(0x10u8),
            Just(0x03u8),
            any::<u8>()
        ],
        prop_oneof![
            Just(8u8),
            Just(0u8),
            Just(3u8),
            Just(128u8),
            Just(129u8),
            any::<u8>()
        ],
    )
        .prop_map(|(proto, (src, dst), sport, dport, tcp_flags, icmp_type)| {
            // ICMPv4 in IPv6 (and v6 in v4) is an ordinary port-less protocol; keep both.
            PacketSpec {
                proto,
                src,
                dst,
                sport,
                dport,
                tcp_flags,
                icmp_type,
                icmp_code: 0,
                payload_len: 0,
            }
        })
}

fn local_nets() -> impl Strategy<Value = Option<Vec<String>>> {
    prop_oneof![
        Just(None),
        prop::collection::vec(
            addr_string(false).prop_filter("valid", |s| s != "10.0.0.1/24"),
            0..4
        )
        .prop_map(Some),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn compiled_filter_agrees_with_reference(
        rules in prop::collection::vec(rule(), 0..16),
        packets in prop::collection::vec(packet(), 1..48),
        local in local_nets(),
        caps_holder in any::<u8>(),
        merge_budget in prop_oneof![Just(None), Just(Some(0usize)), Just(Some(20usize))],
    ) {
        let local = local.map(|l| parse_addr_list(&l).unwrap());
        let node_caps = vec![
            (IpAddr::V4(v4(caps_holder)), vec!["c0".to_owned()]),
            (IpAddr::V6(v6(caps_holder)), vec!["c1".to_owned(), "c0".to_owned()]),
        ];
        let config = FilterConfig { local_nets: local.clone(), node_caps: node_caps.clone(), merge_budget };
        let (filter, _) = Filter::new(&rules, &config);
        let reference = ReferenceFilter::new(&rules, local, node_caps);
        let flows = FlowTable::new(8, 1);
        let mut parsed = ParsedPacket::default();
        for spec in &packets {
            let bytes = build_packet(spec).unwrap();
            parsed.decode(&bytes);
            let fast = filter.check_in(&parsed, &flows, 0);
            let slow = reference.check_in(&parsed);
            prop_assert_eq!(fast, slow, "packet {:?}", spec);
        }
    }
}
