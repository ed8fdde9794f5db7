//! The `wg-quick` configuration format: `[Interface]` and `[Peer]` sections of `Key = Value`
//! lines, `#` comments. Every problem is reported with its 1-based line; all problems are
//! collected, not only the first.

use crate::prefix::Prefix;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fmt;
use std::net::{SocketAddr, ToSocketAddrs};

/// Default MTU, as `wg-quick` and wireguard-go use.
pub const DEFAULT_MTU: u16 = 1420;

/// A 32-byte WireGuard key (private, public or preshared).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Key(pub [u8; 32]);

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(…)")
    }
}

impl Key {
    /// The standard base64 form `wg` prints.
    #[must_use]
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0)
    }

    /// Parses the base64 form of a 32-byte key.
    ///
    /// # Errors
    /// When the text is not base64 of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Result<Self, String> {
        let bytes = STANDARD
            .decode(s.trim())
            .map_err(|_| "is not valid base64".to_owned())?;
        let key: [u8; 32] = bytes
            .try_into()
            .map_err(|_| "must be 32 bytes (44 base64 characters)".to_owned())?;
        Ok(Self(key))
    }
}

/// The `[Interface]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    /// `PrivateKey`.
    pub private_key: Key,
    /// `Address` entries (each `addr/len`, the address is the node's own).
    pub addresses: Vec<InterfaceAddress>,
    /// `ListenPort`; `None` picks a free port.
    pub listen_port: Option<u16>,
    /// `MTU` (default 1420).
    pub mtu: u16,
    /// `Table`: where the AllowedIPs routes go.
    pub table: RouteTable,
    /// `FwMark`: the mark on the node's own UDP packets (`None`: unset, or `off`).
    pub fwmark: Option<u32>,
}

/// The `Table` key of `wg-quick`: where the routes for peers' AllowedIPs go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RouteTable {
    /// `auto` (the default): routes in the main table; a default route (`/0`) goes into its
    /// own table selected by policy rules, so the tunnel's own UDP packets (marked with
    /// `FwMark`, default 51820) still leave through the underlay.
    #[default]
    Auto,
    /// `off`: no routes at all.
    Off,
    /// A numbered table (`main` is 254): every route goes there, no policy rules.
    Id(u32),
}

/// One `Address` entry: the node's own address and the prefix length of its subnet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InterfaceAddress {
    /// The node's address.
    pub addr: std::net::IpAddr,
    /// The subnet's prefix length (as written, e.g. 24 in `10.100.0.1/24`).
    pub len: u8,
}

impl fmt::Display for InterfaceAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

/// One `[Peer]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Peer {
    /// `PublicKey`.
    pub public_key: Key,
    /// `PresharedKey`.
    pub preshared_key: Option<Key>,
    /// `Endpoint`, resolved when the file is read.
    pub endpoint: Option<SocketAddr>,
    /// `AllowedIPs` (all lines together).
    pub allowed_ips: Vec<Prefix>,
    /// `PersistentKeepalive` in seconds (`off` and 0 are `None`).
    pub persistent_keepalive: Option<u16>,
    /// Line of the `[Peer]` header.
    pub line: usize,
}

/// A whole configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WgConfig {
    /// The `[Interface]` section.
    pub interface: Interface,
    /// The `[Peer]` sections in file order.
    pub peers: Vec<Peer>,
    /// Notes about keys that are understood by `wg-quick` but not acted upon here (`DNS`,
    /// `Table`, `PreUp`, …), with their lines.
    pub ignored: Vec<ConfigError>,
}

/// A problem at a line of the configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong (lower case, user input in backticks).
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            f.write_str(&self.message)
        } else {
            write!(f, "line {}: {}", self.line, self.message)
        }
    }
}

/// `wg-quick` keys that are accepted and ignored (with a note).
const IGNORED_INTERFACE_KEYS: &[&str] = &[
    "dns",
    "preup",
    "postup",
    "predown",
    "postdown",
    "saveconfig",
];

#[derive(Default)]
struct InterfaceDraft {
    line: usize,
    /// Keys present (even with an invalid value), so a bad value is not also reported as
    /// missing.
    seen: Vec<String>,
    private_key: Option<Key>,
    addresses: Vec<InterfaceAddress>,
    listen_port: Option<u16>,
    mtu: Option<u16>,
    table: RouteTable,
    fwmark: Option<u32>,
}

struct PeerDraft {
    line: usize,
    saw_public_key: bool,
    public_key: Option<Key>,
    preshared_key: Option<Key>,
    endpoint: Option<SocketAddr>,
    allowed_ips: Vec<Prefix>,
    persistent_keepalive: Option<u16>,
}

enum Section {
    None,
    Interface,
    Peer,
}

