//! The "from this user", "to this host:port" and SSH views, like the previews of
//! Tailscale's admin console.
//!
//! - `GET /explorer/api/from?src=SEL`: `{"src", "access": [{"to", "ports", "devices",
//!   "rules"}]}`: everything the selector's devices reach, per destination and ports.
//! - `GET /explorer/api/to?dst=SEL[:PORT]`: `{"dst", "port", "access": [{"from",
//!   "ports", "devices", "rules"}]}`: everyone reaching it (on that port).
//! - `GET /explorer/api/ssh`: `{"rules": [{"action", "src", "dst", "users",
//!   "checkPeriod", "rule", "srcDevices", "dstDevices"}]}`: the SSH rules as written,
//!   in policy order, with the devices their selectors name.

use crate::problem::{Problem, evaluable};
use crate::rules::{rule_json, rules_json};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tailpolicy_compiler::eval::reach::{
    Access, Endpoint, dst_name, reachable_from, reaching, resolve_destinations, resolve_sources,
    src_name,
};
use tailpolicy_compiler::eval::{Evaluator, Tailnet};
use tailpolicy_policy::model::{Alias, Autogroup, CheckPeriod, Origin, Proto, SshAction, SshUser};
use tailpolicy_workspace::Workspace;

/// Ports as policies spell them: `tcp:443`, `*:22` for the default protocols.
fn ports_text(a: &Access) -> String {
    match a.proto {
        Some(p) => format!("{p}:{}", a.ports),
        None if a.ports.to_string() == "*" => "*".to_owned(),
        None => format!("*:{}", a.ports),
    }
}

fn endpoint_name(tailnet: &Tailnet, e: &Endpoint) -> String {
    match e {
        Endpoint::Node(i) => tailnet
            .nodes
            .get(*i)
            .map_or_else(|| "?".to_owned(), |n| n.name.clone()),
        Endpoint::Addrs(s) => s.clone(),
    }
}

/// Lines grouped by (other end, ports): the devices on this side and the rules.
type Grouped = BTreeMap<(String, String), (Vec<String>, Vec<Origin>)>;

fn push(out: &mut Grouped, other: String, ports: String, device: &str, rules: &[Origin]) {
    let (devices, rs) = out.entry((other, ports)).or_default();
    if !devices.iter().any(|d| d == device) {
        devices.push(device.to_owned());
    }
    for r in rules {
        if !rs.contains(r) {
            rs.push(*r);
        }
    }
}

fn lines(ws: &Workspace, key: &str, grouped: Grouped) -> Vec<Value> {
    let map = ws.source_map();
    grouped
        .into_iter()
        .map(|((other, ports), (devices, mut rules))| {
            rules.sort();
            json!({key: other, "ports": ports, "devices": devices,
                "rules": rules_json(&map, &rules)})
        })
        .collect()
}

/// Everything the sources named by `sel` reach.
pub fn from_json(ws: &Workspace, sel: &str) -> Result<Value, Problem> {
    let (policy, tailnet) = evaluable(ws)?;
    let ev = Evaluator::new(&policy, &tailnet);
    let srcs = resolve_sources(&ev, sel.trim()).map_err(Problem::bad_request)?;
    if srcs.is_empty() {
        return Err(Problem::bad_request(format!("`{sel}` names no device")));
    }
    let mut grouped = Grouped::new();
    for s in &srcs {
        let device = src_name(&tailnet, s);
        for a in reachable_from(&ev, s) {
            let to = endpoint_name(&tailnet, &a.endpoint);
            push(&mut grouped, to, ports_text(&a), &device, &a.rules);
        }
    }
    Ok(json!({"src": sel, "access": lines(ws, "to", grouped)}))
}

