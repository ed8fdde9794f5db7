//! The API's questions answered on a [`Workspace`]: is a policy acceptable, what do its
//! tests say, what does a preview show. Pure and synchronous: the server runs these
//! off the async executor.

use crate::error::{ApiError, UserData};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
use std::collections::BTreeMap;
use std::sync::Arc;
use tailpolicy_compiler::eval::policy_tests::Expectation;
use tailpolicy_compiler::eval::reach::{resolve_destinations, resolve_sources};
use tailpolicy_compiler::eval::rules::net_rules;
use tailpolicy_compiler::eval::{Evaluator, TestOutcome, access, run_policy_tests};
use tailpolicy_policy::codes::check as cc;
use tailpolicy_policy::hujson;
use tailpolicy_policy::model::{Policy, Proto, Section};
use tailpolicy_policy::{Dialect, SourceFile};
use tailpolicy_workspace::{Config, FileInput, Workspace};

/// The name a policy received through the API is analysed under.
pub const POLICY_NAME: &str = "policy.hujson";

/// Tailscale's default policy for a new tailnet: everyone reaches everything.
pub const DEFAULT_POLICY: &str = r#"// Example/default ACLs for unrestricted connections.
{
	// Define the tags which can be applied to devices and by which users.
	// "tagOwners": {
	//   "tag:example": ["autogroup:admin"],
	// },

	// Define access control lists for users, groups, autogroups, tags,
	// Tailscale IP addresses, and subnet ranges.
	"acls": [
		// Allow all connections.
		// Comment this section out if you want to define specific restrictions.
		{"action": "accept", "src": ["*"], "dst": ["*:*"]},
	],

	// Define users and devices that can use Tailscale SSH.
	"ssh": [
		// Allow all users to SSH into their own devices in check mode.
		{
			"action": "check",
			"src":    ["autogroup:member"],
			"dst":    ["autogroup:self"],
			"users":  ["autogroup:nonroot", "root"],
		},
	],
}
"#;

/// The codes that are test failures, not policy errors.
const TEST_CODES: &[&str] = &[
    cc::TEST_FAILED.code,
    cc::MALFORMED_TEST.code,
    cc::SSH_TEST_FAILED.code,
    cc::MALFORMED_SSH_TEST.code,
];

/// What every analysis of a candidate policy starts from: the configuration, the
/// inventory and the dialect of the served tailnet.
#[derive(Clone, Debug, Default)]
pub struct Context {
    /// The configuration (`tailpolicy.toml`).
    pub config: Config,
    /// The node inventory, if any.
    pub inventory: Option<FileInput>,
    /// `--dialect`.
    pub dialect: Option<Dialect>,
}

impl Context {
    /// A workspace holding `text` as its one policy file.
    pub fn workspace(&self, text: &str) -> Workspace {
        let mut ws = Workspace::new(self.config.clone());
        ws.set_dialect(self.dialect);
        ws.set_fragments(vec![FileInput::text(POLICY_NAME, text)]);
        ws.set_inventory(self.inventory.clone());
        ws
    }
}

/// The ETag of a policy text: the quoted lowercase sha256 hex of its hujsonfmt
/// formatting (what gitops-pusher computes locally), or of the raw bytes when it does
/// not parse.
pub fn etag(text: &str) -> String {
    let formatted = match hujson::parse(text) {
        (Some(doc), _) => hujson::format(&doc),
        (None, _) => text.to_owned(),
    };
    let digest = Sha256::digest(formatted.as_bytes());
    let mut hex = String::with_capacity(66);
    hex.push('"');
    for b in digest {
        hex.push_str(&format!("{b:02x}"));
    }
    hex.push('"');
    hex
}

/// The body as text, or the 400 Tailscale gives for bytes that are not UTF-8.
pub fn body_text(body: &[u8]) -> Result<String, ApiError> {
    String::from_utf8(body.to_vec())
        .map_err(|_| ApiError::bad_request("invalid character in body: not UTF-8"))
}