/// Parses a configuration file's text.
///
/// # Errors
/// Every problem found, each with its line.
pub fn parse(text: &str) -> Result<WgConfig, Vec<ConfigError>> {
    let mut errors = Vec::new();
    let mut ignored = Vec::new();
    let mut iface: Option<InterfaceDraft> = None;
    let mut peers: Vec<PeerDraft> = Vec::new();
    let mut section = Section::None;
    let err = |errors: &mut Vec<ConfigError>, line: usize, message: String| {
        errors.push(ConfigError { line, message });
    };
    for (i, raw) in text.lines().enumerate() {
        let line = i + 1;
        let content = raw.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if content.starts_with('[') {
            match content.to_ascii_lowercase().as_str() {
                "[interface]" => {
                    if iface.is_some() {
                        err(&mut errors, line, "a second `[Interface]` section".into());
                    }
                    iface = Some(InterfaceDraft {
                        line,
                        ..InterfaceDraft::default()
                    });
                    section = Section::Interface;
                }
                "[peer]" => {
                    peers.push(PeerDraft {
                        line,
                        saw_public_key: false,
                        public_key: None,
                        preshared_key: None,
                        endpoint: None,
                        allowed_ips: Vec::new(),
                        persistent_keepalive: None,
                    });
                    section = Section::Peer;
                }
                _ => err(
                    &mut errors,
                    line,
                    format!("unknown section `{content}`; expected `[Interface]` or `[Peer]`"),
                ),
            }
            continue;
        }
        let Some((key, value)) = content.split_once('=') else {
            err(
                &mut errors,
                line,
                format!("expected `Key = Value`, found `{content}`"),
            );
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        let lower = key.to_ascii_lowercase();
        match section {
            Section::None => err(
                &mut errors,
                line,
                format!("`{key}` appears before any `[Interface]` or `[Peer]` section"),
            ),
            Section::Interface => {
                let Some(d) = iface.as_mut() else { continue };
                d.seen.push(lower.clone());
                let r = interface_key(d, &lower, key, value);
                match r {
                    Ok(KeyOutcome::Set) => {}
                    Ok(KeyOutcome::Ignored) => ignored.push(ConfigError {
                        line,
                        message: format!("`{key}` is a `wg-quick` option this node ignores"),
                    }),
                    Err(m) => err(&mut errors, line, m),
                }
            }
            Section::Peer => {
                let Some(d) = peers.last_mut() else { continue };
                d.saw_public_key |= lower == "publickey";
                if let Err(m) = peer_key(d, &lower, key, value) {
                    err(&mut errors, line, m);
                }
            }
        }
    }
    let interface = match iface {
        None => {
            err(&mut errors, 0, "no `[Interface]` section".into());
            None
        }
        Some(d) => {
            if !d.seen.iter().any(|k| k == "privatekey") {
                err(
                    &mut errors,
                    d.line,
                    "`[Interface]` has no `PrivateKey`".into(),
                );
            }
            if !d.seen.iter().any(|k| k == "address") {
                err(&mut errors, d.line, "`[Interface]` has no `Address`".into());
            }
            d.private_key.map(|private_key| Interface {
                private_key,
                addresses: d.addresses,
                listen_port: d.listen_port,
                mtu: d.mtu.unwrap_or(DEFAULT_MTU),
                table: d.table,
                fwmark: d.fwmark,
            })
        }
    };
    let mut out_peers = Vec::new();
    for d in peers {
        match d.public_key {
            None if d.saw_public_key => {}
            None => err(&mut errors, d.line, "`[Peer]` has no `PublicKey`".into()),
            Some(public_key) => {
                if out_peers.iter().any(|p: &Peer| p.public_key == public_key) {
                    err(
                        &mut errors,
                        d.line,
                        "a second `[Peer]` with the same `PublicKey`".into(),
                    );
                }
                out_peers.push(Peer {
                    public_key,
                    preshared_key: d.preshared_key,
                    endpoint: d.endpoint,
                    allowed_ips: d.allowed_ips,
                    persistent_keepalive: d.persistent_keepalive,
                    line: d.line,
                });
            }
        }
    }
    match interface {
        Some(interface) if errors.is_empty() => Ok(WgConfig {
            interface,
            peers: out_peers,
            ignored,
        }),
        _ => {
            errors.sort_by_key(|e| e.line);
            Err(errors)
        }
    }
}

enum KeyOutcome {
    Set,
    Ignored,
}

fn interface_key(
    d: &mut InterfaceDraft,
    lower: &str,
    key: &str,
    value: &str,
) -> Result<KeyOutcome, String> {
    match lower {
        "privatekey" => {
            let k = Key::from_base64(value).map_err(|m| format!("`PrivateKey` {m}"))?;
            d.private_key = Some(k);
        }
        "address" => {
            for item in list(value) {
                d.addresses.push(interface_address(item)?);
            }
        }
        "listenport" => {
            let port = value.parse::<u16>().map_err(|_| {
                format!("`ListenPort` must be a port number 0-65535, not `{value}`")
            })?;
            d.listen_port = (port != 0).then_some(port);
        }
        "mtu" => {
            let mtu = value
                .parse::<u16>()
                .ok()
                .filter(|m| (576..=9000).contains(m))
                .ok_or_else(|| format!("`MTU` must be a number from 576 to 9000, not `{value}`"))?;
            d.mtu = Some(mtu);
        }
        "table" => d.table = route_table(value)?,
        "fwmark" => d.fwmark = fwmark(value)?,
        k if IGNORED_INTERFACE_KEYS.contains(&k) => return Ok(KeyOutcome::Ignored),
        _ => return Err(format!("unknown `[Interface]` key `{key}`")),
    }
    Ok(KeyOutcome::Set)
}

/// `Table = off | auto | main | NUMBER` (table names other than `main` would need
/// `/etc/iproute2/rt_tables`; use the number).
fn route_table(value: &str) -> Result<RouteTable, String> {
    match value.to_ascii_lowercase().as_str() {
        "off" => Ok(RouteTable::Off),
        "auto" => Ok(RouteTable::Auto),
        "main" => Ok(RouteTable::Id(254)),
        v => v
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .map(RouteTable::Id)
            .ok_or_else(|| {
                format!("`Table` must be `off`, `auto`, `main` or a table number, not `{value}`")
            }),
    }
}

/// `FwMark = off | NUMBER | 0xHEX`.
fn fwmark(value: &str) -> Result<Option<u32>, String> {
    let lower = value.to_ascii_lowercase();
    let parsed = if lower == "off" {
        return Ok(None);
    } else if let Some(hex) = lower.strip_prefix("0x") {
        u32::from_str_radix(hex, 16).ok()
    } else {
        lower.parse::<u32>().ok()
    };
    match parsed {
        Some(0) => Ok(None),
        Some(mark) => Ok(Some(mark)),
        None => Err(format!(
            "`FwMark` must be `off`, a number or `0x` hex, not `{value}`"
        )),
    }
}

fn peer_key(d: &mut PeerDraft, lower: &str, key: &str, value: &str) -> Result<(), String> {
    match lower {
        "publickey" => {
            d.public_key = Some(Key::from_base64(value).map_err(|m| format!("`PublicKey` {m}"))?);
        }
        "presharedkey" => {
            d.preshared_key =
                Some(Key::from_base64(value).map_err(|m| format!("`PresharedKey` {m}"))?);
        }
        "endpoint" => d.endpoint = Some(endpoint(value)?),
        "allowedips" => {
            for item in list(value) {
                let p = item
                    .parse::<Prefix>()
                    .map_err(|e| format!("`AllowedIPs`: {e}"))?;
                d.allowed_ips.push(p);
            }
        }
        "persistentkeepalive" => {
            d.persistent_keepalive = if value.eq_ignore_ascii_case("off") {
                None
            } else {
                let s = value.parse::<u16>().map_err(|_| {
                    format!("`PersistentKeepalive` must be `off` or seconds 0-65535, not `{value}`")
                })?;
                (s != 0).then_some(s)
            };
        }
        _ => return Err(format!("unknown `[Peer]` key `{key}`")),
    }
    Ok(())
}

fn list(value: &str) -> impl Iterator<Item = &str> {
    value.split(',').map(str::trim).filter(|s| !s.is_empty())
}

fn interface_address(item: &str) -> Result<InterfaceAddress, String> {
    let (addr, len) = match item.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (item, None),
    };
    let addr: std::net::IpAddr = addr
        .parse()
        .map_err(|_| format!("`Address` `{item}` is not an IP address with a prefix length"))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => l
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| format!("`Address` `{item}` has an invalid prefix length"))?,
    };
    Ok(InterfaceAddress { addr, len })
}

