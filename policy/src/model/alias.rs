//! Selectors ("aliases"): the strings in `src`, `dst`, `target`, approvers and tests.
//!
//! Recognition order (policy-spec §3.1): `*`; contains `@` → user (or `user:*@domain`);
//! `group:`, `tag:`, `autogroup:`, `ipset:`, `svc:` prefixes; an IP or CIDR; otherwise a
//! host alias. Whether a selector is *allowed* where it appears is the checker's job.

use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;

/// The autogroups Tailscale knows (policy-spec §3.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Autogroup {
    /// `autogroup:member`: untagged nodes of tailnet members.
    Member,
    /// `autogroup:tagged`: all tagged nodes.
    Tagged,
    /// `autogroup:self`: the source user's own untagged nodes.
    SelfDevices,
    /// `autogroup:internet`: the public internet through exit nodes.
    Internet,
    /// `autogroup:shared`: users from other tailnets a node was shared with.
    Shared,
    /// `autogroup:danger-all`: every IP address, tailnet or not.
    DangerAll,
    /// `autogroup:nonroot`: any local user except root (SSH `users` only).
    Nonroot,
    /// `autogroup:admin`.
    Admin,
    /// `autogroup:owner`.
    Owner,
    /// `autogroup:it-admin`.
    ItAdmin,
    /// `autogroup:network-admin`.
    NetworkAdmin,
    /// `autogroup:billing-admin`.
    BillingAdmin,
    /// `autogroup:auditor`.
    Auditor,
}

impl Autogroup {
    /// Every autogroup with its canonical name.
    pub const ALL: [(Autogroup, &'static str); 13] = [
        (Autogroup::Internet, "autogroup:internet"),
        (Autogroup::Member, "autogroup:member"),
        (Autogroup::Nonroot, "autogroup:nonroot"),
        (Autogroup::Tagged, "autogroup:tagged"),
        (Autogroup::SelfDevices, "autogroup:self"),
        (Autogroup::Shared, "autogroup:shared"),
        (Autogroup::DangerAll, "autogroup:danger-all"),
        (Autogroup::Admin, "autogroup:admin"),
        (Autogroup::Owner, "autogroup:owner"),
        (Autogroup::ItAdmin, "autogroup:it-admin"),
        (Autogroup::NetworkAdmin, "autogroup:network-admin"),
        (Autogroup::BillingAdmin, "autogroup:billing-admin"),
        (Autogroup::Auditor, "autogroup:auditor"),
    ];

    /// The canonical `autogroup:…` spelling.
    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(a, _)| *a == self)
            .map_or("autogroup:?", |(_, n)| n)
    }

    /// Parses a full `autogroup:…` string. The legacy plural `autogroup:members` is
    /// read as [`Autogroup::Member`] (the checker warns about it).
    pub fn parse(s: &str) -> Option<Autogroup> {
        if s == "autogroup:members" {
            return Some(Autogroup::Member);
        }
        Self::ALL.iter().find(|(_, n)| *n == s).map(|(a, _)| *a)
    }

    /// Whether it selects users by their admin role (SaaS-only facts).
    pub fn is_role(self) -> bool {
        matches!(
            self,
            Autogroup::Admin
                | Autogroup::Owner
                | Autogroup::ItAdmin
                | Autogroup::NetworkAdmin
                | Autogroup::BillingAdmin
                | Autogroup::Auditor
        )
    }
}

impl fmt::Display for Autogroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An address literal: a single IP (printed bare) or a CIDR prefix (printed with its
/// length), exactly as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AddrLit {
    /// The prefix (a single IP is a /32 or /128).
    pub net: IpNet,
    /// Whether it was written without a `/len`.
    pub bare: bool,
}

impl fmt::Display for AddrLit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.bare {
            write!(f, "{}", self.net.addr())
        } else {
            write!(f, "{}", self.net)
        }
    }
}

/// One parsed selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Alias {
    /// `*`.
    Wildcard,
    /// A user login such as `alice@example.com` (or headscale's `alice@`).
    User(String),
    /// `user:*@domain`: every user whose login is in the domain.
    UserDomain(String),
    /// `group:name` (full string).
    Group(String),
    /// `tag:name` (full string).
    Tag(String),
    /// `autogroup:…`.
    Autogroup(Autogroup),
    /// `ipset:name` (full string).
    IpSet(String),
    /// `svc:name` (full string).
    Service(String),
    /// A host alias defined in `hosts`.
    Host(String),
    /// An IP address or CIDR prefix.
    Addr(AddrLit),
    /// An inclusive IP range `a-b` (only valid inside `ipsets`).
    Range(IpAddr, IpAddr),
}

