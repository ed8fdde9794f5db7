//! The typed policy: every section of the file, with spans on everything a diagnostic
//! or a provenance record may point at.
//!
//! A `Policy` is produced by [`crate::lower()`] from the HuJSON tree. Items that could not
//! be read (a bad selector, a wrong type) were reported there and are left out, so a
//! `Policy` is always well-formed; whether it is *valid* (defined names, allowed
//! placements) is decided by [`crate::check()`].

pub mod alias;
pub mod ports;
pub mod posture;
mod shift;

pub use alias::{AddrLit, Alias, AliasError, Autogroup};
pub use ports::{PortRange, Proto};
pub use posture::{AttrValue, Condition, PostureAttrs};

use crate::span::{Span, Spanned};
use ipnet::IpNet;

/// A whole policy file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Policy {
    /// `acls`; `None` when the key is absent (which, with `grants` absent too, means
    /// allow-all).
    pub acls: Option<Vec<Acl>>,
    /// `grants`; `None` when absent.
    pub grants: Option<Vec<Grant>>,
    /// `ssh`; `None` when absent.
    pub ssh: Option<Vec<SshRule>>,
    /// `groups`, in file order.
    pub groups: Vec<Group>,
    /// `tagOwners`, in file order.
    pub tag_owners: Vec<TagOwner>,
    /// `hosts`, in file order.
    pub hosts: Vec<Host>,
    /// `ipsets`, in file order.
    pub ipsets: Vec<IpSet>,
    /// `postures`, in file order.
    pub postures: Vec<Posture>,
    /// `defaultSrcPosture`.
    pub default_src_posture: Vec<Spanned<String>>,
    /// `autoApprovers`.
    pub auto_approvers: AutoApprovers,
    /// `nodeAttrs`.
    pub node_attrs: Vec<NodeAttr>,
    /// `tests`.
    pub tests: Vec<AclTest>,
    /// `sshTests`.
    pub ssh_tests: Vec<SshTest>,
    /// The settings keys that do not affect compilation.
    pub settings: Settings,
}

/// Where a rule came from: its section, index and span (the whole entry).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Which section.
    pub section: Section,
    /// 0-based index in the section's array.
    pub index: usize,
    /// The entry's span (equality and ordering ignore it).
    pub span: IgnoredSpan,
}

/// A span that compares equal to every other, for provenance inside comparable data.
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnoredSpan(pub Span);

impl PartialEq for IgnoredSpan {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for IgnoredSpan {}
impl PartialOrd for IgnoredSpan {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for IgnoredSpan {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}
impl std::hash::Hash for IgnoredSpan {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

/// Policy sections that hold ordered rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    /// `acls`.
    Acls,
    /// `grants`.
    Grants,
    /// `ssh`.
    Ssh,
    /// `tests`.
    Tests,
    /// `sshTests`.
    SshTests,
    /// `nodeAttrs`.
    NodeAttrs,
    /// The implicit allow-all rule of a policy with neither `acls` nor `grants`.
    Default,
}

impl Section {
    /// The section's key as written in canonical form.
    pub const fn key(self) -> &'static str {
        match self {
            Section::Acls => "acls",
            Section::Grants => "grants",
            Section::Ssh => "ssh",
            Section::Tests => "tests",
            Section::SshTests => "sshTests",
            Section::NodeAttrs => "nodeAttrs",
            Section::Default => "default",
        }
    }
}

/// One `acls` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Acl {
    /// Where it is.
    pub origin: Origin,
    /// `action` (only `accept` is valid; kept so the checker can report others).
    pub action: Option<Spanned<String>>,
    /// `src` (or legacy `users`).
    pub src: Vec<Spanned<Alias>>,
    /// `dst` (or legacy `ports`).
    pub dst: Vec<Spanned<AclDst>>,
    /// `proto`, if given.
    pub proto: Option<Spanned<Proto>>,
    /// `srcPosture`.
    pub src_posture: Vec<Spanned<String>>,
    /// Whether the legacy `users`/`ports` names were used (span of the first).
    pub legacy_names: Option<Span>,
}

/// An ACL destination `alias:ports`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct AclDst {
    /// The part before the last colon.
    pub alias: Alias,
    /// The ports after it.
    pub ports: Vec<PortRange>,
}

