//! FilterRules (wire form) parsed into typed rules: protocol sets, source ranges and
//! capabilities, destination ranges with ports, capability grants.
//!
//! As in the Tailscale client, a malformed address entry is skipped (the rest of its rule and
//! the other rules are kept) and reported as an error value with the rule and field index.

use crate::addr::{AddrProblem, AddrRange, AddrSet, ParsedAddr, parse_addr};
use crate::wire::{FilterRule, PortRange};
use std::fmt;

/// IANA protocol numbers the filter treats specially.
pub mod proto {
    /// ICMPv4.
    pub const ICMP4: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// IPv6 fragment extension header (next-header value).
    pub const IPV6_FRAGMENT: u8 = 44;
    /// ICMPv6.
    pub const ICMP6: u8 = 58;
    /// Tailscale's own TSMP.
    pub const TSMP: u8 = 99;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// A set of IP protocol numbers (a 256-bit bitmap).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ProtoSet([u64; 4]);

impl ProtoSet {
    /// The client default when `IPProto` is empty: TCP, UDP, ICMPv4, ICMPv6
    /// (`tailcfg.FilterRule.IPProto` docs; `wgengine/filter/tailcfg.go`).
    pub const DEFAULT: [u8; 4] = [proto::TCP, proto::UDP, proto::ICMP4, proto::ICMP6];

    /// Builds the set from wire values: empty means [`Self::DEFAULT`]; values outside 0–255
    /// are ignored (reserved by Tailscale).
    #[must_use]
    pub fn from_wire(values: &[i32]) -> Self {
        let mut set = Self::default();
        if values.is_empty() {
            for p in Self::DEFAULT {
                set.insert(p);
            }
        } else {
            for v in values {
                if let Ok(p) = u8::try_from(*v) {
                    set.insert(p);
                }
            }
        }
        set
    }

    /// Adds a protocol.
    pub fn insert(&mut self, p: u8) {
        let word = usize::from(p >> 6);
        if let Some(w) = self.0.get_mut(word) {
            *w |= 1u64 << (p & 63);
        }
    }

    /// Whether the set contains `p`.
    #[inline]
    #[must_use]
    pub fn contains(&self, p: u8) -> bool {
        let word = usize::from(p >> 6);
        self.0
            .get(word)
            .is_some_and(|w| w & (1u64 << (p & 63)) != 0)
    }
}

/// A destination of one family with its port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DstEntry<A> {
    /// Destination addresses.
    pub addrs: AddrRange<A>,
    /// Destination ports.
    pub ports: PortRange,
}

/// A capability grant with parsed destinations.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedCapGrant {
    /// Destinations the capabilities apply to.
    pub dsts: AddrSet,
    /// Capability names with their values (`Caps` entries have no values).
    pub caps: Vec<(String, Vec<serde_json::Value>)>,
}

/// One FilterRule in typed form.
#[derive(Clone, Debug, PartialEq)]
pub struct ParsedRule {
    /// Protocols this rule admits.
    pub protos: ProtoSet,
    /// Source addresses.
    pub srcs: AddrSet,
    /// Source node capabilities (`cap:<name>` entries, name only).
    pub src_caps: Vec<String>,
    /// IPv4 destinations with ports.
    pub dsts_v4: Vec<DstEntry<u32>>,
    /// IPv6 destinations with ports.
    pub dsts_v6: Vec<DstEntry<u128>>,
    /// Capability grants (they never admit packets).
    pub cap_grants: Vec<ParsedCapGrant>,
}

/// Which field of a rule an error is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RuleField {
    /// `SrcIPs[i]`.
    SrcIps(usize),
    /// `DstPorts[i].IP`.
    DstPorts(usize),
    /// `CapGrant[i].Dsts[j]`.
    CapGrantDsts(usize, usize),
}

/// A malformed address string in a rule; the entry was skipped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RuleError {
    /// Index of the rule in the input list.
    pub rule: usize,
    /// The field holding the string.
    pub field: RuleField,
    /// The offending string.
    pub input: String,
    /// What is wrong with it.
    pub problem: AddrProblem,
}

impl fmt::Display for RuleError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let rule = self.rule;
        match self.field {
            RuleField::SrcIps(i) => write!(f, "rule {rule}: `SrcIPs[{i}]`")?,
            RuleField::DstPorts(i) => write!(f, "rule {rule}: `DstPorts[{i}].IP`")?,
            RuleField::CapGrantDsts(i, j) => write!(f, "rule {rule}: `CapGrant[{i}].Dsts[{j}]`")?,
        }
        write!(f, " `{}`: {}", self.input, self.problem)
    }
}

impl std::error::Error for RuleError {}

/// Parses every rule, skipping malformed address entries and collecting their errors.
/// The returned rules have the same indices as the input.
#[must_use]
pub fn parse_rules(rules: &[FilterRule]) -> (Vec<ParsedRule>, Vec<RuleError>) {
    let mut errors = Vec::new();
    let parsed = rules
        .iter()
        .enumerate()
        .map(|(i, r)| parse_rule(i, r, &mut errors))
        .collect();
    (parsed, errors)
}

fn parse_rule(index: usize, rule: &FilterRule, errors: &mut Vec<RuleError>) -> ParsedRule {
    let mut out = ParsedRule {
        protos: ProtoSet::from_wire(&rule.ip_proto),
        srcs: AddrSet::default(),
        src_caps: Vec::new(),
        dsts_v4: Vec::new(),
        dsts_v6: Vec::new(),
        cap_grants: Vec::new(),
    };
    for (i, s) in rule.src_ips.iter().enumerate() {
        match parse_addr(s, true) {
            Ok(ParsedAddr::Cap(name)) => out.src_caps.push(name),
            Ok(p) => out.srcs.add(&p),
            Err(problem) => errors.push(RuleError {
                rule: index,
                field: RuleField::SrcIps(i),
                input: s.clone(),
                problem,
            }),
        }
    }
    for (i, d) in rule.dst_ports.iter().enumerate() {
        let ports = d.ports;
        match parse_addr(&d.ip, false) {
            Ok(p) => {
                let mut set = AddrSet::default();
                set.add(&p);
                out.dsts_v4
                    .extend(set.v4.into_iter().map(|addrs| DstEntry { addrs, ports }));
                out.dsts_v6
                    .extend(set.v6.into_iter().map(|addrs| DstEntry { addrs, ports }));
            }
            Err(problem) => errors.push(RuleError {
                rule: index,
                field: RuleField::DstPorts(i),
                input: d.ip.clone(),
                problem,
            }),
        }
    }
    for (i, g) in rule.cap_grant.iter().enumerate() {
        let mut dsts = AddrSet::default();
        for (j, d) in g.dsts.iter().enumerate() {
            match parse_addr(d, false) {
                Ok(p) => dsts.add(&p),
                Err(problem) => errors.push(RuleError {
                    rule: index,
                    field: RuleField::CapGrantDsts(i, j),
                    input: d.clone(),
                    problem,
                }),
            }
        }
        let mut caps: Vec<(String, Vec<serde_json::Value>)> =
            g.caps.iter().map(|c| (c.clone(), Vec::new())).collect();
        caps.extend(g.cap_map.iter().map(|(k, v)| (k.clone(), v.clone())));
        out.cap_grants.push(ParsedCapGrant { dsts, caps });
    }
    out
}

#[cfg(test)]
#[path = "rules_tests.rs"]
mod tests;
