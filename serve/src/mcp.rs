//! `tailpolicy mcp`: the Model Context Protocol over stdio (JSON-RPC 2.0, one message
//! per line): `initialize`, `ping`, `tools/list`, `tools/call`.
//!
//! Tools: `validate`, `preview`, `reach`, `diff`, `explain`, each over the stored
//! policy (the newest version in `--state`, else the configured one) or a policy
//! passed as an argument; and, only with `--allow-write`, `replace_policy`, which
//! stores a policy after the same checks as `POST …/acl`.

use crate::analysis::{self, PreviewType, Verdict};
use crate::store::Store;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::{self, BufRead, Write};
use tailpolicy_compiler::eval::reach::{
    Endpoint, pair_access, reachable_from, reaching, resolve_destinations, resolve_sources,
};
use tailpolicy_compiler::eval::{Evaluator, Tailnet, diff};
use tailpolicy_policy::model::{Origin, Proto};
use tailpolicy_policy::rules::{ALL_RULES, find_rule, render_rule_markdown};
use tailpolicy_workspace::{SourceMap, Workspace};

/// The protocol version answered when the client asks for none we know.
pub const PROTOCOL_VERSION: &str = "2025-06-18";

/// An MCP server over a [`Store`].
#[derive(Debug)]
pub struct Mcp {
    store: Store,
    allow_write: bool,
}

impl Mcp {
    /// A server over `store`; `allow_write` enables `replace_policy`.
    pub fn new(store: Store, allow_write: bool) -> Self {
        Self { store, allow_write }
    }

    /// Serves `input` until it ends, one response line per request.
    pub fn serve(&self, input: impl BufRead, mut output: impl Write) -> io::Result<()> {
        for line in input.lines() {
            let line = line?;
            if line.trim().is_empty() {
                continue;
            }
            if let Some(reply) = self.handle(&line) {
                output.write_all(reply.as_bytes())?;
                output.write_all(b"\n")?;
                output.flush()?;
            }
        }
        Ok(())
    }

    /// The answer to one message (`None` for a notification).
    pub fn handle(&self, line: &str) -> Option<String> {
        let message: Value = match serde_json::from_str(line) {
            Ok(v) => v,
            Err(e) => return Some(error(&Value::Null, -32700, &format!("parse error: {e}"))),
        };
        let id = message.get("id").cloned();
        let method = message.get("method").and_then(Value::as_str).unwrap_or("");
        let id = id?;
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let result = match method {
            "initialize" => Ok(self.initialize(&params)),
            "ping" => Ok(json!({})),
            "tools/list" => Ok(json!({"tools": self.tools()})),
            "tools/call" => Ok(self.call(&params)),
            other => Err((-32601, format!("method not found: {other}"))),
        };
        Some(match result {
            Ok(result) => json!({"jsonrpc": "2.0", "id": id, "result": result}).to_string(),
            Err((code, message)) => error(&id, code, &message),
        })
    }

    fn initialize(&self, params: &Value) -> Value {
        let version = params
            .get("protocolVersion")
            .and_then(Value::as_str)
            .unwrap_or(PROTOCOL_VERSION);
        json!({
            "protocolVersion": version,
            "capabilities": {"tools": {"listChanged": false}},
            "serverInfo": {"name": "tailpolicy", "version": env!("CARGO_PKG_VERSION")},
            "instructions": "Offline analysis of a Tailscale/headscale policy: validate, preview, reach, diff, explain diagnostic codes.",
        })
    }

