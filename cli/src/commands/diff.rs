//! `tailpolicy diff OLD NEW --nodes FILE`: the semantic difference in access between
//! two policies over the same inventory. Every (source, destination, protocols, ports)
//! gained or lost, grouped by source principal (user, tag set or address range), with
//! the rules responsible (in NEW for a gain, in OLD for a loss). Cosmetic changes
//! (order, comments, formatting, equivalent rewrites) show nothing.
//!
//! Sources and destinations are named the way the policy names them, as `tailpolicy
//! matrix` does (a user, a tag set, a host alias, `10.0.0.0/16 (via vpc-router)`,
//! `autogroup:internet (via exit-1)`), and access is spelt as policies spell it
//! (`tcp:22`, `443`, `*`, `icmp`: ping gained or lost on its own). A name stands for
//! the devices the change applies to, listed in the JSON. `--expand` names
//! destinations by address range and access by protocol list (`tcp,udp,icmp 22`).
//!
//! `--format json` is `{"changed": bool, "changes": [{"src", "dst", "change":
//! "gained"|"lost", "access": "tcp:22", "protos": ["tcp", …], "ports": "22,80-90",
//! "devices": {"src": [..], "dst": [..]}, "rules": [{"section", "index", "file", "line",
//! "column"}]}]}`.
//!
//! Exit 0 when access is unchanged, 1 when it changed, 2 on error.

use crate::exit::Exit;
use crate::load::{PolicyArgs, open, origin_json, origin_short, require_inventory, require_valid};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_compiler::eval::diff::{Diff, diff};
use tailpolicy_compiler::eval::fold_diff::fold_diff;
use tailpolicy_compiler::eval::matrix::{merge, ports_text};
use tailpolicy_policy::model::{Origin, Policy, Proto};
use tailpolicy_workspace::{SourceMap, Workspace};

/// Output formats of `tailpolicy diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    /// Human-readable, grouped by source principal.
    Full,
    /// The JSON object documented in the module.
    Json,
    /// Markdown for a pull-request comment.
    Markdown,
}

/// Arguments of `tailpolicy diff`.
#[derive(Debug, clap::Args)]
pub struct DiffArgs {
    /// The old policy.
    #[arg(value_name = "OLD")]
    pub old: String,
    /// The new policy.
    #[arg(value_name = "NEW")]
    pub new: String,
    /// Node inventory (default: `nodes` in tailpolicy.toml).
    #[arg(long, value_name = "FILE")]
    pub nodes: Option<PathBuf>,
    /// Configuration file (default: the nearest tailpolicy.toml above each policy).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Full)]
    pub format: DiffFormat,
    /// Destinations as address ranges and access per protocol, instead of the
    /// policy's names and spelling.
    #[arg(long)]
    pub expand: bool,
}

/// One reported line: a change between two principals.
#[derive(Clone, Debug, Default)]
struct Line {
    protos: Vec<u8>,
    /// The ports (`22,80-90`, `*`).
    ports: String,
    rules: Vec<Origin>,
    src_devices: Vec<String>,
    dst_devices: Vec<String>,
}

/// A line being merged: (source, gained?, destination), its port ranges, the rest.
type Merged = ((String, bool, String), Vec<(u16, u16)>, Line);

/// Key: (source principal, gained?, destination principal, access text).
type Key = (String, bool, String, String);

/// The changes by the policy's names (see `tailpolicy_compiler::eval::fold_diff`).
fn folded_lines(d: &Diff, policies: &[&Policy], tailnet: &Tailnet) -> Vec<(Key, Line)> {
    fold_diff(d, policies, tailnet)
        .into_iter()
        .map(|c| {
            let access = c.ports_text();
            (
                (c.src, c.gained, c.dst, access),
                Line {
                    protos: c.protos,
                    ports: ports_text(&c.ports),
                    rules: c.rules,
                    src_devices: c.src_devices,
                    dst_devices: c.dst_devices,
                },
            )
        })
        .collect()
}

