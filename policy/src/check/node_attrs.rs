//! Node attributes no client knows (`TP1015`): compared with the documented `nodeAttrs`
//! attributes and the node capabilities of Tailscale's `tailcfg` (names only; nothing
//! is copied from its source).

use super::lint_codes as lc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::Policy;
use crate::suggest::did_you_mean;

/// Bare attribute names clients act on.
const KNOWN: &[&str] = &[
    // Documented in Tailscale's nodeAttrs reference.
    "funnel",
    "mullvad",
    "magicdns-aaaa",
    "disable-ipv4",
    "traffic-steering",
    "drive:share",
    "drive:access",
    "https",
    // tailcfg node capabilities.
    "only-tcp-443",
    "ssh-aggregator",
    "debug-always-stun",
    "debug-no-wg-trim",
    "debug-disable-subnets-if-pac",
    "debug-disable-upnp",
    "disable-delta-updates",
    "randomize-client-port",
    "silent-disco",
    "one-cgnat?v=true",
    "one-cgnat?v=false",
    "peer-mtu-enable",
    "dns-forwarder-disable-tcp-retries",
    "linux-netfilter?v=iptables",
    "linux-netfilter?v=nftables",
    "seamless-key-renewal",
    "probe-udp-lifetime",
    "suggest-exit-node",
    "disable-web-client",
    "log-exit-flows",
    "auto-exit-node",
    "store-appc-routes",
    "suggest-exit-node-ui",
    "user-dial-routes",
    "ssh-behavior-v1",
    "disable-split-dns-when-no-custom-resolvers",
    "disable-local-dns-override-via-nrpt",
    "disable-magicsock-crypto-routing",
    "disable-captive-portal-detection",
];

/// Prefixes of attributes that carry a value (`nextdns:PROFILE`).
const KNOWN_PREFIXES: &[&str] = &["nextdns:"];

/// Reports every attribute that is neither known nor a custom capability.
pub fn check(p: &Policy, diags: &mut Diagnostics) {
    for n in &p.node_attrs {
        for a in &n.attr {
            let name = a.value.trim();
            let custom = name.contains('/') || name.contains("://");
            let known = KNOWN.iter().any(|k| k.eq_ignore_ascii_case(name))
                || KNOWN_PREFIXES
                    .iter()
                    .any(|k| name.to_ascii_lowercase().starts_with(k));
            if custom || known || name.is_empty() {
                continue;
            }
            let mut d = Diagnostic::new(
                lc::UNKNOWN_NODE_ATTRIBUTE.as_code(),
                a.span,
                format!("node attribute `{name}` is not known to Tailscale clients"),
            );
            d = match did_you_mean(name, KNOWN.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(
                    "clients ignore attributes they do not know; custom capabilities are written as `example.com/cap/name`",
                ),
            };
            diags.push(d);
        }
    }
}
