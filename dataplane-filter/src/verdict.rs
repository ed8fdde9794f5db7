//! Verdicts: accept or drop, why, and which rule matched.

use std::fmt;

/// Accept or drop.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

    /// Whether the packet is accepted.
    #[must_use]
    pub const fn is_accept(&self) -> bool {
        matches!(self.action, Action::Accept)
    }
}
