#![expect(clippy::unwrap_used, reason = "tests")]
#![expect(clippy::indexing_slicing, reason = "tests")]

use super::*;
use crate::config::{InterfaceAddress, Peer, WgConfig};
use crate::stats::NodeDrop;
use tailpolicy_dataplane_filter::FilterConfig;
use tailpolicy_dataplane_filter::addr::parse_addr_list;

#[derive(Default)]
struct VecSink {
    net: Vec<(SocketAddr, Vec<u8>)>,
    tun: Vec<Vec<u8>>,
}

impl Sink for VecSink {
    fn to_network(&mut self, to: SocketAddr, datagram: &[u8]) {
        self.net.push((to, datagram.to_vec()));
    }
    fn to_tun(&mut self, packet: &[u8]) {
        self.tun.push(packet.to_vec());
    }
}

const A_UDP: &str = "10.99.0.1:51820";
const B_UDP: &str = "10.99.0.2:51820";
const A_IP: [u8; 4] = [10, 100, 0, 1];
const B_IP: [u8; 4] = [10, 100, 0, 2];

fn sa(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn key(b: u8) -> Key {
    Key(StaticSecret::from([b; 32]).to_bytes())
}

fn public(b: u8) -> Key {
    Key(PublicKey::from(&StaticSecret::from([b; 32])).to_bytes())
}

fn wg(own: u8, own_ip: [u8; 4], peer: u8, peer_ip: &str, endpoint: Option<&str>) -> WgConfig {
    WgConfig {
        interface: crate::config::Interface {
            private_key: key(own),
            addresses: vec![InterfaceAddress {
                addr: IpAddr::from(own_ip),
                len: 24,
            }],
            listen_port: Some(51820),
            mtu: 1420,
            table: crate::config::RouteTable::Auto,
            fwmark: None,
        },
        peers: vec![Peer {
            public_key: public(peer),
            preshared_key: None,
            endpoint: endpoint.map(sa),
            allowed_ips: vec![peer_ip.parse().unwrap()],
            persistent_keepalive: None,
            line: 1,
        }],
        ignored: Vec::new(),
    }
}

fn rules(json: &str) -> Vec<FilterRule> {
    serde_json::from_str(json).unwrap()
}

fn allow_22() -> Vec<FilterRule> {
    rules(
        r#"[{"SrcIPs":["10.100.0.2"],"DstPorts":[{"IP":"10.100.0.1","Ports":{"First":22,"Last":22}}]}]"#,
    )
}

fn filter_for_a(rules: &[FilterRule]) -> Filter {
    let config = FilterConfig {
        local_nets: parse_addr_list(&["10.100.0.1/32"]).ok(),
        node_caps: Vec::new(),
        ..FilterConfig::default()
    };
    let (f, errors) = Filter::new(rules, &config);
    assert!(errors.is_empty(), "{errors:?}");
    f
}

/// Node A enforces `rules` (or no filter); node B has no filter. B reaches A through its
/// configured endpoint; A learns B's endpoint from B's first datagram.
fn pair(a_rules: Option<&[FilterRule]>) -> (Engine, Engine) {
    let a = Engine::new(
        &wg(1, A_IP, 2, "10.100.0.2/32", None),
        a_rules.map(|r| (filter_for_a(r), r, "test rules".to_owned())),
    );
    let b = Engine::new(&wg(2, B_IP, 1, "10.100.0.0/24", Some(A_UDP)), None);
    (a, b)
}

/// Delivers datagrams back and forth until both sides are quiet; returns what reached each
/// TUN.
fn pump(
    a: &mut Engine,
    b: &mut Engine,
    mut from_a: VecSink,
    mut from_b: VecSink,
) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let (mut tun_a, mut tun_b) = (Vec::new(), Vec::new());
    tun_a.append(&mut from_a.tun);
    tun_b.append(&mut from_b.tun);
    for _ in 0..20 {
        if from_a.net.is_empty() && from_b.net.is_empty() {
            break;
        }
        let mut next_a = VecSink::default();
        let mut next_b = VecSink::default();
        for (to, d) in from_a.net.drain(..) {
            assert_eq!(to, sa(B_UDP));
            b.handle_datagram(&mut b.scratch(), sa(A_UDP), &d, 0, &mut next_b);
        }
        for (to, d) in from_b.net.drain(..) {
            assert_eq!(to, sa(A_UDP));
            a.handle_datagram(&mut a.scratch(), sa(B_UDP), &d, 0, &mut next_a);
        }
        tun_a.append(&mut next_a.tun);
        tun_b.append(&mut next_b.tun);
        from_a = next_a;
        from_b = next_b;
    }
    (tun_a, tun_b)
}

