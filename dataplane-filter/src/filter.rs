//! The immutable per-node filter: pre-checks, local-destination check, per-protocol policy,
//! rule matching. Tailscale's client filter (`wgengine/filter`) is the reference; see the
//! crate README for every place where this filter is stricter.

use crate::addr::AddrSet;
use crate::flow::{FlowTable, v4_meta};
use crate::interval::{Key, NONE, RangeSet};
use crate::local::{LeadingRangesV4, LocalSet};
use crate::matcher::{FamilyMatcher, FamilyRule, SMALL_CLASS};
use crate::packet::{Decoded, Family, ParsedPacket, ipv4_field as f4, tcp_flag};
use crate::rules::{ParsedRule, RuleError, parse_rules, proto};
use crate::verdict::{Reason, Verdict};
use crate::wire::FilterRule;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// What a node needs besides its rules.
#[derive(Clone, Debug, Default)]
pub struct FilterConfig {
    /// The node's own addresses and the routes it serves. `None`: every unicast address
    /// counts as local.
    pub local_nets: Option<AddrSet>,
    /// Node capabilities held by peers, by peer address (for `cap:<name>` sources).
    pub node_caps: Vec<(IpAddr, Vec<String>)>,
    /// Upper bound on extra merged source intervals per family (a memory/speed trade-off:
    /// classes over the budget search their rule groups one by one). `None`: 4 × the number
    /// of source ranges + 65536.
    pub merge_budget: Option<usize>,
}

/// Cap names used in `cap:` sources beyond this many are not matched (their rules admit no
/// `cap:` source; documented as stricter than Tailscale).
pub const MAX_SRC_CAPS: usize = 64;

/// One capability grant with its sources, for peer-capability queries.
#[derive(Clone, Debug)]
struct GrantEntry {
    srcs: AddrSet,
    dsts: AddrSet,
    caps: Vec<(String, Vec<serde_json::Value>)>,
}

/// The compiled, immutable filter of one node. Build it with [`Filter::new`], share it in an
/// `Arc`, swap it whole (see [`crate::Dataplane`]).
#[derive(Debug)]
pub struct Filter {
    v4: FamilyMatcher<u32>,
    v6: FamilyMatcher<u128>,
    local_v4: LocalSet<u32>,
    /// The local IPv4 addresses that are neither multicast nor link-local (the destinations
    /// [`Filter::check_in`] decides without the pre-checks)...
    plain_local_v4: RangeSet<u32>,
    /// ... of which the leading ranges are tested first, branch-free (the whole set only when
    /// it has more ranges).
    plain_local_v4_lead: LeadingRangesV4,
    local_v6: LocalSet<u128>,
    grants: Vec<GrantEntry>,
    rule_count: usize,
}

/// 169.254.169.254: cloud metadata / DNS, exempt from the link-local drop.
const METADATA_V4: u32 = 0xa9fe_a9fe;

impl Filter {
    /// Parses and compiles `rules`. Malformed address entries are skipped and returned as
    /// errors (the rest of the rule is kept), as the Tailscale client does.
    #[must_use]
    pub fn new(rules: &[FilterRule], config: &FilterConfig) -> (Self, Vec<RuleError>) {
        let (parsed, errors) = parse_rules(rules);
        (Self::from_parsed(&parsed, config), errors)
    }

    /// A filter without rules, with the default configuration (it accepts no new flow).
    pub(crate) fn empty() -> Self {
        Self::from_parsed(&[], &FilterConfig::default())
    }

    /// Compiles already parsed rules.
    #[must_use]
    pub fn from_parsed(rules: &[ParsedRule], config: &FilterConfig) -> Self {
        Self::build(rules, config, SMALL_CLASS)
    }

