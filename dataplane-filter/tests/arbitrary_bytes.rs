//! Stable-toolchain companion of the `packet_filter` fuzz target: random bytes and mutated
//! valid packets through decode + filter never panic, and agree with the reference.
#![expect(clippy::unwrap_used, reason = "tests")]

use proptest::prelude::*;
use std::sync::OnceLock;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::builder::{PacketSpec, build_packet};
use tailpolicy_dataplane_filter::reference::ReferenceFilter;
use tailpolicy_dataplane_filter::wire::FilterRule;
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FlowTable, ParsedPacket};

const RULES: &str = r#"[
  {"SrcIPs":["10.0.0.0/8","fd7a:115c:a1e0::/48","cap:admin"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]},
  {"SrcIPs":["*"],"DstPorts":[{"IP":"100.64.0.0/10","Ports":{"First":0,"Last":65535}}],"IPProto":[6,17,132,47,50]},
  {"SrcIPs":["1.2.3.4-1.2.4.0"],"DstPorts":[{"IP":"fd7a::/16","Ports":{"First":1000,"Last":2000}}],"IPProto":[17]}
]"#;

fn filters() -> &'static (Filter, ReferenceFilter) {
    static F: OnceLock<(Filter, ReferenceFilter)> = OnceLock::new();
    F.get_or_init(|| {
        let rules: Vec<FilterRule> = serde_json::from_str(RULES).unwrap();
        let local = Some(parse_addr_list(&["100.64.0.0/10", "fd7a::/16", "10.0.0.0/8"]).unwrap());
        let caps = vec![("10.0.0.7".parse().unwrap(), vec!["admin".to_owned()])];
        let config = FilterConfig {
            local_nets: local.clone(),
            node_caps: caps.clone(),
            merge_budget: None,
        };
        (
            Filter::new(&rules, &config).0,
            ReferenceFilter::new(&rules, local, caps),
        )
    })
}

fn check(bytes: &[u8]) -> Result<(), TestCaseError> {
    let (filter, reference) = filters();
    let flows = FlowTable::new(4, 1);
    let mut p = ParsedPacket::default();
    p.decode(bytes);
    let _ = filter.check_out(&p, &FlowTable::new(4, 1), 0);
    prop_assert_eq!(filter.check_in(&p, &flows, 0), reference.check_in(&p));
    Ok(())
}

fn seed_packet() -> impl Strategy<Value = Vec<u8>> {
    (
        prop_oneof![
            Just(6u8),
            Just(17),
            Just(1),
            Just(58),
            Just(132),
            Just(47),
            Just(44),
            Just(0)
        ],
        prop_oneof![
            Just(("10.0.0.7", "100.64.0.1")),
            Just(("fd7a:115c:a1e0::9", "fd7a::1")),
            Just(("1.2.3.9", "8.8.8.8"))
        ],
        any::<u16>(),
        any::<u8>(),
    )
        .prop_map(|(proto, (s, d), port, flags)| {
            build_packet(&PacketSpec {
                proto,
                src: s.parse().unwrap(),
                dst: d.parse().unwrap(),
                sport: port,
                dport: if port % 2 == 0 { 22 } else { port },
                tcp_flags: flags,
                icmp_type: flags,
                icmp_code: 0,
                payload_len: u16::from(flags % 16),
            })
            .unwrap()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2048, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes(bytes in prop::collection::vec(any::<u8>(), 0..96)) {
        check(&bytes)?;
    }

    #[test]
    fn mutated_packets(
        pkt in seed_packet(),
        edits in prop::collection::vec((any::<usize>(), any::<u8>()), 0..4),
        cut in any::<usize>(),
    ) {
        let mut pkt = pkt;
        for (at, v) in edits {
            let n = pkt.len();
            if let Some(b) = pkt.get_mut(at % n.max(1)) {
                *b = v;
            }
        }
        let keep = if cut % 3 == 0 { cut % (pkt.len() + 1) } else { pkt.len() };
        check(pkt.get(..keep).unwrap_or(&[]))?;
    }
}
