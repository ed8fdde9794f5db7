//! The filter's share of a WireGuard data packet: boringtun `Tunn::encapsulate` /
//! `decapsulate` on 64- and 1420-byte packets, with and without the filter, in one run.
//!
//! After divan's table the binary prints the share directly: per size, batches of round trips
//! (the peer encrypts a packet to this node, which decrypts and filters it inbound; this node
//! filters a packet outbound and encrypts it, the peer decrypts it) with and without the
//! filter, interleaved in the same process, as the ratio of the fastest and of the median
//! batches, and as the median of the ratios within back-to-back pairs of batches (the figure
//! least moved by a shared host's drift). Goal (issue #5): < 5 % at 64 bytes, < 1 % at 1420
//! bytes.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

#[path = "common/mod.rs"]
#[expect(dead_code, reason = "shared helpers; not all used here")]
mod common;
#[path = "common/share.rs"]
mod share;

use boringtun::noise::{Tunn, TunnResult};
use boringtun::x25519::{PublicKey, StaticSecret};
use common::{NODE_V4, packet, rules};
use divan::{Bencher, black_box};
use std::cell::RefCell;
use std::net::Ipv4Addr;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{Dataplane, DecisionScratch, Filter, FilterConfig, FlowTable};

fn main() {
    divan::main();
    print_filter_share();
}

const PEER: Ipv4Addr = Ipv4Addr::new(100, 64, 0, 2);
/// Total IP packet sizes.
const SIZES: [u16; 2] = [64, 1420];

/// Two tunnels with a completed handshake: `a` sends to `b`.
fn tunnels() -> (Tunn, Tunn) {
    let a_sk = StaticSecret::from([1u8; 32]);
    let b_sk = StaticSecret::from([2u8; 32]);
    let (a_pk, b_pk) = (PublicKey::from(&a_sk), PublicKey::from(&b_sk));
    let mut a = Tunn::new(a_sk, b_pk, None, None, 1, None);
    let mut b = Tunn::new(b_sk, a_pk, None, None, 2, None);
    let (mut x, mut y) = (vec![0u8; 2048], vec![0u8; 2048]);
    let init = match a.format_handshake_initiation(&mut x, false) {
        TunnResult::WriteToNetwork(p) => p.to_vec(),
        _ => panic!("no handshake initiation"),
    };
    let resp = match b.decapsulate(None, &init, &mut y) {
        TunnResult::WriteToNetwork(p) => p.to_vec(),
        _ => panic!("no handshake response"),
    };
    if let TunnResult::WriteToNetwork(keepalive) = a.decapsulate(None, &resp, &mut x) {
        let keepalive = keepalive.to_vec();
        let _ = b.decapsulate(None, &keepalive, &mut y);
    }
    (a, b)
}

/// A TCP ACK (established connection) of `size` bytes from this node (`out`) or to it (`in`).
fn tcp_packet(size: u16, inbound: bool) -> Vec<u8> {
    let payload = size - 40;
    if inbound {
        packet(6, PEER, NODE_V4, 443, 40000, 0x10, payload)
    } else {
        packet(6, NODE_V4, PEER, 40000, 443, 0x10, payload)
    }
}

fn dataplane() -> Dataplane {
    let rules = rules(1000, 10, 7);
    let config = FilterConfig {
        local_nets: Some(parse_addr_list(&["100.64.0.1/32"]).unwrap()),
        ..FilterConfig::default()
    };
    Dataplane::new(Filter::new(&rules, &config).0, FlowTable::default())
}

#[divan::bench(args = SIZES, sample_size = 64)]
fn encapsulate(bencher: Bencher, size: u16) {
    let (mut a, _) = tunnels();
    let pkt = tcp_packet(size, false);
    let mut out = vec![0u8; 2048];
    bencher.bench_local(|| {
        black_box(matches!(
            a.encapsulate(black_box(&pkt), &mut out),
            TunnResult::WriteToNetwork(_)
        ))
    });
}

#[divan::bench(args = SIZES, sample_size = 64)]
fn encapsulate_with_filter(bencher: Bencher, size: u16) {
    let (mut a, _) = tunnels();
    let dp = dataplane();
    let pkt = tcp_packet(size, false);
    let mut out = vec![0u8; 2048];
    let mut scratch = DecisionScratch::default();
    bencher.bench_local(|| {
        if dp.run_out(black_box(&pkt), &mut scratch, 1).is_accept() {
            black_box(matches!(
                a.encapsulate(&pkt, &mut out),
                TunnResult::WriteToNetwork(_)
            ));
        }
    });
}

