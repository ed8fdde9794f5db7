//! What `wg-quick up` does to the host's network configuration, as a plan of `ip` commands
//! (sans-IO, so it is testable without root): addresses, MTU, link up, one route per peer
//! AllowedIPs prefix, and for a default route (`0.0.0.0/0`, `::/0`) wg-quick's policy
//! routing: the route goes into its own table, a rule sends everything not carrying the
//! tunnel's firewall mark to that table, a second rule keeps the main table's more specific
//! routes, and the node marks its own UDP socket so that encrypted packets still leave
//! through the underlay. Each policy rule carries the command that removes it; on exit
//! only the rules that were added are removed (routes and addresses go with the link).
//!
//! Not done, unlike wg-quick: the connmark rules that mark replies to the node's own
//! encrypted packets. On a host with strict reverse-path filtering (`rp_filter = 1`) they
//! may be dropped; use loose filtering (2) with a default route.

use crate::config::{RouteTable, WgConfig};
use crate::prefix::Prefix;

/// The table and mark `wg-quick` picks for a default route when `FwMark` is unset.
pub const DEFAULT_TABLE: u32 = 51820;

/// One `ip` command, and the command that undoes it where deleting the link does not
/// (policy rules).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Step {
    /// `ip` arguments.
    pub args: Vec<String>,
    /// `ip` arguments that undo it, if the link's deletion does not.
    pub undo: Option<Vec<String>>,
}

/// Commands to bring the interface up.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RoutePlan {
    /// The steps, in order.
    pub setup: Vec<Step>,
    /// The firewall mark to set on the node's UDP socket (`SO_MARK`).
    pub socket_mark: Option<u32>,
    /// Whether `net.ipv4.conf.all.src_valid_mark` must be 1 (an IPv4 default route with
    /// policy routing, as `wg-quick` sets it).
    pub src_valid_mark: bool,
}

/// Plans the configuration of interface `name`. `table_in_use(n)`: whether routing table
/// `n` already holds routes; a default route without `FwMark` takes the first free table
/// from [`DEFAULT_TABLE`] up, as wg-quick does.
#[must_use]
pub fn plan(name: &str, config: &WgConfig, table_in_use: &dyn Fn(u32) -> bool) -> RoutePlan {
    let mut p = RoutePlan {
        socket_mark: config.interface.fwmark,
        ..RoutePlan::default()
    };
    let cmd = |args: &[&str]| args.iter().map(|a| (*a).to_owned()).collect::<Vec<_>>();
    let step = |args: &[&str]| Step {
        args: cmd(args),
        undo: None,
    };
    let mtu = config.interface.mtu.to_string();
    p.setup
        .push(step(&["link", "set", "dev", name, "mtu", &mtu]));
    for a in &config.interface.addresses {
        let addr = a.to_string();
        p.setup.push(step(&["address", "add", &addr, "dev", name]));
    }
    p.setup.push(step(&["link", "set", "dev", name, "up"]));
    let connected: Vec<Prefix> = config
        .interface
        .addresses
        .iter()
        .filter_map(|a| Prefix::new(a.addr, a.len))
        .collect();
    // The kernel puts an address's subnet route into the main table only.
    let main_table = matches!(
        config.interface.table,
        RouteTable::Auto | RouteTable::Id(254)
    );
    let mut added: Vec<Prefix> = Vec::new();
    let mut defaults: Vec<Prefix> = Vec::new();
    for prefix in config.peers.iter().flat_map(|peer| peer.allowed_ips.iter()) {
        if (main_table && connected.contains(prefix))
            || added.contains(prefix)
            || defaults.contains(prefix)
        {
            continue;
        }
        let text = prefix.to_string();
        let family = family(prefix);
        match config.interface.table {
            RouteTable::Off => {}
            RouteTable::Id(t) => {
                let t = t.to_string();
                p.setup.push(step(&[
                    family, "route", "add", &text, "dev", name, "table", &t,
                ]));
                added.push(*prefix);
            }
            RouteTable::Auto if prefix.is_default() => defaults.push(*prefix),
            RouteTable::Auto => {
                p.setup
                    .push(step(&[family, "route", "add", &text, "dev", name]));
                added.push(*prefix);
            }
        }
    }
    if !defaults.is_empty() {
        let mark = config.interface.fwmark.unwrap_or_else(|| {
            let mut t = DEFAULT_TABLE;
            while t < u32::MAX && table_in_use(t) {
                t += 1;
            }
            t
        });
        p.socket_mark = Some(mark);
        let table = mark.to_string();
        for prefix in &defaults {
            let text = prefix.to_string();
            let family = family(prefix);
            p.setup.push(step(&[
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
            for rule in [&not_marked[..], &keep_main[..]] {
                let mut undo = cmd(rule);
                if let Some(verb) = undo.get_mut(2) {
                    "del".clone_into(verb);
                }
                p.setup.push(Step {
                    args: cmd(rule),
                    undo: Some(undo),
                });
            }
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
