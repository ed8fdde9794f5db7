//! Coalesces consecutive packets of one TCP or UDP flow into super-segments before they are
//! written to the TUN (GRO, as wireguard-go does): the kernel then takes ~64 KB per system
//! call instead of one packet. Packets arrive here only after cryptokey routing and the
//! filter admitted them, so a dropped packet never enters a segment.
//!
//! A packet joins the flow's latest segment when it continues it exactly: same addresses,
//! ports and IP header fields (TOS/traffic class, TTL/hop limit, DF), same TCP header length,
//! acknowledgement and options, the next sequence number, only ACK (and PSH) set, and no more
//! payload than the segment's first packet (a shorter packet or a PSH ends the segment). UDP
//! datagrams join when they are no longer than the first (a shorter one ends the segment),
//! at most [`MAX_UDP_SEGMENTS`]. Every coalesced packet's own checksum is verified first:
//! the segment goes out with a partial checksum (`NEEDS_CSUM`) that the kernel completes, so
//! a packet with a bad checksum must not be hidden in it. Anything else (ICMP, fragments,
//! IPv4 options, IPv6 extension headers, SYN/FIN/RST, pure ACKs) is written on its own,
//! unchanged, and ends its flow's segment, so packets of one flow keep their order.

use super::checksum::{finish, fold, pseudo_header, sum};
use super::field::{be16, be32, set_be16, set_u8, u8_at};
use super::vnet::{F_NEEDS_CSUM, GsoType, VNET_HDR_LEN, VnetHdr};
use super::{PROTO_TCP, PROTO_UDP};

/// The most datagrams in one UDP segment (the kernel's `UDP_MAX_SEGMENTS` is 64 on older
/// kernels).
pub const MAX_UDP_SEGMENTS: usize = 64;
/// The largest IP packet a segment may grow to.
const MAX_SEGMENT_BYTES: usize = 65_535;
/// How many of the latest segments are searched for a packet's flow.
const SEARCH: usize = 32;
/// Buffers kept for reuse between flushes (each may hold up to 64 KB).
const POOL_MAX: usize = 64;

const TCP_ACK: u8 = 0x10;
const TCP_PSH: u8 = 0x08;

/// The five-tuple (and family) of a TCP or UDP packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Flow {
    v6: bool,
    proto: u8,
    src: [u8; 16],
    dst: [u8; 16],
    ports: u32,
}

/// What a packet is, for coalescing.
#[derive(Clone, Copy, Debug)]
struct Info {
    flow: Flow,
    /// Whether it may start or join a segment.
    coalescable: bool,
    /// Offset of the transport header.
    l4: usize,
    /// IP + transport header bytes.
    hdr_len: usize,
    /// TCP sequence number (0 for UDP).
    seq: u32,
    /// TCP flags (0 for UDP).
    flags: u8,
}

/// One segment (or a single packet) waiting to be written.
#[derive(Debug)]
struct Item {
    /// [`VNET_HDR_LEN`] bytes for the header, then the packet.
    buf: Vec<u8>,
    flow: Option<Flow>,
    /// Whether more packets may join.
    open: bool,
    l4: usize,
    hdr_len: usize,
    /// Payload bytes of the first packet: the segment's `gso_size`.
    gso_size: usize,
    count: usize,
    next_seq: u32,
    psh: bool,
}

/// Packets admitted since the last [`Coalescer::flush`], grouped into segments. Reuses its
/// buffers, so the steady state allocates nothing.
#[derive(Debug, Default)]
pub struct Coalescer {
    items: Vec<Item>,
    pool: Vec<Vec<u8>>,
    tcp: bool,
    udp: bool,
}

/// What one [`Coalescer::flush`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flushed {
    /// Frames handed to `write` (TUN writes).
    pub frames: u64,
    /// Packets in them.
    pub packets: u64,
    /// Bytes of the IP packets in them (without virtio-net headers).
    pub bytes: u64,
}

impl Coalescer {
    /// A coalescer that builds TCP segments when `tcp` (the TUN takes TSO) and UDP segments
    /// when `udp` (the TUN takes USO). With both off every packet is written on its own,
    /// behind a zero virtio-net header.
    #[must_use]
    pub fn new(tcp: bool, udp: bool) -> Self {
        Self {
            items: Vec::new(),
            pool: Vec::new(),
            tcp,
            udp,
        }
    }