fn ipv4(proto: u8, src: [u8; 4], dst: [u8; 4], l4: &[u8]) -> Vec<u8> {
    let total = u16::try_from(20 + l4.len()).unwrap();
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, proto, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(l4);
    p
}

fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16, flags: u8) -> Vec<u8> {
    let mut h = vec![0u8; 20];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[12] = 0x50;
    h[13] = flags;
    ipv4(6, src, dst, &h)
}

fn udp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
    let mut h = vec![0u8; 12];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&12u16.to_be_bytes());
    h[8..12].copy_from_slice(b"ping");
    ipv4(17, src, dst, &h)
}

const SYN: u8 = 0x02;

/// B sends `packet` into its TUN side; returns what reached A's TUN.
fn b_sends(a: &mut Engine, b: &mut Engine, packet: &[u8]) -> Vec<Vec<u8>> {
    let mut out = VecSink::default();
    b.handle_tun_packet(&mut b.scratch(), packet, 0, &mut out);
    pump(a, b, VecSink::default(), out).0
}

/// A sends `packet`; returns what reached B's TUN.
fn a_sends(a: &mut Engine, b: &mut Engine, packet: &[u8]) -> Vec<Vec<u8>> {
    let mut out = VecSink::default();
    a.handle_tun_packet(&mut a.scratch(), packet, 0, &mut out);
    pump(a, b, out, VecSink::default()).1
}

#[test]
fn handshake_then_policy_decides_inbound_syns() {
    let r = allow_22();
    let (mut a, mut b) = pair(Some(&r));
    let syn22 = tcp(B_IP, A_IP, 40000, 22, SYN);
    // The first packet triggers the handshake and is delivered once it completes.
    assert_eq!(b_sends(&mut a, &mut b, &syn22), vec![syn22.clone()]);
    assert!(a.peer_status()[0].latest_handshake_secs.is_some());
    assert_eq!(
        a.peer_status()[0].endpoint,
        Some(sa(B_UDP).to_string()),
        "endpoint learned"
    );
    assert!(b_sends(&mut a, &mut b, &tcp(B_IP, A_IP, 40001, 23, SYN)).is_empty());
    assert!(b_sends(&mut a, &mut b, &tcp(B_IP, A_IP, 40002, 80, SYN)).is_empty());
    let c = Arc::clone(a.counters());
    assert_eq!(c.accepted(Direction::In, Reason::Rule), 1);
    assert_eq!(c.dropped(Direction::In, Reason::NoRule), 2);
    // Return traffic of a connection A opened is not a pure SYN.
    let synack = tcp(B_IP, A_IP, 8080, 40000, SYN | 0x10);
    assert_eq!(b_sends(&mut a, &mut b, &synack).len(), 1);
    assert_eq!(c.accepted(Direction::In, Reason::TcpNonSyn), 1);
}

#[test]
fn udp_replies_are_admitted_only_after_an_outbound_packet() {
    let r = allow_22();
    let (mut a, mut b) = pair(Some(&r));
    let reply = udp(B_IP, A_IP, 53, 5000);
    assert!(
        b_sends(&mut a, &mut b, &reply).is_empty(),
        "unsolicited UDP"
    );
    let query = udp(A_IP, B_IP, 5000, 53);
    assert_eq!(a_sends(&mut a, &mut b, &query), vec![query.clone()]);
    assert_eq!(b_sends(&mut a, &mut b, &reply), vec![reply.clone()]);
    let c = Arc::clone(a.counters());
    assert_eq!(c.accepted(Direction::Out, Reason::Outbound), 1);
    assert_eq!(c.accepted(Direction::In, Reason::Flow), 1);
    assert_eq!(c.dropped(Direction::In, Reason::NoRule), 1);
}

