//! The reference evaluator: is traffic from a source to a destination on a protocol and
//! port allowed, and by which rules? A direct reading of the policy, independent of the
//! compiled per-node filters.

use super::rules::{NetRule, net_rules};
use super::select::{Dst, Matcher, Src};
use super::tailnet::Tailnet;
use tailpolicy_policy::model::{IgnoredSpan, Origin, Policy, Proto};

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
    /// rule, in compilation order. Empty means denied. For ICMP (v4 and v6) ports are
    /// ignored.
    pub fn allowing(&self, src: &Src, dst: &Dst, proto: Proto, port: u16) -> Vec<RuleRef> {
        let portless = !proto.has_ports();
        let mut out = Vec::new();
        for rule in &self.rules {
            if !self.src_admitted(rule, src) {
                continue;
            }
            let hit = rule.dst.iter().find(|a| {
                a.allows_proto(proto)
                    && (portless || a.ports.contains(port))
                    && self.matcher.dst_matches(&a.alias, dst, src)
            });
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
        let portless = !proto.has_ports();
        self.rules.iter().any(|rule| {
            self.src_admitted(rule, src)
                && rule.dst.iter().any(|a| {
                    a.allows_proto(proto)
                        && (portless || a.ports.contains(port))
                        && self.matcher.dst_matches(&a.alias, dst, src)
                })
        })
    }
}
