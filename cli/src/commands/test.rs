//! `tailpolicy test`: run the policy's `tests` and `sshTests` as Tailscale does when the
//! policy is saved (policy-spec §6), and report every assertion with the rule that
//! decided it and the entry's `line:column`.
//!
//! Exit 0 when every test passes, 1 when one fails (or the policy has errors), 2 when
//! the tool could not run (unreadable policy or inventory).

use crate::exit::Exit;
use crate::load::{
    PolicyArgs, localize, open, origin_json, origin_text, position, require_valid_except,
};
use crate::render::{self, FileDiagnostics, RenderOptions};
use serde_json::{Value, json};
use tailpolicy_compiler::eval::{TestOutcome, run_policy_tests};
use tailpolicy_policy::codes::check as cc;
use tailpolicy_policy::{CheckOptions, Diagnostic};
use tailpolicy_workspace::SourceMap;

/// Output formats of `tailpolicy test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// One line per assertion, then the failures as full diagnostics.
    Full,
    /// A JSON document (see the module documentation of `commands::test`).
    Json,
    /// JUnit XML, one test case per `tests`/`sshTests` entry, for CI test views.
    Junit,
}

/// Arguments of `tailpolicy test`.
#[derive(Debug, clap::Args)]
pub struct TestArgs {
    /// The policy and the inventory. Without an inventory users are judged by identity
    /// alone (no unknown-user failures) and tags have no devices.
    #[command(flatten)]
    pub input: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Full)]
    pub format: TestFormat,
}

/// The codes `test` reports itself rather than refusing the policy for.
const TEST_CODES: &[&str] = &[
    cc::TEST_FAILED.code,
    cc::MALFORMED_TEST.code,
    cc::SSH_TEST_FAILED.code,
    cc::MALFORMED_SSH_TEST.code,
];

/// Runs `tailpolicy test`.
pub fn run(args: &TestArgs) -> Exit {
    let ws = match open(&args.input) {
        Ok(ws) => ws,
        Err(exit) => return exit,
    };
    if let Err(exit) = require_valid_except(&ws, TEST_CODES) {
        return exit;
    }
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Exit::Findings;
    };
    let map = ws.source_map();
    let outcomes = run_policy_tests(&policy, &tailnet);
    // The checker's reports of malformed entries, then the runner's failures.
    let mut diagnostics: Vec<Diagnostic> =
        tailpolicy_policy::check(&policy, &CheckOptions::default())
            .into_vec()
            .into_iter()
            .filter(|d| {
                d.code == cc::MALFORMED_TEST.as_code() || d.code == cc::MALFORMED_SSH_TEST.as_code()
            })
            .collect();
    diagnostics.extend(outcomes.iter().filter_map(|o| o.diagnostic.clone()));
    let failed = outcomes.iter().filter(|o| !o.passed).count();
    let out = match args.format {
        TestFormat::Full => full(&map, &outcomes),
        TestFormat::Json => json_report(&map, &outcomes, &diagnostics),
        TestFormat::Junit => junit(&map, &outcomes),
    };
    let _ = crate::stdout::print_out(&out);
    if args.format == TestFormat::Full {
        if !diagnostics.is_empty() {
            let _ = crate::stdout::print_out("\n");
            let local = localize(&map, diagnostics);
            let files: Vec<FileDiagnostics<'_>> = local
                .iter()
                .map(|(file, diagnostics)| FileDiagnostics { file, diagnostics })
                .collect();
            let _ = render::emit(
                render::Format::Full,
                &files,
                &RenderOptions::from_environment(),
            );
        }
        eprintln!(
            "{} of {} test entries passed",
            outcomes.len() - failed,
            outcomes.len(),
        );
    }
    if failed > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

fn entry_name(o: &TestOutcome) -> String {
    format!(
        "{}[{}] {}",
        o.origin.section.key(),
        o.origin.index,
        o.src.as_ref().map_or("(no src)", |s| s.value.as_str())
    )
}

