//! Bounds-checked big-endian field access: every read or write of a header field goes
//! through these, so a short or lying packet gives `None` instead of a panic.

/// The byte at `at`.
#[inline]
pub(crate) fn u8_at(b: &[u8], at: usize) -> Option<u8> {
    b.get(at).copied()
}

/// The big-endian `u16` at `at`.
#[inline]
pub(crate) fn be16(b: &[u8], at: usize) -> Option<u16> {
    let s = b.get(at..at.checked_add(2)?)?;
    Some(u16::from_be_bytes([*s.first()?, *s.get(1)?]))
}

/// The big-endian `u32` at `at`.
#[inline]
pub(crate) fn be32(b: &[u8], at: usize) -> Option<u32> {
    let s: [u8; 4] = b.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(s))
}

/// Writes `v` as the byte at `at`.
#[inline]
pub(crate) fn set_u8(b: &mut [u8], at: usize, v: u8) -> Option<()> {
    *b.get_mut(at)? = v;
    Some(())
}

/// Writes `v` big-endian at `at`.
#[inline]
pub(crate) fn set_be16(b: &mut [u8], at: usize, v: u16) -> Option<()> {
    b.get_mut(at..at.checked_add(2)?)?
        .copy_from_slice(&v.to_be_bytes());
    Some(())
}

/// Writes `v` big-endian at `at`.
#[inline]
pub(crate) fn set_be32(b: &mut [u8], at: usize, v: u32) -> Option<()> {
    b.get_mut(at..at.checked_add(4)?)?
        .copy_from_slice(&v.to_be_bytes());
    Some(())
}
