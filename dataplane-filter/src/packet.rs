//! Zero-copy, bounds-checked packet views and the flat [`ParsedPacket`] the filter decides on.
//!
//! Two layers, after smoltcp's `wire` module and Tailscale's `net/packet`:
//!
//! * [`Ipv4Packet`] / [`Ipv6Packet`]: typed views over any `T: AsRef<[u8]>`, with field offsets
//!   as `Range` constants. Getters read through `get`, so they cannot panic even on a buffer
//!   that failed [`Ipv4Packet::check_len`]; after `check_len` returns `Ok` they also return the
//!   real field values.
//! * [`ParsedPacket::decode`]: fills a caller-reused struct with what the filter needs. It never
//!   fails and never allocates: malformed input becomes [`Decoded::Unknown`].
//!
//! Fragment rules (Tailscale `net/packet/packet.go`, RFC 1858): a first fragment must hold the
//! complete transport header, otherwise it is unknown (this defeats "tiny fragment" attacks that
//! hide the ports in a second fragment); a later fragment whose offset is below 80 bytes is
//! unknown (overlap attack); other later fragments are reported as [`Decoded::LaterFragment`]
//! and pass without a rule check, because reassembly discards them when the first fragment
//! was dropped.

use crate::rules::proto;

/// Reads a big-endian `u16` at `at`, or 0 when the buffer is too short.
#[inline]
fn be16(buf: &[u8], at: usize) -> u16 {
    buf.get(at..)
        .and_then(<[u8]>::first_chunk::<2>)
        .map_or(0, |b| u16::from_be_bytes(*b))
}

/// Reads a big-endian `u32` at `at`, or 0 when the buffer is too short.
#[inline]
fn be32(buf: &[u8], at: usize) -> u32 {
    buf.get(at..)
        .and_then(<[u8]>::first_chunk::<4>)
        .map_or(0, |b| u32::from_be_bytes(*b))
}

/// Reads a big-endian `u128` at `at`, or 0 when the buffer is too short.
#[inline]
fn be128(buf: &[u8], at: usize) -> u128 {
    buf.get(at..)
        .and_then(<[u8]>::first_chunk::<16>)
        .map_or(0, |b| u128::from_be_bytes(*b))
}

/// Reads the byte at `at`, or 0 when the buffer is too short.
#[inline]
fn byte(buf: &[u8], at: usize) -> u8 {
    buf.get(at).copied().unwrap_or(0)
}

/// The opaque error of the view layer: the buffer is too short or inconsistent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// Byte offsets of the IPv4 header fields and of the transport fields the filter reads:
/// the one definition the views, the decoder's fast path and the filter's raw-bytes path
/// all index with (constant indices into fixed-size arrays, checked at compile time).
pub(crate) mod ipv4_field {
    use std::ops::Range;
    /// Version and header length.
    pub const VER_IHL: usize = 0;
    /// Total length (big-endian `u16`).
    pub const TOTAL_LEN: usize = 2;
    /// Flags and fragment offset (big-endian `u16`).
    pub const FLAGS_FRAG: usize = 6;
    /// Protocol number.
    pub const PROTOCOL: usize = 9;
    /// Source address.
    pub const SRC: Range<usize> = 12..16;
    /// Destination address.
    pub const DST: Range<usize> = 16..20;
    /// A header without options.
    pub const MIN_HEADER: usize = 20;
    /// Source port, from the start of a TCP, UDP or SCTP header.
    pub const L4_SPORT: usize = 0;
    /// Destination port, from the start of a TCP, UDP or SCTP header.
    pub const L4_DPORT: usize = 2;
    /// TCP flags, from the start of the TCP header.
    pub const TCP_FLAGS: usize = 13;
}

use ipv4_field as f4;
const S4: usize = f4::SRC.start;
const D4: usize = f4::DST.start;