fn endpoint(value: &str) -> Result<SocketAddr, String> {
    if let Ok(sa) = value.parse::<SocketAddr>() {
        return Ok(sa);
    }
    if value
        .rsplit_once(':')
        .is_none_or(|(_, p)| p.parse::<u16>().is_err())
    {
        return Err(format!(
            "`Endpoint` `{value}` must be `host:port` (IPv6 as `[addr]:port`)"
        ));
    }
    value
        .to_socket_addrs()
        .ok()
        .and_then(|mut addrs| addrs.next())
        .ok_or_else(|| format!("`Endpoint` `{value}` could not be resolved"))
}

/// The default interface name for a configuration path, as `wg-quick` derives it: the file
/// name without `.conf`. `None` when that is not a valid interface name (1–15 characters of
/// `A-Za-z0-9_=+.-`).
#[must_use]
pub fn interface_name_from_path(path: &std::path::Path) -> Option<String> {
    let stem = path.file_name()?.to_str()?;
    let stem = stem.strip_suffix(".conf").unwrap_or(stem);
    valid_interface_name(stem).then(|| stem.to_owned())
}

/// Whether `name` is a valid interface name (1–15 characters of `A-Za-z0-9_=+.-`).
#[must_use]
pub fn valid_interface_name(name: &str) -> bool {
    (1..=15).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_=+.-".contains(c))
}

#[cfg(test)]
#[path = "config_tests.rs"]
mod tests;
