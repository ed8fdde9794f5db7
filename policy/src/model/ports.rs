//! Port specs (`*`, `22`, `80,443`, `1000-2000`) and IP protocols (`tcp`, `17`, …).

use std::fmt;

/// An inclusive port range.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    /// First port.
    pub first: u16,
    /// Last port (inclusive).
    pub last: u16,
}

impl PortRange {
    /// All ports, 0–65535.
    pub const ALL: PortRange = PortRange {
        first: 0,
        last: u16::MAX,
    };

    /// A single port.
    pub const fn single(port: u16) -> Self {
        Self {
            first: port,
            last: port,
        }
    }

    /// Whether this is 0–65535.
    pub fn is_all(self) -> bool {
        self == Self::ALL
    }

    /// Whether `port` is inside.
    pub fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_all() {
            f.write_str("*")
        } else if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

/// Parses a port spec: `*` or a comma list of `N` / `N-M`, `1 <= N <= M <= 65535`.
/// The error is Tailscale's wording for the first bad item.
pub fn parse_ports(spec: &str) -> Result<Vec<PortRange>, String> {
    if spec == "*" {
        return Ok(vec![PortRange::ALL]);
    }
    let mut out = Vec::new();
    for item in spec.split(',') {
        out.push(parse_port_item(item, spec)?);
    }
    Ok(out)
}

fn parse_port_item(item: &str, spec: &str) -> Result<PortRange, String> {
    let (a, b) = match item.split_once('-') {
        Some((a, b)) => (a, Some(b)),
        None => (item, None),
    };
    let first = parse_port_number(a)
        .ok_or_else(|| format!("port range \"{spec}\": invalid first integer"))?;
    let last = match b {
        Some(b) => parse_port_number(b)
            .ok_or_else(|| format!("port range \"{spec}\": invalid last integer"))?,
        None => first,
    };
    if first == 0 {
        return Err(format!(
            "port range \"{spec}\": first port must be >0, or use '*' for wildcard"
        ));
    }
    if last < first {
        return Err(format!(
            "port range \"{spec}\": last port {last} is less than first port {first}"
        ));
    }
    Ok(PortRange { first, last })
}

fn parse_port_number(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse::<u16>().ok()
}

/// An IP protocol number (IANA), as in `tailcfg.FilterRule.IPProto`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Proto(pub u8);

/// Names Tailscale accepts (policy-spec §3.8), case-insensitive.
const PROTO_NAMES: &[(&str, u8)] = &[
    ("icmp", 1),
    ("icmpv4", 1),
    ("igmp", 2),
    ("ipv4", 4),
    ("ip-in-ip", 4),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("udp", 17),
    ("dccp", 33),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("ipv6-icmp", 58),
    ("icmpv6", 58),
    ("tsmp", 99),
    ("sctp", 132),
];

impl Proto {
    /// TCP.
    pub const TCP: Proto = Proto(6);
    /// UDP.
    pub const UDP: Proto = Proto(17);
    /// ICMPv4.
    pub const ICMP: Proto = Proto(1);
    /// ICMPv6.
    pub const ICMPV6: Proto = Proto(58);
    /// SCTP.
    pub const SCTP: Proto = Proto(132);
    /// What an empty `IPProto` means to the client: TCP, UDP, ICMPv4, ICMPv6.
    pub const DEFAULT_SET: [Proto; 4] = [Proto::TCP, Proto::UDP, Proto::ICMP, Proto::ICMPV6];

    /// Parses a protocol name (case-insensitive) or decimal number 1–255 without
    /// leading zeros. The error is Tailscale's (or headscale's) wording.
    pub fn parse(s: &str) -> Result<Proto, String> {
        let t = s.trim();
        if let Some((_, n)) = PROTO_NAMES
            .iter()
            .find(|(name, _)| name.eq_ignore_ascii_case(t))
        {
            return Ok(Proto(*n));
        }
        if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
            if t.starts_with('0') {
                return Err(format!(
                    "leading 0 not permitted in protocol number: \"{t}\""
                ));
            }
            return match t.parse::<u16>() {
                Ok(n) if (1..=255).contains(&n) => Ok(Proto(u8::try_from(n).unwrap_or(0))),
                _ => Err(format!("protocol number out of range (0-255): \"{t}\"")),
            };
        }
        Err(format!(
            "proto name \"{t}\" not known; use protocol number 0-255 or protocol name (icmp, tcp, udp, etc.)"
        ))
    }

    /// Whether the protocol has ports (TCP, UDP, SCTP), so specific ports make sense.
    pub fn has_ports(self) -> bool {
        matches!(self.0, 6 | 17 | 132)
    }

    /// The canonical lower-case name, if it has one.
    pub fn name(self) -> Option<&'static str> {
        PROTO_NAMES
            .iter()
            .find(|(_, n)| *n == self.0)
            .map(|(s, _)| *s)
    }
}

impl fmt::Display for Proto {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "{}", self.0),
        }
    }
}

/// Splits `alias:ports` at the last colon, unbracketing IPv6 (`[fd7a::1]:22`).
/// Returns `None` when there is no colon (`hostport must contain a colon`).
pub fn split_host_port(s: &str) -> Option<(&str, &str)> {
    let (host, ports) = s.rsplit_once(':')?;
    Some((host, ports))
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn port_specs() {
        assert_eq!(parse_ports("*"), Ok(vec![PortRange::ALL]));
        assert_eq!(
            parse_ports("22,80-90"),
            Ok(vec![
                PortRange::single(22),
                PortRange {
                    first: 80,
                    last: 90
                }
            ])
        );
        assert_eq!(
            parse_ports("ssh"),
            Err("port range \"ssh\": invalid first integer".into())
        );
        assert_eq!(
            parse_ports("0"),
            Err("port range \"0\": first port must be >0, or use '*' for wildcard".into())
        );
        assert!(parse_ports("90-80").is_err());
        assert!(parse_ports("65536").is_err());
        assert!(parse_ports("80,").is_err());
        assert!(parse_ports("-1").is_err());
    }

    #[test]
    fn protocols() {
        assert_eq!(Proto::parse("TCP"), Ok(Proto::TCP));
        assert_eq!(Proto::parse("1"), Ok(Proto::ICMP));
        assert!(Proto::parse("0").is_err());
        assert!(Proto::parse("01").is_err());
        assert!(Proto::parse("256").is_err());
        assert!(
            Proto::parse("*")
                .unwrap_err()
                .contains("proto name \"*\" not known")
        );
    }
}
