//! What `wg-quick up` does to the host's network configuration, as a plan of `ip` commands
//! (sans-IO, so it is testable without root): addresses, MTU, link up, one route per peer
//! AllowedIPs prefix, and for a default route (`0.0.0.0/0`, `::/0`) wg-quick's policy
//! routing: the route goes into its own table, a rule sends everything not carrying the
//! tunnel's firewall mark to that table, a second rule keeps the main table's more specific
//! routes, and the node marks its own UDP socket so that encrypted packets still leave
//! through the underlay. [`RoutePlan::teardown`] undoes what the link's deletion does not.

use crate::config::{RouteTable, WgConfig};
use crate::prefix::Prefix;

/// The table and mark `wg-quick` picks for a default route when `FwMark` is unset.
pub const DEFAULT_TABLE: u32 = 51820;

/// Commands to bring the interface up, and to undo what survives the link's deletion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutePlan {
    /// `ip` argument lists, in order.
    pub setup: Vec<Vec<String>>,
    /// `ip` argument lists that remove the policy rules (routes and addresses go with the
    /// link).
    pub teardown: Vec<Vec<String>>,
    /// The firewall mark to set on the node's UDP socket (`SO_MARK`).
    pub socket_mark: Option<u32>,
    /// Whether `net.ipv4.conf.all.src_valid_mark` must be 1 (an IPv4 default route with
    /// policy routing, as `wg-quick` sets it).
    pub src_valid_mark: bool,
}

/// Plans the configuration of interface `name`.
#[must_use]
pub fn plan(name: &str, config: &WgConfig) -> RoutePlan {
    let mut p = RoutePlan {
        socket_mark: config.interface.fwmark,
        ..RoutePlan::default()
    };
    let cmd = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let mtu = config.interface.mtu.to_string();
    p.setup
        .push(cmd(&["link", "set", "dev", name, "mtu", &mtu]));
    for a in &config.interface.addresses {
        let addr = a.to_string();
        p.setup.push(cmd(&["address", "add", &addr, "dev", name]));
    }
    p.setup.push(cmd(&["link", "set", "dev", name, "up"]));
    let connected: Vec<Prefix> = config
        .interface
        .addresses
        .iter()
        .filter_map(|a| Prefix::new(a.addr, a.len))
        .collect();
    let mut added: Vec<Prefix> = Vec::new();
    let mut defaults: Vec<Prefix> = Vec::new();
    for prefix in config.peers.iter().flat_map(|peer| peer.allowed_ips.iter()) {
        if connected.contains(prefix) || added.contains(prefix) || defaults.contains(prefix) {
            continue;
        }
        let text = prefix.to_string();
        let family = family(prefix);
        match config.interface.table {
            RouteTable::Off => {}
            RouteTable::Id(t) => {
                let t = t.to_string();
                p.setup.push(cmd(&[
                    family, "route", "add", &text, "dev", name, "table", &t,
                ]));
                added.push(*prefix);
            }
            RouteTable::Auto if prefix.is_default() => defaults.push(*prefix),
            RouteTable::Auto => {
                p.setup
                    .push(cmd(&[family, "route", "add", &text, "dev", name]));
                added.push(*prefix);
            }
        }
    }
    if !defaults.is_empty() {
        let mark = config.interface.fwmark.unwrap_or(DEFAULT_TABLE);
        p.socket_mark = Some(mark);
        let table = mark.to_string();
        for prefix in &defaults {
            let text = prefix.to_string();
            let family = family(prefix);
            p.setup.push(cmd(&[
                family, "route", "add", &text, "dev", name, "table", &table,
            ]));
            let not_marked = [
                family, "rule", "add", "not", "fwmark", &table, "table", &table,
            ];
            let keep_main = [
                family,
                "rule",
                "add",
                "table",
                "main",
                "suppress_prefixlength",
                "0",
            ];
            p.setup.push(cmd(&not_marked));
            p.setup.push(cmd(&keep_main));
            let mut del_not_marked = cmd(&not_marked);
            let mut del_keep_main = cmd(&keep_main);
            for c in [&mut del_not_marked, &mut del_keep_main] {
                if let Some(verb) = c.get_mut(2) {
                    "del".clone_into(verb);
                }
            }
            p.teardown.push(del_not_marked);
            p.teardown.push(del_keep_main);
            p.src_valid_mark |= family == "-4";
        }
    }
    p
}

fn family(prefix: &Prefix) -> &'static str {
    if prefix.addr().is_ipv4() { "-4" } else { "-6" }
}

#[cfg(test)]
#[path = "routes_tests.rs"]
mod tests;
