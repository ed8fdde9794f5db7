#![expect(clippy::unwrap_used, reason = "tests")]

use crate::addr::parse_addr_list;
use crate::builder::{PacketSpec, build_packet};
use crate::filter::{Filter, FilterConfig};
use crate::flow::FlowTable;
use crate::packet::{ParsedPacket, tcp_flag};
use crate::rules::proto;
use crate::verdict::{Reason, Verdict};
use crate::wire::FilterRule;
use crate::{Dataplane, DecisionScratch, FlowTable as Flows};

fn rules(json: &str) -> Vec<FilterRule> {
    serde_json::from_str(json).unwrap()
}

fn syn(src: &str, dst: &str, dport: u16) -> Vec<u8> {
    build_packet(&PacketSpec {
        proto: proto::TCP,
        src: src.parse().unwrap(),
        dst: dst.parse().unwrap(),
        sport: 40000,
        dport,
        tcp_flags: tcp_flag::SYN,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: 0,
    })
    .unwrap()
}

fn decide(f: &Filter, bytes: &[u8]) -> Verdict {
    let mut p = ParsedPacket::default();
    p.decode(bytes);
    f.check_in(&p, &FlowTable::new(4, 1), 0)
}

#[test]
fn nested_sources_across_rules_use_all_covering_prefixes() {
    // The ts_bart_packetfilter bug (dataplane.md §1.14): 10/8 → 22 and 10.1/16 → 80; a SYN
    // from 10.1.2.3 to 22 must be allowed by the first rule.
    let r = rules(
        r#"[{"SrcIPs":["10.0.0.0/8"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]},
            {"SrcIPs":["10.1.0.0/16"],"DstPorts":[{"IP":"*","Ports":{"First":80,"Last":80}}]}]"#,
    );
    let (f, errors) = Filter::new(&r, &FilterConfig::default());
    assert!(errors.is_empty());
    assert_eq!(
        decide(&f, &syn("10.1.2.3", "100.64.0.1", 22)),
        Verdict::rule(0)
    );
    assert_eq!(
        decide(&f, &syn("10.1.2.3", "100.64.0.1", 80)),
        Verdict::rule(1)
    );
    assert_eq!(
        decide(&f, &syn("10.2.0.1", "100.64.0.1", 80)),
        Verdict::drop(Reason::NoRule)
    );
}

