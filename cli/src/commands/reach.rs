//! `tailpolicy reach`: who can reach what, and by which rules (with file:line:col).
//!
//! - `--from SEL --to SEL[:PORT]`: allowed or not, and by which rules;
//! - `--from SEL`: everything that source can reach;
//! - `--to SEL[:PORT]`: everyone who can reach that destination.
//!
//! JSON output (`--format json`) is one object:
//! `{"from": SEL|null, "to": SEL|null, "proto": "tcp"|null, "port": N|null,
//!   "allowed": bool|null, "rules": [RULE], "pairs": [PAIR], "access": [ACCESS]}` where
//! `RULE` is `{"section", "index", "file", "line", "column"}`, `PAIR` (for `--from`
//! with `--to`) is `{"from", "to", "allowed", "rules": [RULE]}` and `ACCESS` (for
//! `--from` or `--to` alone) is `{"from", "to", "proto", "ports", "rules": [RULE]}`
//! with `proto` `null` for the default set (tcp, udp, icmp, ipv6-icmp) and `ports` as
//! written in policies (`22`, `80-90`, `*`). `allowed` is `null` when only one side was
//! given.
//!
//! The internet: `--to autogroup:internet[:PORT]` answers per exit node; its `to` is
//! `autogroup:internet via EXIT`, or the parts of the internet the access covers
//! (`8.8.8.8, 1.0.0.0/8 via EXIT`) when a rule names only some; `--from` lists internet
//! access the same way (`autogroup:internet via EXIT`). With `--from` and `--to`,
//! one `PAIR` per exit node, allowed when the source reaches some of the internet
//! through it; `allowed` is true when every source reaches it through some exit node.
//! Likewise an address that several subnet routers or exit nodes carry gets one `PAIR`
//! per router (`10.1.2.3 via router-a`), and counts as reached when some router lets the
//! traffic through (`via` may allow some routers and not others).
//!
//! `--from SEL` and `--to SEL` alone answer folded, as `tailpolicy matrix` does (see
//! `tailpolicy_compiler::eval::fold`): one line per source and destination named the
//! way the policy names them (a user, a tag set, a host alias, `10.0.0.0/16 (via
//! vpc-router)`, `autogroup:internet (via exit-1)`), with the ports as policies spell
//! them (`tcp:443`, `tcp:22, icmp`, `*`; any access also allows ping) and the rules.
//! Their `ACCESS` entries are then `{"from", "to", "kind", "access": "tcp:443",
//! "protos": [{"proto", "ports"}], "rules": [RULE]}` (`kind` the destination's for
//! `--from`, the source's for `--to`: `user`, `tag`, `host`, `subnet`, `internet`,
//! `address`, `node`). `--expand` answers per device and address as before (the
//! `ACCESS` shape above, destinations by device name).
//!
//! Exit 0 when the question was answered (allowed or not), 2 on error.

use crate::exit::Exit;
use crate::load::{
    PolicyArgs, open, origin_json, origin_text, print_answer, require_inventory, require_valid,
};
use ipnet::IpNet;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tailpolicy_compiler::eval::fold::{FoldedMatrix, folded_from, folded_to};
use tailpolicy_compiler::eval::matrix::ports_text;
use tailpolicy_compiler::eval::reach::{
    Access, Endpoint, InternetAccess, dst_name, internet_from, pair_access, reachable_from,
    reaching, reaching_internet, resolve_destinations, resolve_sources, src_name,
};
use tailpolicy_compiler::eval::select::Identity;
use tailpolicy_compiler::eval::{Evaluator, Tailnet};
use tailpolicy_policy::model::{Origin, Proto};
use tailpolicy_workspace::{SourceMap, Workspace};

/// Output formats of `tailpolicy reach`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReachFormat {
    /// Human-readable lines.
    Full,
    /// The JSON object documented in the module.
    Json,
}

/// Arguments of `tailpolicy reach`.
#[derive(Debug, clap::Args)]
pub struct ReachArgs {
    /// The policy and the node inventory.
    #[command(flatten)]
    pub input: PolicyArgs,
    /// Source: a selector (user, group, tag, host, autogroup, IP, CIDR), a tag set as the
    /// folded answers name it (`tag:a+tag:b`) or a node name.
    #[arg(long, value_name = "SEL")]
    pub from: Option<String>,
    /// Destination: a selector or node name, optionally with `:PORT`.
    #[arg(long, value_name = "SEL[:PORT]")]
    pub to: Option<String>,
    /// Protocol (name or number); `tcp` when a port is given.
    #[arg(long, value_name = "P")]
    pub proto: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ReachFormat::Full)]
    pub format: ReachFormat,
    /// With `--from` or `--to` alone: answer per device and address instead of by the
    /// policy's names.
    #[arg(long)]
    pub expand: bool,
}

