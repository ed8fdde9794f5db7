//! The compiled-policy wire types, exactly as `tailcfg` serialises them.
//!
//! Packet filters use Go field names without JSON renaming (`SrcIPs`, `DstPorts`, `IPProto`,
//! `CapGrant`); SSH policies use lowerCamel names (`principals`, `sshUsers`, `action`).
//! Zero-valued fields that `tailcfg` marks `omitempty` are left out when serialising, so the
//! output of the compiler matches what a Tailscale control plane sends
//! (`policy-spec.md` §5.2 and §5.11).

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// One packet-filter rule (`tailcfg.FilterRule`): sources, destinations with port ranges,
/// protocols, or capability grants.
///
/// A rule has either `DstPorts` or `CapGrant`, never both (`tailcfg` documents them as
/// mutually exclusive).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FilterRule {
    /// Source address strings: `*`, an IP, a canonical CIDR, an inclusive `a-b` range, or
    /// `cap:<node-capability>`.
    #[serde(rename = "SrcIPs", default)]
    pub src_ips: Vec<String>,
    /// Destinations with their port ranges. Omitted when empty.
    #[serde(rename = "DstPorts", default, skip_serializing_if = "Vec::is_empty")]
    pub dst_ports: Vec<NetPortRange>,
    /// IANA protocol numbers. Empty means the client default TCP, UDP, ICMPv4, ICMPv6; values
    /// outside 0–255 are ignored by clients. Omitted when empty.
    #[serde(rename = "IPProto", default, skip_serializing_if = "Vec::is_empty")]
    pub ip_proto: Vec<i32>,
    /// Peer-capability grants (application capabilities). Omitted when empty.
    #[serde(rename = "CapGrant", default, skip_serializing_if = "Vec::is_empty")]
    pub cap_grant: Vec<CapGrant>,
}

/// A destination address string with an inclusive port range (`tailcfg.NetPortRange`).
///
/// The deprecated `Bits` field is accepted on input and ignored; it is never written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetPortRange {
    /// Destination: `*`, an IP, a canonical CIDR or an inclusive `a-b` range.
    #[serde(rename = "IP")]
    pub ip: String,
    /// Inclusive destination port range; all ports is `{"First": 0, "Last": 65535}`.
    #[serde(rename = "Ports")]
    pub ports: PortRange,
}

/// An inclusive port range (`tailcfg.PortRange`).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct PortRange {
    /// First port, inclusive.
    #[serde(rename = "First")]
    pub first: u16,
    /// Last port, inclusive.
    #[serde(rename = "Last")]
    pub last: u16,
}

impl PortRange {
    /// Every port, `0-65535`.
    pub const ALL: Self = Self {
        first: 0,
        last: u16::MAX,
    };

    /// Whether the range covers every port.
    #[must_use]
    pub const fn is_all(self) -> bool {
        self.first == 0 && self.last == u16::MAX
    }

    /// Whether `port` lies inside the range.
    #[must_use]
    pub const fn contains(self, port: u16) -> bool {
        self.first <= port && port <= self.last
    }
}

/// A capability grant (`tailcfg.CapGrant`): capabilities a source has towards destinations.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CapGrant {
    /// Destination prefixes the capabilities apply to (CIDR or single IP strings).
    #[serde(rename = "Dsts", default)]
    pub dsts: Vec<String>,
    /// Deprecated list form of capabilities without values. Omitted when empty.
    #[serde(rename = "Caps", default, skip_serializing_if = "Vec::is_empty")]
    pub caps: Vec<String>,
    /// Capability name → JSON values (the form app grants produce). Omitted when empty.
    /// Keys are sorted, as Go's `encoding/json` writes maps.
    /// An empty value list is written as `null`, as Go writes a nil slice (SaaS sends
    /// `"tailscale.com/cap/drive-sharer": null`); `null` reads as empty.
    #[serde(
        rename = "CapMap",
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        serialize_with = "cap_map_ser",
        deserialize_with = "cap_map_de"
    )]
    pub cap_map: BTreeMap<String, Vec<serde_json::Value>>,
}

/// A node's SSH policy (`tailcfg.SSHPolicy`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SshPolicy {
    /// Rules tried in order; the first that passes all checks wins.
    #[serde(default)]
    pub rules: Vec<SshRule>,
}

/// One SSH rule (`tailcfg.SSHRule`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SshRule {
    /// Expiry time (RFC 3339); the rule is skipped after it. Omitted when absent.
    #[serde(
        rename = "ruleExpires",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub rule_expires: Option<String>,
    /// Who may connect.
    #[serde(default)]
    pub principals: Vec<SshPrincipal>,
    /// Requested login → local user, in insertion order (`root` first, as SaaS emits it).
    #[serde(rename = "sshUsers", default)]
    pub ssh_users: SshUsers,
    /// What happens when the rule matches.
    #[serde(default)]
    pub action: SshAction,
    /// Environment variable name patterns the client may send. Omitted when empty.
    #[serde(rename = "acceptEnv", default, skip_serializing_if = "Vec::is_empty")]
    pub accept_env: Vec<String>,
}

