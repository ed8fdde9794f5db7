use super::*;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .filter_map(|i| {
            s.get(2 * i..2 * i + 2)
                .and_then(|p| u8::from_str_radix(p, 16).ok())
        })
        .collect()
}

/// UDP 5.6.7.8:89 -> 1.2.3.4:89 with an 11-byte payload (Tailscale wrap_test udp4()).
const UDP4: &str = "450000270000000040116ab305060708010203040059005900134c0f7564705f7061796c6f6164";

#[test]
fn decodes_ipv4_udp() {
    let mut p = ParsedPacket::default();
    p.decode(&hex(UDP4));
    assert_eq!(p.decoded, Decoded::Ip);
    assert_eq!(p.family, Family::V4);
    assert_eq!(p.proto, 17);
    assert_eq!(p.src, 0x0506_0708);
    assert_eq!(p.dst, 0x0102_0304);
    assert_eq!((p.sport, p.dport), (89, 89));
    let view = Ipv4Packet::new_checked(hex(UDP4));
    assert!(view.is_ok_and(|v| v.payload().len() == 19 && v.header_len() == 20));
}

#[test]
fn every_truncation_is_safe_and_never_ip_when_header_is_cut() {
    let full = hex(UDP4);
    let mut p = ParsedPacket::default();
    for n in 0..full.len() {
        p.decode(full.get(..n).unwrap_or(&[]));
        assert_ne!(p.decoded, Decoded::Ip, "truncated to {n} bytes");
    }
}

#[test]
fn first_fragment_needs_the_whole_transport_header() {
    // TCP first fragment (MF set, offset 0) with only 8 bytes of TCP header.
    let mut b = hex("4500001c000020004006000001020304050607080016001600000000");
    let mut p = ParsedPacket::default();
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::Unknown);
    // Offset 5 blocks (40 bytes) overlaps the first 80 bytes: unknown; offset 10: later fragment.
    if let Some(x) = b.get_mut(7) {
        *x = 5;
    }
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::Unknown);
    if let Some(x) = b.get_mut(7) {
        *x = 10;
    }
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::LaterFragment);
}

#[test]
fn decodes_ipv6_first_fragment_through_to_udp() {
    let b = hex(
        "6000000000182c40200100000000000000000000000000052001000000000000000000000000000111000001deadbeef04d201bb001000006161616161616161",
    );
    let mut p = ParsedPacket::default();
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::Ip);
    assert_eq!(p.family, Family::V6);
    assert_eq!((p.proto, p.sport, p.dport), (17, 1234, 443));
}

#[test]
fn ipv6_extension_headers_are_not_walked() {
    // Hop-by-hop (0) as next header.
    let mut b = vec![0x60, 0, 0, 0, 0, 8, 0, 64];
    b.extend_from_slice(&[0; 32]);
    b.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]);
    let mut p = ParsedPacket::default();
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::Unknown);
    assert!(Ipv6Packet::new_checked(&b[..]).is_ok());
}

#[test]
fn header_length_and_total_length_are_checked() {
    let mut b = hex(UDP4);
    if let Some(x) = b.get_mut(0) {
        *x = 0x44; // IHL 4 words < 20 bytes
    }
    assert!(Ipv4Packet::new_checked(&b[..]).is_err());
    let mut b = hex(UDP4);
    if let Some(x) = b.get_mut(3) {
        *x = 0xff; // total length beyond the buffer
    }
    let mut p = ParsedPacket::default();
    p.decode(&b);
    assert_eq!(p.decoded, Decoded::Unknown);
}

/// The decoder as it was before the inlined IPv4 path (kept to check that the rewrite
/// decodes every input identically).
#[derive(Default)]
struct OldDecoder(ParsedPacket);