/// A read-only view of an IPv4 packet.
#[derive(Clone, Copy, Debug)]
pub struct Ipv4Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Wraps a buffer without checking it (getters still never panic).
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and runs [`Self::check_len`]. Use this on untrusted input.
    ///
    /// # Errors
    /// [`Malformed`] when the header or total length is inconsistent with the buffer.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks that the buffer holds the fixed header, the full header length (IHL), and the
    /// total length, and that total length ≥ header length and the version is 4.
    ///
    /// # Errors
    /// [`Malformed`] when any of these fails.
    pub fn check_len(&self) -> Result<(), Malformed> {
        let len = self.buffer.as_ref().len();
        if len < ipv4_field::MIN_HEADER || self.version() != 4 {
            return Err(Malformed);
        }
        let hl = self.header_len();
        let total = usize::from(self.total_len());
        if hl < ipv4_field::MIN_HEADER || total < hl || total > len {
            return Err(Malformed);
        }
        Ok(())
    }

    /// IP version nibble.
    #[inline]
    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), ipv4_field::VER_IHL) >> 4
    }

    /// Header length in bytes (IHL × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(byte(self.buffer.as_ref(), ipv4_field::VER_IHL) & 0x0f) * 4
    }

    /// Total length field.
    #[inline]
    pub fn total_len(&self) -> u16 {
        be16(self.buffer.as_ref(), ipv4_field::TOTAL_LEN)
    }

    /// More-fragments flag.
    #[inline]
    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), ipv4_field::FLAGS_FRAG) & 0x2000 != 0
    }

    /// Fragment offset in 8-byte blocks.
    #[inline]
    pub fn frag_offset_blocks(&self) -> u16 {
        be16(self.buffer.as_ref(), ipv4_field::FLAGS_FRAG) & 0x1fff
    }

    /// Protocol field.
    #[inline]
    pub fn protocol(&self) -> u8 {
        byte(self.buffer.as_ref(), ipv4_field::PROTOCOL)
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> u32 {
        be32(self.buffer.as_ref(), ipv4_field::SRC.start)
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> u32 {
        be32(self.buffer.as_ref(), ipv4_field::DST.start)
    }

    /// The payload after the header, up to the total length (empty if inconsistent).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let total = usize::from(self.total_len());
        self.buffer
            .as_ref()
            .get(self.header_len()..total)
            .unwrap_or(&[])
    }
}

mod ipv6_field {
    use std::ops::Range;
    pub const PAYLOAD_LEN: Range<usize> = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const SRC: Range<usize> = 8..24;
    pub const DST: Range<usize> = 24..40;
    pub const HEADER_LEN: usize = 40;
    /// Fragment extension header: next header, reserved, offset (13 bits) + flags.
    pub const FRAG_NEXT: usize = 0;
    pub const FRAG_OFFSET: Range<usize> = 2..4;
    pub const FRAG_LEN: usize = 8;
}

/// A read-only view of an IPv6 packet.
#[derive(Clone, Copy, Debug)]
pub struct Ipv6Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Wraps a buffer without checking it (getters still never panic).
    pub const fn new_unchecked(buffer: T) -> Self {
        Self { buffer }
    }

    /// Wraps a buffer and runs [`Self::check_len`]. Use this on untrusted input.
    ///
    /// # Errors
    /// [`Malformed`] when the buffer is shorter than the header plus payload length.
    pub fn new_checked(buffer: T) -> Result<Self, Malformed> {
        let p = Self::new_unchecked(buffer);
        p.check_len()?;
        Ok(p)
    }

    /// Checks the version and that the buffer holds the header and the payload length.
    ///
    /// # Errors
    /// [`Malformed`] when it does not.
    pub fn check_len(&self) -> Result<(), Malformed> {
        let len = self.buffer.as_ref().len();
        let need = ipv6_field::HEADER_LEN + usize::from(self.payload_len());
        if len < ipv6_field::HEADER_LEN || self.version() != 6 || need > len {
            return Err(Malformed);
        }
        Ok(())
    }

    /// IP version nibble.
    #[inline]
    pub fn version(&self) -> u8 {
        byte(self.buffer.as_ref(), 0) >> 4
    }

    /// Payload length field.
    #[inline]
    pub fn payload_len(&self) -> u16 {
        be16(self.buffer.as_ref(), ipv6_field::PAYLOAD_LEN.start)
    }

    /// Next header field of the base header.
    #[inline]
    pub fn next_header(&self) -> u8 {
        byte(self.buffer.as_ref(), ipv6_field::NEXT_HEADER)
    }

    /// Source address.
    #[inline]
    pub fn src(&self) -> u128 {
        be128(self.buffer.as_ref(), ipv6_field::SRC.start)
    }

    /// Destination address.
    #[inline]
    pub fn dst(&self) -> u128 {
        be128(self.buffer.as_ref(), ipv6_field::DST.start)
    }

    /// The payload after the base header, up to the payload length (empty if inconsistent).
    #[inline]
    pub fn payload(&self) -> &[u8] {
        let end = ipv6_field::HEADER_LEN + usize::from(self.payload_len());
        self.buffer
            .as_ref()
            .get(ipv6_field::HEADER_LEN..end)
            .unwrap_or(&[])
    }
}