/// The changes per principal and address range (`--expand`).
fn lines(d: &Diff) -> Vec<(Key, Line)> {
    let mut out: BTreeMap<(String, bool, String, (u16, u16)), Line> = BTreeMap::new();
    let c = &d.classes;
    for ch in &d.changes {
        let srcs: Vec<_> = c
            .src_classes
            .get(ch.src_class)
            .into_iter()
            .flatten()
            .filter_map(|i| c.srcs.get(*i))
            .collect();
        let dsts: Vec<_> = c
            .dst_classes
            .get(ch.dst_class)
            .into_iter()
            .flatten()
            .filter_map(|i| c.dsts.get(*i))
            .collect();
        let ports = ch.ports;
        for s in &srcs {
            for t in &dsts {
                let own = t.dst.identity != tailpolicy_compiler::eval::Identity::Anonymous;
                if own && s.src.node.is_some() && s.src.node == t.dst.node {
                    // A node talking to itself never crosses its filter.
                    continue;
                }
                let key = (s.principal.clone(), ch.gained, t.principal.clone(), ports);
                let line = out.entry(key).or_default();
                push(&mut line.protos, ch.proto);
                for r in &ch.rules {
                    push(&mut line.rules, *r);
                }
                push(&mut line.src_devices, s.name.clone());
                push(&mut line.dst_devices, t.name.clone());
            }
        }
    }
    for l in out.values_mut() {
        l.protos.sort_unstable();
        l.rules.sort();
        l.src_devices.sort();
        l.dst_devices.sort();
    }
    // One line per (source, change, destination, protocols, rules, devices), with
    // every port range that shares them.
    let mut merged: Vec<Merged> = Vec::new();
    for ((src, g, dst, ports), l) in out {
        let same = |(k, _, m): &&mut Merged| {
            k.0 == src
                && k.1 == g
                && k.2 == dst
                && m.protos == l.protos
                && m.rules == l.rules
                && m.src_devices == l.src_devices
                && m.dst_devices == l.dst_devices
        };
        match merged.iter_mut().find(|e| same(e)) {
            Some(e) => e.1.push(ports),
            None => merged.push(((src, g, dst), vec![ports], l)),
        }
    }
    let mut out: Vec<(Key, Line)> = merged
        .into_iter()
        .map(|((s, g, d), ports, mut l)| {
            l.ports = ports_text(&merge(ports));
            let access = format!("{} {}", protos_text(&l.protos), l.ports);
            ((s, g, d, access), l)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

fn protos_text(protos: &[u8]) -> String {
    let default: Vec<u8> = {
        let mut d: Vec<u8> = Proto::DEFAULT_SET.iter().map(|p| p.0).collect();
        d.sort_unstable();
        d
    };
    if protos == default.as_slice() {
        return "tcp,udp,icmp".to_owned();
    }
    protos
        .iter()
        .map(|p| Proto(*p).to_string())
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs `tailpolicy diff`.
pub fn run(args: &DiffArgs) -> Exit {
    let open_one = |policy: &str| {
        let ws = open(&PolicyArgs {
            policy: Some(policy.to_owned()),
            nodes: args.nodes.clone(),
            config: args.config.clone(),
            dialect: args.dialect,
        })?;
        require_valid(&ws)?;
        require_inventory(&ws, "diff")?;
        Ok::<_, Exit>(ws)
    };
    let (old, new) = match open_one(&args.old).and_then(|old| Ok((old, open_one(&args.new)?))) {
        Ok(pair) => pair,
        Err(exit) => return exit,
    };
    match answer(args, &old, &new) {
        Ok((text, changed)) => {
            let _ = crate::stdout::print_out(&text);
            if changed { Exit::Findings } else { Exit::Clean }
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}

/// The tailnet both policies are judged on: the inventory with routes approved by hand
/// or by either policy's `autoApprovers`.
fn common_tailnet(old: &Workspace, new: &Workspace) -> Result<Tailnet, String> {
    let unavailable = |e| format!("no tailnet to compare on: {e:?}");
    let mut t = new.tailnet().map_err(unavailable)?.as_ref().clone();
    let o = old.tailnet().map_err(unavailable)?.as_ref().clone();
    for (n, m) in t.nodes.iter_mut().zip(o.nodes) {
        for r in m.approved_routes {
            if !n.approved_routes.contains(&r) {
                n.approved_routes.push(r);
            }
        }
    }
    Ok(t)
}

fn answer(args: &DiffArgs, lo: &Workspace, ln: &Workspace) -> Result<(String, bool), String> {
    let (Some(old), Some(new)) = (lo.policy(), ln.policy()) else {
        return Err("a policy does not parse; see `tailpolicy lint`".to_owned());
    };
    let tailnet = common_tailnet(lo, ln)?;
    let d = diff(&old, &new, &tailnet);
    let ls = if args.expand {
        lines(&d)
    } else {
        folded_lines(&d, &[&old, &new], &tailnet)
    };
    let changed = !ls.is_empty();
    let (old_map, new_map) = (lo.source_map(), ln.source_map());
    let file_of = |gained: bool| if gained { &new_map } else { &old_map };
    let text = match args.format {
        DiffFormat::Json => {
            let changes: Vec<Value> = ls
                .iter()
                .map(|((s, g, t, access), l)| {
                    json!({
                        "src": s, "dst": t, "change": if *g { "gained" } else { "lost" },
                        "access": access,
                        "protos": l.protos.iter().map(|p| Proto(*p).to_string()).collect::<Vec<_>>(),
                        "ports": l.ports,
                        "devices": {"src": l.src_devices, "dst": l.dst_devices},
                        "rules": l.rules.iter().map(|o| origin_json(file_of(*g), o)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut s =
                serde_json::to_string_pretty(&json!({"changed": changed, "changes": changes}))
                    .map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
        DiffFormat::Full => {
            let mut s = String::new();
            let mut current = None;
            for ((src, g, dst, access), l) in &ls {
                if current != Some(src) {
                    s.push_str(&format!("{src}\n"));
                    current = Some(src);
                }
                let rules: Vec<String> = l
                    .rules
                    .iter()
                    .map(|o| origin_short(file_of(*g), o))
                    .collect();
                s.push_str(&format!(
                    "  {} {dst} {access}  ({})\n",
                    if *g { "+" } else { "-" },
                    rules.join(", ")
                ));
            }
            if !changed {
                s.push_str("no change in access\n");
            }
            s
        }
        DiffFormat::Markdown => markdown(&ls, &old_map, &new_map),
    };
    Ok((text, changed))
}

fn markdown(ls: &[(Key, Line)], old: &SourceMap, new: &SourceMap) -> String {
    let gained = ls.iter().filter(|(k, _)| k.1).count();
    let lost = ls.len() - gained;
    let mut s = String::from("### Access changes\n\n");
    if ls.is_empty() {
        s.push_str("No change in access.\n");
        return s;
    }
    s.push_str(&format!(
        "**{gained} gained, {lost} lost** (`{}` → `{}`)\n",
        old.name(),
        new.name()
    ));
    let mut current = None;
    for ((src, g, dst, access), l) in ls {
        if current != Some(src) {
            s.push_str(&format!(
                "\n#### `{src}`\n\n| | destination | access | rules |\n|---|---|---|---|\n"
            ));
            current = Some(src);
        }
        let file = if *g { new } else { old };
        let rules: Vec<String> = l
            .rules
            .iter()
            .map(|o| format!("`{}`", origin_short(file, o)))
            .collect();
        s.push_str(&format!(
            "| {} | `{dst}` | {access} | {} |\n",
            if *g { "➕ gained" } else { "➖ lost" },
            rules.join("<br>")
        ));
    }
    s
}
