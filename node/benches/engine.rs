//! The node's per-packet cost with and without the filter, in the same run: peer B
//! encrypts a packet (`handle_tun_packet`), node A decrypts it, checks cryptokey routing,
//! runs the filter and "writes" it to its TUN (`handle_datagram`). Encryption and
//! decryption dominate; the ratio of the two variants is the filter's share of the
//! WireGuard per-packet cost (the syscalls of a real node come on top, so the share of the
//! whole path is smaller still).
//!
//!   cargo bench -p tailpolicy-node --bench engine
//!
//! After divan's table the binary prints the filter's share directly: batches of packets
//! with and without the filter, interleaved in the same run (so machine load hits both
//! alike), per size, as the ratio of the fastest and of the median batches. Goal (issue #5):
//! < 5 % at 64 bytes, < 1 % at 1420 bytes.
#![expect(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

#[path = "../../dataplane-filter/benches/common/share.rs"]
mod share;

use divan::{Bencher, black_box};
use std::net::{IpAddr, SocketAddr};
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::{Filter, FilterConfig, FilterRule};
use tailpolicy_node::{Engine, Scratch, Sink};
use tailpolicy_node::{Interface, InterfaceAddress, Key, Peer, WgConfig};

fn main() {
    divan::main();
    print_filter_share();
}

const A_UDP: &str = "10.99.0.1:51820";
const B_UDP: &str = "10.99.0.2:51820";

#[derive(Default)]
struct Last {
    datagram: Vec<u8>,
    tun: usize,
}

impl Sink for Last {
    fn to_network(&mut self, _to: SocketAddr, datagram: &[u8]) {
        self.datagram.clear();
        self.datagram.extend_from_slice(datagram);
    }
    fn to_tun(&mut self, packet: &[u8]) {
        self.tun += packet.len();
    }
}

fn public(b: u8) -> Key {
    let s = boringtun::x25519::StaticSecret::from([b; 32]);
    Key(boringtun::x25519::PublicKey::from(&s).to_bytes())
}

fn wg(own: u8, own_ip: [u8; 4], peer: u8, peer_net: &str, endpoint: Option<&str>) -> WgConfig {
    WgConfig {
        interface: Interface {
            private_key: Key([own; 32]),
            addresses: vec![InterfaceAddress {
                addr: IpAddr::from(own_ip),
                len: 24,
            }],
            listen_port: Some(51820),
            mtu: 1420,
            table: tailpolicy_node::RouteTable::Auto,
            fwmark: None,
        },
        peers: vec![Peer {
            public_key: public(peer),
            preshared_key: None,
            endpoint: endpoint.map(|e| e.parse().unwrap()),
            allowed_ips: vec![peer_net.parse().unwrap()],
            persistent_keepalive: None,
            line: 1,
        }],
        ignored: Vec::new(),
    }
}

/// A TCP ACK (established connection) from B (10.100.0.2) to A (10.100.0.1) port 22,
/// `len` bytes in total.
fn tcp_ack(len: usize) -> Vec<u8> {
    let mut p = vec![0u8; len];
    p[0] = 0x45;
    p[2..4].copy_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
    p[6] = 0x40;
    p[8] = 64;
    p[9] = 6;
    p[12..16].copy_from_slice(&[10, 100, 0, 2]);
    p[16..20].copy_from_slice(&[10, 100, 0, 1]);
    p[20..22].copy_from_slice(&40000u16.to_be_bytes());
    p[22..24].copy_from_slice(&22u16.to_be_bytes());
    p[32] = 0x50;
    p[33] = 0x10;
    p
}