#[test]
fn first_matching_rule_index_is_reported() {
    let r = rules(
        r#"[{"SrcIPs":["1.1.1.1"],"DstPorts":[{"IP":"100.64.0.1","Ports":{"First":1,"Last":100}}]},
            {"SrcIPs":["*"],"DstPorts":[{"IP":"100.64.0.0/10","Ports":{"First":50,"Last":60}}]},
            {"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"#,
    );
    let (f, _) = Filter::new(&r, &FilterConfig::default());
    assert_eq!(
        decide(&f, &syn("1.1.1.1", "100.64.0.1", 55)),
        Verdict::rule(0)
    );
    assert_eq!(
        decide(&f, &syn("1.1.1.2", "100.64.0.1", 55)),
        Verdict::rule(1)
    );
    assert_eq!(
        decide(&f, &syn("1.1.1.2", "100.64.0.1", 61)),
        Verdict::rule(2)
    );
    assert_eq!(decide(&f, &syn("::1", "fd7a::1", 61)), Verdict::rule(2));
}

#[test]
fn identical_cells_share_one_class() {
    // 50 rules with the same destination and ports: one class per protocol index.
    let mut list = Vec::new();
    for i in 0..50 {
        list.push(format!(
            r#"{{"SrcIPs":["10.0.{i}.0/24"],"DstPorts":[{{"IP":"100.64.0.1","Ports":{{"First":22,"Last":22}}}}]}}"#
        ));
    }
    let r = rules(&format!("[{}]", list.join(",")));
    let (f, _) = Filter::new(&r, &FilterConfig::default());
    assert_eq!(f.class_counts_v4(), [1, 1, 0, 1]);
    assert_eq!(
        decide(&f, &syn("10.0.49.9", "100.64.0.1", 22)),
        Verdict::rule(49)
    );
}

#[test]
fn not_local_is_checked_before_rules() {
    let r = rules(r#"[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"#);
    let config = FilterConfig {
        local_nets: Some(parse_addr_list(&["100.64.0.1/32"]).unwrap()),
        node_caps: Vec::new(),
        merge_budget: None,
    };
    let (f, _) = Filter::new(&r, &config);
    assert_eq!(
        decide(&f, &syn("1.1.1.1", "100.64.0.2", 22)),
        Verdict::drop(Reason::NotLocal)
    );
    assert_eq!(
        decide(&f, &syn("1.1.1.1", "100.64.0.1", 22)),
        Verdict::rule(0)
    );
}

#[test]
fn flow_state_survives_a_swap() {
    let r = rules(r#"[]"#);
    let (f, _) = Filter::new(&r, &FilterConfig::default());
    let dp = Dataplane::new(f, Flows::default());
    let out = build_packet(&PacketSpec {
        proto: proto::UDP,
        src: "100.64.0.1".parse().unwrap(),
        dst: "100.64.0.2".parse().unwrap(),
        sport: 5000,
        dport: 53,
        tcp_flags: 0,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: 0,
    })
    .unwrap();
    let reply = build_packet(&PacketSpec {
        proto: proto::UDP,
        src: "100.64.0.2".parse().unwrap(),
        dst: "100.64.0.1".parse().unwrap(),
        sport: 53,
        dport: 5000,
        tcp_flags: 0,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: 0,
    })
    .unwrap();
    let mut scratch = DecisionScratch::default();
    assert_eq!(
        dp.run_in(&reply, &mut scratch, 0),
        Verdict::drop(Reason::NoRule)
    );
    assert_eq!(
        dp.run_out(&out, &mut scratch, 0),
        Verdict::accept(Reason::Outbound)
    );
    let (f2, _) = Filter::new(&r, &FilterConfig::default());
    let old = dp.swap(f2);
    assert_eq!(old.rule_count(), 0);
    assert_eq!(
        dp.run_in(&reply, &mut scratch, 1),
        Verdict::accept(Reason::Flow)
    );
}

#[test]
fn group_scan_takes_the_minimum_across_groups() {
    // Rules 0 and 2 share protocols and destinations (one group); rule 1 is another group in
    // the same (destination, port) cell. With no merge budget the class scans groups.
    let r = rules(
        r#"[{"SrcIPs":["10.0.0.1"],"DstPorts":[{"IP":"10.0.0.0/24","Ports":{"First":0,"Last":65535}}]},
            {"SrcIPs":["10.0.0.2"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]},
            {"SrcIPs":["10.0.0.3"],"DstPorts":[{"IP":"10.0.0.0/24","Ports":{"First":0,"Last":65535}}]}]"#,
    );
    for budget in [Some(0), None] {
        let config = FilterConfig {
            merge_budget: budget,
            ..FilterConfig::default()
        };
        let (f, _) = Filter::new(&r, &config);
        assert_eq!(
            decide(&f, &syn("10.0.0.3", "10.0.0.9", 22)),
            Verdict::rule(2)
        );
        assert_eq!(
            decide(&f, &syn("10.0.0.2", "10.0.0.9", 22)),
            Verdict::rule(1)
        );
        assert_eq!(
            decide(&f, &syn("10.0.0.1", "10.0.0.9", 22)),
            Verdict::rule(0)
        );
        assert_eq!(
            decide(&f, &syn("10.0.0.4", "10.0.0.9", 22)),
            Verdict::drop(Reason::NoRule)
        );
    }
}

/// A `DecisionScratch` caches the filter per dataplane: it follows swaps and never uses one
/// dataplane's filter for another.
#[test]
fn decision_scratch_follows_swaps_and_dataplanes() {
    let allow =
        rules(r#"[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]"#);
    let deny = || Filter::new(&[], &FilterConfig::default()).0;
    let a = Dataplane::new(deny(), Flows::default());
    let b = Dataplane::new(
        Filter::new(&allow, &FilterConfig::default()).0,
        Flows::default(),
    );
    let mut scratch = DecisionScratch::default();
    let pkt = syn("1.1.1.1", "100.64.0.1", 22);
    assert_eq!(
        a.run_in(&pkt, &mut scratch, 0),
        Verdict::drop(Reason::NoRule)
    );
    assert_eq!(b.run_in(&pkt, &mut scratch, 0), Verdict::rule(0));
    assert_eq!(
        a.run_in(&pkt, &mut scratch, 0),
        Verdict::drop(Reason::NoRule)
    );
    a.swap(Filter::new(&allow, &FilterConfig::default()).0);
    assert_eq!(a.run_in(&pkt, &mut scratch, 0), Verdict::rule(0));
    b.swap(deny());
    assert_eq!(
        b.run_in(&pkt, &mut scratch, 0),
        Verdict::drop(Reason::NoRule)
    );
    assert_eq!(scratch.packet().dport, 22);
}

/// The split layout (single-port groups merged per class, wide groups merged once and
/// shared) agrees with the plain-loop reference. Forced with a whole-merge limit of 0, with
/// an unlimited and a tight merge budget, on rules mixing single ports, ranges and all ports
/// over overlapping sources of both families.
#[test]
fn split_classes_agree_with_the_reference() {
    use crate::reference::ReferenceFilter;
    use crate::rules::parse_rules;
    let mut x: u64 = 0x9e37_79b9;
    let mut next = move |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let mut json = Vec::new();
    for _ in 0..120 {
        let srcs: Vec<String> = (0..1 + next(6))
            .map(|_| match next(6) {
                0 => format!("\"10.0.{}.0/24\"", next(4)),
                1 => format!("\"fd7a::{:x}\"", next(32)),
                2 => "\"10.0.0.0/16\"".to_owned(),
                _ => format!("\"10.0.{}.{}\"", next(4), next(256)),
            })
            .collect();
        let (first, last) = match next(5) {
            0 => (0, 65535),
            1 => (20, 30),
            2 => (25, 25),
            _ => {
                let p = 18 + next(16);
                (p, p)
            }
        };
        let proto = match next(3) {
            0 => "",
            1 => "\"IPProto\":[6],",
            _ => "\"IPProto\":[17],",
        };
        json.push(format!(
            r#"{{{proto}"SrcIPs":[{}],"DstPorts":[{{"IP":"*","Ports":{{"First":{first},"Last":{last}}}}}]}}"#,
            srcs.join(",")
        ));
    }
    let wire = rules(&format!("[{}]", json.join(",")));
    let parsed = parse_rules(&wire).0;
    let reference = ReferenceFilter::new(&wire, None, Vec::new());
    let mut checked = 0;
    for budget in [None, Some(300)] {
        let config = FilterConfig {
            merge_budget: budget,
            ..FilterConfig::default()
        };
        let f = Filter::build(&parsed, &config, 0);
        assert!(f.split_classes() > 10, "{budget:?}: {}", f.split_classes());
        for _ in 0..4000 {
            let src = match next(3) {
                0 => format!("fd7a::{:x}", next(40)),
                _ => format!("10.0.{}.{}", next(5), next(256)),
            };
            let dst = if src.contains(':') {
                "fd7a::1"
            } else {
                "10.9.9.9"
            };
            let proto = if next(2) == 0 { proto::TCP } else { proto::UDP };
            let bytes = build_packet(&PacketSpec {
                proto,
                src: src.parse().unwrap(),
                dst: dst.parse().unwrap(),
                sport: 40000,
                dport: u16::try_from(16 + next(20)).unwrap(),
                tcp_flags: tcp_flag::SYN,
                icmp_type: 0,
                icmp_code: 0,
                payload_len: 0,
            })
            .unwrap();
            let mut p = ParsedPacket::default();
            p.decode(&bytes);
            let want = reference.check_in(&p);
            assert_eq!(
                f.check_in(&p, &FlowTable::new(4, 1), 0),
                want,
                "{src} {p:?}"
            );
            checked += usize::from(want.rule_index().is_some());
        }
    }
    // The rule set and packets are dense enough that many packets match a rule.
    assert!(checked > 1000, "only {checked} matches");
}
