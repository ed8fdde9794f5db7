//! Address strings of the wire format (`*`, IP, CIDR, `a-b` range, `cap:<name>`) parsed into
//! typed, inclusive address ranges per family.
//!
//! Parsing follows the Tailscale client: `*` is both `0.0.0.0/0` and `::/0`; a CIDR must be
//! canonical (host bits set is an error); a range must stay in one family and must not be
//! reversed; `cap:` is only meaningful in `SrcIPs`. Errors are values, never panics.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// An inclusive range of addresses of one family, as integers (`u32` or `u128`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrRange<A> {
    /// First address, inclusive.
    pub first: A,
    /// Last address, inclusive.
    pub last: A,
}

impl<A: Ord + Copy> AddrRange<A> {
    /// Whether `addr` lies inside the range.
    #[inline]
    pub fn contains(&self, addr: A) -> bool {
        self.first <= addr && addr <= self.last
    }
}

/// A set of addresses as inclusive ranges, one list per family (not necessarily merged).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AddrSet {
    /// IPv4 ranges.
    pub v4: Vec<AddrRange<u32>>,
    /// IPv6 ranges.
    pub v6: Vec<AddrRange<u128>>,
}

impl AddrSet {
    /// Whether the set contains `addr` (a plain scan; for tests and build time only).
    #[must_use]
    pub fn contains(&self, addr: IpAddr) -> bool {
        match addr {
            IpAddr::V4(a) => {
                let a = u32::from(a);
                self.v4.iter().any(|r| r.contains(a))
            }
            IpAddr::V6(a) => {
                let a = u128::from(a);
                self.v6.iter().any(|r| r.contains(a))
            }
        }
    }

    /// Whether the set holds no address of either family.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.v4.is_empty() && self.v6.is_empty()
    }

    /// Adds every address of `parsed` (a `cap:` entry adds nothing).
    pub fn add(&mut self, parsed: &ParsedAddr) {
        match parsed {
            ParsedAddr::Any => {
                self.v4.push(AddrRange {
                    first: 0,
                    last: u32::MAX,
                });
                self.v6.push(AddrRange {
                    first: 0,
                    last: u128::MAX,
                });
            }
            ParsedAddr::V4(r) => self.v4.push(*r),
            ParsedAddr::V6(r) => self.v6.push(*r),
            ParsedAddr::Cap(_) => {}
        }
    }
}

/// One parsed address string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParsedAddr {
    /// `*`: every IPv4 and every IPv6 address.
    Any,
    /// An IPv4 address, prefix or range.
    V4(AddrRange<u32>),
    /// An IPv6 address, prefix or range.
    V6(AddrRange<u128>),
    /// `cap:<name>`: sources holding that node capability (the name without `cap:`).
    Cap(String),
}

/// Why an address string was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddrProblem {
    /// Not an IP address, prefix, range, `*` or `cap:`.
    NotAnAddress,
    /// The prefix length exceeds 32 (IPv4) or 128 (IPv6), or is not a number.
    BadPrefixLength,
    /// The prefix has bits set after its length (`8.8.8.8/24`).
    HostBitsSet,
    /// The two ends of a range are of different families.
    MixedFamilyRange,
    /// The range's first address is after its last.
    ReversedRange,
    /// `cap:` outside `SrcIPs`, or with an empty name.
    CapNotAllowed,
}

impl AddrProblem {
    /// A short lower-case description.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::NotAnAddress => "not an IP address, CIDR prefix, range or `*`",
            Self::BadPrefixLength => "invalid prefix length",
            Self::HostBitsSet => "prefix has host bits set (not canonical)",
            Self::MixedFamilyRange => "range mixes IPv4 and IPv6",
            Self::ReversedRange => "range start is after its end",
            Self::CapNotAllowed => "`cap:` is only allowed in `SrcIPs`, with a name",
        }
    }
}

