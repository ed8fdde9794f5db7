//! Synthetic per-node rule sets and packets for the benchmarks (deterministic).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_dataplane_filter::builder::{PacketSpec, build_packet};
use tailpolicy_dataplane_filter::wire::{FilterRule, NetPortRange, PortRange};
use tailpolicy_dataplane_filter::{FlowTable, ParsedPacket};

/// The benchmarked node's addresses.
pub const NODE_V4: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 1);
/// The benchmarked node's IPv6 address.
pub const NODE_V6: Ipv6Addr = Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 1);

/// xorshift64* PRNG.
pub struct Rng(pub u64);

impl Rng {
    /// Next 64 random bits.
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random tailnet host address (100.64.0.0/10).
pub fn host_v4(rng: &mut Rng) -> Ipv4Addr {
    Ipv4Addr::from(0x6440_0000 | (rng.next() as u32 & 0x003f_ffff))
}

/// Source strings: 70 % tailnet /32 hosts, 20 % subnets /16–/30 in 10.0.0.0/8,
/// 10 % IPv6 tailnet hosts.
fn source(rng: &mut Rng) -> String {
    match rng.below(10) {
        0..=6 => host_v4(rng).to_string(),
        7 | 8 => {
            let len = 16 + rng.below(15) as u32;
            let addr = 0x0a00_0000 | (rng.next() as u32 & 0x00ff_ffff);
            let mask = u32::MAX << (32 - len);
            format!("{}/{len}", Ipv4Addr::from(addr & mask))
        }
        _ => Ipv6Addr::new(
            0xfd7a,
            0x115c,
            0xa1e0,
            0,
            0,
            0,
            rng.next() as u16,
            rng.next() as u16,
        )
        .to_string(),
    }
}

fn ports(rng: &mut Rng) -> PortRange {
    let one = |p| PortRange { first: p, last: p };
    match rng.below(20) {
        0..=7 => one(1024 + rng.below(60000) as u16),
        8..=9 => one(22),
        10..=11 => one(443),
        12 => one(80),
        13 => one(5432),
        14 => PortRange {
            first: 8080,
            last: 8090,
        },
        15 => PortRange {
            first: 3000,
            last: 3999,
        },
        16 => PortRange::ALL,
        _ => one(rng.below(1024) as u16),
    }
}

/// `n_rules` rules with `srcs` sources each, all to this node's two addresses.
pub fn rules(n_rules: usize, srcs: usize, seed: u64) -> Vec<FilterRule> {
    let mut rng = Rng(seed | 1);
    (0..n_rules)
        .map(|_| {
            let p = ports(&mut rng);
            FilterRule {
                src_ips: (0..srcs).map(|_| source(&mut rng)).collect(),
                dst_ports: vec![
                    NetPortRange {
                        ip: NODE_V4.to_string(),
                        ports: p,
                    },
                    NetPortRange {
                        ip: NODE_V6.to_string(),
                        ports: p,
                    },
                ],
                ip_proto: match rng.below(10) {
                    0..=4 => vec![],
                    5..=7 => vec![6],
                    _ => vec![17],
                },
                cap_grant: Vec::new(),
            }
        })
        .collect()
}

/// Builds an IPv4 packet.
pub fn packet(
    proto: u8,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    sport: u16,
    dport: u16,
    flags: u8,
    payload: u16,
) -> Vec<u8> {
    build_packet(&PacketSpec {
        proto,
        src: IpAddr::V4(src),
        dst: IpAddr::V4(dst),
        sport,
        dport,
        tcp_flags: flags,
        icmp_type: 0,
        icmp_code: 0,
        payload_len: payload,
    })
    .unwrap_or_default()
}

/// `n` established TCP packets (ACKs) to the node, from `n` connections of different peers.
pub fn established_batch(n: usize) -> Vec<Vec<u8>> {
    let mut rng = Rng(3);
    (0..n)
        .map(|i| {
            packet(
                6,
                host_v4(&mut rng),
                NODE_V4,
                443,
                40000 + i as u16,
                0x10,
                0,
            )
        })
        .collect()
}

/// 1024 TCP SYNs to the node: half from a source of a random rule to one of its ports (mostly
/// matches), half from random tailnet hosts to random ports (mostly misses).
pub fn syns(rules: &[FilterRule], seed: u64) -> Vec<Vec<u8>> {
    let mut rng = Rng(seed | 1);
    (0..1024)
        .map(|i| {
            if i % 2 == 0 && !rules.is_empty() {
                let r = &rules[rng.below(rules.len() as u64) as usize];
                let src = r
                    .src_ips
                    .iter()
                    .find_map(|s| s.split('/').next()?.parse::<Ipv4Addr>().ok())
                    .unwrap_or(NODE_V4);
                let port = r.dst_ports.first().map_or(22, |d| d.ports.first);
                packet(6, src, NODE_V4, 40000, port, 0x02, 0)
            } else {
                packet(
                    6,
                    host_v4(&mut rng),
                    NODE_V4,
                    40000,
                    rng.next() as u16,
                    0x02,
                    0,
                )
            }
        })
        .collect()
}

/// A flow table holding 100,000 outbound UDP flows (2^18 slots, 16 MiB) recorded at time 1,
/// and the replies to every 97th flow (1,031 packets).
pub fn flow_setup() -> (FlowTable, Vec<Vec<u8>>) {
    flows_in(FlowTable::new(1 << 18, 180), 100_000, 97, false)
}

/// The node's flow table (the default capacity, 4,096 slots) holding 2,000 outbound UDP
/// flows recorded at time 1, of which every 16th sends again at time 3 (the active flows),
/// and the replies to those 125 flows.
pub fn node_table_flow_setup() -> (FlowTable, Vec<Vec<u8>>) {
    flows_in(FlowTable::default(), 2_000, 16, true)
}

/// `flows` with `n` outbound UDP flows recorded at time 1, and the replies to every
/// `reply_every`-th flow; if `active`, those flows record an outbound packet again at time 3.
fn flows_in(flows: FlowTable, n: u32, reply_every: u32, active: bool) -> (FlowTable, Vec<Vec<u8>>) {
    let mut rng = Rng(5);
    let mut p = ParsedPacket::default();
    let mut replies = Vec::new();
    let mut again = Vec::new();
    for i in 0..n {
        let peer = host_v4(&mut rng);
        let sport = 1024 + (i % 60000) as u16;
        p.decode(&packet(17, NODE_V4, peer, sport, 53, 0, 0));
        flows.record_outbound(&p, 1);
        if i % reply_every == 0 {
            replies.push(packet(17, peer, NODE_V4, 53, sport, 0, 0));
            again.push(packet(17, NODE_V4, peer, sport, 53, 0, 0));
        }
    }
    if active {
        for out in &again {
            p.decode(out);
            flows.record_outbound(&p, 3);
        }
    }
    (flows, replies)
}

/// The `replies` whose flow is still in `flows` at time 2 (a full bucket may have evicted
/// some).
pub fn live_replies<'r>(
    flows: &'r FlowTable,
    replies: &'r [Vec<u8>],
) -> impl Iterator<Item = &'r [u8]> + 'r {
    let mut p = ParsedPacket::default();
    replies
        .iter()
        .filter(move |r| {
            p.decode(r);
            flows.contains_reply(&p, 2)
        })
        .map(Vec::as_slice)
}

/// The first of [`live_replies`].
pub fn live_reply<'r>(flows: &'r FlowTable, replies: &'r [Vec<u8>]) -> Option<&'r [u8]> {
    live_replies(flows, replies).next()
}
