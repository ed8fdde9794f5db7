//! The internet checksum (RFC 1071): ones' complement sums of big-endian 16-bit words,
//! accumulated unfolded in a `u64` and folded once at the end.

/// Adds the big-endian 16-bit words of `data` to `initial` (an odd last byte is padded with
/// a zero byte). The result is unfolded; pass it to [`fold`] or [`finish`].
///
/// The words are summed in the machine's byte order, four bytes at a time into a 64-bit
/// accumulator (a loop the compiler vectorises), and the folded sum is byte-swapped once at
/// the end: the ones' complement sum does not depend on byte order (RFC 1071 §2(B)).
#[must_use]
#[inline]
pub fn sum(data: &[u8], initial: u64) -> u64 {
    let mut native = 0u64;
    let mut words = data.chunks_exact(4);
    for w in &mut words {
        native += u64::from(u32::from_ne_bytes(w.try_into().unwrap_or([0; 4])));
    }
    let mut acc = u64::from(to_be_order(fold(native)));
    let rest = words.remainder();
    let mut pairs = rest.chunks_exact(2);
    for w in &mut pairs {
        acc += u64::from(u16::from_be_bytes(w.try_into().unwrap_or([0; 2])));
    }
    if let Some(&last) = pairs.remainder().first() {
        acc += u64::from(last) << 8;
    }
    acc + initial
}

/// A folded sum of native-order words as the sum of the same bytes read big-endian.
#[inline]
const fn to_be_order(v: u16) -> u16 {
    if cfg!(target_endian = "little") {
        v.swap_bytes()
    } else {
        v
    }
}

/// Folds an unfolded sum to 16 bits (end-around carry), not complemented.
#[must_use]
#[inline]
pub fn fold(mut acc: u64) -> u16 {
    while acc > 0xffff {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    u16::try_from(acc).unwrap_or(0xffff)
}

/// The checksum field value for an unfolded sum: the ones' complement of the folded sum.
#[must_use]
#[inline]
pub fn finish(acc: u64) -> u16 {
    !fold(acc)
}

/// The unfolded sum of the TCP/UDP pseudo-header: source and destination addresses (4 or
/// 16 bytes each), the protocol and the transport length (header + payload).
#[must_use]
#[inline]
pub fn pseudo_header(src: &[u8], dst: &[u8], proto: u8, len: usize) -> u64 {
    let len = u64::try_from(len).unwrap_or(0);
    sum(dst, sum(src, 0)) + u64::from(proto) + (len & 0xffff) + (len >> 16)
}

#[cfg(test)]
#[path = "checksum_tests.rs"]
mod tests;