/// Who an SSH rule applies to (`tailcfg.SSHPrincipal`); one field is set.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshPrincipal {
    /// Stable node ID. Omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub node: String,
    /// A source node address. Omitted when empty.
    #[serde(rename = "nodeIP", default, skip_serializing_if = "String::is_empty")]
    pub node_ip: String,
    /// A user login name. Omitted when empty.
    #[serde(
        rename = "userLogin",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub user_login: String,
    /// Matches anyone. Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub any: bool,
}

/// What an SSH rule does (`tailcfg.SSHAction`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SshAction {
    /// Message shown to the user. Omitted when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    /// Reject the connection. Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub reject: bool,
    /// Accept the connection. Omitted when false.
    #[serde(default, skip_serializing_if = "is_false")]
    pub accept: bool,
    /// Maximum session length in nanoseconds (Go `time.Duration`). Omitted when zero.
    #[serde(
        rename = "sessionDuration",
        default,
        skip_serializing_if = "is_zero_i64"
    )]
    pub session_duration: i64,
    /// Allow SSH agent forwarding. Omitted when false.
    #[serde(
        rename = "allowAgentForwarding",
        default,
        skip_serializing_if = "is_false"
    )]
    pub allow_agent_forwarding: bool,
    /// URL to delegate the decision to (check mode). Omitted when empty.
    #[serde(
        rename = "holdAndDelegate",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub hold_and_delegate: String,
    /// Allow local port forwarding. Omitted when false.
    #[serde(
        rename = "allowLocalPortForwarding",
        default,
        skip_serializing_if = "is_false"
    )]
    pub allow_local_port_forwarding: bool,
    /// Allow remote port forwarding. Omitted when false.
    #[serde(
        rename = "allowRemotePortForwarding",
        default,
        skip_serializing_if = "is_false"
    )]
    pub allow_remote_port_forwarding: bool,
    /// Session recorders (`ip:port`). Omitted when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recorders: Vec<String>,
    /// What to do when recording fails. Omitted when absent.
    #[serde(
        rename = "onRecordingFailure",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub on_recording_failure: Option<SshRecorderFailureAction>,
}

/// Behaviour when session recording fails (`tailcfg.SSHRecorderFailureAction`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SshRecorderFailureAction {
    /// Reject the session before it starts, with this message. Omitted when empty.
    #[serde(
        rename = "rejectSessionWithMessage",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub reject_session_with_message: String,
    /// Terminate a running session, with this message. Omitted when empty.
    #[serde(
        rename = "terminateSessionWithMessage",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub terminate_session_with_message: String,
    /// URL to notify about the failure. Omitted when empty.
    #[serde(
        rename = "notifyURL",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    pub notify_url: String,
}

/// The `sshUsers` map of an SSH rule, keeping insertion order.
///
/// Lookups follow the client: exact key first, then `*` (`policy-spec.md` §5.11).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SshUsers(pub Vec<(String, String)>);

impl SshUsers {
    /// Appends `login → local`, or replaces the value if `login` is already present.
    pub fn insert(&mut self, login: impl Into<String>, local: impl Into<String>) {
        let login = login.into();
        let local = local.into();
        match self.0.iter_mut().find(|(k, _)| *k == login) {
            Some(entry) => entry.1 = local,
            None => self.0.push((login, local)),
        }
    }

    /// The value stored for exactly `login`.
    #[must_use]
    pub fn get(&self, login: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == login)
            .map(|(_, v)| v.as_str())
    }

    /// Number of entries.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are no entries.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for SshUsers {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for SshUsers {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct UsersVisitor;
        impl<'de> Visitor<'de> for UsersVisitor {
            type Value = SshUsers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map of login names to local users")
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<SshUsers, E> {
                Ok(SshUsers::default())
            }
            fn visit_map<M: MapAccess<'de>>(self, mut access: M) -> Result<SshUsers, M::Error> {
                let mut users = SshUsers::default();
                while let Some((k, v)) = access.next_entry::<String, String>()? {
                    users.insert(k, v);
                }
                Ok(users)
            }
        }
        deserializer.deserialize_any(UsersVisitor)
    }
}

fn cap_map_ser<S: Serializer>(
    m: &BTreeMap<String, Vec<serde_json::Value>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(m.len()))?;
    for (k, v) in m {
        if v.is_empty() {
            map.serialize_entry(k, &())?;
        } else {
            map.serialize_entry(k, v)?;
        }
    }
    map.end()
}

fn cap_map_de<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Vec<serde_json::Value>>, D::Error> {
    let raw: BTreeMap<String, Option<Vec<serde_json::Value>>> =
        Deserialize::deserialize(deserializer)?;
    Ok(raw
        .into_iter()
        .map(|(k, v)| (k, v.unwrap_or_default()))
        .collect())
}

// serde's `skip_serializing_if` passes a reference.
fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero_i64(n: &i64) -> bool {
    *n == 0
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