/// One `grants` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Where it is.
    pub origin: Origin,
    /// `src`.
    pub src: Vec<Spanned<Alias>>,
    /// `dst`.
    pub dst: Vec<Spanned<Alias>>,
    /// `ip` (elements that could not be read are left out).
    pub ip: Vec<Spanned<GrantIp>>,
    /// Whether `ip` or `app` had elements as written, even ones that could not be read
    /// (so an all-invalid `ip` is not also reported as missing).
    pub capabilities_written: bool,
    /// `app`: capability name → values, in file order.
    pub app: Vec<(Spanned<String>, Vec<serde_json::Value>)>,
    /// `via`.
    pub via: Vec<Spanned<Alias>>,
    /// `srcPosture`.
    pub src_posture: Vec<Spanned<String>>,
}

/// One element of a grant's `ip`: `[proto:]ports`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct GrantIp {
    /// The protocol, or `None` for the client's default set.
    pub proto: Option<Proto>,
    /// The ports.
    pub ports: Vec<PortRange>,
}

/// `groups` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// `group:name`.
    pub name: Spanned<String>,
    /// Members (user logins as written).
    pub members: Vec<Spanned<String>>,
}

/// `tagOwners` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TagOwner {
    /// `tag:name`.
    pub tag: Spanned<String>,
    /// Owners.
    pub owners: Vec<Spanned<Alias>>,
}

/// `hosts` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Host {
    /// The alias name.
    pub name: Spanned<String>,
    /// The address or prefix.
    pub addr: Spanned<AddrLit>,
}

/// `ipsets` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct IpSet {
    /// `ipset:name`.
    pub name: Spanned<String>,
    /// Operations in order.
    pub ops: Vec<Spanned<IpSetOp>>,
}

/// One ipset operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IpSetOp {
    /// `add` (true) or `remove` (false).
    pub add: bool,
    /// The target: IP, CIDR, range, `host:name` (as [`Alias::Host`]), `ipset:name` or
    /// `autogroup:internet`.
    pub target: Alias,
}

/// `postures` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Posture {
    /// `posture:name`.
    pub name: Spanned<String>,
    /// Condition strings as written (all must hold).
    pub conditions: Vec<Spanned<String>>,
    /// The conditions that could be read, in order; a malformed one was reported by
    /// [`crate::lower()`] and is missing here.
    pub parsed: Vec<Condition>,
}

impl Posture {
    /// Whether a device with `attrs` meets every condition. A posture with a malformed
    /// condition never matches.
    pub fn satisfies(&self, attrs: &PostureAttrs) -> bool {
        self.parsed.len() == self.conditions.len() && self.parsed.iter().all(|c| c.holds(attrs))
    }
}

/// `autoApprovers`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AutoApprovers {
    /// `routes`: prefix → approvers.
    pub routes: Vec<(Spanned<IpNet>, Vec<Spanned<Alias>>)>,
    /// `exitNode` approvers.
    pub exit_node: Vec<Spanned<Alias>>,
    /// `services`: `svc:name` (or tag) → approvers.
    pub services: Vec<(Spanned<String>, Vec<Spanned<Alias>>)>,
}

/// One `ssh` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct SshRule {
    /// Where it is.
    pub origin: Origin,
    /// `action`.
    pub action: Spanned<SshAction>,
    /// `src`.
    pub src: Vec<Spanned<Alias>>,
    /// `dst`.
    pub dst: Vec<Spanned<Alias>>,
    /// `users`.
    pub users: Vec<Spanned<SshUser>>,
    /// `checkPeriod`.
    pub check_period: Option<Spanned<CheckPeriod>>,
    /// `acceptEnv`.
    pub accept_env: Vec<Spanned<String>>,
    /// `srcPosture`.
    pub src_posture: Vec<Spanned<String>>,
    /// `recorder` tags.
    pub recorder: Vec<Spanned<Alias>>,
    /// `enforceRecorder`.
    pub enforce_recorder: bool,
}

/// SSH rule action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SshAction {
    /// `accept`.
    Accept,
    /// `check`: re-authenticate through the control plane.
    Check,
}

/// An SSH `users` entry.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum SshUser {
    /// `root`.
    Root,
    /// `autogroup:nonroot`.
    NonRoot,
    /// `localpart:*@domain`.
    LocalpartOf(String),
    /// Any other string: a literal local user name.
    Named(String),
}

/// `checkPeriod`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CheckPeriod {
    /// `always`: check every connection.
    Always,
    /// A duration in seconds.
    Seconds(u64),
}