    /// The tools offered.
    pub fn tools(&self) -> Vec<Value> {
        let policy = json!({"type": "string", "description": "A policy (HuJSON or JSON); default: the stored policy"});
        let mut tools = vec![
            json!({
                "name": "validate",
                "description": "Check a policy and run its tests, or run a list of tests against the stored policy, as Tailscale's validate endpoint does.",
                "inputSchema": {"type": "object", "properties": {
                    "policy": policy,
                    "tests": {"type": "array", "description": "Tests ({src, accept, deny}) to run against the stored policy", "items": {"type": "object"}},
                }},
            }),
            json!({
                "name": "preview",
                "description": "The rules that apply to a user, group or tag (type user) or to IP:port (type ipport), with their line numbers.",
                "inputSchema": {"type": "object", "properties": {
                    "policy": policy,
                    "type": {"type": "string", "enum": ["user", "ipport"]},
                    "previewFor": {"type": "string"},
                }, "required": ["type", "previewFor"]},
            }),
            json!({
                "name": "reach",
                "description": "Who can reach what: from a source, to a destination (host[:port]), or whether from can reach to; with the deciding rules.",
                "inputSchema": {"type": "object", "properties": {
                    "policy": policy,
                    "from": {"type": "string"},
                    "to": {"type": "string"},
                }},
            }),
            json!({
                "name": "diff",
                "description": "Access gained and lost between two policies (old defaults to the stored policy).",
                "inputSchema": {"type": "object", "properties": {
                    "old": policy,
                    "new": {"type": "string", "description": "The new policy (HuJSON or JSON)"},
                }, "required": ["new"]},
            }),
            json!({
                "name": "explain",
                "description": "The documentation of a tailpolicy diagnostic code (e.g. TP0201).",
                "inputSchema": {"type": "object", "properties": {
                    "code": {"type": "string"},
                }, "required": ["code"]},
            }),
        ];
        if self.allow_write {
            tools.push(json!({
                "name": "replace_policy",
                "description": "Replace the stored policy (checked and tested first, as POST /acl does).",
                "inputSchema": {"type": "object", "properties": {
                    "policy": {"type": "string"},
                    "ifMatch": {"type": "string", "description": "The ETag the stored policy must have"},
                }, "required": ["policy"]},
            }));
        }
        tools
    }

    fn call(&self, params: &Value) -> Value {
        let name = params.get("name").and_then(Value::as_str).unwrap_or("");
        let args = params.get("arguments").cloned().unwrap_or(json!({}));
        let result = match name {
            "validate" => self.validate(&args),
            "preview" => self.preview(&args),
            "reach" => self.reach(&args),
            "diff" => self.diff(&args),
            "explain" => explain(&args),
            "replace_policy" if self.allow_write => self.replace(&args),
            other => Err(format!("unknown tool `{other}`")),
        };
        match result {
            Ok(text) => json!({"content": [{"type": "text", "text": text}], "isError": false}),
            Err(text) => json!({"content": [{"type": "text", "text": text}], "isError": true}),
        }
    }

    /// The workspace for `arg` (a policy text) or the stored one.
    fn workspace(&self, arg: Option<&Value>) -> Result<Workspace, String> {
        let text = match arg.and_then(Value::as_str) {
            Some(t) => t.to_owned(),
            None => self.store.current().0,
        };
        analysis::parse(&text).map_err(|e| e.message)?;
        Ok(self.store.context().workspace(&text))
    }

    fn validate(&self, args: &Value) -> Result<String, String> {
        let failures = if let Some(tests) = args.get("tests") {
            let (stored, _) = self.store.current();
            analysis::validate_tests(self.store.context(), &stored, tests).map_err(|e| e.body())?
        } else {
            let ws = self.workspace(args.get("policy"))?;
            match analysis::verdict(&ws) {
                Verdict::Accepted { warnings } => {
                    return Ok(json!({"valid": true, "warnings": warnings}).to_string());
                }
                Verdict::Invalid(e) => return Err(e.body()),
                Verdict::TestsFailed(data) => data,
            }
        };
        if failures.is_empty() {
            Ok(json!({"valid": true}).to_string())
        } else {
            Err(json!({"message": "test(s) failed", "data": failures}).to_string())
        }
    }

    fn preview(&self, args: &Value) -> Result<String, String> {
        let kind = args
            .get("type")
            .and_then(Value::as_str)
            .and_then(PreviewType::parse)
            .ok_or("type must be `user` or `ipport`")?;
        let target = args
            .get("previewFor")
            .and_then(Value::as_str)
            .ok_or("previewFor is required")?;
        let ws = self.workspace(args.get("policy"))?;
        analysis::preview(&ws, kind, target)
            .map(|v| v.to_string())
            .map_err(|e| e.message)
    }