/// Parses HuJSON or JSON; a syntax error is 400 with `line N, column M: message`.
pub fn parse(text: &str) -> Result<hujson::Document, ApiError> {
    let (doc, diagnostics) = hujson::parse(text);
    match doc {
        Some(doc) if !diagnostics.has_errors() => Ok(doc),
        _ => {
            let file = SourceFile::new(POLICY_NAME.to_owned(), text.to_owned());
            let message = diagnostics
                .iter()
                .find(|d| d.is_error())
                .map(|d| {
                    let at = file.line_col(d.span.start);
                    format!("line {}, column {}: {}", at.line, at.column, d.message)
                })
                .unwrap_or_else(|| "line 1, column 1: invalid policy".to_owned());
            Err(ApiError::bad_request(message))
        }
    }
}

/// The policy as JSON (comments and trailing commas gone).
pub fn to_json(text: &str) -> Result<Value, ApiError> {
    Ok(parse(text)?.root.to_json())
}

/// The errors of the policy in `ws` that are not test failures, each as
/// `line N, column M: message`; and every warning the same way.
pub fn problems(ws: &Workspace) -> (Vec<String>, Vec<String>) {
    let report = ws.report();
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    for (file, d) in report.iter() {
        let at = file.line_col(d.span.start);
        let line = format!("line {}, column {}: {}", at.line, at.column, d.message);
        if d.is_error() && !TEST_CODES.contains(&d.code.as_str()) {
            errors.push(line);
        } else if !d.is_error() && d.severity == tailpolicy_policy::Severity::Warning {
            warnings.push(line);
        }
    }
    (errors, warnings)
}

/// The outcome of checking a candidate policy.
#[derive(Debug)]
pub enum Verdict {
    /// Acceptable; the warnings found.
    Accepted {
        /// Warnings, `line N, column M: message`.
        warnings: Vec<String>,
    },
    /// The policy has errors (400).
    Invalid(ApiError),
    /// The policy's tests failed: the per-source failures.
    TestsFailed(Vec<UserData>),
}

/// Checks the policy in `ws`: errors first (400 with the first as the message and every
/// one in `data`), then its `tests`/`sshTests`.
pub fn verdict(ws: &Workspace) -> Verdict {
    let (errors, warnings) = problems(ws);
    if let Some(first) = errors.first() {
        let message = first.clone();
        return Verdict::Invalid(ApiError::bad_request(message).with_data(vec![UserData {
            user: String::new(),
            errors,
            warnings,
        }]));
    }
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Verdict::Invalid(ApiError::bad_request("line 1, column 1: invalid policy"));
    };
    let outcomes = run_policy_tests(&policy, &tailnet);
    let failures = test_failures(&outcomes);
    if failures.is_empty() {
        Verdict::Accepted { warnings }
    } else {
        Verdict::TestsFailed(failures)
    }
}

/// Failed tests grouped by source, in Tailscale's wording
/// (`address "host:port": want: Accept, got: Drop`).
pub fn test_failures(outcomes: &[TestOutcome]) -> Vec<UserData> {
    let mut by_user: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut order: Vec<String> = Vec::new();
    for o in outcomes.iter().filter(|o| !o.passed) {
        let user = o.src.as_ref().map(|s| s.value.clone()).unwrap_or_default();
        let mut errors: Vec<String> = o
            .assertions
            .iter()
            .filter(|a| !a.passed)
            .map(|a| match (o.origin.section, a.expect) {
                (Section::Tests, Expectation::Accept)
                    if !a.rules.is_empty()
                        || a.failure.as_deref().is_none_or(|f| f.contains("access")) =>
                {
                    format!("address {:?}: want: Accept, got: Drop", a.target.value)
                }
                (Section::Tests, Expectation::Deny) => {
                    format!("address {:?}: want: Drop, got: Accept", a.target.value)
                }
                (Section::Tests, _) => format!(
                    "address {:?}: {}",
                    a.target.value,
                    a.failure.as_deref().unwrap_or("failed")
                ),
                (_, expect) => format!(
                    "[ssh test error]: src {:?}, ssh user {:?}: want: {:?} {}",
                    user,
                    a.target.value,
                    expect.key(),
                    a.failure.as_deref().unwrap_or_default()
                ),
            })
            .collect();
        if errors.is_empty() {
            errors.push(
                o.diagnostic
                    .as_ref()
                    .map_or_else(|| "user is invalid".to_owned(), |d| d.message.clone()),
            );
        }
        if !by_user.contains_key(&user) {
            order.push(user.clone());
        }
        by_user.entry(user).or_default().extend(errors);
    }
    order
        .into_iter()
        .map(|user| UserData {
            errors: by_user.remove(&user).unwrap_or_default(),
            user,
            warnings: Vec::new(),
        })
        .collect()
}

