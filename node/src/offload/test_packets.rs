//! Hand-made IPv4/IPv6 TCP and UDP packets for the offload tests.
#![expect(clippy::indexing_slicing, clippy::unwrap_used, reason = "test helpers")]

use super::checksum::{finish, fold, pseudo_header, sum};
use super::vnet::{F_NEEDS_CSUM, GsoType, VnetHdr};
use super::{PROTO_TCP, PROTO_UDP};

pub const SRC4: [u8; 4] = [10, 100, 0, 2];
pub const DST4: [u8; 4] = [10, 100, 0, 1];
pub const SRC6: [u8; 16] = [0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
pub const DST6: [u8; 16] = [0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

pub const ACK: u8 = 0x10;
pub const PSH: u8 = 0x08;
pub const FIN: u8 = 0x01;
pub const SYN: u8 = 0x02;
pub const CWR: u8 = 0x80;

/// A TCP or UDP packet to build.
#[derive(Clone, Debug)]
pub struct Spec {
    pub v6: bool,
    pub tcp: bool,
    pub sport: u16,
    pub dport: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    /// TCP options (padded to a multiple of 4 by the caller).
    pub options: Vec<u8>,
    pub id: u16,
    pub ttl: u8,
    pub payload: Vec<u8>,
}

impl Spec {
    pub fn tcp(v6: bool, seq: u32, payload: Vec<u8>) -> Self {
        Self {
            v6,
            tcp: true,
            sport: 40000,
            dport: 5201,
            seq,
            ack: 77,
            flags: ACK,
            options: Vec::new(),
            id: 100,
            ttl: 64,
            payload,
        }
    }

    pub fn udp(v6: bool, payload: Vec<u8>) -> Self {
        Self {
            tcp: false,
            flags: 0,
            ..Self::tcp(v6, 0, payload)
        }
    }

    pub fn proto(&self) -> u8 {
        if self.tcp { PROTO_TCP } else { PROTO_UDP }
    }

    pub fn l4(&self) -> usize {
        if self.v6 { 40 } else { 20 }
    }

    pub fn l4_len(&self) -> usize {
        if self.tcp { 20 + self.options.len() } else { 8 }
    }

    /// The packet with complete checksums.
    pub fn build(&self) -> Vec<u8> {
        let mut p = self.build_raw();
        let (l4, at) = (self.l4(), self.csum_at());
        let ps = self.pseudo(p.len() - l4);
        let mut c = finish(sum(&p[l4..], ps));
        if !self.tcp && c == 0 {
            c = 0xffff;
        }
        p[at..at + 2].copy_from_slice(&c.to_be_bytes());
        p
    }

    /// As the kernel hands a super-segment over: the transport checksum field holds the
    /// folded pseudo-header sum; with its virtio-net header.
    pub fn build_super(&self, gso_size: u16) -> (VnetHdr, Vec<u8>) {
        let mut p = self.build_raw();
        let (l4, at) = (self.l4(), self.csum_at());
        let partial = fold(self.pseudo(p.len() - l4));
        p[at..at + 2].copy_from_slice(&partial.to_be_bytes());
        let gso = match (self.tcp, self.v6) {
            (true, false) => GsoType::TcpV4,
            (true, true) => GsoType::TcpV6,
            (false, _) => GsoType::UdpL4,
        };
        let hdr = VnetHdr {
            flags: F_NEEDS_CSUM,
            gso_type: gso.to_wire(),
            hdr_len: u16::try_from(l4 + self.l4_len()).unwrap(),
            gso_size,
            csum_start: u16::try_from(l4).unwrap(),
            csum_offset: if self.tcp { 16 } else { 6 },
        };
        (hdr, p)
    }

    fn csum_at(&self) -> usize {
        self.l4() + if self.tcp { 16 } else { 6 }
    }

    fn pseudo(&self, l4_total: usize) -> u64 {
        if self.v6 {
            pseudo_header(&SRC6, &DST6, self.proto(), l4_total)
        } else {
            pseudo_header(&SRC4, &DST4, self.proto(), l4_total)
        }
    }

    /// Headers and payload, transport checksum zero, IPv4 header checksum valid.
    fn build_raw(&self) -> Vec<u8> {
        let total = self.l4() + self.l4_len() + self.payload.len();
        let mut p = Vec::with_capacity(total);
        if self.v6 {
            p.extend_from_slice(&[0x60, 0, 0, 0]);
            p.extend_from_slice(&u16::try_from(total - 40).unwrap().to_be_bytes());
            p.push(self.proto());
            p.push(self.ttl);
            p.extend_from_slice(&SRC6);
            p.extend_from_slice(&DST6);
        } else {
            p.extend_from_slice(&[0x45, 0]);
            p.extend_from_slice(&u16::try_from(total).unwrap().to_be_bytes());
            p.extend_from_slice(&self.id.to_be_bytes());
            p.extend_from_slice(&[0x40, 0, self.ttl, self.proto(), 0, 0]);
            p.extend_from_slice(&SRC4);
            p.extend_from_slice(&DST4);
            let c = finish(sum(&p[..20], 0));
            p[10..12].copy_from_slice(&c.to_be_bytes());
        }
        p.extend_from_slice(&self.sport.to_be_bytes());
        p.extend_from_slice(&self.dport.to_be_bytes());
        if self.tcp {
            p.extend_from_slice(&self.seq.to_be_bytes());
            p.extend_from_slice(&self.ack.to_be_bytes());
            let doff = u8::try_from(self.l4_len() / 4).unwrap();
            p.extend_from_slice(&[doff << 4, self.flags, 0xff, 0xff, 0, 0, 0, 0]);
            p.extend_from_slice(&self.options);
        } else {
            let len = u16::try_from(8 + self.payload.len()).unwrap();
            p.extend_from_slice(&len.to_be_bytes());
            p.extend_from_slice(&[0, 0]);
        }
        p.extend_from_slice(&self.payload);
        p
    }
}

/// Payload bytes that differ by position.
pub fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| u8::try_from(i % 251).unwrap() ^ seed)
        .collect()
}

/// The timestamp option (NOP NOP TS val ecr), 12 bytes.
pub fn timestamps(val: u32) -> Vec<u8> {
    let mut o = vec![1, 1, 8, 10];
    o.extend_from_slice(&val.to_be_bytes());
    o.extend_from_slice(&7u32.to_be_bytes());
    o
}

/// Whether the packet's IPv4 header checksum (if any) and transport checksum verify.
pub fn checksums_ok(p: &[u8]) -> bool {
    let v6 = p[0] >> 4 == 6;
    let (l4, proto, src, dst) = if v6 {
        (40, p[6], &p[8..24], &p[24..40])
    } else {
        if fold(sum(&p[..20], 0)) != 0xffff {
            return false;
        }
        (20, p[9], &p[12..16], &p[16..20])
    };
    fold(sum(&p[l4..], pseudo_header(src, dst, proto, p.len() - l4))) == 0xffff
}
