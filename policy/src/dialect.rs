//! Which control server a policy is written for: Tailscale's coordination server or
//! headscale. The two accept and reject different things (`../shared/policy-spec.md`
//! §7); the checker, the lints and the compiler follow the one chosen.

use std::fmt;
use std::str::FromStr;

/// The control server whose verdicts and wording the checker reproduces.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    /// Tailscale's coordination server (the default).
    #[default]
    Tailscale,
    /// headscale 0.29 (policy v2): stricter about fields and user tokens, without
    /// ipsets, postures, role autogroups or `svc:`.
    Headscale,
}

impl Dialect {
    /// Every dialect, in the order they are documented.
    pub const ALL: [Self; 2] = [Self::Tailscale, Self::Headscale];

    /// The name used on the command line and in `tailpolicy.toml`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Tailscale => "tailscale",
            Self::Headscale => "headscale",
        }
    }

    /// The other dialect (for help texts that say where a construct is accepted).
    pub const fn other(self) -> Self {
        match self {
            Self::Tailscale => Self::Headscale,
            Self::Headscale => Self::Tailscale,
        }
    }

    /// The server's display name, for messages.
    pub const fn display_name(self) -> &'static str {
        match self {
            Self::Tailscale => "Tailscale",
            Self::Headscale => "headscale",
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a dialect name that is neither `tailscale` nor `headscale`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownDialect(pub String);

impl fmt::Display for UnknownDialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown dialect `{}`: expected `tailscale` or `headscale`",
            self.0
        )
    }
}

impl std::error::Error for UnknownDialect {}

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownDialect(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Dialect::ALL {
            assert_eq!(d.as_str().parse::<Dialect>(), Ok(d));
        }
        assert_eq!("Headscale".parse::<Dialect>(), Ok(Dialect::Headscale));
        assert!("saas".parse::<Dialect>().is_err());
        assert_eq!(Dialect::default(), Dialect::Tailscale);
    }
}