impl OldDecoder {
    fn decode(&mut self, buf: &[u8]) {
        self.0 = ParsedPacket::default();
        if buf.is_empty() {
            self.0.decoded = Decoded::Empty;
            return;
        }
        if buf.len() < ipv4_field::MIN_HEADER {
            self.0.decoded = Decoded::TooShort;
            return;
        }
        self.0.decoded = match byte(buf, 0) >> 4 {
            4 => self.decode4(buf),
            6 => self.decode6(buf),
            _ => Decoded::Unknown,
        };
    }

    fn decode4(&mut self, buf: &[u8]) -> Decoded {
        // The fixed header as an array: field reads below are constant, in-bounds indices,
        // checked at compile time (the same checks as `Ipv4Packet::check_len`, done once).
        let Some(h) = buf.first_chunk::<{ ipv4_field::MIN_HEADER }>() else {
            return Decoded::Unknown;
        };
        let header_len = usize::from(h[0] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([h[2], h[3]]));
        if header_len < ipv4_field::MIN_HEADER || total < header_len || total > buf.len() {
            return Decoded::Unknown;
        }
        self.0.family = Family::V4;
        self.0.src = u128::from(u32::from_be_bytes([h[12], h[13], h[14], h[15]]));
        self.0.dst = u128::from(u32::from_be_bytes([h[16], h[17], h[18], h[19]]));
        self.0.proto = h[9];
        let flags_frag = u16::from_be_bytes([h[6], h[7]]);
        let offset = flags_frag & 0x1fff;
        if offset != 0 {
            if offset < MIN_LATER_FRAG_BLOCKS {
                return Decoded::Unknown;
            }
            return Decoded::LaterFragment;
        }
        let more_frags = flags_frag & 0x2000 != 0;
        // Protocol 0 is IPv6 hop-by-hop; on IPv4 it is invalid.
        if self.0.proto == 0 || (self.0.proto == proto::TSMP && more_frags) {
            return Decoded::Unknown;
        }
        self.decode_transport(buf.get(header_len..total).unwrap_or(&[]))
    }

    fn decode6(&mut self, buf: &[u8]) -> Decoded {
        let Ok(ip) = Ipv6Packet::new_checked(buf) else {
            return Decoded::Unknown;
        };
        self.0.family = Family::V6;
        self.0.src = ip.src();
        self.0.dst = ip.dst();
        let mut next = ip.next_header();
        let mut payload = ip.payload();
        let mut fragmented = false;
        if next == proto::IPV6_FRAGMENT {
            let Some((frag, rest)) = payload.split_first_chunk::<{ ipv6_field::FRAG_LEN }>() else {
                return Decoded::Unknown;
            };
            next = byte(frag, ipv6_field::FRAG_NEXT);
            let offset = be16(frag, ipv6_field::FRAG_OFFSET.start) >> 3;
            self.0.proto = next;
            if offset != 0 {
                if offset < MIN_LATER_FRAG_BLOCKS {
                    return Decoded::Unknown;
                }
                return Decoded::LaterFragment;
            }
            fragmented = be16(frag, ipv6_field::FRAG_OFFSET.start) & 1 != 0;
            payload = rest;
        }
        self.0.proto = next;
        if is_ipv6_extension(next) || (next == proto::TSMP && fragmented) {
            return Decoded::Unknown;
        }
        self.decode_transport(payload)
    }

    /// Reads ports, TCP flags or ICMP type/code; the header must be complete.
    fn decode_transport(&mut self, l4: &[u8]) -> Decoded {
        let need = match self.0.proto {
            proto::TCP => TCP_HEADER,
            proto::UDP => UDP_HEADER,
            proto::SCTP => SCTP_HEADER,
            proto::ICMP4 | proto::ICMP6 => ICMP_HEADER,
            _ => 0,
        };
        if l4.len() < need {
            return Decoded::Unknown;
        }
        match self.0.proto {
            proto::TCP | proto::UDP | proto::SCTP => {
                if let Some(ports) = l4.first_chunk::<4>() {
                    self.0.sport = u16::from_be_bytes([ports[0], ports[1]]);
                    self.0.dport = u16::from_be_bytes([ports[2], ports[3]]);
                }
                if self.0.proto == proto::TCP {
                    self.0.tcp_flags = byte(l4, 13);
                }
            }
            proto::ICMP4 | proto::ICMP6 => {
                self.0.icmp_type = byte(l4, 0);
                self.0.icmp_code = byte(l4, 1);
            }
            _ => {}
        }
        Decoded::Ip
    }
}