/// `SEL` and an optional port from `SEL:PORT` (`tag:db:22`, `k8s-api:443`, `k8s-api`).
fn split_port(target: &str) -> Result<(&str, Option<u16>), Problem> {
    match target.rsplit_once(':') {
        Some((sel, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => {
            let port = port
                .parse::<u16>()
                .map_err(|_| Problem::bad_request(format!("port `{port}` is out of range")))?;
            Ok((sel, Some(port)))
        }
        Some((sel, "*")) => Ok((sel, None)),
        _ => Ok((target, None)),
    }
}

/// Everyone who reaches `target` (`SEL` or `SEL:PORT`).
pub fn to_json(ws: &Workspace, target: &str) -> Result<Value, Problem> {
    let (policy, tailnet) = evaluable(ws)?;
    let ev = Evaluator::new(&policy, &tailnet);
    let (sel, port) = split_port(target.trim())?;
    // A host alias is what the policy means by the name, even when a node has it too.
    let resolved = match policy.host(sel) {
        Some(h) => h.addr.value.to_string(),
        None => sel.to_owned(),
    };
    let dsts = resolve_destinations(&ev, &resolved).map_err(Problem::bad_request)?;
    if dsts.is_empty() {
        return Err(Problem::bad_request(format!(
            "`{sel}` names no device or routed address"
        )));
    }
    let mut grouped = Grouped::new();
    for d in &dsts {
        let device = dst_name(&tailnet, d);
        for a in reaching(&ev, d) {
            if port.is_some() && ![Proto::TCP, Proto::UDP].iter().any(|p| a.covers(*p, port)) {
                continue;
            }
            let from = endpoint_name(&tailnet, &a.endpoint);
            push(&mut grouped, from, ports_text(&a), &device, &a.rules);
        }
    }
    Ok(json!({"dst": sel, "port": port, "access": lines(ws, "from", grouped)}))
}

fn period(p: CheckPeriod) -> String {
    match p {
        CheckPeriod::Always => "always".to_owned(),
        CheckPeriod::Seconds(s) if s % 3600 == 0 => format!("{}h", s / 3600),
        CheckPeriod::Seconds(s) if s % 60 == 0 => format!("{}m", s / 60),
        CheckPeriod::Seconds(s) => format!("{s}s"),
    }
}

fn ssh_user(u: &SshUser) -> String {
    match u {
        SshUser::Root => "root".to_owned(),
        SshUser::NonRoot => "autogroup:nonroot".to_owned(),
        SshUser::LocalpartOf(domain) => format!("localpart:*@{domain}"),
        SshUser::Named(n) => n.clone(),
    }
}

/// The devices an SSH rule's selectors name (`autogroup:self`: said in words).
fn devices(names: impl Iterator<Item = Result<Vec<String>, String>>) -> Vec<String> {
    let mut out: Vec<String> = names.flatten().flatten().collect();
    out.sort();
    out.dedup();
    out
}

/// The SSH rules as written, with where they are and the devices they name.
pub fn ssh_json(ws: &Workspace) -> Result<Value, Problem> {
    let (policy, tailnet) = evaluable(ws)?;
    let ev = Evaluator::new(&policy, &tailnet);
    let map = ws.source_map();
    let rules: Vec<Value> = policy
        .ssh
        .iter()
        .flatten()
        .map(|r| {
            json!({
                "action": match r.action.value { SshAction::Accept => "accept", SshAction::Check => "check" },
                "src": r.src.iter().map(|a| a.value.to_string()).collect::<Vec<_>>(),
                "dst": r.dst.iter().map(|a| a.value.to_string()).collect::<Vec<_>>(),
                "users": r.users.iter().map(|u| ssh_user(&u.value)).collect::<Vec<_>>(),
                "checkPeriod": r.check_period.as_ref().map(|c| period(c.value)),
                "rule": rule_json(&map, &r.origin),
                "srcDevices": devices(r.src.iter().map(|a| {
                    resolve_sources(&ev, &a.value.to_string())
                        .map(|v| v.iter().map(|s| src_name(&tailnet, s)).collect())
                })),
                "dstDevices": devices(r.dst.iter().map(|a| {
                    if a.value == Alias::Autogroup(Autogroup::SelfDevices) {
                        return Ok(vec!["(each source's own devices)".to_owned()]);
                    }
                    resolve_destinations(&ev, &a.value.to_string())
                        .map(|v| v.iter().map(|d| dst_name(&tailnet, d)).collect())
                })),
            })
        })
        .collect();
    Ok(json!({"rules": rules}))
}
