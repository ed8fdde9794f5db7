//! Verdicts: accept or drop, why, and which rule matched.

use std::fmt;

/// Accept or drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Action {
    /// Let the packet through.
    Accept,
    /// Discard the packet.
    Drop,
}

impl Action {
    /// `"accept"` or `"drop"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accept => "accept",
            Self::Drop => "drop",
        }
    }
}

/// Why a packet was accepted or dropped. Every variant has a stable kebab-case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Reason {
    /// Accept: zero-length packet, a WireGuard keepalive.
    Keepalive,
    /// Drop: shorter than an IPv4 header (20 bytes).
    ShortPacket,
    /// Drop: could not be decoded (bad lengths or version, truncated transport header,
    /// overlapping fragment, unwalked IPv6 extension header, unknown protocol).
    Undecodable,
    /// Drop: multicast destination.
    Multicast,
    /// Drop: link-local unicast destination other than 169.254.169.254.
    LinkLocal,
    /// Accept: a non-first fragment (no ports to check; reassembly needs the first one).
    Fragment,
    /// Accept: outbound packets are not filtered by rules.
    Outbound,
    /// Drop: destination is not one of this node's addresses or served routes.
    NotLocal,
    /// Accept: ICMP echo reply or ICMP error.
    IcmpResponse,
    /// Accept: TCP packet that is not a pure SYN (return traffic of an existing connection).
    TcpNonSyn,
    /// Accept: UDP/SCTP reply to a flow this node opened.
    Flow,
    /// Accept: Tailscale's own TSMP protocol.
    Tsmp,
    /// Accept: a rule matched (its index is in the verdict).
    Rule,
    /// Drop: no rule matched.
    NoRule,
}

impl Reason {
    /// The stable name, e.g. `no-rule`, `not-local`, `short-packet`, `fragment`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Keepalive => "keepalive",
            Self::ShortPacket => "short-packet",
            Self::Undecodable => "undecodable",
            Self::Multicast => "multicast",
            Self::LinkLocal => "link-local",
            Self::Fragment => "fragment",
            Self::Outbound => "outbound",
            Self::NotLocal => "not-local",
            Self::IcmpResponse => "icmp-response",
            Self::TcpNonSyn => "tcp-non-syn",
            Self::Flow => "flow",
            Self::Tsmp => "tsmp",
            Self::Rule => "rule",
            Self::NoRule => "no-rule",
        }
    }
}

impl Reason {
    /// Every reason, in the order of [`Self::index`].
    pub const ALL: [Self; 14] = [
        Self::Keepalive,
        Self::ShortPacket,
        Self::Undecodable,
        Self::Multicast,
        Self::LinkLocal,
        Self::Fragment,
        Self::Outbound,
        Self::NotLocal,
        Self::IcmpResponse,
        Self::TcpNonSyn,
        Self::Flow,
        Self::Tsmp,
        Self::Rule,
        Self::NoRule,
    ];

    /// The reason's position in [`Self::ALL`] (its discriminant): an index for per-reason
    /// tables such as counters.
    #[must_use]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The reason whose index is `b` (`None` for no reason).
    #[inline(always)]
    fn from_u8(b: u8) -> Option<Self> {
        Self::ALL.get(usize::from(b)).copied()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for one packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// Accept or drop.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// For [`Reason::Rule`]: index of the matching rule in the FilterRule list.
    pub rule: Option<u32>,
}

impl Verdict {
    /// An accept without a rule.
    #[must_use]
    pub const fn accept(reason: Reason) -> Self {
        Self {
            action: Action::Accept,
            reason,
            rule: None,
        }
    }

    /// A drop.
    #[must_use]
    pub const fn drop(reason: Reason) -> Self {
        Self {
            action: Action::Drop,
            reason,
            rule: None,
        }
    }

    /// An accept by rule `index`.
    #[must_use]
    pub const fn rule(index: u32) -> Self {
        Self {
            action: Action::Accept,
            reason: Reason::Rule,
            rule: Some(index),
        }
    }

    /// The verdict as one word: the rule index in bits 0–31, whether there is one in bit 32,
    /// the reason in bits 40–47 and the action in bit 48. A 12-byte `Verdict` returned from a
    /// function that is not inlined goes through memory; the hot path passes this word in a
    /// register instead (see [`crate::Dataplane::run_in`]).
    #[inline(always)]
    pub(crate) const fn to_bits(self) -> u64 {
        let rule = match self.rule {
            Some(r) => (1 << 32) | r as u64,
            None => 0,
        };
        rule | ((self.reason as u64) << 40) | ((self.action as u64) << 48)
    }

    /// The verdict [`Self::to_bits`] gave `bits` (a word it did not give decodes to a drop
    /// for an undecodable packet).
    #[inline(always)]
    pub(crate) fn from_bits(bits: u64) -> Self {
        let Some(reason) = Reason::from_u8((bits >> 40) as u8) else {
            return Self::drop(Reason::Undecodable);
        };
        Self {
            action: if bits & (1 << 48) == 0 {
                Action::Accept
            } else {
                Action::Drop
            },
            reason,
            rule: if bits & (1 << 32) == 0 {
                None
            } else {
                Some(bits as u32)
            },
        }
    }

    /// Whether the packet is accepted.
    #[must_use]
    pub const fn is_accept(&self) -> bool {
        matches!(self.action, Action::Accept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every reason, both actions and rule indexes at the edges survive the one-word form,
    /// and every reason has a discriminant `from_u8` knows.
    #[test]
    fn bits_round_trip() {
        let reasons = (0..=u8::MAX)
            .filter_map(Reason::from_u8)
            .collect::<Vec<_>>();
        assert_eq!(reasons.len(), 14);
        for reason in reasons {
            assert_eq!(Reason::from_u8(reason as u8), Some(reason));
            for action in [Action::Accept, Action::Drop] {
                for rule in [None, Some(0), Some(1), Some(u32::MAX)] {
                    let v = Verdict {
                        action,
                        reason,
                        rule,
                    };
                    assert_eq!(Verdict::from_bits(v.to_bits()), v);
                }
            }
        }
        assert_eq!(
            Verdict::from_bits(u64::MAX),
            Verdict::drop(Reason::Undecodable)
        );
    }
}