/// `POST …/acl/validate` with a JSON array of tests: runs them against `stored` (the
/// current policy's text). Legacy `user`/`allow` are read as `src`/`accept`.
pub fn validate_tests(
    context: &Context,
    stored: &str,
    tests: &Value,
) -> Result<Vec<UserData>, ApiError> {
    let Value::Array(entries) = tests else {
        return Err(ApiError::bad_request("json: tests must be an array"));
    };
    let tests: Vec<Value> = entries.iter().map(modern_test).collect();
    let mut policy = match to_json(stored)? {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    policy.retain(|k, _| !k.eq_ignore_ascii_case("tests") && !k.eq_ignore_ascii_case("sshTests"));
    policy.insert("tests".to_owned(), Value::Array(tests));
    let text = serde_json::to_string_pretty(&Value::Object(policy))
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let ws = context.workspace(&text);
    match verdict(&ws) {
        Verdict::Accepted { .. } => Ok(Vec::new()),
        Verdict::TestsFailed(failures) => Ok(failures),
        Verdict::Invalid(e) => Err(e),
    }
}

/// A test entry with the legacy `user`/`allow` renamed to `src`/`accept`.
fn modern_test(entry: &Value) -> Value {
    let Value::Object(map) = entry else {
        return entry.clone();
    };
    let mut out = Map::new();
    for (k, v) in map {
        let key = match k.to_ascii_lowercase().as_str() {
            "user" => "src".to_owned(),
            "allow" => "accept".to_owned(),
            _ => k.clone(),
        };
        out.insert(key, v.clone());
    }
    Value::Object(out)
}

/// What `preview` shows for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PreviewType {
    /// `type=user`: the rules whose sources include the user (or group, or tag).
    User,
    /// `type=ipport`: the rules whose destinations cover `IP:port`.
    IpPort,
}

impl PreviewType {
    /// Reads the query value.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "user" => Some(Self::User),
            "ipport" => Some(Self::IpPort),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::IpPort => "ipport",
        }
    }
}

/// `POST …/acl/preview`: the rules of the policy in `ws` that apply to `preview_for`,
/// each with its own aliases as written and its line.
pub fn preview(ws: &Workspace, kind: PreviewType, preview_for: &str) -> Result<Value, ApiError> {
    let (errors, _) = problems(ws);
    if let Some(first) = errors.first() {
        return Err(ApiError::bad_request(first.clone()));
    }
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Err(ApiError::bad_request("invalid policy"));
    };
    let merged = ws.merged();
    let text = merged.text.as_str();
    let map = &merged.map;
    let ev = Evaluator::new(&policy, &tailnet);
    let rules = net_rules(&policy);
    let mut matches = Vec::new();
    match kind {
        PreviewType::User => {
            let sources = resolve_sources(&ev, preview_for).map_err(ApiError::bad_request)?;
            for rule in &rules {
                if sources.iter().any(|s| ev.src_admitted(rule, s)) {
                    matches.push(preview_match(&policy, rule, text, map));
                }
            }
        }
        PreviewType::IpPort => {
            let (host, port) = preview_for
                .rsplit_once(':')
                .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "invalid previewFor {preview_for:?}: want IP:port"
                    ))
                })?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let dsts = resolve_destinations(&ev, host).map_err(ApiError::bad_request)?;
            let any_src = tailpolicy_compiler::eval::Src::addr(
                &tailnet,
                ipnet::IpNet::V4(ipnet::Ipv4Net::default()),
            );
            for rule in &rules {
                let hit = rule.dst.iter().any(|atom| {
                    [Proto::TCP, Proto::UDP]
                        .iter()
                        .any(|p| access::carries(atom, *p, port))
                        && dsts
                            .iter()
                            .any(|d| ev.matcher().dst_matches(&atom.alias, d, &any_src))
                });
                if hit {
                    matches.push(preview_match(&policy, rule, text, map));
                }
            }
        }
    }
    Ok(json!({
        "matches": matches,
        "type": kind.as_str(),
        "previewFor": preview_for,
    }))
}

