//! The `json` format.
//!
//! ```json
//! {"diagnostics": [{"file": "policy.hujson", "severity": "error", "code": "TP0201",
//!   "message": "...", "line": 3, "column": 5, "endLine": 3, "endColumn": 12,
//!   "help": "..." | null, "related": [{"file", "line", "column", "endLine",
//!   "endColumn", "message"}]}]}
//! ```
//!
//! `related` lists locations in other files (the earlier definition of a name that
//! two fragments of a multi-file policy define); it is left out when empty.
//!
//! Lines and columns are 1-based; columns count characters; `endLine`/`endColumn` is
//! the position just past the last character (exclusive). Ordered by file, line,
//! column, code.

use super::Located;
use serde::Serialize;

#[derive(Serialize)]
struct Output<'a> {
    diagnostics: Vec<Entry<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Entry<'a> {
    file: &'a str,
    severity: &'static str,
    code: &'static str,
    message: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    help: Option<&'a str>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    related: Vec<Related<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Related<'a> {
    file: &'a str,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    message: &'a str,
}

pub(super) fn render(diagnostics: &[Located<'_>]) -> String {
    let output = Output {
        diagnostics: diagnostics
            .iter()
            .map(|d| Entry {
                file: d.file.name(),
                severity: d.diagnostic.severity.as_str(),
                code: d.diagnostic.code.as_str(),
                message: &d.diagnostic.message,
                line: d.start.line,
                column: d.start.column,
                end_line: d.end.line,
                end_column: d.end.column,
                help: d.diagnostic.help.as_deref(),
                related: d
                    .diagnostic
                    .related
                    .iter()
                    .map(|r| Related {
                        file: &r.file,
                        line: r.start.line,
                        column: r.start.column,
                        end_line: r.end.line,
                        end_column: r.end.column,
                        message: &r.message,
                    })
                    .collect(),
            })
            .collect(),
    };
    // Serialising plain strings and integers cannot fail; fall back to an empty list.
    let mut out = serde_json::to_string_pretty(&output)
        .unwrap_or_else(|_| r#"{"diagnostics":[]}"#.to_owned());
    out.push('\n');
    out
}
