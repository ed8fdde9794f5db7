//! Cuts a super-segment read from the TUN (TSO/USO: one IP header, one TCP or UDP header,
//! up to ~64 KB of payload) into the packets it stands for, as the kernel's own GSO does:
//! each packet carries `gso_size` payload bytes (the last one possibly fewer) behind a copy
//! of the headers, with its IPv4 total length, identification (the first one's plus the
//! packet's index) and header checksum, its IPv6 payload length, its TCP sequence number
//! (FIN and PSH only on the last packet, CWR only on the first) or UDP length, and a
//! complete transport checksum. IPv6 extension headers are kept as they are.

use super::checksum::{finish, pseudo_header, sum};
use super::field::{be16, be32, set_be16, set_be32, u8_at};
use super::vnet::{GsoType, VnetHdr};
use super::{PROTO_TCP, PROTO_UDP};
use std::fmt;

/// TCP flag bits (byte 13 of the header).
const TCP_FIN: u8 = 0x01;
const TCP_PSH: u8 = 0x08;
const TCP_CWR: u8 = 0x80;

/// Why a TUN read could not be cut into packets (the read is dropped).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SegmentError {
    /// The virtio-net header names a GSO kind the node did not enable.
    UnknownGso,
    /// The header's offsets or sizes do not fit the packet, or the IP version does not
    /// match the GSO kind.
    Malformed,
}

impl fmt::Display for SegmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::UnknownGso => "unknown GSO type in the virtio-net header",
            Self::Malformed => "virtio-net header does not fit the packet",
        })
    }
}

impl std::error::Error for SegmentError {}

/// Packets cut from one super-segment, back to back in one buffer (reused between reads,
/// so the steady state allocates nothing).
#[derive(Clone, Debug, Default)]
pub struct Segments {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Segments {
    /// Forgets the packets, keeping the memory.
    pub fn clear(&mut self) {
        self.buf.clear();
        self.ends.clear();
    }

    /// How many packets.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Total bytes of all packets.
    #[must_use]
    pub fn bytes(&self) -> usize {
        self.buf.len()
    }

    /// The packets in order.
    pub fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let p = self.buf.get(start..end).unwrap_or_default();
            start = end;
            p
        })
    }

    /// The first packet.
    #[must_use]
    pub fn first(&self) -> Option<&[u8]> {
        self.buf.get(..*self.ends.first()?)
    }

    /// Appends one packet.
    pub fn push(&mut self, packet: &[u8]) {
        self.buf.extend_from_slice(packet);
        self.ends.push(self.buf.len());
    }

    /// Appends one packet written in place: `fill` gets `max` zeroed bytes and returns how
    /// many it used (`None`: no packet, nothing is appended).
    pub fn push_with(&mut self, max: usize, fill: impl FnOnce(&mut [u8]) -> Option<usize>) {
        let start = self.buf.len();
        self.buf.resize(start.saturating_add(max), 0);
        let used = self
            .buf
            .get_mut(start..)
            .and_then(fill)
            .filter(|n| *n <= max);
        match used {
            Some(n) => {
                self.buf.truncate(start + n);
                self.ends.push(self.buf.len());
            }
            None => self.buf.truncate(start),
        }
    }
}

/// What [`segment`] made of a TUN read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// A single packet: use the read packet itself (its checksum is now complete).
    Single,
    /// A super-segment: the packets are in the [`Segments`].
    Segments,
}

/// Interprets a packet read from the TUN with its virtio-net header: a single packet gets
/// its transport checksum completed in place (`NEEDS_CSUM`) and is used as it is; a
/// super-segment is cut into `out` (cleared first).
///
/// # Errors
/// An unknown GSO kind, or offsets and sizes that do not fit the packet.
pub fn segment(hdr: &VnetHdr, packet: &mut [u8], out: &mut Segments) -> Result<Cut, SegmentError> {
    out.clear();
    match hdr.gso().ok_or(SegmentError::UnknownGso)? {
        GsoType::None => {
            if hdr.needs_csum() {
                complete_checksum(hdr, packet).ok_or(SegmentError::Malformed)?;
            }
            Ok(Cut::Single)
        }
        kind => {
            cut(kind, hdr, packet, out).ok_or(SegmentError::Malformed)?;
            Ok(Cut::Segments)
        }
    }
}