/// The `full` report: one line per entry and per assertion.
pub fn full(file: &SourceMap, outcomes: &[TestOutcome]) -> String {
    let mut out = String::new();
    if outcomes.is_empty() {
        out.push_str("no tests or sshTests in the policy\n");
    }
    for o in outcomes {
        let verdict = if o.passed { "PASS" } else { "FAIL" };
        out.push_str(&format!(
            "{verdict} {}: {}{}\n",
            position(file, o.origin.span.0),
            entry_name(o),
            if o.malformed { " (malformed)" } else { "" }
        ));
        for a in &o.assertions {
            let mark = if a.passed { "ok  " } else { "FAIL" };
            let rules: Vec<String> = a.rules.iter().map(|r| origin_text(file, r)).collect();
            let by = if rules.is_empty() {
                String::new()
            } else {
                format!(" — by {}", rules.join(", "))
            };
            out.push_str(&format!(
                "  {mark} {} {} at {}{by}\n",
                a.expect.key(),
                a.target.value,
                position(file, a.target.span),
            ));
            if let Some(f) = &a.failure {
                out.push_str(&format!("       {f}\n"));
            }
        }
    }
    out
}

/// The `json` report.
pub fn json_report(
    file: &SourceMap,
    outcomes: &[TestOutcome],
    diagnostics: &[Diagnostic],
) -> String {
    let tests: Vec<Value> = outcomes
        .iter()
        .map(|o| {
            let lc = file.line_col(o.origin.span.0.start);
            json!({
                "section": o.origin.section.key(),
                "index": o.origin.index,
                "file": file.file_name(o.origin.span.0.start),
                "line": lc.line,
                "column": lc.column,
                "src": o.src.as_ref().map(|s| s.value.clone()),
                "passed": o.passed,
                "malformed": o.malformed,
                "assertions": o.assertions.iter().map(|a| {
                    let lc = file.line_col(a.target.span.start);
                    json!({
                        "expect": a.expect.key(),
                        "target": a.target.value,
                        "line": lc.line,
                        "column": lc.column,
                        "passed": a.passed,
                        "rules": a.rules.iter().map(|r| origin_json(file, r)).collect::<Vec<_>>(),
                        "failure": a.failure,
                    })
                }).collect::<Vec<_>>(),
                "message": o.diagnostic.as_ref().map(|d| d.message.clone()),
            })
        })
        .collect();
    let diags: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let lc = file.line_col(d.span.start);
            json!({"code": d.code.to_string(), "message": d.message, "file": file.file_name(d.span.start), "line": lc.line, "column": lc.column})
        })
        .collect();
    let doc = json!({
        "file": file.name(),
        "passed": outcomes.iter().all(|o| o.passed),
        "tests": tests,
        "diagnostics": diags,
        "other_errors": 0,
    });
    let mut s = serde_json::to_string_pretty(&doc).unwrap_or_default();
    s.push('\n');
    s
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// The `junit` report: one `<testcase>` per entry.
pub fn junit(file: &SourceMap, outcomes: &[TestOutcome]) -> String {
    let failures = outcomes.iter().filter(|o| !o.passed).count();
    let name = xml_escape(&file.name());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"tailpolicy\" tests=\"{}\" failures=\"{failures}\">\n  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\">\n",
        outcomes.len(),
        outcomes.len()
    ));
    for o in outcomes {
        let lc = file.line_col(o.origin.span.0.start);
        out.push_str(&format!(
            "    <testcase classname=\"{name}\" name=\"{}\" file=\"{}\" line=\"{}\"",
            xml_escape(&entry_name(o)),
            xml_escape(file.file_name(o.origin.span.0.start)),
            lc.line
        ));
        if o.passed {
            out.push_str("/>\n");
            continue;
        }
        let message = o.diagnostic.as_ref().map_or_else(
            || "test(s) failed: malformed entry (see `tailpolicy lint`)".to_owned(),
            |d| d.message.clone(),
        );
        let mut body = String::new();
        for a in o.assertions.iter().filter(|a| !a.passed) {
            body.push_str(&format!(
                "{} {} at {}: {}\n",
                a.expect.key(),
                a.target.value,
                position(file, a.target.span),
                a.failure.as_deref().unwrap_or_default()
            ));
        }
        out.push_str(&format!(
            ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
            xml_escape(&message),
            xml_escape(&body)
        ));
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}