    fn reach(&self, args: &Value) -> Result<String, String> {
        let ws = self.workspace(args.get("policy"))?;
        let policy = valid_policy(&ws, "the policy")?;
        let tailnet = ws.tailnet().map_err(|e| format!("{e:?}"))?;
        let map = ws.source_map();
        let ev = Evaluator::new(&policy, &tailnet);
        let from = args.get("from").and_then(Value::as_str);
        let to = args.get("to").and_then(Value::as_str);
        let rules = |r: &[Origin]| -> Vec<Value> { r.iter().map(|o| origin(&map, o)).collect() };
        let access_json =
            |list: Vec<tailpolicy_compiler::eval::reach::Access>, key: &str| -> Vec<Value> {
                list.into_iter()
                    .map(|a| {
                        json!({
                            key: endpoint(&tailnet, &a.endpoint),
                            "proto": a.proto.map(|p| p.to_string()),
                            "ports": a.ports.to_string(),
                            "rules": rules(&a.rules),
                        })
                    })
                    .collect()
            };
        let value = match (from, to) {
            (Some(from), Some(to)) => {
                let (host, port) = split_port(to);
                let srcs = resolve_sources(&ev, from)?;
                let dsts = test_destinations(&ev, &policy, &tailnet, host)?;
                let mut pairs = Vec::new();
                for s in &srcs {
                    for d in &dsts {
                        let found: Vec<Origin> = match port {
                            Some(port) => ev
                                .allowing(s, d, Proto::TCP, port)
                                .into_iter()
                                .map(|r| r.origin)
                                .collect(),
                            None => pair_access(&ev, s, d)
                                .into_iter()
                                .flat_map(|a| a.rules)
                                .collect(),
                        };
                        pairs.push(json!({
                            "allowed": !found.is_empty(),
                            "rules": rules(&found),
                        }));
                    }
                }
                let allowed = !pairs.is_empty() && pairs.iter().all(|p| p["allowed"] == true);
                json!({"from": from, "to": to, "proto": port.map(|_| "tcp"), "allowed": allowed, "pairs": pairs})
            }
            (Some(from), None) => {
                let mut out = Vec::new();
                for s in resolve_sources(&ev, from)? {
                    out.extend(access_json(reachable_from(&ev, &s), "to"));
                }
                json!({"from": from, "access": out})
            }
            (None, Some(to)) => {
                let (host, _) = split_port(to);
                let mut out = Vec::new();
                for d in resolve_destinations(&ev, host)? {
                    out.extend(access_json(reaching(&ev, &d), "from"));
                }
                json!({"to": to, "access": out})
            }
            (None, None) => return Err("give `from`, `to` or both".to_owned()),
        };
        Ok(value.to_string())
    }

    fn diff(&self, args: &Value) -> Result<String, String> {
        let old_ws = self.workspace(args.get("old"))?;
        let new_ws = self.workspace(Some(args.get("new").ok_or("`new` is required")?))?;
        let old = valid_policy(&old_ws, "the old policy")?;
        let new = valid_policy(&new_ws, "the new policy")?;
        let tailnet = new_ws.tailnet().map_err(|e| format!("{e:?}"))?;
        let d = diff::diff(&old, &new, &tailnet);
        let (old_map, new_map) = (old_ws.source_map(), new_ws.source_map());
        let c = &d.classes;
        let names =
            |classes: &[Vec<usize>], class: usize, point: &dyn Fn(usize) -> Option<String>| {
                classes
                    .get(class)
                    .into_iter()
                    .flatten()
                    .filter_map(|i| point(*i))
                    .collect::<BTreeSet<String>>()
                    .into_iter()
                    .collect::<Vec<_>>()
            };
        let changes: Vec<Value> = d
            .changes
            .iter()
            .map(|ch| {
                let map = if ch.gained { &new_map } else { &old_map };
                json!({
                    "change": if ch.gained { "gained" } else { "lost" },
                    "src": names(&c.src_classes, ch.src_class, &|i| c.srcs.get(i).map(|p| p.principal.clone())),
                    "dst": names(&c.dst_classes, ch.dst_class, &|i| c.dsts.get(i).map(|p| p.principal.clone())),
                    "proto": tailpolicy_policy::model::Proto(ch.proto).to_string(),
                    "ports": if ch.ports.0 == ch.ports.1 { ch.ports.0.to_string() } else { format!("{}-{}", ch.ports.0, ch.ports.1) },
                    "rules": ch.rules.iter().map(|o| origin(map, o)).collect::<Vec<_>>(),
                })
            })
            .collect();
        Ok(json!({"changed": !changes.is_empty(), "changes": changes}).to_string())
    }

