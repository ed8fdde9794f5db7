//! TUN offloads without IO: the virtio-net header that precedes every packet on a TUN
//! opened with `IFF_VNET_HDR` ([`vnet`]), splitting a TCP/UDP super-segment read from the
//! TUN into MTU-sized packets ([`segment`]), coalescing consecutive packets of one flow into
//! a super-segment before it is written to the TUN ([`coalesce`]), and the internet
//! checksum both need ([`checksum`]). Pure functions over byte buffers, tested without a
//! TUN; `crate::tun` does the IO.
//!
//! **Invariant:** nothing here panics on any bytes: a header that does not add up makes
//! [`segment::segment`] return an error (the caller drops the read) and makes
//! [`coalesce::Coalescer::push`] pass the packet through on its own, unchanged.

pub mod checksum;
pub mod coalesce;
mod field;
pub mod segment;
pub mod vnet;

#[cfg(test)]
pub(crate) mod test_packets;

/// IP protocol number of TCP.
pub const PROTO_TCP: u8 = 6;
/// IP protocol number of UDP.
pub const PROTO_UDP: u8 = 17;
