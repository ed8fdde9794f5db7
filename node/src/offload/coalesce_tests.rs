#![expect(clippy::indexing_slicing, clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::offload::segment::{Cut, Segments, segment};
use crate::offload::test_packets::{ACK, FIN, PSH, SYN, Spec, bytes, checksums_ok, timestamps};
use proptest::prelude::*;

/// Flushes and returns each frame as (header, packet).
fn frames(c: &mut Coalescer) -> Vec<(VnetHdr, Vec<u8>)> {
    let mut out = Vec::new();
    c.flush(|f| {
        out.push((VnetHdr::decode(f).unwrap(), f[VNET_HDR_LEN..].to_vec()));
    });
    out
}

/// Cuts a frame back into packets (with complete checksums), as the kernel would.
fn recut(hdr: &VnetHdr, p: &[u8]) -> Vec<Vec<u8>> {
    let mut p = p.to_vec();
    let mut out = Segments::default();
    match segment(hdr, &mut p, &mut out).unwrap() {
        Cut::Single => vec![p],
        Cut::Segments => out.iter().map(<[u8]>::to_vec).collect(),
    }
}

fn tcp_run(v6: bool, seq: u32, sizes: &[usize]) -> Vec<Vec<u8>> {
    let mut seq = seq;
    sizes
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let mut s = Spec::tcp(v6, seq, bytes(n, i as u8));
            // As the sender's GSO numbers them.
            s.id = 100 + i as u16;
            let p = s.build();
            seq = seq.wrapping_add(n as u32);
            p
        })
        .collect()
}

/// Three packets of one flow become one TSO frame: NEEDS_CSUM with the pseudo-header sum,
/// the first packet's size as gso_size, the first packet's IPv4 identification, and the
/// kernel's cut of it gives the three packets back.
#[test]
fn one_tcp_flow_becomes_one_frame() {
    for v6 in [false, true] {
        let run = tcp_run(v6, 0xffff_fff0, &[1380, 1380, 1380]);
        let mut c = Coalescer::new(true, true);
        for p in &run {
            c.push(p);
        }
        let got = frames(&mut c);
        assert_eq!(got.len(), 1);
        let (hdr, p) = &got[0];
        let l4: u16 = if v6 { 40 } else { 20 };
        assert_eq!(hdr.flags, F_NEEDS_CSUM);
        let kind = if v6 { GsoType::TcpV6 } else { GsoType::TcpV4 };
        assert_eq!(hdr.gso(), Some(kind));
        assert_eq!(
            (hdr.gso_size, hdr.csum_start, hdr.csum_offset, hdr.hdr_len),
            (1380, l4, 16, l4 + 20)
        );
        assert_eq!(p.len(), usize::from(l4) + 20 + 3 * 1380);
        if !v6 {
            assert_eq!(be16(p, 4), Some(100));
            assert_eq!(fold(sum(&p[..20], 0)), 0xffff);
        }
        assert_eq!(recut(hdr, p), run);
    }
}

/// Single packets go out unchanged behind a zero header.
#[test]
fn single_packets_are_unchanged() {
    let p = Spec::tcp(false, 1, bytes(100, 0)).build();
    let mut c = Coalescer::new(true, true);
    c.push(&p);
    let got = frames(&mut c);
    assert_eq!(got, [(VnetHdr::NONE, p)]);
    assert!(c.is_empty());
}

/// Interleaved flows are coalesced separately, frames in the order of each flow's first
/// packet.
#[test]
fn mixed_flows() {
    let a = tcp_run(false, 1000, &[500, 500, 500]);
    let mut b_spec = Spec::tcp(false, 0, Vec::new());
    b_spec.sport = 40001;
    let b: Vec<Vec<u8>> = (0..3)
        .map(|i| {
            let mut s = b_spec.clone();
            s.seq = 7 + 600 * i;
            s.id = 100 + i as u16;
            s.payload = bytes(600, 50 + i as u8);
            s.build()
        })
        .collect();
    let mut c = Coalescer::new(true, true);
    for i in 0..3 {
        c.push(&a[i]);
        c.push(&b[i]);
    }
    let got = frames(&mut c);
    assert_eq!(got.len(), 2);
    assert_eq!(recut(&got[0].0, &got[0].1), a);
    assert_eq!(recut(&got[1].0, &got[1].1), b);
}

/// A non-TCP packet (ICMP) in the middle of a run is written on its own; the run around it
/// still coalesces (the ICMP packet belongs to no flow of the run).
#[test]
fn non_tcp_packet_in_the_middle() {
    let run = tcp_run(false, 1, &[800, 800]);
    let mut icmp = run[0][..28].to_vec();
    icmp[9] = 1;
    icmp[2..4].copy_from_slice(&28u16.to_be_bytes());
    let mut c = Coalescer::new(true, true);
    c.push(&run[0]);
    c.push(&icmp);
    c.push(&run[1]);
    let got = frames(&mut c);
    assert_eq!(got.len(), 2);
    assert_eq!(recut(&got[0].0, &got[0].1), run);
    assert_eq!(got[1], (VnetHdr::NONE, icmp));
}

