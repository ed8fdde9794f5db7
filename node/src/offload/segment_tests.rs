#![expect(clippy::indexing_slicing, clippy::unwrap_used, reason = "tests")]

use super::*;
use crate::offload::field::{be16, be32};
use crate::offload::test_packets::{ACK, CWR, FIN, PSH, Spec, bytes, checksums_ok, timestamps};

fn cut_all(spec: &Spec, gso: u16) -> Vec<Vec<u8>> {
    let (hdr, mut p) = spec.build_super(gso);
    let mut out = Segments::default();
    assert_eq!(segment(&hdr, &mut p, &mut out), Ok(Cut::Segments));
    out.iter().map(<[u8]>::to_vec).collect()
}

fn payload_of(p: &[u8], hdr_len: usize) -> &[u8] {
    &p[hdr_len..]
}

/// IPv4 TCP, 3000 bytes at gso 1380: 1380 + 1380 + 240 (the last short), each with its own
/// length, identification, header checksum, sequence number and TCP checksum; FIN and PSH
/// only on the last, CWR only on the first.
#[test]
fn ipv4_tcp_cut_with_lengths_ids_seq_flags_and_checksums() {
    let mut spec = Spec::tcp(false, 0xffff_f000, bytes(3000, 3));
    spec.flags = ACK | PSH | FIN | CWR;
    spec.id = 0xfffe;
    let segs = cut_all(&spec, 1380);
    assert_eq!(segs.len(), 3);
    let sizes: Vec<usize> = segs.iter().map(|s| s.len() - 40).collect();
    assert_eq!(sizes, [1380, 1380, 240]);
    let mut stream = Vec::new();
    for (i, s) in segs.iter().enumerate() {
        assert!(checksums_ok(s), "segment {i}");
        assert_eq!(usize::from(be16(s, 2).unwrap()), s.len());
        // The identification wraps: 0xfffe, 0xffff, 0.
        assert_eq!(be16(s, 4), Some(0xfffe_u16.wrapping_add(i as u16)));
        assert_eq!(
            be32(s, 24),
            Some(0xffff_f000_u32.wrapping_add(1380 * i as u32))
        );
        let flags = s[33];
        assert_eq!(flags & ACK, ACK);
        assert_eq!(flags & (FIN | PSH) != 0, i == 2, "segment {i}: {flags:#x}");
        assert_eq!(flags & CWR != 0, i == 0, "segment {i}: {flags:#x}");
        stream.extend_from_slice(payload_of(s, 40));
    }
    assert_eq!(stream, spec.payload);
}

/// IPv6 TCP with the timestamp option: the options are copied into every segment, the
/// payload length is per segment, and the checksums cover the 16-byte addresses.
#[test]
fn ipv6_tcp_with_options() {
    let mut spec = Spec::tcp(true, 1, bytes(4000, 9));
    spec.options = timestamps(0x0102_0304);
    let segs = cut_all(&spec, 1000);
    assert_eq!(segs.len(), 4);
    for (i, s) in segs.iter().enumerate() {
        assert!(checksums_ok(s));
        assert_eq!(usize::from(be16(s, 4).unwrap()), s.len() - 40);
        assert_eq!(&s[60..72], &timestamps(0x0102_0304)[..]);
        assert_eq!(&s[72..], &spec.payload[i * 1000..(i + 1) * 1000]);
    }
}

/// UDP (USO), IPv4 and IPv6: each datagram has its own UDP length and checksum; the last is
/// short.
#[test]
fn udp_cut_ipv4_and_ipv6() {
    for v6 in [false, true] {
        let spec = Spec::udp(v6, bytes(2500, 1));
        let segs = cut_all(&spec, 1000);
        let l4 = if v6 { 40 } else { 20 };
        let lens: Vec<u16> = segs.iter().map(|s| be16(s, l4 + 4).unwrap()).collect();
        assert_eq!(lens, [1008, 1008, 508]);
        let mut stream = Vec::new();
        for s in &segs {
            assert!(checksums_ok(s));
            stream.extend_from_slice(&s[l4 + 8..]);
        }
        assert_eq!(stream, spec.payload);
    }
}

/// A payload of exactly one segment gives one packet, identical to the plain packet.
#[test]
fn one_segment_is_the_plain_packet() {
    let spec = Spec::tcp(false, 5, bytes(1000, 0));
    let segs = cut_all(&spec, 1380);
    assert_eq!(segs, [spec.build()]);
}

/// A single packet whose checksum the kernel left to us (`NEEDS_CSUM`) is completed in
/// place; without the flag it is left alone.
#[test]
fn single_packet_checksum_completed() {
    for tcp in [true, false] {
        let spec = if tcp {
            Spec::tcp(false, 9, bytes(300, 2))
        } else {
            Spec::udp(true, bytes(300, 2))
        };
        let (mut hdr, mut p) = spec.build_super(1380);
        hdr.gso_type = 0;
        let mut out = Segments::default();
        assert_eq!(segment(&hdr, &mut p, &mut out), Ok(Cut::Single));
        assert!(out.is_empty());
        assert_eq!(p, spec.build());
        let before = p.clone();
        let plain = VnetHdr::NONE;
        assert_eq!(segment(&plain, &mut p, &mut out), Ok(Cut::Single));
        assert_eq!(p, before);
    }
}

/// Headers that do not fit are errors, never panics.
#[test]
fn malformed_headers_are_errors() {
    let spec = Spec::tcp(false, 0, bytes(3000, 0));
    let (hdr, p) = spec.build_super(1000);
    let mut out = Segments::default();
    let cases = [
        VnetHdr { gso_size: 0, ..hdr },
        VnetHdr {
            csum_start: 3000,
            ..hdr
        },
        VnetHdr {
            csum_start: 8,
            ..hdr
        },
        // An IPv6 kind for an IPv4 packet.
        VnetHdr {
            gso_type: GsoType::TcpV6.to_wire(),
            ..hdr
        },
        VnetHdr {
            gso_type: 0,
            csum_offset: 60_000,
            ..hdr
        },
    ];
    for h in cases {
        let mut q = p.clone();
        assert_eq!(
            segment(&h, &mut q, &mut out),
            Err(SegmentError::Malformed),
            "{h:?}"
        );
    }
    let mut q = p.clone();
    let ufo = VnetHdr { gso_type: 3, ..hdr };
    assert_eq!(
        segment(&ufo, &mut q, &mut out),
        Err(SegmentError::UnknownGso)
    );
    let mut short = p[..30].to_vec();
    assert_eq!(
        segment(&hdr, &mut short, &mut out),
        Err(SegmentError::Malformed)
    );
}

proptest::proptest! {
    /// Arbitrary bytes behind an arbitrary header never panic.
    #[test]
    fn arbitrary_input_never_panics(
        head in proptest::array::uniform10(proptest::prelude::any::<u8>()),
        mut body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
    ) {
        if let Some(hdr) = VnetHdr::decode(&head) {
            let mut out = Segments::default();
            let _ = segment(&hdr, &mut body, &mut out);
        }
    }
}
