//! The policy's network rules (`acls`, `grants`, or the implicit allow-all) read as one
//! list of (sources, destination atoms) with provenance. Nothing is expanded here: the
//! evaluator matches selectors directly, which keeps it an obviously-correct reading
//! of the policy.

use tailpolicy_policy::Span;
use tailpolicy_policy::Spanned;
use tailpolicy_policy::model::{Alias, IgnoredSpan, Origin, Policy, PortRange, Proto, Section};

/// One destination of a rule: a selector, a protocol choice and a port range.
#[derive(Clone, Debug, PartialEq)]
pub struct DstAtom {
    /// The destination selector.
    pub alias: Alias,
    /// Where the destination is written.
    pub span: Span,
    /// The protocol, or `None` for the client default set (TCP, UDP, ICMPv4, ICMPv6).
    pub proto: Option<Proto>,
    /// Destination ports.
    pub ports: PortRange,
}

impl DstAtom {
    /// Whether the atom allows protocol `proto` (IANA number).
    pub fn allows_proto(&self, proto: Proto) -> bool {
        match self.proto {
            Some(p) => p == proto,
            None => Proto::DEFAULT_SET.contains(&proto),
        }
    }
}

/// One network rule with its provenance.
#[derive(Clone, Debug, PartialEq)]
pub struct NetRule {
    /// Section, index and span of the policy entry.
    pub origin: Origin,
    /// Source selectors (a union).
    pub src: Vec<Spanned<Alias>>,
    /// Destination atoms (a union).
    pub dst: Vec<DstAtom>,
    /// The rule's own `srcPosture` (empty: `defaultSrcPosture` applies, if any).
    pub src_posture: Vec<Spanned<String>>,
    /// The grant's `via` tags (policy-spec §5.9): traffic a router or exit node forwards
    /// is only allowed through nodes carrying one of them. Empty: any router.
    pub via: Vec<String>,
}

/// The policy's network rules in compilation order (grants, then ACLs). A policy with
/// neither `acls` nor `grants` yields the implicit allow-all rule
/// ([`Section::Default`]).
pub fn net_rules(policy: &Policy) -> Vec<NetRule> {
    if policy.is_allow_all_default() {
        return vec![NetRule {
            origin: Origin {
                section: Section::Default,
                index: 0,
                span: IgnoredSpan(Span::empty(0)),
            },
            src: vec![Spanned::new(Alias::Wildcard, Span::empty(0))],
            dst: vec![DstAtom {
                alias: Alias::Wildcard,
                span: Span::empty(0),
                proto: None,
                ports: PortRange::ALL,
            }],
            src_posture: Vec::new(),
            via: Vec::new(),
        }];
    }
    let mut out = Vec::new();
    for g in policy.grants.iter().flatten() {
        let mut dst = Vec::new();
        for d in &g.dst {
            for ip in &g.ip {
                for ports in &ip.value.ports {
                    dst.push(DstAtom {
                        alias: d.value.clone(),
                        span: d.span,
                        proto: ip.value.proto,
                        ports: *ports,
                    });
                }
            }
        }
        out.push(NetRule {
            origin: g.origin,
            src: g.src.clone(),
            dst,
            src_posture: g.src_posture.clone(),
            via: g
                .via
                .iter()
                .filter_map(|v| match &v.value {
                    Alias::Tag(t) => Some(t.clone()),
                    _ => None,
                })
                .collect(),
        });
    }
    for a in policy.acls.iter().flatten() {
        let proto = a.proto.as_ref().map(|p| p.value);
        let mut dst = Vec::new();
        for d in &a.dst {
            for ports in &d.value.ports {
                dst.push(DstAtom {
                    alias: d.value.alias.clone(),
                    span: d.span,
                    proto,
                    ports: *ports,
                });
            }
        }
        out.push(NetRule {
            origin: a.origin,
            src: a.src.clone(),
            dst,
            src_posture: a.src_posture.clone(),
            via: Vec::new(),
        });
    }
    out
}