    /// [`Self::from_parsed`] with the whole-merge limit of classes as a parameter (tests use
    /// 0 to force the split layout).
    pub(crate) fn build(rules: &[ParsedRule], config: &FilterConfig, small_class: usize) -> Self {
        // Intern capability names used as sources (the first MAX_SRC_CAPS get a bit).
        let mut cap_bits: HashMap<&str, u64> = HashMap::new();
        for name in rules.iter().flat_map(|r| r.src_caps.iter()) {
            let n = cap_bits.len();
            if n < MAX_SRC_CAPS && !cap_bits.contains_key(name.as_str()) {
                cap_bits.insert(name.as_str(), 1u64 << n);
            }
        }
        let mask_of = |names: &[String]| -> u64 {
            names
                .iter()
                .filter_map(|n| cap_bits.get(n.as_str()))
                .fold(0, |m, b| m | b)
        };
        let mut caps_v4: HashMap<u32, u64> = HashMap::new();
        let mut caps_v6: HashMap<u128, u64> = HashMap::new();
        for (addr, names) in &config.node_caps {
            let m = mask_of(names);
            if m == 0 {
                continue;
            }
            match addr {
                IpAddr::V4(a) => *caps_v4.entry(u32::from(*a)).or_insert(0) |= m,
                IpAddr::V6(a) => *caps_v6.entry(u128::from(*a)).or_insert(0) |= m,
            }
        }
        let v4_rules: Vec<FamilyRule<u32>> = rules
            .iter()
            .map(|r| FamilyRule {
                protos: r.protos,
                srcs: RangeSet::new(r.srcs.v4.iter().map(|x| (x.first, x.last)).collect()),
                caps: mask_of(&r.src_caps),
                dsts: r.dsts_v4.clone(),
            })
            .collect();
        let v6_rules: Vec<FamilyRule<u128>> = rules
            .iter()
            .map(|r| FamilyRule {
                protos: r.protos,
                srcs: RangeSet::new(r.srcs.v6.iter().map(|x| (x.first, x.last)).collect()),
                caps: mask_of(&r.src_caps),
                dsts: r.dsts_v6.clone(),
            })
            .collect();
        let grants = rules
            .iter()
            .flat_map(|r| {
                r.cap_grants.iter().map(|g| GrantEntry {
                    srcs: r.srcs.clone(),
                    dsts: g.dsts.clone(),
                    caps: g.caps.clone(),
                })
            })
            .collect();
        let local = config.local_nets.as_ref();
        let local_v4_ranges: Vec<(u32, u32)> = local.map_or_else(
            || vec![(0, u32::MAX)],
            |l| l.v4.iter().map(|x| (x.first, x.last)).collect(),
        );
        let plain_local_v4 = RangeSet::new(plain_unicast_v4(&local_v4_ranges));
        Self {
            v4: FamilyMatcher::build(&v4_rules, caps_v4, config.merge_budget, small_class),
            v6: FamilyMatcher::build(&v6_rules, caps_v6, config.merge_budget, small_class),
            local_v4: LocalSet::new(
                local.map(|l| RangeSet::new(l.v4.iter().map(|x| (x.first, x.last)).collect())),
            ),
            // The node's own address: the first configured /32.
            plain_local_v4_lead: LeadingRangesV4::new(
                &plain_local_v4,
                local.and_then(|l| l.v4.iter().find(|x| x.first == x.last).map(|x| x.first)),
            ),
            plain_local_v4,
            local_v6: LocalSet::new(
                local.map(|l| RangeSet::new(l.v6.iter().map(|x| (x.first, x.last)).collect())),
            ),
            grants,
            rule_count: rules.len(),
        }
    }

    /// Number of rules the filter was built from.
    #[must_use]
    pub fn rule_count(&self) -> usize {
        self.rule_count
    }

    /// Decides an inbound packet (from a peer to this node). Never allocates.
    ///
    /// The common case (a complete IPv4 packet to a local address that is neither multicast
    /// nor link-local, so every pre-check passes) is decided inline: established TCP after a
    /// handful of comparisons, a UDP/SCTP reply after one flow-table probe. Everything else
    /// goes through the general path in the order Tailscale checks it. Always inlined, so the
    /// fast path works on the fields the decoder has just produced.
    #[inline(always)]
    pub fn check_in(&self, p: &ParsedPacket, flows: &FlowTable, now: u32) -> Verdict {
        if (p.decoded == Decoded::Ip) & (p.family == Family::V4) {
            let dst = low32(p.dst);
            if self.is_plain_local_v4(dst) {
                let src = low32(p.src);
                match p.proto {
                    proto::TCP
                        if p.tcp_flags & (tcp_flag::SYN | tcp_flag::ACK) != tcp_flag::SYN =>
                    {
                        return Verdict::accept(Reason::TcpNonSyn);
                    }
                    proto::UDP | proto::SCTP
                        if flows.contains_reply_v4(src, dst, p.proto, p.sport, p.dport, now) =>
                    {
                        return Verdict::accept(Reason::Flow);
                    }
                    _ => return decide_by_rules(&self.v4, p, src, dst, proto::ICMP4),
                }
            }
        }
        self.check_in_general(p, flows, now)
    }

