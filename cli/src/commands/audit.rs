//! `tailpolicy audit`: the security audit of a policy ([`tailpolicy_compiler::audit`]):
//! findings with their risk and fix, and per user and tag what it can reach, as
//! Markdown (default), JSON or CSV. Exit 0 with no findings, 1 with findings or when
//! the policy has errors, 2 when a file cannot be read.

use crate::exit::Exit;
use crate::load::{PolicyArgs, open, require_valid};
use std::fmt::Write as _;
use tailpolicy_compiler::audit::{AuditReport, build};
use tailpolicy_workspace::SourceMap;

/// Arguments of `tailpolicy audit`.
#[derive(Debug, clap::Args)]
pub struct AuditArgs {
    /// The policy and (optionally) the inventory; without an inventory the report has
    /// no reach section.
    #[command(flatten)]
    pub input: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = AuditFormat::Markdown)]
    pub format: AuditFormat,
}

/// `--format` of `tailpolicy audit`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum AuditFormat {
    /// A Markdown document.
    Markdown,
    /// One JSON object.
    Json,
    /// CSV rows: `section,code,subject,destination,proto,ports,message`.
    Csv,
}

/// Runs `tailpolicy audit`.
pub fn run(args: &AuditArgs) -> Exit {
    let ws = match open(&args.input) {
        Ok(ws) => ws,
        Err(exit) => return exit,
    };
    if let Err(exit) = require_valid(&ws) {
        return exit;
    }
    let Some(policy) = ws.policy() else {
        return Exit::Findings;
    };
    let inventory = ws
        .inventory()
        .and_then(|i| i.inventory.clone())
        .map(|mut inv| {
            inv.adopt_policy_users(&policy);
            inv
        });
    let report = build(&policy, inventory.as_ref());
    let map = ws.source_map();
    let text = match args.format {
        AuditFormat::Markdown => markdown(&report, &map),
        AuditFormat::Json => json(&report, &map),
        AuditFormat::Csv => csv(&report, &map),
    };
    let _ = crate::stdout::print_out(&text);
    if report.findings.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    }
}

fn position(file: &SourceMap, span: tailpolicy_policy::Span) -> String {
    file.position(span)
}

/// The report as Markdown.
pub fn markdown(report: &AuditReport, file: &SourceMap) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Security audit of `{}`\n", file.name());
    let _ = writeln!(out, "## Findings\n");
    if report.findings.is_empty() {
        let _ = writeln!(out, "No findings.\n");
    }
    for f in &report.findings {
        let _ = writeln!(
            out,
            "- **{} {}** ({}): {}",
            f.code,
            f.name,
            position(file, f.span),
            f.message
        );
        if let Some(h) = &f.help {
            let _ = writeln!(out, "  - fix: {h}");
        }
    }
    if !report.findings.is_empty() {
        let _ = writeln!(
            out,
            "\nRun `tailpolicy explain CODE` for the risk and the fix of each code.\n"
        );
    }
    let _ = writeln!(out, "## Reach\n");
    if !report.with_inventory {
        let _ = writeln!(
            out,
            "No inventory was given (`--nodes`): there are no devices to reach."
        );
        return out;
    }
    for s in &report.reach {
        let _ = writeln!(out, "### {} `{}`\n", s.kind, s.subject);
        if s.destinations.is_empty() {
            let _ = writeln!(out, "Reaches nothing.\n");
            continue;
        }
        let _ = writeln!(out, "| destination | proto | ports |\n|---|---|---|");
        for d in &s.destinations {
            let _ = writeln!(out, "| {} | {} | {} |", d.destination, d.proto, d.ports);
        }
        out.push('\n');
    }
    out
}

/// The report as one JSON object (with each finding's position).
pub fn json(report: &AuditReport, file: &SourceMap) -> String {
    let findings: Vec<serde_json::Value> = report
        .findings
        .iter()
        .map(|f| {
            let at = file.line_col(f.span.start);
            serde_json::json!({
                "code": f.code, "name": f.name, "message": f.message, "help": f.help,
                "file": file.file_name(f.span.start), "line": at.line, "column": at.column,
            })
        })
        .collect();
    let value = serde_json::json!({
        "findings": findings,
        "reach": report.reach,
        "withInventory": report.with_inventory,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The report as CSV: findings rows, then reach rows.
pub fn csv(report: &AuditReport, file: &SourceMap) -> String {
    let mut out = String::from("section,code,subject,destination,proto,ports,message\n");
    for f in &report.findings {
        let row = [
            "finding",
            f.code,
            &position(file, f.span),
            "",
            "",
            "",
            &f.message,
        ];
        let _ = writeln!(out, "{}", row.map(csv_field).join(","));
    }
    for s in &report.reach {
        for d in &s.destinations {
            let subject = format!("{} {}", s.kind, s.subject);
            let row = [
                "reach",
                "",
                &subject,
                &d.destination,
                &d.proto,
                &d.ports,
                "",
            ];
            let _ = writeln!(out, "{}", row.map(csv_field).join(","));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;

    use tailpolicy_compiler::inventory;
    use tailpolicy_policy::{CheckOptions, SourceFile};

    fn example() -> (AuditReport, SourceMap) {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/audit");
        let text = std::fs::read_to_string(format!("{root}/policy.hujson")).unwrap();
        let nodes = std::fs::read_to_string(format!("{root}/nodes.json")).unwrap();
        let analysis = tailpolicy_policy::analyse(&text, &CheckOptions::default());
        assert!(!analysis.diagnostics.has_errors());
        let policy = analysis.policy.unwrap();
        let inv = inventory::load(&nodes).0.unwrap();
        let map =
            SourceMap::new(vec![SourceFile::new("testdata/audit/policy.hujson", text)]).unwrap();
        (build(&policy, Some(&inv)), map)
    }

    #[test]
    fn markdown_report() {
        let (report, file) = example();
        insta::assert_snapshot!(markdown(&report, &file));
    }

    #[test]
    fn json_report() {
        let (report, file) = example();
        insta::assert_snapshot!(json(&report, &file));
    }

    #[test]
    fn csv_report() {
        let (report, file) = example();
        insta::assert_snapshot!(csv(&report, &file));
    }
}
