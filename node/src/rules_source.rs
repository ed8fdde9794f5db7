//! Where the node's FilterRules come from, and [`load_rules`], the one function the start-up
//! and every reload go through.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tailpolicy_dataplane_filter::FilterRule;
use tailpolicy_workspace::NodeFilterError;
use tailpolicy_workspace::fs::{self, LoadRequest};
use tailpolicy_workspace::text::concise_line;

/// The source of the packet filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RulesSource {
    /// A JSON file: an array of FilterRule, a `{"packetFilter": [...]}` object, or the
    /// `{"nodes": {NAME: {"packetFilter": [...]}}}` output of `tailpolicy compile` (then
    /// `node` selects the entry; it may be left out when there is exactly one node).
    Rules {
        /// The JSON file.
        path: PathBuf,
        /// Which node's filter to use from a `nodes` map.
        node: Option<String>,
    },
    /// A policy file compiled for one node of an inventory.
    Policy {
        /// The policy (HuJSON).
        policy: PathBuf,
        /// The node inventory.
        nodes: PathBuf,
        /// The node to compile for.
        node: String,
    },
    /// No filter at all (`--no-filter`): every decapsulated packet from a peer's AllowedIPs
    /// reaches the TUN. For throughput baselines.
    Disabled,
}

impl RulesSource {
    /// The files whose modification makes the node reload. For a policy: the policy, the
    /// inventory, the `tailpolicy.toml` found above it and every fragment its
    /// `[policy] files` names, listed anew on each call, so that a fragment added,
    /// removed or renamed also triggers a reload.
    #[must_use]
    pub fn watched_files(&self) -> Vec<PathBuf> {
        match self {
            Self::Rules { path, .. } => vec![path.clone()],
            Self::Policy { policy, nodes, .. } => fs::watched_files(&policy_request(policy, nodes)),
            Self::Disabled => Vec::new(),
        }
    }

    /// A short description for logs and `--status`.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Rules { path, node: None } => format!("rules {}", path.display()),
            Self::Rules {
                path,
                node: Some(n),
            } => format!("rules {} (node `{n}`)", path.display()),
            Self::Policy {
                policy,
                nodes,
                node,
            } => format!(
                "policy {} with inventory {} (node `{node}`)",
                policy.display(),
                nodes.display()
            ),
            Self::Disabled => "none (--no-filter)".to_owned(),
        }
    }
}

/// Why rules could not be loaded; the message is meant for the user (lower case, paths and
/// input in backticks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    /// One line per problem.
    pub problems: Vec<String>,
}

impl LoadError {
    fn one(msg: String) -> Self {
        Self {
            problems: vec![msg],
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.problems.join("\n"))
    }
}

impl std::error::Error for LoadError {}

/// Loads the FilterRules of `source` (`Disabled` gives an empty list).
///
/// # Errors
/// Unreadable files, malformed JSON, a missing or ambiguous node, or (for `Policy`) a mode
/// this build cannot serve.
pub fn load_rules(source: &RulesSource) -> Result<Vec<FilterRule>, LoadError> {
    match source {
        RulesSource::Disabled => Ok(Vec::new()),
        RulesSource::Rules { path, node } => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| LoadError::one(format!("cannot read `{}`: {e}", path.display())))?;
            rules_from_json(&text, node.as_deref())
                .map_err(|m| LoadError::one(format!("`{}`: {m}", path.display())))
        }
        RulesSource::Policy {
            policy,
            nodes,
            node,
        } => compile_policy(policy, nodes, node),
    }
}