    /// The raw-bytes fast path of [`crate::Dataplane::run_in`]: accepts straight from
    /// `buf`, without decoding it into a [`ParsedPacket`], the two commonest inbound
    /// packets, and returns `None` for everything else (the caller then decodes and calls
    /// [`Self::check_in`]). A packet is accepted here only if it is a complete IPv4 packet
    /// with a 20-byte header (version/IHL `0x45`, total length `buf.len()`), not a fragment
    /// (no more-fragments flag, offset 0), to a destination in the local non-multicast,
    /// non-link-local set, and either
    /// - TCP with a complete 20-byte TCP header and flags other than SYN-without-ACK:
    ///   `accept(TcpNonSyn)`, or
    /// - UDP with a complete 8-byte header whose reply flow is live in `flows`:
    ///   `accept(Flow)`.
    ///
    /// Under these conditions [`ParsedPacket::decode`] takes its own fast path (which also
    /// admits trailing bytes after the total length) and [`Self::check_in`] then returns
    /// the same verdict (property-tested in `dataplane_tests.rs`), so the decision is
    /// identical. Bounds-checked; never panics.
    #[inline(always)]
    pub(crate) fn accept_established_v4(
        &self,
        buf: &[u8],
        flows: &FlowTable,
        now: u32,
    ) -> Option<Verdict> {
        const IP: usize = f4::MIN_HEADER;
        let h = buf.first_chunk::<{ IP + 8 }>()?;
        let (w, _) = h.split_first_chunk::<8>()?;
        // Bytes 0..8 as one little-endian word: version/IHL, total length, flags/offset.
        let w = u64::from_le_bytes(*w);
        let total = usize::from(u16::from_be_bytes([h[f4::TOTAL_LEN], h[f4::TOTAL_LEN + 1]]));
        // The destination's bytes as they lie (see `LeadingRangesV4::is_exact_raw`).
        const D: usize = f4::DST.start;
        let dst_raw = u32::from_le_bytes([h[D], h[D + 1], h[D + 2], h[D + 3]]);
        // The total length is the buffer's (so at least 28: a complete UDP header for the
        // flow path; TCP checks its longer header below). A packet with trailing bytes is
        // decided on the general path.
        let complete = total == buf.len();
        if !((w & 0xff3f_0000_0000_00ff == 0x45) & complete)
            || !(self.plain_local_v4_lead.is_exact_raw(dst_raw)
                || self.is_plain_local_v4_ranges(dst_raw.swap_bytes()))
        {
            return None;
        }
        match h[f4::PROTOCOL] {
            proto::TCP if total >= IP + 20 => {
                // `total <= buf.len()`, so the flags byte (offset 33) is present.
                let flags = *buf.get(IP + f4::TCP_FLAGS)?;
                (flags & (tcp_flag::SYN | tcp_flag::ACK) != tcp_flag::SYN)
                    .then_some(Verdict::accept(Reason::TcpNonSyn))
            }
            proto::UDP => {
                // Source and destination address as one word, and the ports: the flow key's
                // words straight from the bytes.
                let (_, rest) = h.split_first_chunk::<{ f4::SRC.start }>()?;
                let (addrs, rest) = rest.split_first_chunk::<8>()?;
                let (ports, _) = rest.split_first_chunk::<4>()?;
                let addrs = u64::from_le_bytes(*addrs);
                let meta = v4_meta(proto::UDP, u32::from_le_bytes(*ports));
                flows
                    .contains_v4_words(addrs, meta, now)
                    .then_some(Verdict::accept(Reason::Flow))
            }
            _ => None,
        }
    }

    /// Whether `dst` is a local IPv4 address that is neither multicast nor link-local: one
    /// address by equality, then the leading ranges branch-free, the whole set only when it
    /// has more.
    #[inline(always)]
    fn is_plain_local_v4(&self, dst: u32) -> bool {
        self.plain_local_v4_lead.is_exact(dst) || self.is_plain_local_v4_ranges(dst)
    }

    /// [`Self::is_plain_local_v4`] without the equality test.
    #[inline(always)]
    fn is_plain_local_v4_ranges(&self, dst: u32) -> bool {
        self.plain_local_v4_lead.contains_some(dst)
            || (self.plain_local_v4_lead.partial() && self.is_in_plain_local_v4_set(dst))
    }

    /// The whole-set test of [`Self::is_plain_local_v4`], out of line: only nodes with more
    /// local ranges than the leading ones reach it.
    #[inline(never)]
    fn is_in_plain_local_v4_set(&self, dst: u32) -> bool {
        self.plain_local_v4.contains(dst)
    }

