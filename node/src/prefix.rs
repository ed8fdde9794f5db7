//! IP prefixes and the AllowedIPs table (cryptokey routing): which peer owns an address.

use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// An IP prefix in canonical form (host bits cleared), e.g. `10.100.0.0/24`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Prefix {
    addr: IpAddr,
    len: u8,
}

/// Why a prefix string was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrefixError(pub String);

impl fmt::Display for PrefixError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PrefixError {}

impl Prefix {
    /// A prefix from an address and a length; host bits are cleared. `None` if `len` is
    /// longer than the family allows.
    #[must_use]
    pub fn new(addr: IpAddr, len: u8) -> Option<Self> {
        let max = max_len(addr);
        if len > max {
            return None;
        }
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4((u32::from(a) & mask32(len)).into()),
            IpAddr::V6(a) => IpAddr::V6((u128::from(a) & mask128(len)).into()),
        };
        Some(Self { addr, len })
    }

    /// A single-address prefix (`/32` or `/128`).
    #[must_use]
    pub fn host(addr: IpAddr) -> Self {
        Self {
            addr,
            len: max_len(addr),
        }
    }

    /// The (network) address.
    #[must_use]
    pub const fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length.
    #[must_use]
    pub const fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Whether this is a `/0` prefix (a default route).
    #[must_use]
    pub const fn is_default(&self) -> bool {
        self.len == 0
    }

    /// Whether `ip` lies inside the prefix.
    #[must_use]
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => u32::from(ip) & mask32(self.len) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask128(self.len) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask32(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask128(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

fn max_len(addr: IpAddr) -> u8 {
    match addr {
        IpAddr::V4(_) => 32,
        IpAddr::V6(_) => 128,
    }
}

impl FromStr for Prefix {
    type Err = PrefixError;

    /// `addr/len` or a bare address (a host prefix). Host bits are cleared, as `wg` does.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let (addr, len) = match s.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (s, None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| PrefixError(format!("`{s}` is not an IP address or prefix")))?;
        let len = match len {
            None => max_len(addr),
            Some(l) => l
                .parse::<u8>()
                .ok()
                .filter(|l| *l <= max_len(addr))
                .ok_or_else(|| PrefixError(format!("`{s}` has an invalid prefix length")))?,
        };
        Self::new(addr, len)
            .ok_or_else(|| PrefixError(format!("`{s}` has an invalid prefix length")))
    }
}

impl fmt::Display for Prefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// Longest-prefix-match table from AllowedIPs prefixes to peer indices.
///
/// A node has few peers, so a list sorted by decreasing prefix length with a linear scan is
/// as fast as a trie at this size and needs no dependency.
#[derive(Clone, Debug, Default)]
pub struct AllowedIps {
    entries: Vec<(Prefix, usize)>,
}

impl AllowedIps {
    /// Adds `prefix` for `peer`. A prefix given twice belongs to the last peer that adds it
    /// (as `wg set` does).
    pub fn insert(&mut self, prefix: Prefix, peer: usize) {
        self.entries.retain(|(p, _)| *p != prefix);
        let at = self
            .entries
            .iter()
            .position(|(p, _)| p.prefix_len() < prefix.prefix_len())
            .unwrap_or(self.entries.len());
        self.entries.insert(at, (prefix, peer));
    }

    /// The peer whose most specific prefix contains `ip`.
    #[must_use]
    pub fn lookup(&self, ip: IpAddr) -> Option<usize> {
        self.entries
            .iter()
            .find(|(p, _)| p.contains(ip))
            .map(|(_, peer)| *peer)
    }
}

#[cfg(test)]
#[path = "prefix_tests.rs"]
mod tests;