/// Splits `SEL[:PORT]`: a port only when the text after the last colon is a number and
/// the whole is not a node name or a bare IPv6 address.
pub fn split_port(tailnet: &Tailnet, sel: &str) -> (String, Option<u16>) {
    if tailnet.node_by_name(sel).is_some() || sel.parse::<std::net::IpAddr>().is_ok() {
        return (sel.to_owned(), None);
    }
    match sel.rsplit_once(':') {
        Some((host, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            match port.parse::<u16>() {
                Ok(p) => (host.to_owned(), Some(p)),
                Err(_) => (sel.to_owned(), None),
            }
        }
        _ => (sel.to_owned(), None),
    }
}

fn proto_text(p: Option<Proto>) -> Value {
    p.map_or(Value::Null, |p| Value::String(p.to_string()))
}

fn endpoint_name(t: &Tailnet, e: &Endpoint) -> String {
    match e {
        Endpoint::Node(i) => t.nodes.get(*i).map_or_else(String::new, |n| n.name.clone()),
        Endpoint::Addrs(s) => s.clone(),
    }
}

fn rules_json(file: &SourceMap, rules: &[Origin]) -> Vec<Value> {
    rules.iter().map(|o| origin_json(file, o)).collect()
}

/// Runs `tailpolicy reach`.
pub fn run(args: &ReachArgs) -> Exit {
    let ws = match open(&args.input).and_then(|ws| {
        require_valid(&ws)?;
        require_inventory(&ws, "reach")?;
        Ok(ws)
    }) {
        Ok(ws) => ws,
        Err(exit) => return exit,
    };
    print_answer(answer(args, &ws))
}

fn answer(args: &ReachArgs, ws: &Workspace) -> Result<String, String> {
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Err("the policy does not parse; see `tailpolicy lint`".to_owned());
    };
    let ev = Evaluator::new(&policy, &tailnet);
    let map = ws.source_map();
    let file = &map;
    let (to_sel, port) = match &args.to {
        Some(t) => {
            let (s, p) = split_port(&tailnet, t);
            (Some(s), p)
        }
        None => (None, None),
    };
    let proto = match &args.proto {
        Some(p) => Some(Proto::parse(p)?),
        None => port.map(|_| Proto::TCP),
    };
    let mut allowed = Value::Null;
    let mut all_rules: Vec<Value> = Vec::new();
    let mut all_pairs: Vec<Value> = Vec::new();
    let mut access: Vec<Value> = Vec::new();
    let mut text = String::new();
    let internet = to_sel.as_deref() == Some("autogroup:internet");
    match (&args.from, &to_sel) {
        (Some(from), Some(_)) if internet => {
            let mut all = true;
            let mut rules: Vec<Origin> = Vec::new();
            let mut pairs = Vec::new();
            let exits: Vec<usize> = (0..tailnet.nodes.len())
                .filter(|i| tailnet.nodes.get(*i).is_some_and(|n| n.is_exit_node()))
                .collect();
            if exits.is_empty() {
                return Err("no exit node carries `autogroup:internet`".to_owned());
            }
            for s in resolve_sources(&ev, from)? {
                let sn = src_name(&tailnet, &s);
                let mut some = false;
                let acc: Vec<InternetAccess> = internet_from(&ev, &s)
                    .into_iter()
                    .filter(|a| proto.is_none_or(|p| a.access.covers(p, port)))
                    .collect();
                for e in &exits {
                    let mine: Vec<&InternetAccess> = acc.iter().filter(|a| a.exit == *e).collect();
                    let mut pr: Vec<Origin> = Vec::new();
                    for r in mine.iter().flat_map(|a| &a.access.rules) {
                        if !pr.contains(r) {
                            pr.push(*r);
                        }
                        if !rules.contains(r) {
                            rules.push(*r);
                        }
                    }
                    let ok = !mine.is_empty();
                    some |= ok;
                    let dn = internet_name(&tailnet, *e, &[]);
                    text.push_str(&format!(
                        "{sn} -> {dn}: {}\n",
                        if ok { "allowed" } else { "denied" }
                    ));
                    for a in &mine {
                        text.push_str(&format!(
                            "  {} {}{} by {}\n",
                            a.access
                                .proto
                                .map_or("tcp,udp,icmp".to_owned(), |p| p.to_string()),
                            a.access.ports,
                            if a.parts.is_empty() {
                                String::new()
                            } else {
                                format!(" to {}", a.parts.join(", "))
                            },
                            rule_list(file, &a.access.rules)
                        ));
                    }
                    pairs.push(json!({"from": sn, "to": dn, "allowed": ok, "rules": rules_json(file, &pr)}));
                }
                all &= some;
            }
            text = format!(
                "{from} -> autogroup:internet{}: {}\n{text}",
                what_text(proto, port),
                if all { "ALLOWED" } else { "DENIED" }
            );
            allowed = json!(all);
            all_rules = rules_json(file, &rules);
            all_pairs = pairs;
        }
        (None, Some(_)) if internet => {
            for a in reaching_internet(&ev) {
                if !proto.is_none_or(|p| a.access.covers(p, port)) {
                    continue;
                }
                let sn = endpoint_name(&tailnet, &a.access.endpoint);
                let dn = internet_name(&tailnet, a.exit, &a.parts);
                push_access(&mut text, &mut access, file, &sn, &dn, &a.access);
            }
        }
        (Some(from), Some(to)) => {
            let srcs = resolve_sources(&ev, from)?;
            let dsts = resolve_destinations(&ev, to)?;
            if dsts.is_empty() {
                return Err(format!("`{to}` names no device"));
            }
            let mut all = true;
            // An address routed by several nodes (subnet routers, exit nodes) is reached
            // through any one of them: (source, address) -> allowed through some route.
            let mut through_some: BTreeMap<(usize, IpNet), bool> = BTreeMap::new();
            let mut rules: Vec<Origin> = Vec::new();
            let mut pairs = Vec::new();
            for (si, s) in srcs.iter().enumerate() {
                for d in &dsts {
                    let acc: Vec<Access> = pair_access(&ev, s, d)
                        .into_iter()
                        .filter(|a| proto.is_none_or(|p| a.covers(p, port)))
                        .collect();
                    let mut pr: Vec<Origin> = Vec::new();
                    for a in &acc {
                        for r in &a.rules {
                            if !pr.contains(r) {
                                pr.push(*r);
                            }
                        }
                    }
                    for r in &pr {
                        if !rules.contains(r) {
                            rules.push(*r);
                        }
                    }
                    let ok = !acc.is_empty();
                    match d.addr {
                        Some(a) if d.identity == Identity::Anonymous && d.node.is_some() => {
                            *through_some.entry((si, a)).or_insert(false) |= ok;
                        }
                        _ => all &= ok,
                    }
                    let (sn, dn) = (src_name(&tailnet, s), dst_name(&tailnet, d));
                    text.push_str(&format!(
                        "{sn} -> {dn}: {}\n",
                        if ok { "allowed" } else { "denied" }
                    ));
                    for a in &acc {
                        text.push_str(&format!(
                            "  {} {} by {}\n",
                            a.proto.map_or("tcp,udp,icmp".to_owned(), |p| p.to_string()),
                            a.ports,
                            a.rules
                                .iter()
                                .map(|o| origin_text(file, o))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    pairs.push(json!({"from": sn, "to": dn, "allowed": ok, "rules": rules_json(file, &pr)}));
                }
            }
            all &= through_some.values().all(|ok| *ok);
            let what = what_text(proto, port);
            text = format!(
                "{from} -> {to}{what}: {}\n{text}",
                if all { "ALLOWED" } else { "DENIED" }
            );
            allowed = json!(all);
            all_rules = rules_json(file, &rules);
            all_pairs = pairs;
        }
        (Some(from), None) if !args.expand => {
            let m = folded_from(&policy, &tailnet, &resolve_sources(&ev, from)?);
            push_folded(&mut text, &mut access, file, &m, proto, port, false);
        }
        (None, Some(to)) if !args.expand => {
            let m = folded_to(&policy, &tailnet, &resolve_destinations(&ev, to)?);
            push_folded(&mut text, &mut access, file, &m, proto, port, true);
        }
        (Some(from), None) => {
            for s in resolve_sources(&ev, from)? {
                let sn = src_name(&tailnet, &s);
                for a in reachable_from(&ev, &s) {
                    if !proto.is_none_or(|p| a.covers(p, port)) {
                        continue;
                    }
                    let dn = endpoint_name(&tailnet, &a.endpoint);
                    push_access(&mut text, &mut access, file, &sn, &dn, &a);
                }
            }
        }
        (None, Some(to)) => {
            for d in resolve_destinations(&ev, to)? {
                let dn = dst_name(&tailnet, &d);
                for a in reaching(&ev, &d) {
                    if !proto.is_none_or(|p| a.covers(p, port)) {
                        continue;
                    }
                    let sn = endpoint_name(&tailnet, &a.endpoint);
                    push_access(&mut text, &mut access, file, &sn, &dn, &a);
                }
            }
        }
        (None, None) => return Err("give --from, --to, or both".to_owned()),
    }
    let doc = json!({
        "from": args.from, "to": args.to, "proto": proto_text(proto), "port": port,
        "allowed": allowed, "rules": all_rules, "pairs": all_pairs, "access": access,
    });
    Ok(match args.format {
        ReachFormat::Full => {
            if text.is_empty() {
                "nothing\n".to_owned()
            } else {
                text
            }
        }
        ReachFormat::Json => {
            let mut s = serde_json::to_string_pretty(&doc).map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
    })
}

/// ` on tcp/443`, ` over udp` or nothing.
fn what_text(proto: Option<Proto>, port: Option<u16>) -> String {
    match (proto, port) {
        (Some(p), Some(n)) => format!(" on {p}/{n}"),
        (Some(p), None) => format!(" over {p}"),
        _ => String::new(),
    }
}

/// `autogroup:internet via EXIT`, or the parts of it (`8.0.0.0/7, … via EXIT`).
fn internet_name(t: &Tailnet, exit: usize, parts: &[String]) -> String {
    let e = t.nodes.get(exit).map_or("", |n| n.name.as_str());
    if parts.is_empty() {
        format!("autogroup:internet via {e}")
    } else {
        format!("{} via {e}", parts.join(", "))
    }
}

fn rule_list(file: &SourceMap, rules: &[Origin]) -> String {
    rules
        .iter()
        .map(|o| origin_text(file, o))
        .collect::<Vec<_>>()
        .join(", ")
}

fn push_access(
    text: &mut String,
    access: &mut Vec<Value>,
    file: &SourceMap,
    from: &str,
    to: &str,
    a: &Access,
) {
    text.push_str(&format!(
        "{from} -> {to} {} {} by {}\n",
        a.proto.map_or("tcp,udp,icmp".to_owned(), |p| p.to_string()),
        a.ports,
        a.rules
            .iter()
            .map(|o| origin_text(file, o))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    access.push(json!({
        "from": from, "to": to, "proto": proto_text(a.proto), "ports": a.ports.to_string(),
        "rules": rules_json(file, &a.rules),
    }));
}

/// The cells of a folded answer that cover `proto` and `port`, one line and one
/// `ACCESS` entry each; `kind` is the destination's (or, `by_source`, the source's).
fn push_folded(
    text: &mut String,
    access: &mut Vec<Value>,
    file: &SourceMap,
    m: &FoldedMatrix,
    proto: Option<Proto>,
    port: Option<u16>,
    by_source: bool,
) {
    for c in &m.cells {
        if !proto.is_none_or(|p| c.ports.covers(p, port)) {
            continue;
        }
        let (Some(s), Some(d)) = (m.rows.get(c.row), m.columns.get(c.column)) else {
            continue;
        };
        let rules: Vec<Origin> = m.origins(c).copied().collect();
        let kind = if by_source { s.kind() } else { d.kind() };
        text.push_str(&format!(
            "{} -> {} {} by {}\n",
            s.name,
            d.name,
            c.ports.text(),
            rule_list(file, &rules)
        ));
        access.push(json!({
            "from": s.name, "to": d.name, "kind": kind.as_str(), "access": c.ports.text(),
            "protos": c.ports.protos.iter()
                .map(|(p, ports)| json!({"proto": Proto(*p).to_string(), "ports": ports_text(ports)}))
                .collect::<Vec<_>>(),
            "rules": rules_json(file, &rules),
        }));
    }
}