    /// [`Self::check_in`] for every packet: pre-checks, local destination, decision.
    #[inline(never)]
    fn check_in_general(&self, p: &ParsedPacket, flows: &FlowTable, now: u32) -> Verdict {
        if let Some(v) = pre_check(p) {
            return v;
        }
        match p.family {
            Family::V4 => {
                let (src, dst) = (low32(p.src), low32(p.dst));
                if !self.local_v4.contains(dst) {
                    return Verdict::drop(Reason::NotLocal);
                }
                decide(&self.v4, p, src, dst, proto::ICMP4, flows, now)
            }
            Family::V6 => {
                if !self.local_v6.contains(p.dst) {
                    return Verdict::drop(Reason::NotLocal);
                }
                decide(&self.v6, p, p.src, p.dst, proto::ICMP6, flows, now)
            }
        }
    }

    /// Handles an outbound packet (from this node to a peer): runs the pre-checks, accepts,
    /// and records UDP/SCTP flows so replies are admitted. Never allocates.
    #[inline]
    pub fn check_out(&self, p: &ParsedPacket, flows: &FlowTable, now: u32) -> Verdict {
        // Fast path: a complete IPv4 packet to a destination that is neither multicast nor
        // link-local passes every pre-check.
        let plain_v4 = (p.decoded == Decoded::Ip)
            & (p.family == Family::V4)
            & is_plain_unicast_v4(low32(p.dst));
        if !plain_v4 && let Some(v) = pre_check(p) {
            return v;
        }
        flows.record_outbound(p, now);
        Verdict::accept(Reason::Outbound)
    }

    /// The application capabilities `src` has towards `dst` (from `CapGrant` rules): the
    /// union over rules whose sources contain `src` of the grants whose destinations contain
    /// `dst`, with values concatenated in rule order. Allocates; not for the packet path.
    #[must_use]
    pub fn peer_caps(&self, src: IpAddr, dst: IpAddr) -> BTreeMap<String, Vec<serde_json::Value>> {
        let mut out: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
        for g in &self.grants {
            if g.srcs.contains(src) && g.dsts.contains(dst) {
                for (name, values) in &g.caps {
                    out.entry(name.clone())
                        .or_default()
                        .extend(values.iter().cloned());
                }
            }
        }
        out
    }
}

#[inline]
fn low32(v: u128) -> u32 {
    u32::try_from(v & u128::from(u32::MAX)).unwrap_or(0)
}

/// Neither multicast (224.0.0.0/4) nor link-local unicast (169.254.0.0/16 except
/// 169.254.169.254): the IPv4 destinations the pre-checks let through.
#[inline]
fn is_plain_unicast_v4(dst: u32) -> bool {
    (dst >> 28 != 0xe) & (dst >> 16 != 0xa9fe || dst == METADATA_V4)
}

/// The parts of `ranges` that are neither multicast (224.0.0.0/4) nor link-local unicast
/// (169.254.0.0/16 except 169.254.169.254): the IPv4 destinations the pre-checks let through.
fn plain_unicast_v4(ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    const EXCLUDED: [(u32, u32); 3] = [
        (0xa9fe_0000, METADATA_V4 - 1),
        (METADATA_V4 + 1, 0xa9fe_ffff),
        (0xe000_0000, 0xefff_ffff),
    ];
    let mut out = Vec::new();
    for &(first, last) in ranges {
        let mut from = Some(first);
        for &(xf, xl) in &EXCLUDED {
            let Some(f) = from.filter(|f| *f <= last) else {
                break;
            };
            if xl < f || xf > last {
                continue;
            }
            if f < xf {
                out.push((f, xf - 1));
            }
            from = xl.checked_add(1);
        }
        if let Some(f) = from.filter(|f| *f <= last) {
            out.push((f, last));
        }
    }
    out
}

/// Direction-independent pre-checks (Tailscale `filter.pre`). `None`: continue.
#[inline]
fn pre_check(p: &ParsedPacket) -> Option<Verdict> {
    match p.decoded {
        Decoded::Empty => return Some(Verdict::accept(Reason::Keepalive)),
        Decoded::TooShort => return Some(Verdict::drop(Reason::ShortPacket)),
        Decoded::Unknown => return Some(Verdict::drop(Reason::Undecodable)),
        Decoded::LaterFragment | Decoded::Ip => {}
    }
    if is_multicast(p) {
        return Some(Verdict::drop(Reason::Multicast));
    }
    if is_link_local_unicast(p) {
        return Some(Verdict::drop(Reason::LinkLocal));
    }
    if p.decoded == Decoded::LaterFragment {
        return Some(Verdict::accept(Reason::Fragment));
    }
    None
}

/// Multicast destination: 224.0.0.0/4 or ff00::/8.
#[inline]
pub(crate) fn is_multicast(p: &ParsedPacket) -> bool {
    match p.family {
        Family::V4 => low32(p.dst) >> 28 == 0xe,
        Family::V6 => p.dst >> 120 == 0xff,
    }
}

