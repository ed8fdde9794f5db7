//! The virtio-net header (`struct virtio_net_hdr`, 10 bytes, host byte order) that precedes
//! every packet read from or written to a TUN opened with `IFF_VNET_HDR`. It says whether
//! the packet is a GSO super-segment (and how to cut it) and whether its transport checksum
//! is still to be completed (`NEEDS_CSUM`: the field holds the pseudo-header sum only).

/// Bytes of the header (without the `num_buffers` field of the mergeable variant).
pub const VNET_HDR_LEN: usize = 10;

/// `VIRTIO_NET_HDR_F_NEEDS_CSUM`: the checksum at `csum_start + csum_offset` holds only the
/// pseudo-header sum; the rest of the packet from `csum_start` is still to be added.
pub const F_NEEDS_CSUM: u8 = 1;

/// `VIRTIO_NET_HDR_GSO_*`: what kind of super-segment a packet is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GsoType {
    /// A single packet.
    None,
    /// IPv4 TCP, cut at `gso_size` payload bytes (TSO).
    TcpV4,
    /// IPv6 TCP, cut at `gso_size` payload bytes (TSO).
    TcpV6,
    /// UDP over IPv4 or IPv6, cut into datagrams of `gso_size` payload bytes (USO).
    UdpL4,
}

impl GsoType {
    /// The wire value (the ECN bit, 0x80, is not part of it).
    #[must_use]
    pub const fn to_wire(self) -> u8 {
        match self {
            Self::None => 0,
            Self::TcpV4 => 1,
            Self::TcpV6 => 4,
            Self::UdpL4 => 5,
        }
    }

    /// Reads a wire value, ignoring the ECN bit; `None` for kinds the node does not enable
    /// (UFO, 3) or does not know.
    #[must_use]
    pub const fn from_wire(v: u8) -> Option<Self> {
        match v & 0x7f {
            0 => Some(Self::None),
            1 => Some(Self::TcpV4),
            4 => Some(Self::TcpV6),
            5 => Some(Self::UdpL4),
            _ => None,
        }
    }
}

/// A decoded virtio-net header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VnetHdr {
    /// `F_NEEDS_CSUM` and others.
    pub flags: u8,
    /// The raw `gso_type` byte (see [`GsoType::from_wire`]).
    pub gso_type: u8,
    /// Length of the headers (IP + transport); advisory, recomputed by the segmenter.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Offset of the transport header (where the checksum starts).
    pub csum_start: u16,
    /// Offset of the checksum field from `csum_start` (16 for TCP, 6 for UDP).
    pub csum_offset: u16,
}

impl VnetHdr {
    /// The header of a single packet with a complete checksum: all zero.
    pub const NONE: Self = Self {
        flags: 0,
        gso_type: 0,
        hdr_len: 0,
        gso_size: 0,
        csum_start: 0,
        csum_offset: 0,
    };

    /// Reads the first [`VNET_HDR_LEN`] bytes of `b`; `None` when `b` is shorter.
    #[must_use]
    pub fn decode(b: &[u8]) -> Option<Self> {
        let h: &[u8; VNET_HDR_LEN] = b.get(..VNET_HDR_LEN)?.try_into().ok()?;
        let [flags, gso_type, a0, a1, b0, b1, c0, c1, d0, d1] = *h;
        Some(Self {
            flags,
            gso_type,
            hdr_len: u16::from_ne_bytes([a0, a1]),
            gso_size: u16::from_ne_bytes([b0, b1]),
            csum_start: u16::from_ne_bytes([c0, c1]),
            csum_offset: u16::from_ne_bytes([d0, d1]),
        })
    }

    /// The header's bytes.
    #[must_use]
    pub fn encode(&self) -> [u8; VNET_HDR_LEN] {
        let [a0, a1] = self.hdr_len.to_ne_bytes();
        let [b0, b1] = self.gso_size.to_ne_bytes();
        let [c0, c1] = self.csum_start.to_ne_bytes();
        let [d0, d1] = self.csum_offset.to_ne_bytes();
        [self.flags, self.gso_type, a0, a1, b0, b1, c0, c1, d0, d1]
    }

    /// The kind of super-segment; `None` for an unknown kind.
    #[must_use]
    pub const fn gso(&self) -> Option<GsoType> {
        GsoType::from_wire(self.gso_type)
    }

    /// Whether the transport checksum is still to be completed.
    #[must_use]
    pub const fn needs_csum(&self) -> bool {
        self.flags & F_NEEDS_CSUM != 0
    }
}