impl fmt::Display for Alias {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alias::Wildcard => f.write_str("*"),
            Alias::User(s)
            | Alias::Group(s)
            | Alias::Tag(s)
            | Alias::IpSet(s)
            | Alias::Service(s)
            | Alias::Host(s) => f.write_str(s),
            Alias::UserDomain(d) => write!(f, "user:*@{d}"),
            Alias::Autogroup(a) => f.write_str(a.name()),
            Alias::Addr(a) => write!(f, "{a}"),
            Alias::Range(a, b) => write!(f, "{a}-{b}"),
        }
    }
}

/// Why a selector string could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AliasError {
    /// `autogroup:` with an unknown name.
    UnknownAutogroup(String),
    /// `tag:` followed by something that is not a valid tag name.
    BadTagName(String),
    /// Square brackets around something that is not an IPv6 address.
    BadBrackets(String),
    /// The empty string.
    Empty,
    /// An IP range outside `ipsets`.
    RangeOutsideIpSet(String),
    /// Not any selector form (e.g. characters no host alias may contain).
    Invalid(String),
}

impl fmt::Display for AliasError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AliasError::UnknownAutogroup(s) => {
                let names: Vec<&str> = Autogroup::ALL.iter().map(|(_, n)| *n).collect();
                write!(
                    f,
                    "invalid autogroup: got \"{s}\", must be one of [{}]",
                    names.join(" ")
                )
            }
            AliasError::BadTagName(_) => {
                f.write_str("tag names must start with a letter, after 'tag:'")
            }
            AliasError::BadBrackets(_) => {
                f.write_str("square brackets are only valid around IPv6 addresses")
            }
            AliasError::Empty => f.write_str("empty selector"),
            AliasError::RangeOutsideIpSet(s) => {
                write!(f, "\"{s}\": IP ranges are only allowed in ipsets")
            }
            AliasError::Invalid(s) => write!(f, "\"{s}\": invalid address"),
        }
    }
}

/// Whether `name` (the part after `tag:`) is a valid tag name: a letter, then letters,
/// digits and `-` (ASCII; policy-spec §2.4).
pub fn is_valid_tag_name(name: &str) -> bool {
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Whether `name` may be a host alias: non-empty, no whitespace, no `@`, no `:`, and
/// only characters DNS-ish names use.
pub fn is_valid_host_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// Parses an IP or CIDR literal (`100.64.0.1`, `10.0.0.0/8`, `fd7a::/48`).
pub fn parse_addr(s: &str) -> Option<AddrLit> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(AddrLit {
            net: IpNet::from(ip),
            bare: true,
        });
    }
    s.parse::<IpNet>()
        .ok()
        .map(|net| AddrLit { net, bare: false })
}

/// Parses an inclusive range `a-b` of two addresses of the same family, `a <= b`.
pub fn parse_range(s: &str) -> Option<(IpAddr, IpAddr)> {
    let (a, b) = s.split_once('-')?;
    let a: IpAddr = a.trim().parse().ok()?;
    let b: IpAddr = b.trim().parse().ok()?;
    (a.is_ipv4() == b.is_ipv4() && a <= b).then_some((a, b))
}