/// Link-local unicast destination: 169.254.0.0/16 (except 169.254.169.254) or fe80::/10.
#[inline]
pub(crate) fn is_link_local_unicast(p: &ParsedPacket) -> bool {
    match p.family {
        Family::V4 => {
            let d = low32(p.dst);
            d >> 16 == 0xa9fe && d != METADATA_V4
        }
        Family::V6 => p.dst >> 118 == 0x3fa,
    }
}

/// ICMP echo reply or error types, which are accepted without state (they answer traffic this
/// node sent). ICMPv4: echo reply 0, unreachable 3, time exceeded 11, parameter problem 12.
/// ICMPv6: unreachable 1, packet too big 2, time exceeded 3, parameter problem 4, echo reply 129.
#[inline]
pub(crate) fn is_icmp_response(family: Family, icmp_type: u8) -> bool {
    match family {
        Family::V4 => matches!(icmp_type, 0 | 3 | 11 | 12),
        Family::V6 => matches!(icmp_type, 1..=4 | 129),
    }
}

/// The protocol policy for a packet to a local address (after the pre-checks). The
/// stateless and stateful accepts (established TCP, a UDP/SCTP reply to a recorded flow) are
/// inlined; rule evaluation is out of line.
#[inline]
fn decide<A: Key>(
    m: &FamilyMatcher<A>,
    p: &ParsedPacket,
    src: A,
    dst: A,
    icmp: u8,
    flows: &FlowTable,
    now: u32,
) -> Verdict {
    match p.proto {
        proto::TCP if p.tcp_flags & (tcp_flag::SYN | tcp_flag::ACK) != tcp_flag::SYN => {
            Verdict::accept(Reason::TcpNonSyn)
        }
        proto::UDP | proto::SCTP if flows.contains_reply(p, now) => Verdict::accept(Reason::Flow),
        _ => decide_by_rules(m, p, src, dst, icmp),
    }
}

/// The rest of [`decide`]: TCP SYNs, UDP/SCTP without a flow, ICMP, TSMP, other protocols.
#[inline(never)]
fn decide_by_rules<A: Key>(
    m: &FamilyMatcher<A>,
    p: &ParsedPacket,
    src: A,
    dst: A,
    icmp: u8,
) -> Verdict {
    let rule = match p.proto {
        proto::TCP | proto::UDP | proto::SCTP => m.match_ports(p.proto, src, dst, p.dport),
        proto::TSMP => return Verdict::accept(Reason::Tsmp),
        x if x == icmp => {
            if is_icmp_response(p.family, p.icmp_type) {
                return Verdict::accept(Reason::IcmpResponse);
            }
            m.match_ips_only(src, dst)
        }
        other => m.match_all_ports(other, src, dst),
    };
    if rule == NONE {
        Verdict::drop(Reason::NoRule)
    } else {
        Verdict::rule(rule)
    }
}

#[cfg(test)]
impl Filter {
    /// Split classes of both families' TCP and UDP indexes, for structure tests.
    pub(crate) fn split_classes(&self) -> usize {
        self.v4.split_counts() + self.v6.split_counts()
    }

    /// Class counts of the IPv4 indexes (tcp, udp, sctp, ips-only), for structure tests.
    pub(crate) fn class_counts_v4(&self) -> [usize; 4] {
        self.v4.class_counts()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain-unicast part of local ranges agrees with the per-address test at every
    /// boundary of the excluded ranges, for ranges around, inside and across them.
    #[test]
    fn plain_unicast_part_of_local_ranges() {
        let edges = [
            0,
            1,
            0xa9fd_ffff,
            0xa9fe_0000,
            0xa9fe_0001,
            METADATA_V4 - 1,
            METADATA_V4,
            METADATA_V4 + 1,
            0xa9fe_ffff,
            0xa9ff_0000,
            0xdfff_ffff,
            0xe000_0000,
            0xe800_0000,
            0xefff_ffff,
            0xf000_0000,
            u32::MAX - 1,
            u32::MAX,
        ];
        for &first in &edges {
            for &last in edges.iter().filter(|l| **l >= first) {
                let set = LocalSet::new(Some(RangeSet::new(plain_unicast_v4(&[(first, last)]))));
                for &a in &edges {
                    let want = first <= a && a <= last && is_plain_unicast_v4(a);
                    assert_eq!(set.contains(a), want, "{first:#x}-{last:#x} at {a:#x}");
                }
            }
        }
    }
}