/// Encrypted inbound packets are produced outside the timed region, in counter order.
fn decap_bench(bencher: Bencher, size: u16, filter: bool) {
    let (mut a, mut b) = tunnels();
    let dp = dataplane();
    let pkt = tcp_packet(size, true);
    let mut out = vec![0u8; 2048];
    let mut scratch = DecisionScratch::default();
    bencher
        .with_inputs(|| {
            let mut buf = vec![0u8; 2048];
            match a.encapsulate(&pkt, &mut buf) {
                TunnResult::WriteToNetwork(p) => p.to_vec(),
                _ => panic!("encapsulate failed"),
            }
        })
        .bench_local_refs(|datagram| match b.decapsulate(None, datagram, &mut out) {
            TunnResult::WriteToTunnelV4(plain, _) => {
                if filter {
                    black_box(dp.run_in(plain, &mut scratch, 1).is_accept());
                }
                black_box(plain.len());
            }
            _ => panic!("decapsulate failed"),
        });
}

#[divan::bench(args = SIZES, sample_size = 64)]
fn decapsulate(bencher: Bencher, size: u16) {
    decap_bench(bencher, size, false);
}

#[divan::bench(args = SIZES, sample_size = 64)]
fn decapsulate_with_filter(bencher: Bencher, size: u16) {
    decap_bench(bencher, size, true);
}

/// Both directions of one packet size between the peer `a` and this node `b`, with or
/// without this node's filter.
struct RoundTrip {
    a: Tunn,
    b: Tunn,
    dp: Dataplane,
    inbound: Vec<u8>,
    outbound: Vec<u8>,
    wire: Vec<u8>,
    plain: Vec<u8>,
}

impl RoundTrip {
    fn new(size: u16) -> Self {
        let (a, b) = tunnels();
        Self {
            a,
            b,
            dp: dataplane(),
            inbound: tcp_packet(size, true),
            outbound: tcp_packet(size, false),
            wire: vec![0u8; 2048],
            plain: vec![0u8; 2048],
        }
    }

    /// Nanoseconds per round trip over `n` round trips (`#[inline(never)]` under two names so
    /// that profilers can tell the variants apart).
    #[inline(never)]
    fn batch_with_filter(&mut self, n: u32) -> f64 {
        self.batch::<true>(n)
    }

    #[inline(never)]
    fn batch_without_filter(&mut self, n: u32) -> f64 {
        self.batch::<false>(n)
    }

    #[inline(always)]
    fn batch<const FILTER: bool>(&mut self, n: u32) -> f64 {
        let mut scratch = DecisionScratch::default();
        let start = std::time::Instant::now();
        for _ in 0..n {
            // Peer -> node: encrypt, decrypt, filter inbound.
            let TunnResult::WriteToNetwork(d) =
                self.a.encapsulate(black_box(&self.inbound), &mut self.wire)
            else {
                panic!("encapsulate failed");
            };
            match self.b.decapsulate(None, d, &mut self.plain) {
                TunnResult::WriteToTunnelV4(p, _) => {
                    if FILTER {
                        assert!(self.dp.run_in(p, &mut scratch, 1).is_accept());
                    }
                    black_box(p.len());
                }
                _ => panic!("decapsulate failed"),
            }
            // Node -> peer: filter outbound, encrypt, decrypt.
            if !FILTER
                || self
                    .dp
                    .run_out(black_box(&self.outbound), &mut scratch, 1)
                    .is_accept()
            {
                let TunnResult::WriteToNetwork(d) =
                    self.b.encapsulate(&self.outbound, &mut self.wire)
                else {
                    panic!("encapsulate failed");
                };
                match self.a.decapsulate(None, d, &mut self.plain) {
                    TunnResult::WriteToTunnelV4(p, _) => {
                        black_box(p.len());
                    }
                    _ => panic!("decapsulate failed"),
                }
            }
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    }
}

/// Prints the filter's share per size: 1,000 batches of 100 round trips with and 1,000
/// without the filter, interleaved (alternating which goes first).
fn print_filter_share() {
    const ROUNDS: usize = 1000;
    const BATCH: u32 = 100;
    println!(
        "\nfilter share of a WireGuard round trip (batches of {BATCH}, {ROUNDS} each, interleaved):"
    );
    for size in SIZES {
        // One pair of tunnels and one set of buffers for both variants, so that nothing but
        // the filter differs between them (buffer placement alone moves a 1420-byte round
        // trip by about 1 %).
        let round_trip = RefCell::new(RoundTrip::new(size));
        share::print_share(
            &format!("{size:>4} B"),
            ROUNDS,
            || round_trip.borrow_mut().batch_without_filter(BATCH),
            || round_trip.borrow_mut().batch_with_filter(BATCH),
        );
    }
}