impl fmt::Display for AddrProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Parses one address string. `allow_cap` permits `cap:<name>` (true for `SrcIPs` only).
///
/// # Errors
/// Returns the problem when the string is not a valid address form.
pub fn parse_addr(s: &str, allow_cap: bool) -> Result<ParsedAddr, AddrProblem> {
    if s == "*" {
        return Ok(ParsedAddr::Any);
    }
    if let Some(name) = s.strip_prefix("cap:") {
        if !allow_cap || name.is_empty() {
            return Err(AddrProblem::CapNotAllowed);
        }
        return Ok(ParsedAddr::Cap(name.to_owned()));
    }
    if let Some((a, b)) = s.split_once('-') {
        let a: IpAddr = a.parse().map_err(|_| AddrProblem::NotAnAddress)?;
        let b: IpAddr = b.parse().map_err(|_| AddrProblem::NotAnAddress)?;
        return match (a, b) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                let (first, last) = (u32::from(a), u32::from(b));
                if first > last {
                    return Err(AddrProblem::ReversedRange);
                }
                Ok(ParsedAddr::V4(AddrRange { first, last }))
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => {
                let (first, last) = (u128::from(a), u128::from(b));
                if first > last {
                    return Err(AddrProblem::ReversedRange);
                }
                Ok(ParsedAddr::V6(AddrRange { first, last }))
            }
            _ => Err(AddrProblem::MixedFamilyRange),
        };
    }
    if let Some((ip, len)) = s.split_once('/') {
        let ip: IpAddr = ip.parse().map_err(|_| AddrProblem::NotAnAddress)?;
        // Go's netip accepts only plain decimal prefix lengths.
        if len.is_empty() || len.len() > 3 || !len.bytes().all(|c| c.is_ascii_digit()) {
            return Err(AddrProblem::BadPrefixLength);
        }
        let len: u32 = len.parse().map_err(|_| AddrProblem::BadPrefixLength)?;
        return match ip {
            IpAddr::V4(a) => prefix_v4(a, len).map(ParsedAddr::V4),
            IpAddr::V6(a) => prefix_v6(a, len).map(ParsedAddr::V6),
        };
    }
    match s.parse::<IpAddr>() {
        Ok(IpAddr::V4(a)) => {
            let a = u32::from(a);
            Ok(ParsedAddr::V4(AddrRange { first: a, last: a }))
        }
        Ok(IpAddr::V6(a)) => {
            let a = u128::from(a);
            Ok(ParsedAddr::V6(AddrRange { first: a, last: a }))
        }
        Err(_) => Err(AddrProblem::NotAnAddress),
    }
}

fn prefix_v4(a: Ipv4Addr, len: u32) -> Result<AddrRange<u32>, AddrProblem> {
    if len > 32 {
        return Err(AddrProblem::BadPrefixLength);
    }
    let a = u32::from(a);
    let host = u32::MAX.checked_shr(len).unwrap_or(0);
    if a & host != 0 {
        return Err(AddrProblem::HostBitsSet);
    }
    Ok(AddrRange {
        first: a,
        last: a | host,
    })
}

fn prefix_v6(a: Ipv6Addr, len: u32) -> Result<AddrRange<u128>, AddrProblem> {
    if len > 128 {
        return Err(AddrProblem::BadPrefixLength);
    }
    let a = u128::from(a);
    let host = u128::MAX.checked_shr(len).unwrap_or(0);
    if a & host != 0 {
        return Err(AddrProblem::HostBitsSet);
    }
    Ok(AddrRange {
        first: a,
        last: a | host,
    })
}

/// Parses a list of CIDR prefixes or addresses (for `--local` and `local_nets`), reporting the
/// first bad entry as `(index, problem)`.
///
/// # Errors
/// The index and problem of the first entry that does not parse, or is `cap:`.
pub fn parse_addr_list<S: AsRef<str>>(items: &[S]) -> Result<AddrSet, (usize, AddrProblem)> {
    let mut set = AddrSet::default();
    for (i, item) in items.iter().enumerate() {
        let parsed = parse_addr(item.as_ref().trim(), false).map_err(|p| (i, p))?;
        set.add(&parsed);
    }
    Ok(set)
}

#[cfg(test)]
#[path = "addr_tests.rs"]
mod tests;