/// One `nodeAttrs` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeAttr {
    /// Where it is.
    pub origin: Origin,
    /// `target`.
    pub target: Vec<Spanned<Alias>>,
    /// `attr`.
    pub attr: Vec<Spanned<String>>,
    /// `app`: capability name → values.
    pub app: Vec<(Spanned<String>, Vec<serde_json::Value>)>,
    /// `ipPool`.
    pub ip_pool: Vec<Spanned<IpNet>>,
}

/// One `tests` entry. Destinations are kept as written: Tailscale reports malformed
/// ones as failing tests, so they are read when the test runs.
#[derive(Clone, Debug, PartialEq)]
pub struct AclTest {
    /// Where it is.
    pub origin: Origin,
    /// `src` (or legacy `user`); `None` when missing.
    pub src: Option<Spanned<String>>,
    /// `proto` as written.
    pub proto: Option<Spanned<String>>,
    /// `accept` (or legacy `allow`); `None` when the key is absent.
    pub accept: Option<Vec<Spanned<String>>>,
    /// `deny`; `None` when absent.
    pub deny: Option<Vec<Spanned<String>>>,
    /// `srcPostureAttrs`: the attributes the source device is assumed to have
    /// (entries that could not be read were reported and left out).
    pub src_posture_attrs: Option<Spanned<PostureAttrs>>,
}

/// One `sshTests` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct SshTest {
    /// Where it is.
    pub origin: Origin,
    /// `src`.
    pub src: Option<Spanned<String>>,
    /// `dst`.
    pub dst: Vec<Spanned<String>>,
    /// `accept`.
    pub accept: Vec<Spanned<String>>,
    /// `check`.
    pub check: Vec<Spanned<String>>,
    /// `deny`.
    pub deny: Vec<Spanned<String>>,
    /// `srcPostureAttrs`: the attributes the source device is assumed to have
    /// (entries that could not be read were reported and left out).
    pub src_posture_attrs: Option<Spanned<PostureAttrs>>,
}

/// Top-level settings that do not affect compilation.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Settings {
    /// `derpMap`, as JSON.
    pub derp_map: Option<serde_json::Value>,
    /// `disableIPv4`.
    pub disable_ipv4: Option<bool>,
    /// `randomizeClientPort`.
    pub randomize_client_port: Option<bool>,
    /// `OneCGNATRoute`.
    pub one_cgnat_route: Option<String>,
    /// `extraDNSRecords`, as JSON.
    pub extra_dns_records: Option<serde_json::Value>,
    /// `attrConfig` and other keys we pass through, as JSON.
    pub other: Vec<(Spanned<String>, serde_json::Value)>,
}

impl Policy {
    /// Whether neither `acls` nor `grants` is present: Tailscale then allows all.
    pub fn is_allow_all_default(&self) -> bool {
        self.acls.is_none() && self.grants.is_none()
    }

    /// The group definition called `name`.
    pub fn group(&self, name: &str) -> Option<&Group> {
        self.groups.iter().find(|g| g.name.value == name)
    }

    /// The `tagOwners` entry of `tag`.
    pub fn tag_owner(&self, tag: &str) -> Option<&TagOwner> {
        self.tag_owners.iter().find(|t| t.tag.value == tag)
    }

    /// The host alias called `name`.
    pub fn host(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name.value == name)
    }

    /// The ipset called `name`.
    pub fn ipset(&self, name: &str) -> Option<&IpSet> {
        self.ipsets.iter().find(|s| s.name.value == name)
    }

    /// The posture called `name`.
    pub fn posture(&self, name: &str) -> Option<&Posture> {
        self.postures.iter().find(|p| p.name.value == name)
    }

    /// The postures that gate a rule's sources: the rule's own `srcPosture`, or
    /// `defaultSrcPosture` when it has none (the default replaces, never adds to, a
    /// rule's own). Empty: the rule is not gated.
    pub fn effective_src_posture<'a>(
        &'a self,
        own: &'a [Spanned<String>],
    ) -> &'a [Spanned<String>] {
        if own.is_empty() {
            &self.default_src_posture
        } else {
            own
        }
    }

    /// Whether a source device with `attrs` passes a gate of posture names: any one of
    /// them must be satisfied (an undefined posture is never satisfied). An empty gate
    /// admits everything.
    pub fn admits(&self, gate: &[Spanned<String>], attrs: &PostureAttrs) -> bool {
        gate.is_empty()
            || gate
                .iter()
                .any(|n| self.posture(&n.value).is_some_and(|p| p.satisfies(attrs)))
    }
}