    fn replace(&self, args: &Value) -> Result<String, String> {
        let text = args
            .get("policy")
            .and_then(Value::as_str)
            .ok_or("`policy` is required")?
            .to_owned();
        let ws = self.workspace(Some(&Value::String(text.clone())))?;
        match analysis::verdict(&ws) {
            Verdict::Accepted { .. } => {}
            Verdict::Invalid(e) => return Err(e.body()),
            Verdict::TestsFailed(data) => {
                return Err(json!({"message": "test(s) failed", "data": data}).to_string());
            }
        }
        let if_match = args.get("ifMatch").and_then(Value::as_str);
        let etag = self
            .store
            .replace(text, ws, if_match)
            .map_err(|e| e.body())?;
        Ok(json!({"stored": true, "etag": etag}).to_string())
    }
}

/// The policy of `ws` when it has no errors (failing tests do not count).
fn valid_policy(
    ws: &Workspace,
    what: &str,
) -> Result<std::sync::Arc<tailpolicy_policy::Policy>, String> {
    let (errors, _) = analysis::problems(ws);
    if let Some(first) = errors.first() {
        return Err(format!("{what} has errors: {first}"));
    }
    ws.policy().ok_or_else(|| format!("{what} does not parse"))
}

fn explain(args: &Value) -> Result<String, String> {
    let code = args.get("code").and_then(Value::as_str).unwrap_or("");
    match find_rule(code) {
        Some(rule) => Ok(format!(
            "# {}\n\n{}",
            rule.code,
            render_rule_markdown(rule, 2)
        )),
        None => Err(format!(
            "unknown code `{code}`; codes: {}",
            ALL_RULES
                .iter()
                .map(|r| r.code)
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// The destinations of `host` as a policy test names them: a host alias or an address
/// is that address (as Tailscale's tests read it); anything else resolved as `reach`
/// does.
fn test_destinations(
    ev: &Evaluator<'_>,
    policy: &tailpolicy_policy::Policy,
    tailnet: &Tailnet,
    host: &str,
) -> Result<Vec<tailpolicy_compiler::eval::Dst>, String> {
    use tailpolicy_policy::model::Alias;
    // A host alias wins over a node of the same name, as in the policy's own tests.
    match Alias::parse(host, false) {
        Ok(Alias::Host(h)) => {
            if let Some(def) = policy.host(&h) {
                return Ok(vec![tailpolicy_compiler::eval::Dst::addr(
                    tailnet,
                    def.addr.value.net,
                )]);
            }
        }
        Ok(Alias::Addr(a)) if tailnet.node_by_name(host).is_none() => {
            return Ok(vec![tailpolicy_compiler::eval::Dst::addr(tailnet, a.net)]);
        }
        _ => {}
    }
    resolve_destinations(ev, host)
}

fn split_port(sel: &str) -> (&str, Option<u16>) {
    match sel.rsplit_once(':') {
        Some((host, port)) if port.parse::<u16>().is_ok() => (host, port.parse().ok()),
        _ => (sel, None),
    }
}

fn endpoint(tailnet: &Tailnet, e: &Endpoint) -> String {
    match e {
        Endpoint::Node(i) => tailnet
            .nodes
            .get(*i)
            .map_or_else(|| format!("node {i}"), |n| n.name.clone()),
        Endpoint::Addrs(s) => s.clone(),
    }
}

fn origin(map: &SourceMap, o: &Origin) -> Value {
    let lc = map.line_col(o.span.0.start);
    json!({
        "section": o.section.key(),
        "index": o.index,
        "file": map.file_name(o.span.0.start),
        "line": lc.line,
    })
}

fn error(id: &Value, code: i64, message: &str) -> String {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}}).to_string()
}