/// Completes a partial checksum: the field holds the pseudo-header sum; add everything from
/// `csum_start` and store the complement.
fn complete_checksum(hdr: &VnetHdr, packet: &mut [u8]) -> Option<()> {
    let start = usize::from(hdr.csum_start);
    let at = start.checked_add(usize::from(hdr.csum_offset))?;
    let initial = be16(packet, at)?;
    set_be16(packet, at, 0)?;
    let mut c = finish(sum(packet.get(start..)?, u64::from(initial)));
    if c == 0 && hdr.csum_offset == 6 {
        // UDP: a computed zero is sent as all ones (zero means "no checksum").
        c = 0xffff;
    }
    set_be16(packet, at, c)
}

/// Cuts a TCP or UDP super-segment; `None` when the header does not fit the packet.
fn cut(kind: GsoType, hdr: &VnetHdr, packet: &[u8], out: &mut Segments) -> Option<()> {
    let version = u8_at(packet, 0)? >> 4;
    let v4 = match (kind, version) {
        (GsoType::TcpV4 | GsoType::UdpL4, 4) => true,
        (GsoType::TcpV6 | GsoType::UdpL4, 6) => false,
        _ => return None,
    };
    let tcp = kind != GsoType::UdpL4;
    let l4 = usize::from(hdr.csum_start);
    let ip_min = if v4 {
        usize::from(u8_at(packet, 0)? & 0x0f) * 4
    } else {
        40
    };
    if l4 < ip_min.max(20) {
        return None;
    }
    let l4_len = if tcp {
        usize::from(u8_at(packet, l4.checked_add(12)?)? >> 4) * 4
    } else {
        8
    };
    if l4_len < 8 || (tcp && l4_len < 20) {
        return None;
    }
    let hdr_len = l4.checked_add(l4_len)?;
    let headers = packet.get(..hdr_len)?;
    let payload = packet.get(hdr_len..)?;
    let gso = usize::from(hdr.gso_size);
    if gso == 0 {
        return None;
    }
    let (src, dst) = if v4 {
        (packet.get(12..16)?, packet.get(16..20)?)
    } else {
        (packet.get(8..24)?, packet.get(24..40)?)
    };
    let proto = if tcp { PROTO_TCP } else { PROTO_UDP };
    let csum_at = l4.checked_add(if tcp { 16 } else { 6 })?;
    let first_id = if v4 { be16(packet, 4)? } else { 0 };
    let first_seq = if tcp {
        be32(packet, l4.checked_add(4)?)?
    } else {
        0
    };
    let count = payload.len().div_ceil(gso).max(1);
    out.buf
        .reserve(payload.len().saturating_add(count.saturating_mul(hdr_len)));
    let mut chunks = payload.chunks(gso);
    for i in 0..count {
        let chunk = chunks.next().unwrap_or_default();
        let start = out.buf.len();
        out.buf.extend_from_slice(headers);
        out.buf.extend_from_slice(chunk);
        let seg = out.buf.get_mut(start..)?;
        let total = seg.len();
        let index = u16::try_from(i).ok()?;
        if v4 {
            set_be16(seg, 2, u16::try_from(total).ok()?)?;
            set_be16(seg, 4, first_id.wrapping_add(index))?;
            set_be16(seg, 10, 0)?;
            let c = finish(sum(seg.get(..ip_min)?, 0));
            set_be16(seg, 10, c)?;
        } else {
            set_be16(seg, 4, u16::try_from(total.checked_sub(40)?).ok()?)?;
        }
        let l4_total = total.checked_sub(l4)?;
        if tcp {
            let offset = u32::try_from(i.checked_mul(gso)?).ok()?;
            set_be32(seg, l4 + 4, first_seq.wrapping_add(offset))?;
            let flags_at = l4 + 13;
            let mut flags = u8_at(seg, flags_at)?;
            if i + 1 < count {
                flags &= !(TCP_FIN | TCP_PSH);
            }
            if i > 0 {
                flags &= !TCP_CWR;
            }
            super::field::set_u8(seg, flags_at, flags)?;
        } else {
            set_be16(seg, l4 + 4, u16::try_from(l4_total).ok()?)?;
        }
        set_be16(seg, csum_at, 0)?;
        let mut c = finish(sum(
            seg.get(l4..)?,
            pseudo_header(src, dst, proto, l4_total),
        ));
        if !tcp && c == 0 {
            c = 0xffff;
        }
        set_be16(seg, csum_at, c)?;
        out.ends.push(out.buf.len());
    }
    Some(())
}

#[cfg(test)]
#[path = "segment_tests.rs"]
mod tests;
