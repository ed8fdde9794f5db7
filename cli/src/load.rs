//! How every command opens its input: through the analysis host
//! ([`tailpolicy_workspace::Workspace`]), loaded by [`tailpolicy_workspace::fs`].
//!
//! One argument set ([`PolicyArgs`]), one loader ([`open`]), one refusal
//! ([`require_valid`]): the same broken input prints the same
//! `file:line:col: error[CODE] message` lines and exits 1 whichever command reads it.
//! Rule references print through the source map, so they name the fragment and line
//! where the rule is written.

use crate::dialect_arg::DialectArgs;
use crate::exit::Exit;
use crate::render::{self, FileDiagnostics, Format, RenderOptions};
use serde_json::{Value, json};
use std::path::PathBuf;
use tailpolicy_policy::model::{Origin, Section};
use tailpolicy_policy::{Diagnostic, Span};
use tailpolicy_workspace::fs::{self, LoadRequest};
use tailpolicy_workspace::{NodeFilterError, SourceMap, Workspace};

/// The arguments every command that reads a policy takes.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct PolicyArgs {
    /// The policy file (`-` reads standard input). Default: the fragments listed under
    /// `[policy] files` in tailpolicy.toml.
    #[arg(value_name = "POLICY")]
    pub policy: Option<String>,
    /// The node inventory: tailpolicy's format, `tailscale status --json` output, or the
    /// API's device list (detected automatically). Default: `nodes` in tailpolicy.toml.
    #[arg(long, value_name = "FILE")]
    pub nodes: Option<PathBuf>,
    /// Configuration file (default: the nearest tailpolicy.toml above the policy).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: DialectArgs,
}

impl PolicyArgs {
    /// The load request for these arguments.
    pub fn request(&self) -> LoadRequest {
        LoadRequest {
            policy: self.policy.clone(),
            nodes: self.nodes.clone(),
            config: self.config.clone(),
            cwd: std::env::current_dir().unwrap_or_default(),
            dialect: self.dialect.dialect,
        }
    }
}

/// Loads the workspace `args` name. On failure prints `error: …` and returns exit 2.
pub fn open(args: &PolicyArgs) -> Result<Workspace, Exit> {
    open_request(&args.request())
}

/// [`open`] for an explicit request.
pub fn open_request(request: &LoadRequest) -> Result<Workspace, Exit> {
    fs::load(request).map(|l| l.workspace).map_err(|e| {
        eprintln!("error: {e}");
        Exit::Failure
    })
}

/// Refuses a workspace whose policy or inventory has errors: prints every error as a
/// concise line on stderr, then a summary, and returns exit 1.
pub fn require_valid(ws: &Workspace) -> Result<(), Exit> {
    require_valid_except(ws, &[])
}

/// [`require_valid`], not counting the codes in `except` (what the command itself
/// reports, like `test` does failing tests).
pub fn require_valid_except(ws: &Workspace, except: &[&str]) -> Result<(), Exit> {
    let report = ws.report();
    let counts = |d: &Diagnostic| d.is_error() && !except.contains(&d.code.as_str());
    if !report.iter().any(|(_, d)| counts(d)) {
        return Ok(());
    }
    let errors: Vec<(tailpolicy_policy::SourceFile, Vec<Diagnostic>)> = report
        .files
        .iter()
        .map(|f| {
            (
                f.file.clone(),
                f.diagnostics
                    .iter()
                    .filter(|d| counts(d))
                    .cloned()
                    .collect(),
            )
        })
        .filter(|(_, d): &(_, Vec<Diagnostic>)| !d.is_empty())
        .collect();
    let files: Vec<FileDiagnostics<'_>> = errors
        .iter()
        .map(|(file, diagnostics)| FileDiagnostics { file, diagnostics })
        .collect();
    let rendered = render::render(Format::Concise, &files, &RenderOptions::from_environment());
    eprint!("{}", rendered.stdout);
    eprintln!(
        "error: {}; see `tailpolicy lint` for details",
        render::summary_line(&files)
    );
    Err(Exit::Findings)
}

/// Diagnostics with global spans (from the evaluator over the merged policy), grouped
/// by the fragment they point into, spans made local: ready to render.
pub fn localize(
    map: &SourceMap,
    diagnostics: impl IntoIterator<Item = Diagnostic>,
) -> Vec<(tailpolicy_policy::SourceFile, Vec<Diagnostic>)> {
    let mut out: Vec<(tailpolicy_policy::SourceFile, Vec<Diagnostic>)> =
        map.files().map(|(_, f)| (f.clone(), Vec::new())).collect();
    for mut d in diagnostics {
        let Some((file, span)) = map.resolve(d.span) else {
            continue;
        };
        d.span = span;
        for label in &mut d.labels {
            label.span = map.resolve(label.span).map_or(span, |(_, s)| s);
        }
        if let Some((_, list)) = out.get_mut(file.0) {
            list.push(d);
        }
    }
    out.retain(|(_, d)| !d.is_empty());
    out
}

/// Refuses (exit 2) a workspace without an inventory, for `command` that needs one.
pub fn require_inventory(ws: &Workspace, command: &str) -> Result<(), Exit> {
    if ws.inventory_input().is_some() {
        return Ok(());
    }
    eprintln!(
        "error: `{command}` needs a node inventory: pass `--nodes FILE` or set `nodes` in tailpolicy.toml"
    );
    Err(Exit::Failure)
}

/// Reports why a node's filter is unavailable; returns the exit code (1 for an
/// unknown node or errors, 2 when the tool could not run).
pub fn node_filter_error(ws: &Workspace, e: &NodeFilterError) -> Exit {
    match e {
        NodeFilterError::Unavailable(_) => require_valid(ws).err().unwrap_or(Exit::Failure),
        NodeFilterError::UnknownNode(name) => {
            let inventory = ws
                .inventory_input()
                .map(|i| i.name.clone())
                .unwrap_or_default();
            eprintln!("error: no node called `{name}` in `{inventory}`");
            Exit::Findings
        }
        NodeFilterError::BadLocalAddress(a) => {
            eprintln!("error: local address `{a}` cannot be used by the filter");
            Exit::Failure
        }
    }
}

/// `file:line:col` of a (global) span's start.
pub fn position(map: &SourceMap, span: Span) -> String {
    map.position(span)
}

/// A rule reference as JSON: section, index, file, line, column.
pub fn origin_json(map: &SourceMap, o: &Origin) -> Value {
    let lc = map.line_col(o.span.0.start);
    json!({
        "section": o.section.key(),
        "index": o.index,
        "file": map.file_name(o.span.0.start),
        "line": lc.line,
        "column": lc.column,
    })
}

/// `acls[3] (policy.hujson:42:5)`.
pub fn origin_text(map: &SourceMap, o: &Origin) -> String {
    if o.section == Section::Default {
        return "the default allow-all (no `acls` or `grants`)".to_owned();
    }
    format!(
        "{}[{}] ({})",
        o.section.key(),
        o.index,
        position(map, o.span.0)
    )
}

/// `acls[3] policy.hujson:42:5`: a rule reference in one token run, for tables and
/// tooltips.
pub fn origin_short(map: &SourceMap, o: &Origin) -> String {
    format!(
        "{}[{}] {}",
        o.section.key(),
        o.index,
        position(map, o.span.0)
    )
}

/// Prints a command's text output (exit 0), or its error (exit 2).
pub fn print_answer(answer: Result<String, String>) -> Exit {
    match answer {
        Ok(text) => {
            let _ = crate::stdout::print_out(&text);
            Exit::Clean
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}
