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

/// Overwrites `buf[at..at + v.len()]` with `v` when it fits.
fn put(buf: &mut [u8], at: usize, v: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + v.len()) {
        dst.copy_from_slice(v);
    }
}

/// `bytes` through the decoder (with its IPv4 TCP/UDP fast path) and through the general
/// decoder alone (starting from a scratch with stale fields, as a reused one has).
fn decode_both(bytes: &[u8]) -> (ParsedPacket, ParsedPacket) {
    let mut new = ParsedPacket::default();
    new.decode(bytes);
    let mut general = ParsedPacket {
        proto: 99,
        sport: 7,
        ..ParsedPacket::default()
    };
    general.decode_general(bytes);
    (new, general)
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
            let cut = base.get(..n).unwrap_or(&[]);
            let (new, general) = decode_both(cut);
            assert_eq!(
                new, general,
                "fast path and general decoder differ on {cut:02x?}"
            );
        }
        for at in [0, 2, 3, 6, 7, 9, 33] {
            for v in 0..=255u8 {
                let mut b = base.clone();
                put(&mut b, at, &[v]);
                let (new, general) = decode_both(&b);
                assert_eq!(
                    new, general,
                    "fast path and general decoder differ on {b:02x?}"
                );
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
    fn decode_equals_the_general_decoder(
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
        let (new, general) = decode_both(&bytes);
        proptest::prop_assert_eq!(new, general);
    }
}
