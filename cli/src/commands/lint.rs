//! `tailpolicy lint`: check policy files and report diagnostics in any `--format`.
//!
//! Each file (or, with no file, the fragments `[policy] files` lists) is loaded into the
//! analysis host, which parses, merges, checks, runs the `tests`, applies
//! `// tailpolicy:ignore` comments and the configuration; everything is then rendered
//! together. A file that is one fragment of a multi-file policy is linted as that whole
//! policy. Exit 0 when no file has errors (and no warnings with `--deny-warnings`), 1
//! when one does (a parse failure is a finding), 2 when the tool could not run
//! (unreadable file or inventory, invalid configuration).

use crate::exit::Exit;
use crate::load::{PolicyArgs, open_request};
use crate::render::{self, FileDiagnostics, Format, FormatArgs, RenderOptions};
use std::path::PathBuf;
use tailpolicy_policy::rules::ALL_RULES;
use tailpolicy_policy::{Diagnostic, Severity, SourceFile};

/// Arguments of `tailpolicy lint`.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Policy files to check (`-` reads standard input). Default: the fragments listed
    /// under `[policy] files` in tailpolicy.toml.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// Node inventory to check the policy against (default: `nodes` in tailpolicy.toml).
    #[arg(long, value_name = "INVENTORY")]
    pub nodes: Option<PathBuf>,
    /// Configuration file (default: the nearest tailpolicy.toml above each policy file).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
    /// Report only these codes or code prefixes (comma-separated or repeated), instead
    /// of `select` in tailpolicy.toml; selecting `TP11` runs the security audit.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Exit with 1 when there are warnings, not only errors.
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub format: FormatArgs,
}

/// Runs `tailpolicy lint`.
pub fn run(args: &LintArgs) -> Exit {
    let options = RenderOptions::from_environment();
    let reports = match check_files(args) {
        Ok(reports) => reports,
        Err(exit) => return exit,
    };
    let files: Vec<FileDiagnostics<'_>> = reports
        .iter()
        .map(|(file, diagnostics)| FileDiagnostics { file, diagnostics })
        .collect();
    if let Err(error) = render::emit(args.format.format, &files, &options) {
        eprintln!("error: cannot write the report: {error}");
        return Exit::Failure;
    }
    if matches!(args.format.format, Format::Full | Format::Concise) {
        eprintln!("{}", render::summary_line(&files));
    }
    exit_for(reports.iter().flat_map(|(_, d)| d), args.deny_warnings)
}

/// 1 when any diagnostic is an error (or a warning, with `deny_warnings`), else 0.
pub fn exit_for<'a>(
    diagnostics: impl IntoIterator<Item = &'a Diagnostic>,
    deny_warnings: bool,
) -> Exit {
    let fails = |d: &Diagnostic| {
        d.severity == Severity::Error || (deny_warnings && d.severity == Severity::Warning)
    };
    if diagnostics.into_iter().any(fails) {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

/// Every file's report: each argument's workspace (a multi-file policy once, however
/// many of its fragments are named), the inventory once.
fn check_files(args: &LintArgs) -> Result<Vec<(SourceFile, Vec<Diagnostic>)>, Exit> {
    let policies: Vec<Option<String>> = if args.files.is_empty() {
        vec![None]
    } else {
        args.files.iter().cloned().map(Some).collect()
    };
    let mut reports: Vec<(SourceFile, Vec<Diagnostic>)> = Vec::new();
    let mut failed = false;
    for policy in policies {
        let request = PolicyArgs {
            policy,
            nodes: args.nodes.clone(),
            config: args.config.clone(),
            dialect: args.dialect,
        }
        .request();
        let mut ws = match open_request(&request) {
            Ok(ws) => ws,
            Err(_) => {
                failed = true;
                continue;
            }
        };
        if !args.select.is_empty() {
            match ws.config().clone().with_select(&args.select, ALL_RULES) {
                Ok(config) => ws.set_config(config),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Err(Exit::Failure);
                }
            }
        }
        let report = ws.report();
        let seen = |reports: &[(SourceFile, Vec<Diagnostic>)], name: &str| {
            reports.iter().any(|(f, _)| f.name() == name)
        };
        // A fragment named twice (or twice through its policy) is reported once.
        if ws.fragment_inputs().count() > 1 && ws.fragment_inputs().all(|f| seen(&reports, &f.name))
        {
            continue;
        }
        for file in &report.files {
            if file.fragment.is_none() && seen(&reports, file.file.name()) {
                continue;
            }
            reports.push((file.file.clone(), file.diagnostics.clone()));
        }
    }
    if failed {
        return Err(Exit::Failure);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::fixtures::{NOTE, UNDEFINED, UNUSED};
    use tailpolicy_policy::{Code, Rule, Span};

    fn one(rule: &'static Rule) -> Vec<Diagnostic> {
        vec![Diagnostic::new(Code(rule), Span::empty(0), "m")]
    }

    #[test]
    fn exit_codes() {
        assert_eq!(exit_for(&[], false), Exit::Clean);
        assert_eq!(exit_for(&one(&UNDEFINED), false), Exit::Findings);
        assert_eq!(exit_for(&one(&UNUSED), false), Exit::Clean);
        assert_eq!(exit_for(&one(&UNUSED), true), Exit::Findings);
        assert_eq!(exit_for(&one(&NOTE), true), Exit::Clean);
    }
}
