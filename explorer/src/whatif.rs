//! `POST /explorer/api/whatif` with `{"fragment", "text"}`: the edited text of one
//! fragment, checked against the accepted policy without storing anything.
//!
//! Answers `{"valid", "diagnostics": [{"fragment", "line", "column", "endLine",
//! "endColumn", "severity", "code", "message", "help"}], "changes": [{"src", "groups",
//! "dst", "change": "gained"|"lost", "ports", "rules", "devices": {"src", "dst"}}] |
//! null}`. `changes` is `null` when either policy does not parse; rules of a gain point
//! into the edited text, of a loss into the accepted one. The page saves the edited text
//! itself, through the policy API.

use crate::adapter;
use crate::problem::Problem;
use crate::rules::rules_json;
use serde_json::{Value, json};
use tailpolicy_workspace::{Contents, FileInput, Workspace};

/// The what-if answer for `text` replacing fragment `fragment`.
pub fn whatif_json(ws: &Workspace, fragment: &str, text: &str) -> Result<Value, Problem> {
    if ws.fragment_id(fragment).is_none() {
        return Err(Problem::bad_request(format!(
            "the policy has no fragment `{fragment}`"
        )));
    }
    let edited = edited(ws, fragment, text);
    let report = edited.report();
    let diagnostics: Vec<Value> = report
        .files
        .iter()
        .flat_map(|f| {
            f.diagnostics.iter().map(move |d| {
                let start = f.file.line_col(d.span.start);
                let end = f.file.line_col(d.span.end.max(d.span.start));
                json!({
                    "fragment": f.file.name(), "line": start.line, "column": start.column,
                    "endLine": end.line, "endColumn": end.column,
                    "severity": d.severity.to_string(), "code": d.code.to_string(),
                    "message": d.message, "help": d.help,
                })
            })
        })
        .collect();
    let changes = match (ws.policy(), edited.policy(), ws.tailnet(), edited.tailnet()) {
        (Some(old), Some(new), Ok(to), Ok(tn)) => {
            let tailnet = adapter::common_tailnet(&to, &tn);
            let (old_map, new_map) = (ws.source_map(), edited.source_map());
            let changes: Vec<Value> = adapter::diff(&old, &new, &tailnet)
                .iter()
                .map(|c| {
                    let map = if c.gained { &new_map } else { &old_map };
                    json!({"src": c.src, "groups": c.groups, "dst": c.dst,
                        "change": if c.gained { "gained" } else { "lost" },
                        "ports": c.ports, "rules": rules_json(map, &c.rules),
                        "devices": {"src": c.src_devices, "dst": c.dst_devices}})
                })
                .collect();
            Value::from(changes)
        }
        _ => Value::Null,
    };
    Ok(json!({
        "valid": !report.has_errors(),
        "diagnostics": diagnostics,
        "changes": changes,
    }))
}

/// A copy of the host: the same inputs, configuration and dialect (no caches).
pub fn copy(ws: &Workspace) -> Workspace {
    let mut out = Workspace::new(ws.config().clone());
    out.set_dialect(Some(ws.dialect()));
    out.set_fragments(ws.fragment_inputs().cloned().collect());
    out.set_inventory(ws.inventory_input().cloned());
    out
}

/// A copy of the host with one fragment's text replaced.
pub fn edited(ws: &Workspace, fragment: &str, text: &str) -> Workspace {
    let mut out = Workspace::new(ws.config().clone());
    out.set_dialect(Some(ws.dialect()));
    let inputs: Vec<FileInput> = ws
        .fragment_inputs()
        .map(|f| {
            let mut f = f.clone();
            if f.name == fragment {
                f.contents = Contents::Text(text.to_owned());
            }
            f
        })
        .collect();
    out.set_fragments(inputs);
    out.set_inventory(ws.inventory_input().cloned());
    out
}