/// Node A (with or without the filter) and peer B after a completed handshake.
fn pair(filtered: bool) -> (Engine, Engine, Scratch, Scratch) {
    let rules: Vec<FilterRule> = serde_json::from_str(
        r#"[{"SrcIPs":["10.100.0.2"],"DstPorts":[{"IP":"10.100.0.1","Ports":{"First":22,"Last":22}}]}]"#,
    )
    .unwrap();
    let fc = FilterConfig {
        local_nets: parse_addr_list(&["10.100.0.1/32"]).ok(),
        ..FilterConfig::default()
    };
    let filter = filtered.then(|| {
        (
            Filter::new(&rules, &fc).0,
            rules.as_slice(),
            "bench".to_owned(),
        )
    });
    let a = Engine::new(&wg(1, [10, 100, 0, 1], 2, "10.100.0.2/32", None), filter);
    let b = Engine::new(
        &wg(2, [10, 100, 0, 2], 1, "10.100.0.0/24", Some(A_UDP)),
        None,
    );
    let (mut sa, mut sb) = (a.scratch(), b.scratch());
    // Handshake: B's first packet -> init, A -> response, B -> queued packet + keepalive.
    let mut to_a = Last::default();
    b.handle_tun_packet(&mut sb, &tcp_ack(100), 0, &mut to_a);
    let mut to_b = Last::default();
    a.handle_datagram(
        &mut sa,
        B_UDP.parse().unwrap(),
        &to_a.datagram,
        0,
        &mut to_b,
    );
    let mut back = Last::default();
    b.handle_datagram(
        &mut sb,
        A_UDP.parse().unwrap(),
        &to_b.datagram,
        0,
        &mut back,
    );
    (a, b, sa, sb)
}

#[divan::bench(args = [64, 1420], consts = [false, true], sample_count = 1000, sample_size = 20)]
fn encrypt_decrypt_filter<const FILTER: bool>(bencher: Bencher, len: usize) {
    let (a, b, mut sa, mut sb) = pair(FILTER);
    let packet = tcp_ack(len);
    let from: SocketAddr = B_UDP.parse().unwrap();
    let mut wire = Last::default();
    let mut tun = Last::default();
    bencher
        .counter(divan::counter::BytesCount::new(len))
        .bench_local(|| {
            b.handle_tun_packet(&mut sb, black_box(&packet), 0, &mut wire);
            a.handle_datagram(&mut sa, from, black_box(&wire.datagram), 0, &mut tun);
        });
    assert!(tun.tun > 0, "packets reached A's TUN");
    assert_eq!(
        a.counters().dropped(
            tailpolicy_node::Direction::In,
            tailpolicy_dataplane_filter::Reason::NoRule
        ),
        0
    );
}

/// A pair of engines sending `len`-byte packets from B to A, A with or without the filter.
struct Path {
    a: Engine,
    b: Engine,
    sa: Scratch,
    sb: Scratch,
    packet: Vec<u8>,
    wire: Last,
    tun: Last,
}

impl Path {
    fn new(filter: bool, len: usize) -> Self {
        let (a, b, sa, sb) = pair(filter);
        Self {
            a,
            b,
            sa,
            sb,
            packet: tcp_ack(len),
            wire: Last::default(),
            tun: Last::default(),
        }
    }

    /// Nanoseconds per packet over a batch of `n` packets (two names, so that a profiler
    /// such as `valgrind --tool=callgrind --toggle-collect=engine::Path::batch_*` can tell
    /// the variants apart).
    #[inline(never)]
    fn batch_with_filter(&mut self, n: u32) -> f64 {
        self.batch(n)
    }

    /// [`Self::batch_with_filter`] for the engine without the filter.
    #[inline(never)]
    fn batch_without_filter(&mut self, n: u32) -> f64 {
        self.batch(n)
    }

    #[inline(always)]
    fn batch(&mut self, n: u32) -> f64 {
        let from: SocketAddr = B_UDP.parse().unwrap();
        let start = std::time::Instant::now();
        for _ in 0..n {
            self.b
                .handle_tun_packet(&mut self.sb, black_box(&self.packet), 0, &mut self.wire);
            self.a.handle_datagram(
                &mut self.sa,
                from,
                black_box(&self.wire.datagram),
                0,
                &mut self.tun,
            );
        }
        start.elapsed().as_secs_f64() * 1e9 / f64::from(n)
    }
}

/// Prints the filter's share of the per-packet cost at 64 and 1420 bytes: 200 batches of
/// 200 packets with and 200 without the filter, interleaved.
fn print_filter_share() {
    const ROUNDS: usize = 200;
    const BATCH: u32 = 200;
    println!("\nfilter share (batches of {BATCH} packets, {ROUNDS} each, interleaved):");
    for len in [64, 1420] {
        let mut plain = Path::new(false, len);
        let mut filtered = Path::new(true, len);
        share::print_share(
            &format!("{len:>4} B"),
            ROUNDS,
            || plain.batch_without_filter(BATCH),
            || filtered.batch_with_filter(BATCH),
        );
        assert!(filtered.tun.tun > 0, "packets reached A's TUN");
    }
}