fn preview_match(
    policy: &Policy,
    rule: &tailpolicy_compiler::eval::rules::NetRule,
    text: &str,
    map: &tailpolicy_workspace::SourceMap,
) -> Value {
    let written = |span: tailpolicy_policy::Span| -> String {
        let s = text
            .get(span.start as usize..span.end as usize)
            .unwrap_or_default();
        s.trim().trim_matches('"').to_owned()
    };
    let users: Vec<String> = rule.src.iter().map(|s| written(s.span)).collect();
    let mut ports: Vec<String> = Vec::new();
    let mut push = |p: String| {
        if !ports.contains(&p) {
            ports.push(p);
        }
    };
    match rule.origin.section {
        Section::Default => push("*:*".to_owned()),
        Section::Grants => {
            for atom in &rule.dst {
                let proto = atom.proto.map(|p| format!("{p}:")).unwrap_or_default();
                push(format!("{}:{proto}{}", written(atom.span), atom.ports));
            }
        }
        _ => {
            for atom in &rule.dst {
                push(written(atom.span));
            }
        }
    }
    let line = if rule.origin.section == Section::Default {
        0
    } else {
        map.line_col(rule.origin.span.0.start).line
    };
    let mut m = json!({"users": users, "ports": ports, "lineNumber": line});
    if let Value::Object(obj) = &mut m {
        if !rule.via.is_empty() {
            obj.insert("via".to_owned(), json!(rule.via));
        }
        let postures: Vec<String> = if rule.src_posture.is_empty() {
            policy
                .default_src_posture
                .iter()
                .map(|p| p.value.clone())
                .collect()
        } else {
            rule.src_posture.iter().map(|p| p.value.clone()).collect()
        };
        if !postures.is_empty() {
            obj.insert("postures".to_owned(), json!(postures));
        }
    }
    m
}

/// The inventory as `GET …/devices` returns it: `{"devices": [...]}` in the API's
/// device shape.
pub fn devices(ws: &Workspace) -> Value {
    let Some(inventory) = ws.inventory().and_then(|i| i.inventory.clone()) else {
        return json!({"devices": []});
    };
    let domain = inventory.tailnet_domain().map(str::to_owned);
    let devices: Vec<Value> = inventory
        .nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let name = match &domain {
                Some(d) if !n.name.contains('.') => format!("{}.{d}", n.name),
                _ => n.name.clone(),
            };
            let enabled: Vec<String> = n.approved_routes.iter().map(ToString::to_string).collect();
            json!({
                "id": format!("{}", i + 1),
                "nodeId": format!("n{}", i + 1),
                "name": name,
                "hostname": n.name,
                "addresses": n.addresses().map(|a| a.to_string()).collect::<Vec<_>>(),
                "user": n.user.clone().unwrap_or_default(),
                "tags": n.tags,
                "advertisedRoutes": n.advertised_routes.iter().map(ToString::to_string).collect::<Vec<_>>(),
                "enabledRoutes": enabled,
                "authorized": true,
            })
        })
        .collect();
    json!({"devices": devices})
}

/// Shares a workspace's analysis for callers that keep it.
pub type Shared = Arc<Workspace>;
