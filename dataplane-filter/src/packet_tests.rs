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
