//! Address strings as the control plane spells them in `SrcIPs`, `DstPorts[].IP` and
//! `CapGrant[].Dsts`: `*`, a bare IP, a CIDR prefix, or an inclusive `first-last` range;
//! and the fixed address sets of the spec (the tailnet `*` ranges, "the internet").
//!
//! Sets are never expanded address by address: a prefix stays one prefix, and set
//! arithmetic (ipsets) works on inclusive intervals.

use ipnet::{IpNet, Ipv6Net};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address item of a compiled rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Addr {
    /// `*`: every address of both families.
    Any,
    /// A prefix; `bare` prints it without `/len` (a single address).
    Net {
        /// The prefix.
        net: IpNet,
        /// Print as a bare IP.
        bare: bool,
    },
    /// An inclusive range of one family.
    Range(IpAddr, IpAddr),
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Addr::Any => f.write_str("*"),
            // A single-address prefix prints bare, however it was written (SaaS sends
            // `10.33.0.100` for `10.33.0.100/32`).
            Addr::Net { net, bare } if *bare || net.prefix_len() == net.max_prefix_len() => {
                write!(f, "{}", net.addr())
            }
            Addr::Net { net, .. } => write!(f, "{net}"),
            Addr::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

/// An inclusive interval of one family, as integers (`v6` says which).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Interval {
    /// Whether the interval is IPv6.
    pub v6: bool,
    /// First address.
    pub lo: u128,
    /// Last address (inclusive).
    pub hi: u128,
}

impl Interval {
    /// The interval a prefix covers.
    pub fn of_net(net: &IpNet) -> Interval {
        match net {
            IpNet::V4(n) => Interval {
                v6: false,
                lo: u128::from(u32::from(n.network())),
                hi: u128::from(u32::from(n.broadcast())),
            },
            IpNet::V6(n) => Interval {
                v6: true,
                lo: u128::from(n.network()),
                hi: u128::from(n.broadcast()),
            },
        }
    }

    /// The interval of a single address.
    pub fn of_ip(ip: IpAddr) -> Interval {
        let (v6, x) = ip_to_int(ip);
        Interval { v6, lo: x, hi: x }
    }

    /// Whether the two intervals share an address.
    pub fn overlaps(&self, other: &Interval) -> bool {
        self.v6 == other.v6 && self.lo <= other.hi && other.lo <= self.hi
    }

    /// Whether `other` lies entirely inside.
    pub fn contains(&self, other: &Interval) -> bool {
        self.v6 == other.v6 && self.lo <= other.lo && other.hi <= self.hi
    }
}

/// An IP as (is IPv6, integer).
pub fn ip_to_int(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

fn int_to_ip(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(u32::MAX)))
    }
}

impl Addr {
    /// A single address, printed bare.
    pub fn ip(ip: IpAddr) -> Addr {
        Addr::Net {
            net: IpNet::from(ip),
            bare: true,
        }
    }

    /// A prefix, printed with its length.
    pub fn net(net: IpNet) -> Addr {
        Addr::Net { net, bare: false }
    }

    /// The intervals it covers (`*` covers both families).
    pub fn intervals(&self) -> Vec<Interval> {
        match self {
            Addr::Any => vec![
                Interval {
                    v6: false,
                    lo: 0,
                    hi: u128::from(u32::MAX),
                },
                Interval {
                    v6: true,
                    lo: 0,
                    hi: u128::MAX,
                },
            ],
            Addr::Net { net, .. } => vec![Interval::of_net(net)],
            Addr::Range(a, b) => {
                let (v6, lo) = ip_to_int(*a);
                let (_, hi) = ip_to_int(*b);
                vec![Interval { v6, lo, hi }]
            }
        }
    }

    /// Whether it covers `ip`.
    pub fn contains_ip(&self, ip: IpAddr) -> bool {
        let p = Interval::of_ip(ip);
        self.intervals().iter().any(|i| i.contains(&p))
    }

    /// Whether it shares an address with `net`.
    pub fn overlaps_net(&self, net: &IpNet) -> bool {
        let n = Interval::of_net(net);
        self.intervals().iter().any(|i| i.overlaps(&n))
    }
}

/// Turns sorted, disjoint intervals into address items: a prefix where the interval is
/// exactly one (bare for a single address), otherwise a range.
pub fn intervals_to_addrs(intervals: &[Interval]) -> Vec<Addr> {
    intervals
        .iter()
        .map(|i| {
            let lo = int_to_ip(i.v6, i.lo);
            if i.lo == i.hi {
                return Addr::ip(lo);
            }
            let width = i.hi.wrapping_sub(i.lo).wrapping_add(1);
            let bits: u32 = if i.v6 { 128 } else { 32 };
            let aligned = width.is_power_of_two() && i.lo % width == 0;
            let full = i.hi - i.lo
                == if i.v6 {
                    u128::MAX
                } else {
                    u128::from(u32::MAX)
                };
            if aligned || full {
                let host_bits = if full { bits } else { width.trailing_zeros() };
                let len = u8::try_from(bits - host_bits).unwrap_or(0);
                if let Ok(net) = IpNet::new(lo, len) {
                    return Addr::net(net);
                }
            }
            Addr::Range(lo, int_to_ip(i.v6, i.hi))
        })
        .collect()
}