/// Overwrites `buf[at..at + v.len()]` with `v` when it fits.
fn put(buf: &mut [u8], at: usize, v: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + v.len()) {
        dst.copy_from_slice(v);
    }
}

/// The decoder (with its IPv4 TCP/UDP fast path) and the old one; the fast path is also
/// checked against the general decoder alone.
fn decode_both(bytes: &[u8]) -> (ParsedPacket, ParsedPacket) {
    let mut new = ParsedPacket::default();
    new.decode(bytes);
    let mut general = ParsedPacket {
        proto: 99,
        sport: 7,
        ..ParsedPacket::default()
    };
    general.decode_general(bytes);
    assert_eq!(
        new, general,
        "fast path and general decoder differ on {bytes:02x?}"
    );
    let mut old = OldDecoder::default();
    old.decode(bytes);
    (new, old.0)
}

/// Every single-byte change to the fields the fast path reads, and every truncation, of
/// valid IPv4 TCP and UDP packets decodes the same with and without the fast path.
#[test]
fn fast_path_agrees_with_the_general_decoder_on_edits_of_valid_packets() {
    let build = |proto| {
        crate::builder::build_packet(&crate::builder::PacketSpec {
            proto,
            src: std::net::IpAddr::from([100, 64, 0, 2]),
            dst: std::net::IpAddr::from([100, 64, 0, 1]),
            sport: 40000,
            dport: 22,
            tcp_flags: 0x10,
            icmp_type: 0,
            icmp_code: 0,
            payload_len: 16,
        })
        .unwrap_or_default()
    };
    let mut checked = 0;
    for base in [build(6), build(17), hex(UDP4)] {
        for n in 0..=base.len() {
            decode_both(base.get(..n).unwrap_or(&[]));
        }
        for at in [0, 2, 3, 6, 7, 9, 33] {
            for v in 0..=255u8 {
                let mut b = base.clone();
                put(&mut b, at, &[v]);
                let (new, old) = decode_both(&b);
                assert_eq!(new, old);
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 3 * 7 * 256);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]

    /// Random bytes, and random bytes behind a plausible IPv4/IPv6 first byte and lengths.
    #[test]
    fn decode_equals_the_previous_decoder(
        mut bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..120),
        version in 0u8..3,
        ihl in 5u8..8,
        proto in proptest::prop_oneof![
            proptest::prelude::Just(6u8), proptest::prelude::Just(17u8), proptest::prelude::Just(132u8),
            proptest::prelude::Just(1u8), proptest::prelude::Just(58u8), proptest::prelude::Just(44u8),
            proptest::prelude::Just(99u8), proptest::prelude::Just(0u8), proptest::prelude::any::<u8>()],
        frag in proptest::prop_oneof![proptest::prelude::Just(0u16), proptest::prelude::any::<u16>()],
    ) {
        let len = u16::try_from(bytes.len()).unwrap_or(0);
        match version {
            0 if bytes.len() >= 20 => {
                put(&mut bytes, 0, &[0x40 | ihl]);
                put(&mut bytes, 2, &len.to_be_bytes());
                put(&mut bytes, 6, &(frag & 0x3fff).to_be_bytes());
                put(&mut bytes, 9, &[proto]);
            }
            1 if bytes.len() >= 40 => {
                put(&mut bytes, 0, &[0x60]);
                put(&mut bytes, 4, &len.saturating_sub(40).to_be_bytes());
                put(&mut bytes, 6, &[proto]);
            }
            _ => {}
        }
        let (new, old) = decode_both(&bytes);
        proptest::prop_assert_eq!(new, old);
    }
}