/// A packet of the flow that cannot join (FIN, SYN, a pure ACK) ends the segment, and later
/// packets of the flow start a new one after it: the flow's order is kept.
#[test]
fn a_packet_that_cannot_join_ends_the_segment() {
    for flags in [ACK | FIN, SYN, ACK] {
        let run = tcp_run(false, 1, &[700, 700]);
        let mut odd = Spec::tcp(
            false,
            1401,
            if flags == ACK {
                Vec::new()
            } else {
                bytes(700, 9)
            },
        );
        odd.flags = flags;
        let odd = odd.build();
        let after = tcp_run(false, 1401 + (odd.len() - 40) as u32, &[700, 700]);
        let mut c = Coalescer::new(true, true);
        for p in run.iter().chain([&odd]).chain(after.iter()) {
            c.push(p);
        }
        let got = frames(&mut c);
        assert_eq!(got.len(), 3, "flags {flags:#x}");
        assert_eq!(recut(&got[0].0, &got[0].1), run);
        assert_eq!(got[1], (VnetHdr::NONE, odd.clone()));
        assert_eq!(recut(&got[2].0, &got[2].1), after);
    }
}

/// A short packet ends the segment (it is its last); PSH ends it too and is carried by the
/// segment; a sequence gap starts a new segment.
#[test]
fn short_packet_psh_and_gaps_end_segments() {
    let run = tcp_run(false, 0, &[1000, 400, 1000]);
    let mut c = Coalescer::new(true, true);
    for p in &run {
        c.push(p);
    }
    let got = frames(&mut c);
    assert_eq!(got.len(), 2);
    assert_eq!(recut(&got[0].0, &got[0].1), run[..2]);

    let mut run = tcp_run(false, 0, &[1000, 1000, 1000]);
    let mut second = Spec::tcp(false, 1000, bytes(1000, 1));
    second.flags = ACK | PSH;
    second.id = 101;
    run[1] = second.build();
    let mut c = Coalescer::new(true, true);
    for p in &run {
        c.push(p);
    }
    let got = frames(&mut c);
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].1[33] & PSH, PSH);
    assert_eq!(recut(&got[0].0, &got[0].1), run[..2]);

    let mut gap = tcp_run(false, 0, &[1000]);
    gap.extend(tcp_run(false, 2000, &[1000]));
    let mut c = Coalescer::new(true, true);
    for p in &gap {
        c.push(p);
    }
    assert_eq!(frames(&mut c).len(), 2);
}

/// Different TCP options (timestamps) or a different TTL keep packets apart.
#[test]
fn differing_headers_do_not_coalesce() {
    let mut a = Spec::tcp(false, 0, bytes(500, 0));
    a.options = timestamps(1);
    let mut b = Spec::tcp(false, 500, bytes(500, 1));
    b.options = timestamps(2);
    let mut c = Coalescer::new(true, true);
    c.push(&a.build());
    c.push(&b.build());
    assert_eq!(frames(&mut c).len(), 2);

    b.options = timestamps(1);
    b.ttl = 3;
    c.push(&a.build());
    c.push(&b.build());
    assert_eq!(frames(&mut c).len(), 2);

    b.ttl = a.ttl;
    c.push(&a.build());
    c.push(&b.build());
    assert_eq!(frames(&mut c).len(), 1);
}

/// A packet whose checksum is wrong is never hidden in a segment.
#[test]
fn bad_checksum_is_written_alone() {
    let mut run = tcp_run(false, 0, &[500, 500, 500]);
    run[1][60] ^= 0xff;
    let mut c = Coalescer::new(true, true);
    for p in &run {
        c.push(p);
    }
    let got = frames(&mut c);
    assert_eq!(got.len(), 3);
    assert_eq!(got[1], (VnetHdr::NONE, run[1].clone()));
}