    /// Whether no packet waits.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Adds an admitted IP packet.
    pub fn push(&mut self, packet: &[u8]) {
        let info = inspect(packet, self.tcp, self.udp);
        if let Some(info) = info
            && info.coalescable
            && let Some(item) = self.latest_of(&info.flow)
            && item.open
            && try_join(item, packet, &info)
        {
            return;
        }
        let mut buf = self.pool.pop().unwrap_or_default();
        buf.clear();
        buf.extend_from_slice(&[0; VNET_HDR_LEN]);
        buf.extend_from_slice(packet);
        let mut item = Item {
            buf,
            flow: info.map(|i| i.flow),
            open: false,
            l4: 0,
            hdr_len: 0,
            gso_size: 0,
            count: 1,
            next_seq: 0,
            psh: false,
        };
        if let Some(i) = info.filter(|i| i.coalescable) {
            let payload = packet.len().saturating_sub(i.hdr_len);
            item.open = i.flags & TCP_PSH == 0;
            item.l4 = i.l4;
            item.hdr_len = i.hdr_len;
            item.gso_size = payload;
            item.next_seq = i.seq.wrapping_add(u32::try_from(payload).unwrap_or(0));
        }
        self.items.push(item);
    }

    /// The latest item of `flow` among the last [`SEARCH`] items.
    fn latest_of(&mut self, flow: &Flow) -> Option<&mut Item> {
        self.items
            .iter_mut()
            .rev()
            .take(SEARCH)
            .find(|i| i.flow.as_ref() == Some(flow))
    }

    /// Writes every waiting segment and packet, in the order of their first packet, each as
    /// one frame (virtio-net header + IP packet), and forgets them.
    pub fn flush(&mut self, mut write: impl FnMut(&[u8])) -> Flushed {
        let mut done = Flushed::default();
        for mut item in self.items.drain(..) {
            let hdr = if item.count > 1 {
                finalize(&mut item)
            } else {
                Some(VnetHdr::NONE)
            };
            // A segment whose headers cannot be rewritten (never expected: they were read
            // when its first packet was pushed) is not written.
            if let Some(hdr) = hdr
                && let Some(head) = item.buf.get_mut(..VNET_HDR_LEN)
            {
                head.copy_from_slice(&hdr.encode());
                write(&item.buf);
                done.frames += 1;
                done.packets += u64::try_from(item.count).unwrap_or(0);
                done.bytes += u64::try_from(item.buf.len() - VNET_HDR_LEN).unwrap_or(0);
            }
            if self.pool.len() < POOL_MAX {
                self.pool.push(item.buf);
            }
        }
        done
    }
}

/// Appends `packet` to `item` when it continues it; returns whether it did.
fn try_join(item: &mut Item, packet: &[u8], info: &Info) -> bool {
    let tcp = info.flow.proto == PROTO_TCP;
    let payload_len = packet.len().saturating_sub(info.hdr_len);
    let Some(head) = item.buf.get(VNET_HDR_LEN..) else {
        return false;
    };
    if info.l4 != item.l4
        || info.hdr_len != item.hdr_len
        || payload_len > item.gso_size
        || head.len().saturating_add(payload_len) > MAX_SEGMENT_BYTES
        || (!tcp && item.count >= MAX_UDP_SEGMENTS)
        || (tcp && info.seq != item.next_seq)
        || !same_headers(head, packet, info)
    {
        return false;
    }
    let Some(payload) = packet.get(info.hdr_len..) else {
        return false;
    };
    item.buf.extend_from_slice(payload);
    item.count += 1;
    item.next_seq = item
        .next_seq
        .wrapping_add(u32::try_from(payload_len).unwrap_or(0));
    if payload_len < item.gso_size {
        item.open = false;
    }
    if tcp && info.flags & TCP_PSH != 0 {
        item.psh = true;
        item.open = false;
    }
    true
}

/// Whether the header fields that must agree within a segment do: IPv4 TOS, flags and TTL
/// (IPv6 version/traffic class/flow label and hop limit), and the TCP acknowledgement and
/// options.
fn same_headers(a: &[u8], b: &[u8], info: &Info) -> bool {
    let ip_same = if info.flow.v6 {
        a.get(..4) == b.get(..4) && a.get(7) == b.get(7)
    } else {
        a.get(1) == b.get(1) && a.get(6) == b.get(6) && a.get(8) == b.get(8)
    };
    if !ip_same {
        return false;
    }
    if info.flow.proto != PROTO_TCP {
        return true;
    }
    let ack = info.l4 + 8..info.l4 + 12;
    let opts = info.l4 + 20..info.hdr_len;
    a.get(ack.clone()) == b.get(ack) && a.get(opts.clone()) == b.get(opts)
}