impl Alias {
    /// Parses a selector. Surrounding whitespace is trimmed, as Tailscale does.
    /// Ranges are recognised only when `allow_range` (inside `ipsets`).
    pub fn parse(raw: &str, allow_range: bool) -> Result<Alias, AliasError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(AliasError::Empty);
        }
        if s == "*" {
            return Ok(Alias::Wildcard);
        }
        if let Some(domain) = s.strip_prefix("user:*@") {
            return Ok(Alias::UserDomain(domain.to_owned()));
        }
        if s.contains('@') {
            return Ok(Alias::User(s.to_owned()));
        }
        if s.starts_with("group:") {
            return Ok(Alias::Group(s.to_owned()));
        }
        if let Some(name) = s.strip_prefix("tag:") {
            if !is_valid_tag_name(name) {
                return Err(AliasError::BadTagName(s.to_owned()));
            }
            return Ok(Alias::Tag(s.to_owned()));
        }
        if s.starts_with("autogroup:") {
            return Autogroup::parse(s)
                .map(Alias::Autogroup)
                .ok_or_else(|| AliasError::UnknownAutogroup(s.to_owned()));
        }
        if s.starts_with("ipset:") {
            return Ok(Alias::IpSet(s.to_owned()));
        }
        if s.starts_with("svc:") {
            return Ok(Alias::Service(s.to_owned()));
        }
        if let Some(inner) = s.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            return match inner.parse::<std::net::Ipv6Addr>() {
                Ok(ip) => Ok(Alias::Addr(AddrLit {
                    net: IpNet::from(IpAddr::V6(ip)),
                    bare: true,
                })),
                Err(_) => Err(AliasError::BadBrackets(s.to_owned())),
            };
        }
        if let Some((inner, len)) = s.strip_prefix('[').and_then(|r| r.split_once("]/"))
            && let Ok(ip) = inner.parse::<std::net::Ipv6Addr>()
            && let Ok(net) = format!("{ip}/{len}").parse::<IpNet>()
        {
            return Ok(Alias::Addr(AddrLit { net, bare: false }));
        }
        if s.contains('[') || s.contains(']') {
            return Err(AliasError::BadBrackets(s.to_owned()));
        }
        if let Some(addr) = parse_addr(s) {
            return Ok(Alias::Addr(addr));
        }
        if let Some((a, b)) = parse_range(s) {
            return if allow_range {
                Ok(Alias::Range(a, b))
            } else {
                Err(AliasError::RangeOutsideIpSet(s.to_owned()))
            };
        }
        if looks_like_address(s) {
            return Err(AliasError::Invalid(s.to_owned()));
        }
        if is_valid_host_name(s) {
            return Ok(Alias::Host(s.to_owned()));
        }
        Err(AliasError::Invalid(s.to_owned()))
    }

    /// Whether it names people or devices by identity (users, groups, tags, identity
    /// autogroups) rather than by address.
    pub fn is_identity(&self) -> bool {
        match self {
            Alias::User(_) | Alias::UserDomain(_) | Alias::Group(_) | Alias::Tag(_) => true,
            Alias::Autogroup(a) => !matches!(a, Autogroup::Internet | Autogroup::DangerAll),
            _ => false,
        }
    }
}

/// Something that starts like an address (digits and dots, or hex and colons, with an
/// optional `/len`) but did not parse as one: report it as a bad address rather than an
/// undefined host.
fn looks_like_address(s: &str) -> bool {
    let body = s.split('/').next().unwrap_or(s);
    let v4ish = !body.is_empty()
        && body.chars().all(|c| c.is_ascii_digit() || c == '.')
        && body.contains('.');
    let v6ish = body.contains(':')
        && body
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == ':' || c == '.');
    v4ish || v6ish || s.contains('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognition_order() {
        assert_eq!(Alias::parse("*", false), Ok(Alias::Wildcard));
        assert_eq!(
            Alias::parse(" alice@example.com ", false),
            Ok(Alias::User("alice@example.com".into()))
        );
        assert_eq!(
            Alias::parse("user:*@example.com", false),
            Ok(Alias::UserDomain("example.com".into()))
        );
        assert_eq!(
            Alias::parse("group:dev", false),
            Ok(Alias::Group("group:dev".into()))
        );
        assert_eq!(
            Alias::parse("tag:web-1", false),
            Ok(Alias::Tag("tag:web-1".into()))
        );
        assert!(matches!(
            Alias::parse("tag:1web", false),
            Err(AliasError::BadTagName(_))
        ));
        assert_eq!(
            Alias::parse("autogroup:members", false),
            Ok(Alias::Autogroup(Autogroup::Member))
        );
        assert!(matches!(
            Alias::parse("autogroup:nope", false),
            Err(AliasError::UnknownAutogroup(_))
        ));
        assert_eq!(Alias::parse("prod", false), Ok(Alias::Host("prod".into())));
        assert!(matches!(
            Alias::parse("10.0", false),
            Err(AliasError::Invalid(_))
        ));
        assert!(matches!(
            Alias::parse("%bogus%", false),
            Err(AliasError::Invalid(_))
        ));
        assert!(matches!(
            Alias::parse("[10.0.0.1]", false),
            Err(AliasError::BadBrackets(_))
        ));
        let Ok(Alias::Addr(a)) = Alias::parse("10.0.0.0/8", false) else {
            unreachable!()
        };
        assert_eq!(a.to_string(), "10.0.0.0/8");
        let Ok(Alias::Addr(a)) = Alias::parse("100.64.0.1", false) else {
            unreachable!()
        };
        assert_eq!(a.to_string(), "100.64.0.1");
        assert!(Alias::parse("10.0.0.1-10.0.0.9", false).is_err());
        assert!(matches!(
            Alias::parse("10.0.0.1-10.0.0.9", true),
            Ok(Alias::Range(..))
        ));
    }
}