/// UDP datagrams of one flow coalesce (USO) when enabled; a shorter one is the last; with
/// UDP off, or an IPv4 datagram without checksum, they go out one by one.
#[test]
fn udp_coalescing() {
    for v6 in [false, true] {
        let run: Vec<Vec<u8>> = [64, 64, 64, 10, 64]
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let mut s = Spec::udp(v6, bytes(n, i as u8));
                s.id = 100 + i as u16;
                s.build()
            })
            .collect();
        let mut c = Coalescer::new(true, true);
        for p in &run {
            c.push(p);
        }
        let got = frames(&mut c);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].0.gso(), Some(GsoType::UdpL4));
        assert_eq!(got[0].0.gso_size, 64);
        assert_eq!(recut(&got[0].0, &got[0].1), run[..4]);

        let mut c = Coalescer::new(true, false);
        for p in &run {
            c.push(p);
        }
        assert_eq!(frames(&mut c).len(), 5);
    }
    let mut p = Spec::udp(false, bytes(64, 0)).build();
    p[26..28].copy_from_slice(&[0, 0]);
    let mut c = Coalescer::new(true, true);
    c.push(&p);
    c.push(&p);
    assert_eq!(frames(&mut c).len(), 2);
}

/// At most 64 datagrams per UDP segment; a TCP segment stops below 64 KB.
#[test]
fn segment_limits() {
    let p = Spec::udp(false, bytes(20, 0)).build();
    let mut c = Coalescer::new(true, true);
    for _ in 0..130 {
        c.push(&p);
    }
    let got = frames(&mut c);
    assert_eq!(got.len(), 3);
    assert!(got.iter().all(|(_, f)| f.len() <= 20 + 8 + 64 * 20));

    let run = tcp_run(false, 0, &[1400; 60]);
    for p in &run {
        c.push(p);
    }
    let got = frames(&mut c);
    assert!(got.len() >= 2);
    assert!(got.iter().all(|(_, f)| f.len() <= 65_535));
    let back: Vec<Vec<u8>> = got.iter().flat_map(|(h, f)| recut(h, f)).collect();
    assert_eq!(back, run);
}

/// The counts a flush reports.
#[test]
fn flush_counts() {
    let run = tcp_run(false, 0, &[1000, 1000, 1000]);
    let mut c = Coalescer::new(true, true);
    for p in &run {
        c.push(p);
    }
    let f = c.flush(|_| {});
    assert_eq!(
        f,
        Flushed {
            frames: 1,
            packets: 3,
            bytes: 40 + 3000,
        }
    );
}

prop_compose! {
    fn super_segment()(
        v6 in any::<bool>(),
        tcp in any::<bool>(),
        opt_words in 0usize..=10,
        gso in 1u16..=1460,
        segs in 1usize..=64,
        last in 0u16..=1460,
        psh in any::<bool>(),
        seq in any::<u32>(),
        id in any::<u16>(),
        seed in any::<u8>(),
    ) -> (Spec, u16) {
        let gso_usize = usize::from(gso);
        let last = usize::from(last) % gso_usize + 1;
        let mut len = (segs - 1) * gso_usize + last;
        let l4_len = if tcp { 20 + 4 * opt_words } else { 8 };
        let hdrs = if v6 { 40 } else { 20 } + l4_len;
        // Stay within one IP packet.
        while len + hdrs > 65_535 {
            len -= gso_usize;
        }
        let mut s = if tcp { Spec::tcp(v6, seq, bytes(len, seed)) } else { Spec::udp(v6, bytes(len, seed)) };
        if tcp {
            s.options = timestamps(u32::from(seed)).into_iter().cycle().take(4 * opt_words).collect();
            if psh { s.flags |= PSH; }
        }
        s.id = id;
        (s, gso)
    }
}

proptest! {
    /// Cutting a super-segment and coalescing the packets gives back the super-segment,
    /// virtio-net header and bytes alike (one packet: the plain packet, checksum complete).
    #[test]
    fn segment_then_coalesce_round_trips((spec, gso) in super_segment()) {
        let (hdr, original) = spec.build_super(gso);
        let mut p = original.clone();
        let mut cut = Segments::default();
        prop_assert_eq!(segment(&hdr, &mut p, &mut cut), Ok(Cut::Segments));
        for s in cut.iter() {
            prop_assert!(checksums_ok(s));
        }
        let mut c = Coalescer::new(true, true);
        for s in cut.iter() {
            c.push(s);
        }
        let got = frames(&mut c);
        prop_assert_eq!(got.len(), 1);
        let (h, f) = &got[0];
        if cut.len() > 1 {
            prop_assert_eq!(h, &hdr);
            prop_assert_eq!(f, &original);
        } else {
            prop_assert_eq!(h, &VnetHdr::NONE);
            prop_assert_eq!(f, &spec.build());
        }
    }

    /// Arbitrary packets never panic and come out whole (each frame cuts back into
    /// packets whose concatenated payloads are the inputs').
    #[test]
    fn arbitrary_packets_never_panic(packets in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 0..20)) {
        let mut c = Coalescer::new(true, true);
        for p in &packets {
            c.push(p);
        }
        let f = c.flush(|_| {});
        prop_assert_eq!(f.packets, packets.len() as u64);
    }
}
