#![expect(clippy::indexing_slicing, reason = "tests")]

use super::*;

/// The worked example of RFC 1071 §3: words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
#[test]
fn rfc1071_example() {
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(fold(sum(&data, 0)), 0xddf2);
    assert_eq!(finish(sum(&data, 0)), !0xddf2);
}

/// A word-at-a-time reference agrees for every length (odd ones padded) and offset.
#[test]
fn agrees_with_the_plain_loop() {
    let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
    for start in 0..9 {
        for end in start..data.len() {
            let d = &data[start..end];
            let mut plain = 0u64;
            for pair in d.chunks(2) {
                let hi = u64::from(pair[0]) << 8;
                let lo = pair.get(1).map_or(0, |b| u64::from(*b));
                plain += hi | lo;
            }
            assert_eq!(fold(sum(d, 0)), fold(plain), "{start}..{end}");
        }
    }
}

/// A valid IPv4 header sums to 0xffff (checksum included).
#[test]
fn valid_ipv4_header_verifies() {
    let h = [
        0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00,
        0x01, 0xc0, 0xa8, 0x00, 0xc7,
    ];
    assert_eq!(fold(sum(&h, 0)), 0xffff);
}
