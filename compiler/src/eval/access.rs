//! The reference evaluator: is traffic from a source to a destination on a protocol and
//! port allowed, and by which rules? A direct reading of the policy, independent of the
//! compiled per-node filters.

use super::rules::{DstAtom, NetRule, net_rules};
use super::select::{Dst, Matcher, Src, is_host};
use super::tailnet::Tailnet;
use tailpolicy_policy::model::{Alias, IgnoredSpan, Origin, Policy, PortRange, Proto};

/// A rule that allows some traffic, and the destination inside it that matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RuleRef {
    /// The rule's section, index and span.
    pub origin: Origin,
    /// The span of the destination entry that matched (ignored by comparisons).
    pub dst_span: IgnoredSpan,
}

/// The evaluator for one policy over one tailnet.
#[derive(Debug)]
pub struct Evaluator<'a> {
    matcher: Matcher<'a>,
    rules: Vec<NetRule>,
}

impl<'a> Evaluator<'a> {
    /// Prepares the evaluator (reads the rules once).
    pub fn new(policy: &'a Policy, tailnet: &'a Tailnet) -> Self {
        Evaluator {
            matcher: Matcher::new(policy, tailnet),
            rules: net_rules(policy),
        }
    }

    /// An evaluator for some of `policy`'s rules only (the rest of the policy, such as
    /// groups and hosts, still gives selectors their meaning).
    pub fn with_rules(policy: &'a Policy, tailnet: &'a Tailnet, rules: Vec<NetRule>) -> Self {
        Evaluator {
            matcher: Matcher::new(policy, tailnet),
            rules,
        }
    }

    /// Whether destination `atom` of `rule` matches `dst` for traffic from `src`: the
    /// selector matches and the rule's `via` lets the traffic through (see
    /// [`via_allows`]).
    pub fn atom_matches(&self, rule: &NetRule, atom: &DstAtom, dst: &Dst, src: &Src) -> bool {
        via_allows(self.matcher.tailnet, &rule.via, &atom.alias, dst)
            && self.matcher.dst_matches(&atom.alias, dst, src)
    }

    /// The selector matcher.
    pub fn matcher(&self) -> &Matcher<'a> {
        &self.matcher
    }

    /// The network rules, in compilation order.
    pub fn rules(&self) -> &[NetRule] {
        &self.rules
    }

    /// Whether `rule`'s sources name `src` and `src` meets the rule's posture.
    pub fn src_admitted(&self, rule: &NetRule, src: &Src) -> bool {
        rule.src.iter().any(|s| self.matcher.src_matches(s, src))
            && super::posture::admits(
                self.matcher.policy,
                self.matcher.tailnet,
                &rule.src_posture,
                src,
            )
    }

    /// Every rule that allows `src` to reach `dst` with `proto` on `port`, one entry per
    /// rule, in compilation order. Empty means denied. Protocols are matched as the
    /// client's filter does (see [`carries`]): ICMP (v4 and v6) is allowed by any rule
    /// whatever its protocol and ports.
    pub fn allowing(&self, src: &Src, dst: &Dst, proto: Proto, port: u16) -> Vec<RuleRef> {
        let mut out = Vec::new();
        for rule in &self.rules {
            if !self.src_admitted(rule, src) {
                continue;
            }
            let hit = rule
                .dst
                .iter()
                .find(|a| carries(a, proto, port) && self.atom_matches(rule, a, dst, src));
            if let Some(a) = hit {
                out.push(RuleRef {
                    origin: rule.origin,
                    dst_span: IgnoredSpan(a.span),
                });
            }
        }
        out
    }

    /// Whether any rule allows it.
    pub fn allowed(&self, src: &Src, dst: &Dst, proto: Proto, port: u16) -> bool {
        self.rules.iter().any(|rule| {
            self.src_admitted(rule, src)
                && rule
                    .dst
                    .iter()
                    .any(|a| carries(a, proto, port) && self.atom_matches(rule, a, dst, src))
        })
    }
}

/// Whether ICMP (v4 or v6).
pub fn is_icmp(proto: Proto) -> bool {
    proto == Proto::ICMP || proto == Proto::ICMPV6
}

/// Whether a destination atom carries `proto` traffic to `port`, as the client's filter
/// decides (policy-spec §5.12): ICMP echo requests need any rule (protocol and ports
/// ignored, so a TCP-only rule allows ping); TCP, UDP and SCTP need the protocol and
/// the port; other protocols need the protocol and an atom covering every port.
pub fn carries(atom: &DstAtom, proto: Proto, port: u16) -> bool {
    if is_icmp(proto) {
        true
    } else if proto.has_ports() {
        atom.allows_proto(proto) && atom.ports.contains(port)
    } else {
        atom.allows_proto(proto) && atom.ports == PortRange::ALL
    }
}

/// Whether a rule with these `via` tags lets traffic to `dst` through (policy-spec
/// §5.9): a node's own addresses and `*` destinations are unaffected; traffic a subnet
/// router or exit node forwards is allowed only through a node carrying one of the
/// tags. Always true without `via`.
pub fn via_allows(tailnet: &Tailnet, via: &[String], alias: &Alias, dst: &Dst) -> bool {
    if via.is_empty() || *alias == Alias::Wildcard {
        return true;
    }
    let node = dst.node.and_then(|i| tailnet.nodes.get(i));
    match (dst.addr, node) {
        (None, _) | (Some(_), None) => true,
        (Some(a), Some(n)) if is_host(a) && n.owns(a.addr()) => true,
        (Some(_), Some(n)) => n.tags.iter().any(|t| via.contains(t)),
    }
}
