//! The reference matcher: a plain loop over the parsed rules, written for clarity, used as the
//! oracle in property tests and as the baseline in benchmarks. Not for production use: it is
//! linear in the number of rules and source entries.

use crate::addr::AddrSet;
use crate::packet::{Decoded, Family, ParsedPacket, tcp_flag};
use crate::rules::{ParsedRule, parse_rules, proto};
use crate::verdict::{Reason, Verdict};
use crate::wire::FilterRule;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Plain-loop evaluation of FilterRules with the same semantics as [`crate::Filter`]
/// (without flow state).
#[derive(Clone, Debug)]
pub struct ReferenceFilter {
    rules: Vec<ParsedRule>,
    local: Option<AddrSet>,
    node_caps: Vec<(IpAddr, Vec<String>)>,
}

impl ReferenceFilter {
    /// Builds the reference from wire rules (malformed entries skipped, as in the filter).
    #[must_use]
    pub fn new(
        rules: &[FilterRule],
        local: Option<AddrSet>,
        node_caps: Vec<(IpAddr, Vec<String>)>,
    ) -> Self {
        Self {
            rules: parse_rules(rules).0,
            local,
            node_caps,
        }
    }

    fn addr(p: &ParsedPacket, v: u128) -> IpAddr {
        match p.family {
            Family::V4 => IpAddr::V4(Ipv4Addr::from(u32::try_from(v).unwrap_or(0))),
            Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
        }
    }

    fn has_dst_in_family(rule: &ParsedRule, family: Family) -> bool {
        match family {
            Family::V4 => !rule.dsts_v4.is_empty(),
            Family::V6 => !rule.dsts_v6.is_empty(),
        }
    }

    fn dst_matches(rule: &ParsedRule, dst: IpAddr, port: Option<u16>, all_ports: bool) -> bool {
        let ok = |ports: crate::wire::PortRange| {
            (!all_ports || ports.is_all()) && port.is_none_or(|p| ports.contains(p))
        };
        match dst {
            IpAddr::V4(d) => {
                let d = u32::from(d);
                rule.dsts_v4
                    .iter()
                    .any(|e| e.addrs.contains(d) && ok(e.ports))
            }
            IpAddr::V6(d) => {
                let d = u128::from(d);
                rule.dsts_v6
                    .iter()
                    .any(|e| e.addrs.contains(d) && ok(e.ports))
            }
        }
    }

    fn src_has_cap(&self, rule: &ParsedRule, src: IpAddr) -> bool {
        rule.src_caps.iter().any(|c| {
            self.node_caps
                .iter()
                .any(|(a, names)| *a == src && names.contains(c))
        })
    }

    /// Decides an inbound packet by looping over every rule.
    #[must_use]
    pub fn check_in(&self, p: &ParsedPacket) -> Verdict {
        match p.decoded {
            Decoded::Empty => return Verdict::accept(Reason::Keepalive),
            Decoded::TooShort => return Verdict::drop(Reason::ShortPacket),
            Decoded::Unknown => return Verdict::drop(Reason::Undecodable),
            Decoded::Ip | Decoded::LaterFragment => {}
        }
        let src = Self::addr(p, p.src);
        let dst = Self::addr(p, p.dst);
        if dst.is_multicast() {
            return Verdict::drop(Reason::Multicast);
        }
        let link_local = match dst {
            IpAddr::V4(d) => d.is_link_local() && d != Ipv4Addr::new(169, 254, 169, 254),
            IpAddr::V6(d) => d.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80),
        };
        if link_local {
            return Verdict::drop(Reason::LinkLocal);
        }
        if p.decoded == Decoded::LaterFragment {
            return Verdict::accept(Reason::Fragment);
        }
        if self.local.as_ref().is_some_and(|l| !l.contains(dst)) {
            return Verdict::drop(Reason::NotLocal);
        }
        let icmp = match p.family {
            Family::V4 => proto::ICMP4,
            Family::V6 => proto::ICMP6,
        };
        let found = match p.proto {
            proto::TCP if p.tcp_flags & (tcp_flag::SYN | tcp_flag::ACK) != tcp_flag::SYN => {
                return Verdict::accept(Reason::TcpNonSyn);
            }
            proto::TSMP => return Verdict::accept(Reason::Tsmp),
            proto::TCP | proto::UDP | proto::SCTP => self.rules.iter().position(|r| {
                r.protos.contains(p.proto)
                    && (r.srcs.contains(src) || self.src_has_cap(r, src))
                    && Self::dst_matches(r, dst, Some(p.dport), false)
            }),
            x if x == icmp => {
                let reply = match p.family {
                    Family::V4 => matches!(p.icmp_type, 0 | 3 | 11 | 12),
                    Family::V6 => matches!(p.icmp_type, 1..=4 | 129),
                };
                if reply {
                    return Verdict::accept(Reason::IcmpResponse);
                }
                self.rules.iter().position(|r| {
                    (r.srcs.contains(src) && Self::dst_matches(r, dst, None, false))
                        || (self.src_has_cap(r, src) && Self::has_dst_in_family(r, p.family))
                })
            }
            other => self.rules.iter().position(|r| {
                r.protos.contains(other)
                    && (r.srcs.contains(src) || self.src_has_cap(r, src))
                    && Self::dst_matches(r, dst, None, true)
            }),
        };
        match found.and_then(|i| u32::try_from(i).ok()) {
            Some(i) => Verdict::rule(i),
            None => Verdict::drop(Reason::NoRule),
        }
    }
}