/// Address family of a packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4 (addresses in the low 32 bits).
    #[default]
    V4,
    /// IPv6.
    V6,
}

/// What decoding found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Decoded {
    /// A zero-length packet (a WireGuard keepalive).
    #[default]
    Empty,
    /// Shorter than an IPv4 header (20 bytes).
    TooShort,
    /// Not decodable: bad version or lengths, truncated transport header in a first fragment,
    /// a fragment overlapping the first 80 bytes, IPv6 extension headers other than one
    /// leading Fragment header, fragmented TSMP, or IPv4 protocol 0.
    Unknown,
    /// A non-first fragment at offset ≥ 80 bytes: no ports, passes without a rule check.
    LaterFragment,
    /// A complete IP packet (or first fragment) with its transport fields decoded.
    Ip,
}

/// The flat result of decoding one packet; reuse one value across packets.
///
/// Addresses are integers: IPv4 in the low 32 bits of `src`/`dst`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParsedPacket {
    /// Outcome of decoding; the other fields are meaningful for [`Decoded::Ip`] and
    /// (family and addresses) for [`Decoded::LaterFragment`].
    pub decoded: Decoded,
    /// Address family.
    pub family: Family,
    /// IP protocol (upper layer, after an IPv6 Fragment header).
    pub proto: u8,
    /// Source address.
    pub src: u128,
    /// Destination address.
    pub dst: u128,
    /// Source port (TCP, UDP, SCTP), else 0.
    pub sport: u16,
    /// Destination port (TCP, UDP, SCTP), else 0.
    pub dport: u16,
    /// TCP flags byte (FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10, …), else 0.
    pub tcp_flags: u8,
    /// ICMP / ICMPv6 type, else 0.
    pub icmp_type: u8,
    /// ICMP / ICMPv6 code, else 0.
    pub icmp_code: u8,
}

/// TCP flag bits.
pub mod tcp_flag {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// PSH.
    pub const PSH: u8 = 0x08;
    /// ACK.
    pub const ACK: u8 = 0x10;
    /// URG.
    pub const URG: u8 = 0x20;
}

/// Minimum transport header lengths a first fragment must contain (Tailscale `net/packet`).
const TCP_HEADER: usize = 20;
const UDP_HEADER: usize = 8;
const SCTP_HEADER: usize = 12;
const ICMP_HEADER: usize = 8;
/// Later fragments must start at or beyond this many bytes (10 blocks; RFC 1858).
const MIN_LATER_FRAG_BLOCKS: u16 = 10;