/// Compiles `policy` against the inventory `nodes` through the analysis host (with the
/// `tailpolicy.toml` found above the policy, and all of its multi-file policy when the
/// policy is one of its fragments) and returns `node`'s packet filter, exactly as
/// `tailpolicy compile` prints it. Errors of either file fail the load, each reported as
/// `FILE:LINE:COLUMN: error[CODE] message`, as every command prints them.
///
/// # Errors
/// Unreadable files, error diagnostics in the policy or the inventory, or an unknown node.
pub fn compile_policy(
    policy: &Path,
    nodes: &Path,
    node: &str,
) -> Result<Vec<FilterRule>, LoadError> {
    let ws = fs::load(&policy_request(policy, nodes))
        .map_err(|e| LoadError::one(e.to_string()))?
        .workspace;
    let report = ws.report();
    let problems: Vec<String> = report
        .iter()
        .filter(|(_, d)| d.is_error())
        .map(|(file, d)| concise_line(file, d))
        .collect();
    if !problems.is_empty() {
        return Err(LoadError { problems });
    }
    match ws.node_filter(node) {
        Ok(filter) => Ok(filter.rules),
        Err(NodeFilterError::UnknownNode(_)) => Err(LoadError::one(format!(
            "no node called `{node}` in `{}`",
            nodes.display()
        ))),
        Err(e) => Err(LoadError::one(format!(
            "`{}` could not be compiled: {e:?}",
            policy.display()
        ))),
    }
}

/// How the node asks the host's IO edge for a policy: as `tailpolicy compile` would,
/// with the configuration found above the policy.
fn policy_request(policy: &Path, nodes: &Path) -> LoadRequest {
    LoadRequest {
        policy: Some(policy.display().to_string()),
        nodes: Some(nodes.to_owned()),
        config: None,
        cwd: std::env::current_dir().unwrap_or_default(),
        dialect: None,
    }
}

/// Extracts FilterRules from JSON text (see [`RulesSource::Rules`] for the accepted shapes).
///
/// # Errors
/// A message naming what is wrong.
pub fn rules_from_json(text: &str, node: Option<&str>) -> Result<Vec<FilterRule>, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let filter = match &value {
        serde_json::Value::Array(_) => &value,
        serde_json::Value::Object(obj) => {
            if let Some(nodes) = obj.get("nodes") {
                let nodes = nodes
                    .as_object()
                    .ok_or_else(|| "`nodes` must be an object".to_owned())?;
                let entry = match node {
                    Some(n) => nodes.get(n).ok_or_else(|| {
                        let mut known: Vec<&str> = nodes.keys().map(String::as_str).collect();
                        known.sort_unstable();
                        format!("no node `{n}` in `nodes` (known: {})", known.join(", "))
                    })?,
                    None if nodes.len() == 1 => nodes.values().next().unwrap_or(&value),
                    None => {
                        return Err(format!(
                            "`nodes` holds {} nodes; choose one with `--node NAME`",
                            nodes.len()
                        ));
                    }
                };
                entry
                    .get("packetFilter")
                    .ok_or_else(|| "the node entry has no `packetFilter`".to_owned())?
            } else if let Some(pf) = obj.get("packetFilter") {
                pf
            } else {
                return Err(
                    "expected an array of FilterRule, `{\"packetFilter\": [...]}` or \
                     `{\"nodes\": {...}}`"
                        .to_owned(),
                );
            }
        }
        _ => {
            return Err("expected an array of FilterRule or an object".to_owned());
        }
    };
    if filter.is_null() {
        return Ok(Vec::new());
    }
    serde_json::from_value(filter.clone()).map_err(|e| format!("invalid FilterRule list: {e}"))
}

/// A watched file and its modification time (`None`: it cannot be read).
pub type Stamp = (PathBuf, Option<SystemTime>);

/// The watched files with their modification times: a file changed, created, removed
/// or renamed changes the list.
#[must_use]
pub fn mtimes(source: &RulesSource) -> Vec<Stamp> {
    source
        .watched_files()
        .into_iter()
        .map(|p| {
            let time = std::fs::metadata(&p).and_then(|m| m.modified()).ok();
            (p, time)
        })
        .collect()
}

#[cfg(test)]
#[path = "rules_source_tests.rs"]
mod tests;
