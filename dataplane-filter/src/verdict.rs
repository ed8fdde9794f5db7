//! Verdicts: accept or drop, why, and which rule matched.

use std::fmt;
use std::num::NonZeroU32;

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
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The decision for one packet. Eight bytes, so it is returned in a register and stored
/// with one write (the rule index is kept plus one, so "no rule" costs no extra word).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Verdict {
    /// Accept or drop.
    pub action: Action,
    /// Why.
    pub reason: Reason,
    /// The matching rule's index plus one (see [`Self::rule_index`]).
    rule: Option<NonZeroU32>,
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

    /// An accept by rule `index`. (`u32::MAX` is no rule's index: the matcher uses it to
    /// mean "no rule". A verdict made with it has no index.)
    #[must_use]
    pub const fn rule(index: u32) -> Self {
        Self {
            action: Action::Accept,
            reason: Reason::Rule,
            rule: NonZeroU32::new(index.wrapping_add(1)),
        }
    }

    /// For [`Reason::Rule`]: the index of the matching rule in the FilterRule list.
    #[must_use]
    pub const fn rule_index(&self) -> Option<u32> {
        match self.rule {
            Some(r) => Some(r.get() - 1),
            None => None,
        }
    }

    /// Whether the packet is accepted.
    #[must_use]
    pub const fn is_accept(&self) -> bool {
        matches!(self.action, Action::Accept)
    }
}

impl fmt::Debug for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verdict")
            .field("action", &self.action)
            .field("reason", &self.reason)
            .field("rule", &self.rule_index())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight bytes: a register, one store.
    #[test]
    fn verdict_is_one_word() {
        assert_eq!(std::mem::size_of::<Verdict>(), 8);
    }

    /// Rule indexes at the edges; `u32::MAX` (no rule's index) has none.
    #[test]
    fn rule_index_round_trip() {
        for i in [0, 1, 7, u32::MAX - 1] {
            let v = Verdict::rule(i);
            assert_eq!(v.rule_index(), Some(i));
            assert!(v.is_accept());
            assert_eq!(v.reason, Reason::Rule);
        }
        assert_eq!(Verdict::rule(u32::MAX).rule_index(), None);
        assert_eq!(Verdict::accept(Reason::Flow).rule_index(), None);
        assert_eq!(Verdict::drop(Reason::NoRule).rule_index(), None);
    }

    /// Debug output shows the index, not its stored form.
    #[test]
    fn debug_shows_the_index() {
        assert_eq!(
            format!("{:?}", Verdict::rule(0)),
            "Verdict { action: Accept, reason: Rule, rule: Some(0) }"
        );
    }

    /// Every reason's index is its position in `ALL`.
    #[test]
    fn reason_indexes() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
        }
    }
}