impl ParsedPacket {
    /// Decodes `buf` into `self`, overwriting every field. Never panics, never allocates.
    ///
    /// The common case — an unfragmented IPv4 packet with a 20-byte header carrying a complete
    /// TCP or UDP header — is decoded by straight-line code from fixed-size arrays (28 bytes,
    /// 40 for TCP; offsets checked at compile time), with one branch on the protocol and one
    /// whole-struct write; everything else goes through [`Self::decode_general`], which gives
    /// the same result for those packets too.
    #[inline]
    pub fn decode(&mut self, buf: &[u8]) {
        if let Some(h) = buf.first_chunk::<{ ipv4_field::MIN_HEADER + UDP_HEADER }>() {
            // Bytes 0..8 as one little-endian word: version/IHL (byte 0), total length
            // (bytes 2..4), flags and fragment offset (bytes 6..8).
            let (w, _) = h.split_first_chunk::<8>().unwrap_or((&[0; 8], &[]));
            let w = u64::from_le_bytes(*w);
            let total = usize::from(u16::from_be_bytes([h[f4::TOTAL_LEN], h[f4::TOTAL_LEN + 1]]));
            // Version 4 with IHL 5; fragment offset 0 and no more fragments (the low 14 bits
            // of the big-endian bytes 6..8); the total length within the buffer.
            let plain = (w & 0xff3f_0000_0000_00ff == 0x45) & (total <= buf.len());
            // The total length must also cover the transport header.
            match h[f4::PROTOCOL] {
                proto::TCP => {
                    if let Some(t) = buf.first_chunk::<{ ipv4_field::MIN_HEADER + TCP_HEADER }>()
                        && plain
                        && total >= ipv4_field::MIN_HEADER + TCP_HEADER
                    {
                        self.set_v4(h, proto::TCP, t[f4::MIN_HEADER + f4::TCP_FLAGS]);
                        return;
                    }
                }
                proto::UDP if plain && total >= ipv4_field::MIN_HEADER + UDP_HEADER => {
                    self.set_v4(h, proto::UDP, 0);
                    return;
                }
                _ => {}
            }
        }
        self.decode_general(buf);
    }

    /// The fast path's result: an IPv4 `proto` packet whose fixed header and first 8
    /// transport bytes are `h`, with TCP flags `tcp_flags` (0 for UDP). One whole-struct write.
    #[inline(always)]
    fn set_v4(&mut self, h: &[u8; ipv4_field::MIN_HEADER + UDP_HEADER], proto: u8, tcp_flags: u8) {
        *self = Self {
            decoded: Decoded::Ip,
            family: Family::V4,
            proto,
            src: u128::from(u32::from_be_bytes([h[S4], h[S4 + 1], h[S4 + 2], h[S4 + 3]])),
            dst: u128::from(u32::from_be_bytes([h[D4], h[D4 + 1], h[D4 + 2], h[D4 + 3]])),
            sport: u16::from_be_bytes([
                h[f4::MIN_HEADER + f4::L4_SPORT],
                h[f4::MIN_HEADER + f4::L4_SPORT + 1],
            ]),
            dport: u16::from_be_bytes([
                h[f4::MIN_HEADER + f4::L4_DPORT],
                h[f4::MIN_HEADER + f4::L4_DPORT + 1],
            ]),
            tcp_flags,
            icmp_type: 0,
            icmp_code: 0,
        };
    }

    /// [`Self::decode`] without its fast path: the general decoder for every packet shape,
    /// out of line. Gives exactly the same result as [`Self::decode`] on every input (tested).
    #[inline(never)]
    pub fn decode_general(&mut self, buf: &[u8]) {
        let Some(h) = buf.first_chunk::<{ ipv4_field::MIN_HEADER }>() else {
            *self = Self {
                decoded: if buf.is_empty() {
                    Decoded::Empty
                } else {
                    Decoded::TooShort
                },
                ..Self::default()
            };
            return;
        };
        match h[f4::VER_IHL] >> 4 {
            4 => self.decode4(buf, h),
            6 => {
                *self = Self::default();
                self.decoded = self.decode6(buf);
            }
            _ => {
                *self = Self {
                    decoded: Decoded::Unknown,
                    ..Self::default()
                };
            }
        }
    }