#[test]
fn inner_source_outside_allowed_ips_is_dropped_before_the_filter() {
    let all =
        rules(r#"[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"#);
    let (mut a, mut b) = pair(Some(&all));
    let spoofed = tcp([10, 100, 0, 9], A_IP, 40000, 22, SYN);
    assert!(b_sends(&mut a, &mut b, &spoofed).is_empty());
    assert_eq!(a.counters().node_dropped(NodeDrop::Cryptokey), 1);
    assert_eq!(a.counters().accepted(Direction::In, Reason::Rule), 0);
}

#[test]
fn swapping_the_filter_opens_a_port_and_keeps_flow_state() {
    let r = allow_22();
    let (mut a, mut b) = pair(Some(&r));
    let query = udp(A_IP, B_IP, 5000, 53);
    a_sends(&mut a, &mut b, &query);
    let syn80 = tcp(B_IP, A_IP, 40000, 80, SYN);
    assert!(b_sends(&mut a, &mut b, &syn80).is_empty());
    let open80 = rules(
        r#"[{"SrcIPs":["10.100.0.2"],"DstPorts":[{"IP":"10.100.0.1","Ports":{"First":22,"Last":22}},{"IP":"10.100.0.1","Ports":{"First":80,"Last":80}}]}]"#,
    );
    let generation = a.swap_filter(filter_for_a(&open80), &open80, "new".to_owned());
    assert_eq!(generation, 2);
    assert_eq!(a.filter_info(), Some((2, 1, "new".to_owned())));
    assert_eq!(b_sends(&mut a, &mut b, &syn80).len(), 1);
    // The UDP flow opened before the swap still admits its reply.
    assert_eq!(b_sends(&mut a, &mut b, &udp(B_IP, A_IP, 53, 5000)).len(), 1);
}

#[test]
fn without_a_filter_everything_from_allowed_ips_passes() {
    let (mut a, mut b) = pair(None);
    assert!(!a.filter_enabled());
    assert_eq!(
        b_sends(&mut a, &mut b, &tcp(B_IP, A_IP, 1, 23, SYN)).len(),
        1
    );
    assert_eq!(a.swap_filter(filter_for_a(&[]), &[], "x".to_owned()), 0);
    let spoofed = tcp([10, 100, 0, 9], A_IP, 40000, 22, SYN);
    assert!(b_sends(&mut a, &mut b, &spoofed).is_empty());
    assert_eq!(a.counters().node_dropped(NodeDrop::Cryptokey), 1);
}

#[test]
fn outbound_without_route_or_endpoint_and_garbage_are_counted() {
    let r = allow_22();
    let (a, _b) = pair(Some(&r));
    let mut sink = VecSink::default();
    a.handle_tun_packet(
        &mut a.scratch(),
        &tcp(A_IP, [10, 7, 0, 1], 1, 2, SYN),
        0,
        &mut sink,
    );
    assert_eq!(a.counters().node_dropped(NodeDrop::NoPeer), 1);
    a.handle_tun_packet(&mut a.scratch(), &tcp(A_IP, B_IP, 1, 2, SYN), 0, &mut sink);
    assert_eq!(
        a.counters().node_dropped(NodeDrop::NoEndpoint),
        1,
        "A never heard from B"
    );
    a.handle_tun_packet(&mut a.scratch(), &[0x60], 0, &mut sink);
    assert_eq!(a.counters().node_dropped(NodeDrop::NotIp), 1);
    a.handle_datagram(&mut a.scratch(), sa(B_UDP), b"garbage", 0, &mut sink);
    assert_eq!(a.counters().node_dropped(NodeDrop::UnknownPeer), 1);
    assert!(sink.net.is_empty() && sink.tun.is_empty());
    a.tick(&mut a.scratch(), &mut sink);
    a.reset_rate_limiter();
}

#[test]
fn a_peer_that_roams_is_answered_at_its_new_address() {
    let (mut a, mut b) = pair(None);
    b_sends(&mut a, &mut b, &tcp(B_IP, A_IP, 1, 22, SYN));
    let mut out = VecSink::default();
    b.handle_tun_packet(&mut b.scratch(), &udp(B_IP, A_IP, 1, 2), 0, &mut out);
    let (_, d) = out.net.pop().unwrap();
    let roamed = sa("10.99.0.3:40000");
    a.handle_datagram(&mut a.scratch(), roamed, &d, 0, &mut VecSink::default());
    assert_eq!(a.peer_status()[0].endpoint, Some(roamed.to_string()));
    let mut out = VecSink::default();
    a.handle_tun_packet(&mut a.scratch(), &udp(A_IP, B_IP, 2, 1), 0, &mut out);
    assert_eq!(out.net[0].0, roamed);
}

#[test]
fn describes_rules_for_logs() {
    let r = allow_22();
    assert_eq!(
        describe_rule(&r[0]),
        "SrcIPs [10.100.0.2] -> DstPorts [10.100.0.1:22]"
    );
}

#[test]
fn describes_ipv6_destinations_in_brackets() {
    let r: Vec<FilterRule> = serde_json::from_str(
        r#"[{"SrcIPs":["fd00::2"],"DstPorts":[{"IP":"fd00::1","Ports":{"First":22,"Last":22}},{"IP":"fd00:1::/64","Ports":{"First":0,"Last":65535}}]}]"#,
    )
    .unwrap();
    assert_eq!(
        describe_rule(&r[0]),
        "SrcIPs [fd00::2] -> DstPorts [[fd00::1]:22, [fd00:1::/64]:*]"
    );
}

/// A TUN super-segment cut into packets is decided once and counted once per packet: every
/// packet reaches the other node's TUN intact and in order, and the sender's out counters
/// grow by the number of packets.
#[test]
fn super_segment_decided_once_counted_per_packet() {
    use crate::offload::segment::{Cut, Segments, segment};
    use crate::offload::test_packets::{Spec, bytes};
    let r = allow_22();
    let mut a = Engine::new(
        &wg(1, A_IP, 2, "10.100.0.2/32", None),
        Some((filter_for_a(&r), &r, "test rules".to_owned())),
    );
    // B (10.100.0.2) enforces a filter too, so its outbound verdicts are counted.
    let mut b = Engine::new(
        &wg(2, B_IP, 1, "10.100.0.0/24", Some(A_UDP)),
        Some((filter_for_a(&r), &r, "test rules".to_owned())),
    );
    assert_eq!(
        b_sends(&mut a, &mut b, &tcp(B_IP, A_IP, 40000, 22, SYN)).len(),
        1
    );
    let out_accepts = |e: &Engine| -> u64 {
        crate::stats::ALL_REASONS
            .iter()
            .map(|r| e.counters().accepted(Direction::Out, *r))
            .sum()
    };
    let before = out_accepts(&b);
    // 10.100.0.2:40000 -> 10.100.0.1:5201, ACK: 4 packets of 1380, 1380, 1380, 860 bytes.
    let (hdr, mut sup) = Spec::tcp(false, 1000, bytes(5000, 4)).build_super(1380);
    let mut segs = Segments::default();
    assert_eq!(segment(&hdr, &mut sup, &mut segs), Ok(Cut::Segments));
    assert_eq!(segs.len(), 4);
    let mut out = VecSink::default();
    let mut scratch = b.scratch();
    b.handle_tun_segments(&mut scratch, &segs, 0, &mut out);
    drop(scratch);
    assert_eq!(out.net.len(), 4);
    let got = pump(&mut a, &mut b, VecSink::default(), out).0;
    let want: Vec<Vec<u8>> = segs.iter().map(<[u8]>::to_vec).collect();
    assert_eq!(got, want);
    assert_eq!(out_accepts(&b) - before, 4);
    assert_eq!(a.counters().accepted(Direction::In, Reason::TcpNonSyn), 4);
}
