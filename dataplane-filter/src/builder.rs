//! Builds raw IP packets from fields, for the simulator, tests and benchmarks.
//!
//! Checksums are left zero: the filter does not verify them.

use crate::rules::proto;
use std::net::IpAddr;

/// The fields of a packet to build.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketSpec {
    /// IP protocol number.
    pub proto: u8,
    /// Source address.
    pub src: IpAddr,
    /// Destination address; must be the same family as `src`.
    pub dst: IpAddr,
    /// Source port (TCP, UDP, SCTP).
    pub sport: u16,
    /// Destination port (TCP, UDP, SCTP).
    pub dport: u16,
    /// TCP flags byte.
    pub tcp_flags: u8,
    /// ICMP type.
    pub icmp_type: u8,
    /// ICMP code.
    pub icmp_code: u8,
    /// Payload bytes appended after the transport header.
    pub payload_len: u16,
}

/// Why a spec cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// `src` and `dst` are of different families.
    MixedFamilies,
    /// The packet would exceed 65535 bytes.
    TooLong,
}

impl std::fmt::Display for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::MixedFamilies => "source and destination are of different address families",
            Self::TooLong => "packet would be longer than 65535 bytes",
        })
    }
}

impl std::error::Error for BuildError {}

/// The transport header for `spec` (ports, flags or ICMP type/code).
fn transport(spec: &PacketSpec) -> Vec<u8> {
    let mut l4 = Vec::new();
    match spec.proto {
        proto::TCP => {
            l4.extend_from_slice(&spec.sport.to_be_bytes());
            l4.extend_from_slice(&spec.dport.to_be_bytes());
            l4.extend_from_slice(&[0; 8]); // sequence, acknowledgement
            l4.push(0x50); // data offset 5 words
            l4.push(spec.tcp_flags);
            l4.extend_from_slice(&[0xff, 0xff, 0, 0, 0, 0]); // window, checksum, urgent
        }
        proto::UDP => {
            l4.extend_from_slice(&spec.sport.to_be_bytes());
            l4.extend_from_slice(&spec.dport.to_be_bytes());
            let len = 8u16.saturating_add(spec.payload_len);
            l4.extend_from_slice(&len.to_be_bytes());
            l4.extend_from_slice(&[0, 0]);
        }
        proto::SCTP => {
            l4.extend_from_slice(&spec.sport.to_be_bytes());
            l4.extend_from_slice(&spec.dport.to_be_bytes());
            l4.extend_from_slice(&[0; 8]); // verification tag, checksum
        }
        proto::ICMP4 | proto::ICMP6 => {
            l4.push(spec.icmp_type);
            l4.push(spec.icmp_code);
            l4.extend_from_slice(&[0; 6]); // checksum, identifier, sequence
        }
        _ => {}
    }
    l4.resize(l4.len() + usize::from(spec.payload_len), 0x61);
    l4
}

/// Builds the IPv4 or IPv6 packet described by `spec`.
///
/// # Errors
/// [`BuildError`] when the families differ or the packet is too long.
pub fn build_packet(spec: &PacketSpec) -> Result<Vec<u8>, BuildError> {
    let l4 = transport(spec);
    match (spec.src, spec.dst) {
        (IpAddr::V4(s), IpAddr::V4(d)) => {
            let total = u16::try_from(20 + l4.len()).map_err(|_| BuildError::TooLong)?;
            let mut b = vec![0x45, 0];
            b.extend_from_slice(&total.to_be_bytes());
            b.extend_from_slice(&[0, 0, 0x40, 0, 64, spec.proto, 0, 0]);
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&l4);
            Ok(b)
        }
        (IpAddr::V6(s), IpAddr::V6(d)) => {
            let plen = u16::try_from(l4.len()).map_err(|_| BuildError::TooLong)?;
            let mut b = vec![0x60, 0, 0, 0];
            b.extend_from_slice(&plen.to_be_bytes());
            b.push(spec.proto);
            b.push(64);
            b.extend_from_slice(&s.octets());
            b.extend_from_slice(&d.octets());
            b.extend_from_slice(&l4);
            Ok(b)
        }
        _ => Err(BuildError::MixedFamilies),
    }
}