    /// IPv4: `h` is the fixed header (the first 20 bytes of `buf`), so field reads are
    /// constant, in-bounds indices checked at compile time.
    fn decode4(&mut self, buf: &[u8], h: &[u8; ipv4_field::MIN_HEADER]) {
        *self = Self::default();
        let header_len = usize::from(h[f4::VER_IHL] & 0x0f) * 4;
        let total = usize::from(u16::from_be_bytes([h[f4::TOTAL_LEN], h[f4::TOTAL_LEN + 1]]));
        if header_len < ipv4_field::MIN_HEADER || total < header_len || total > buf.len() {
            self.decoded = Decoded::Unknown;
            return;
        }
        self.src = u128::from(u32::from_be_bytes([h[S4], h[S4 + 1], h[S4 + 2], h[S4 + 3]]));
        self.dst = u128::from(u32::from_be_bytes([h[D4], h[D4 + 1], h[D4 + 2], h[D4 + 3]]));
        self.proto = h[f4::PROTOCOL];
        let flags_frag = u16::from_be_bytes([h[f4::FLAGS_FRAG], h[f4::FLAGS_FRAG + 1]]);
        let offset = flags_frag & 0x1fff;
        self.decoded = if offset != 0 {
            if offset < MIN_LATER_FRAG_BLOCKS {
                Decoded::Unknown
            } else {
                Decoded::LaterFragment
            }
        } else if self.proto == 0 || (self.proto == proto::TSMP && flags_frag & 0x2000 != 0) {
            // Protocol 0 is IPv6 hop-by-hop; on IPv4 it is invalid.
            Decoded::Unknown
        } else {
            self.decode_transport(buf.get(header_len..total).unwrap_or(&[]))
        };
    }

    fn decode6(&mut self, buf: &[u8]) -> Decoded {
        let Ok(ip) = Ipv6Packet::new_checked(buf) else {
            return Decoded::Unknown;
        };
        self.family = Family::V6;
        self.src = ip.src();
        self.dst = ip.dst();
        let mut next = ip.next_header();
        let mut payload = ip.payload();
        let mut fragmented = false;
        if next == proto::IPV6_FRAGMENT {
            let Some((frag, rest)) = payload.split_first_chunk::<{ ipv6_field::FRAG_LEN }>() else {
                return Decoded::Unknown;
            };
            next = byte(frag, ipv6_field::FRAG_NEXT);
            let offset = be16(frag, ipv6_field::FRAG_OFFSET.start) >> 3;
            self.proto = next;
            if offset != 0 {
                if offset < MIN_LATER_FRAG_BLOCKS {
                    return Decoded::Unknown;
                }
                return Decoded::LaterFragment;
            }
            fragmented = be16(frag, ipv6_field::FRAG_OFFSET.start) & 1 != 0;
            payload = rest;
        }
        self.proto = next;
        if is_ipv6_extension(next) || (next == proto::TSMP && fragmented) {
            return Decoded::Unknown;
        }
        self.decode_transport(payload)
    }

    /// Reads ports, TCP flags or ICMP type/code; the header must be complete.
    fn decode_transport(&mut self, l4: &[u8]) -> Decoded {
        match self.proto {
            proto::TCP => {
                let Some(t) = l4.first_chunk::<TCP_HEADER>() else {
                    return Decoded::Unknown;
                };
                self.sport = u16::from_be_bytes([t[0], t[1]]);
                self.dport = u16::from_be_bytes([t[2], t[3]]);
                self.tcp_flags = t[f4::TCP_FLAGS];
            }
            proto::UDP => {
                let Some(t) = l4.first_chunk::<UDP_HEADER>() else {
                    return Decoded::Unknown;
                };
                self.sport = u16::from_be_bytes([t[0], t[1]]);
                self.dport = u16::from_be_bytes([t[2], t[3]]);
            }
            proto::SCTP => {
                let Some(t) = l4.first_chunk::<SCTP_HEADER>() else {
                    return Decoded::Unknown;
                };
                self.sport = u16::from_be_bytes([t[0], t[1]]);
                self.dport = u16::from_be_bytes([t[2], t[3]]);
            }
            proto::ICMP4 | proto::ICMP6 => {
                let Some(t) = l4.first_chunk::<ICMP_HEADER>() else {
                    return Decoded::Unknown;
                };
                self.icmp_type = t[0];
                self.icmp_code = t[1];
            }
            _ => {}
        }
        Decoded::Ip
    }
}

/// IPv6 extension headers the filter does not walk (packets carrying them are dropped, as in
/// Tailscale): hop-by-hop, routing, destination options, AH, ESP, mobility, HIP, shim6.
const fn is_ipv6_extension(next: u8) -> bool {
    matches!(next, 0 | 43 | 44 | 50 | 51 | 60 | 135 | 139 | 140)
}

#[cfg(test)]
#[path = "packet_tests.rs"]
mod tests;