/// Rewrites a coalesced segment's headers for the kernel (lengths, IPv4 header checksum,
/// the PSH of its packets, the pseudo-header sum in the transport checksum) and returns its
/// virtio-net header.
fn finalize(item: &mut Item) -> Option<VnetHdr> {
    let flow = item.flow?;
    let tcp = flow.proto == PROTO_TCP;
    let p = item.buf.get_mut(VNET_HDR_LEN..)?;
    let total = p.len();
    let l4 = item.l4;
    if flow.v6 {
        set_be16(p, 4, u16::try_from(total.checked_sub(40)?).ok()?)?;
    } else {
        set_be16(p, 2, u16::try_from(total).ok()?)?;
        set_be16(p, 10, 0)?;
        let c = finish(sum(p.get(..l4)?, 0));
        set_be16(p, 10, c)?;
    }
    let l4_total = total.checked_sub(l4)?;
    let (src, dst) = if flow.v6 {
        (flow.src.get(..16)?, flow.dst.get(..16)?)
    } else {
        (flow.src.get(..4)?, flow.dst.get(..4)?)
    };
    let partial = fold(pseudo_header(src, dst, flow.proto, l4_total));
    let (gso_type, csum_offset) = if tcp {
        if item.psh {
            let flags = u8_at(p, l4 + 13)?;
            set_u8(p, l4 + 13, flags | TCP_PSH)?;
        }
        (
            if flow.v6 {
                GsoType::TcpV6
            } else {
                GsoType::TcpV4
            },
            16,
        )
    } else {
        set_be16(p, l4 + 4, u16::try_from(l4_total).ok()?)?;
        (GsoType::UdpL4, 6)
    };
    set_be16(p, l4 + csum_offset, partial)?;
    Some(VnetHdr {
        flags: F_NEEDS_CSUM,
        gso_type: gso_type.to_wire(),
        hdr_len: u16::try_from(item.hdr_len).ok()?,
        gso_size: u16::try_from(item.gso_size).ok()?,
        csum_start: u16::try_from(l4).ok()?,
        csum_offset: u16::try_from(csum_offset).ok()?,
    })
}

/// Reads what coalescing needs from a packet; `None` for anything without a TCP or UDP
/// five-tuple (other protocols, non-first fragments, IPv6 extension headers, short packets).
fn inspect(p: &[u8], tcp_on: bool, udp_on: bool) -> Option<Info> {
    let version = u8_at(p, 0)? >> 4;
    let mut flow = Flow {
        v6: version == 6,
        proto: 0,
        src: [0; 16],
        dst: [0; 16],
        ports: 0,
    };
    // Whether the IP header allows coalescing (no options, not a fragment, exact length).
    let (l4, ip_ok) = match version {
        4 => {
            let ihl = usize::from(u8_at(p, 0)? & 0x0f) * 4;
            let frag = be16(p, 6)?;
            if frag & 0x1fff != 0 || ihl < 20 {
                return None;
            }
            flow.proto = u8_at(p, 9)?;
            flow.src.get_mut(..4)?.copy_from_slice(p.get(12..16)?);
            flow.dst.get_mut(..4)?.copy_from_slice(p.get(16..20)?);
            let whole = frag & 0x2000 == 0 && usize::from(be16(p, 2)?) == p.len();
            (ihl, ihl == 20 && whole)
        }
        6 => {
            flow.proto = u8_at(p, 6)?;
            flow.src.copy_from_slice(p.get(8..24)?);
            flow.dst.copy_from_slice(p.get(24..40)?);
            (40, usize::from(be16(p, 4)?) + 40 == p.len())
        }
        _ => return None,
    };
    flow.ports = be32(p, l4)?;
    let (hdr_len, seq, flags, l4_ok) = match flow.proto {
        PROTO_TCP => {
            let doff = usize::from(u8_at(p, l4 + 12)? >> 4) * 4;
            let flags = u8_at(p, l4 + 13)?;
            let hdr_len = l4 + doff;
            let ok = tcp_on
                && doff >= 20
                && hdr_len < p.len()
                && flags & !TCP_PSH == TCP_ACK
                && be16(p, l4 + 18)? == 0;
            (hdr_len, be32(p, l4 + 4)?, flags, ok)
        }
        PROTO_UDP => {
            let hdr_len = l4 + 8;
            let ok = udp_on
                && hdr_len < p.len()
                && usize::from(be16(p, l4 + 4)?) == p.len() - l4
                && be16(p, l4 + 6)? != 0;
            (hdr_len, 0, 0, ok)
        }
        _ => return None,
    };
    let coalescable = ip_ok
        && l4_ok
        && fold(sum(
            p.get(l4..)?,
            pseudo_header(
                p.get(if flow.v6 { 8..24 } else { 12..16 })?,
                p.get(if flow.v6 { 24..40 } else { 16..20 })?,
                flow.proto,
                p.len() - l4,
            ),
        )) == 0xffff;
    Some(Info {
        flow,
        coalescable,
        l4,
        hdr_len,
        seq,
        flags,
    })
}

#[cfg(test)]
#[path = "coalesce_tests.rs"]
mod tests;