/// Sorts and merges intervals (adjacent ones join).
pub fn normalise(mut v: Vec<Interval>) -> Vec<Interval> {
    v.sort();
    let mut out: Vec<Interval> = Vec::with_capacity(v.len());
    for i in v {
        if let Some(last) = out.last_mut()
            && last.v6 == i.v6
            && i.lo <= last.hi.saturating_add(1)
        {
            last.hi = last.hi.max(i.hi);
            continue;
        }
        out.push(i);
    }
    out
}

/// `a` minus `b` (both normalised).
pub fn subtract(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let mut out = Vec::new();
    for x in a {
        let mut pieces = vec![*x];
        for y in b.iter().filter(|y| y.v6 == x.v6) {
            let mut next = Vec::new();
            for p in pieces {
                if !p.overlaps(y) {
                    next.push(p);
                    continue;
                }
                if p.lo < y.lo {
                    next.push(Interval {
                        v6: p.v6,
                        lo: p.lo,
                        hi: y.lo - 1,
                    });
                }
                if y.hi < p.hi {
                    next.push(Interval {
                        v6: p.v6,
                        lo: y.hi + 1,
                        hi: p.hi,
                    });
                }
            }
            pieces = next;
        }
        out.extend(pieces);
    }
    normalise(out)
}

/// Tailscale's IPv6 ULA: `fd7a:115c:a1e0::/48`.
pub const TAILSCALE_ULA: Ipv6Net =
    match Ipv6Net::new(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 0), 48) {
        Ok(n) => n,
        Err(_) => Ipv6Net::new_assert(Ipv6Addr::UNSPECIFIED, 0),
    };

/// What `*` in a source means for tailnet addresses: the CGNAT /10 minus ChromeOS's
/// `100.115.92.0/23`, as two ranges, and the Tailscale ULA (policy-spec §5.3). The
/// approved subnet routes are added by the resolver.
pub fn tailnet_wildcard() -> [Addr; 3] {
    [
        Addr::Range(
            IpAddr::V4(Ipv4Addr::new(100, 64, 0, 0)),
            IpAddr::V4(Ipv4Addr::new(100, 115, 91, 255)),
        ),
        Addr::Range(
            IpAddr::V4(Ipv4Addr::new(100, 115, 94, 0)),
            IpAddr::V4(Ipv4Addr::new(100, 127, 255, 255)),
        ),
        Addr::net(IpNet::V6(TAILSCALE_ULA)),
    ]
}

/// "The internet" of `autogroup:internet` as the ranges SaaS sends (policy-spec §5.5):
/// IPv4 minus 10/8, 100.64/10, 169.254/16, 172.16/12, 192.168/16; and IPv6 2000::/3.
pub fn internet() -> [Addr; 7] {
    let v4 = |a, b, c, d| IpAddr::V4(Ipv4Addr::new(a, b, c, d));
    [
        Addr::Range(v4(0, 0, 0, 0), v4(9, 255, 255, 255)),
        Addr::Range(v4(11, 0, 0, 0), v4(100, 63, 255, 255)),
        Addr::Range(v4(100, 128, 0, 0), v4(169, 253, 255, 255)),
        Addr::Range(v4(169, 255, 0, 0), v4(172, 15, 255, 255)),
        Addr::Range(v4(172, 32, 0, 0), v4(192, 167, 255, 255)),
        Addr::Range(v4(192, 169, 0, 0), v4(255, 255, 255, 255)),
        Addr::Range(
            IpAddr::V6(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0)),
            IpAddr::V6(Ipv6Addr::new(
                0x3fff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff,
            )),
        ),
    ]
}

/// The internet as intervals.
pub fn internet_intervals() -> Vec<Interval> {
    normalise(internet().iter().flat_map(Addr::intervals).collect())
}

/// Whether the item lies entirely inside the internet.
pub fn within_internet(a: &Addr) -> bool {
    let inet = internet_intervals();
    a.intervals()
        .iter()
        .all(|i| inet.iter().any(|n| n.contains(i)))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    #[test]
    fn spelling() {
        assert_eq!(
            Addr::ip("100.64.0.1".parse().unwrap()).to_string(),
            "100.64.0.1"
        );
        assert_eq!(
            Addr::net("10.0.0.0/8".parse().unwrap()).to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(Addr::Any.to_string(), "*");
        let w: Vec<String> = tailnet_wildcard().iter().map(ToString::to_string).collect();
        assert_eq!(
            w,
            [
                "100.64.0.0-100.115.91.255",
                "100.115.94.0-100.127.255.255",
                "fd7a:115c:a1e0::/48"
            ]
        );
    }

    #[test]
    fn interval_arithmetic() {
        let all = normalise(Addr::net("10.0.0.0/8".parse().unwrap()).intervals());
        let hole = Addr::net("10.1.0.0/16".parse().unwrap()).intervals();
        let rest = subtract(&all, &hole);
        let spelled: Vec<String> = intervals_to_addrs(&rest)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(spelled, ["10.0.0.0/16", "10.2.0.0-10.255.255.255"]);
        let back: Vec<String> = intervals_to_addrs(&normalise([rest, hole].concat()))
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(back, ["10.0.0.0/8"]);
        assert!(within_internet(&Addr::ip("8.8.8.8".parse().unwrap())));
        assert!(!within_internet(&Addr::net("10.0.0.0/8".parse().unwrap())));
    }
}
