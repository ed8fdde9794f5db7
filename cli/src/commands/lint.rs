//! `tailpolicy lint`: check policy files and report diagnostics in any `--format`.
//!
//! Per file: read it ([`crate::input`]), [`analyse`] it, apply `// tailpolicy:ignore`
//! comments, apply the configuration (`tailpolicy.toml`), then render everything
//! together. Exit 0 when no file has errors (and no warnings with `--deny-warnings`),
//! 1 when one does (a parse failure is a finding), 2 when the tool could not run
//! (unreadable file or inventory, invalid configuration).

use crate::config::Config;
use crate::dialect_arg::DialectArgs;
use crate::exit::Exit;
use crate::input::{self, Input, InputError};
use crate::render::{self, FileDiagnostics, Format, FormatArgs, RenderOptions};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::path::{Path, PathBuf};
use tailpolicy_compiler::eval::{Tailnet, run_policy_tests};
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::resolve::ResolveOptions;
use tailpolicy_policy::hujson;
use tailpolicy_policy::rules::ALL_RULES;
use tailpolicy_policy::suppress::apply_suppressions;
use tailpolicy_policy::{CheckOptions, Diagnostic, Diagnostics, Dialect, Severity, SourceFile};

/// Arguments of `tailpolicy lint`.
#[derive(Debug, clap::Args)]
pub struct LintArgs {
    /// Policy files to check (`-` reads standard input).
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<String>,
    /// Node inventory to check the policy against (default: `nodes` in tailpolicy.toml).
    #[arg(long, value_name = "INVENTORY")]
    pub nodes: Option<PathBuf>,
    /// Configuration file (default: the nearest tailpolicy.toml above each policy file).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Report only these codes or code prefixes (comma-separated or repeated), instead
    /// of `select` in tailpolicy.toml; selecting `TP11` runs the security audit.
    #[arg(long, value_name = "CODES", value_delimiter = ',')]
    pub select: Vec<String>,
    /// Exit with 1 when there are warnings, not only errors.
    #[arg(long)]
    pub deny_warnings: bool,
    #[command(flatten)]
    pub format: FormatArgs,
    #[command(flatten)]
    pub dialect: DialectArgs,
}

/// One analysed file: the source the diagnostics point into and the diagnostics.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The file. Invalid UTF-8 is replaced; encoding diagnostics point before the first
    /// bad byte, so their spans still hold.
    pub file: SourceFile,
    /// Everything found, before suppression and configuration.
    pub diagnostics: Diagnostics,
}

/// Parses and checks one policy file: **the single place where analysis plugs in**.
/// Everything after it (suppression, configuration, rendering, exit codes) works on
/// its output.
///
/// Text goes through [`tailpolicy_policy::analyse`]; bytes that are not plain UTF-8
/// text (invalid UTF-8, a byte order mark, NUL bytes) go through
/// [`hujson::parse_bytes`], which reports why as diagnostics. `inventory` is the node
/// inventory from `--nodes` or the configuration; nothing reads it yet.
pub fn analyse(
    input: &Input,
    inventory: Option<&Inventory>,
    dialect: Dialect,
    audit: bool,
) -> Analysis {
    let file = SourceFile::new(
        input.name.clone(),
        String::from_utf8_lossy(&input.bytes).into_owned(),
    );
    let Some(text) = plain_text(&input.bytes) else {
        return Analysis {
            file,
            diagnostics: hujson::parse_bytes(&input.bytes).1,
        };
    };
    let options = CheckOptions {
        tailnet_domains: inventory.and_then(tailnet_domains),
        dialect,
        audit,
    };
    let analysis = tailpolicy_policy::analyse(text, &options);
    let mut diagnostics = analysis.diagnostics;
    // Tailscale evaluates `tests` and `sshTests` when it accepts a policy: only a
    // policy without errors gets that far.
    if let Some(policy) = &analysis.policy
        && !diagnostics.has_errors()
        && (!policy.tests.is_empty() || !policy.ssh_tests.is_empty())
    {
        let tailnet = match inventory {
            Some(inv) => Tailnet::from_inventory(policy, inv, ResolveOptions::default()),
            None => Tailnet {
                open_users: true,
                ..Tailnet::default()
            },
        };
        let without_inventory = inventory.is_none();
        diagnostics.extend(
            run_policy_tests(policy, &tailnet)
                .into_iter()
                .filter_map(|o| o.diagnostic)
                .map(|d| {
                    if without_inventory {
                        // Without the tailnet, devices and addresses the policy does not
                        // describe cannot be judged: report, but do not fail the run.
                        d.with_severity(Severity::Warning).with_help(
                            "evaluated without an inventory, by identity only; pass `--nodes` to evaluate against your tailnet as Tailscale does",
                        )
                    } else {
                        d
                    }
                }),
        );
        diagnostics.sort();
    }
    Analysis { file, diagnostics }
}

/// The tailnet's e-mail domain: the owner's, when the inventory names one.
fn tailnet_domains(inventory: &Inventory) -> Option<Vec<String>> {
    let owner = inventory.tailnet_owner.as_deref()?;
    let (_, domain) = owner.rsplit_once('@')?;
    Some(vec![domain.to_owned()])
}

/// A node inventory read once per path: its file and diagnostics (reported like a
/// policy's) and the inventory when it has no errors.
struct LoadedInventory {
    file: SourceFile,
    diagnostics: Vec<Diagnostic>,
    inventory: Option<Inventory>,
    reported: bool,
}

fn read_inventory(input: &Input) -> LoadedInventory {
    let text = String::from_utf8_lossy(&input.bytes).into_owned();
    let (inventory, diagnostics) = tailpolicy_compiler::inventory::load(&text);
    let has_errors = diagnostics.has_errors();
    let mut diagnostics = diagnostics.into_vec();
    diagnostics.sort_by_key(|d| (d.span.start, d.span.end, d.code));
    LoadedInventory {
        file: SourceFile::new(input.name.clone(), text),
        diagnostics,
        inventory: inventory.filter(|_| !has_errors),
        reported: false,
    }
}

/// The bytes as text, unless [`hujson::parse_bytes`] has something to say about the
/// encoding (not UTF-8, a byte order mark, a NUL byte).
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.starts_with('\u{feff}') && !text.contains('\0')).then_some(text)
}

/// Runs `tailpolicy lint`.
pub fn run(args: &LintArgs) -> Exit {
    let options = RenderOptions::from_environment();
    let cwd = options.base_dir.clone().unwrap_or_default();
    let reports = match check_files(
        &args.files,
        args.nodes.as_deref(),
        args.config.as_deref(),
        args.dialect,
        &args.select,
        &cwd,
    ) {
        Ok(reports) => reports,
        Err(errors) => {
            for error in errors {
                eprintln!("error: {error}");
            }
            return Exit::Failure;
        }
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

/// Reads, [`analyse`]s, suppresses and configures every file in `files` (paths, `-`
/// for standard input): what `lint` reports, reusable by other commands. `nodes` and
/// `config` are `--nodes` and `--config`; `cwd` anchors relative paths.
///
/// Errors: every problem that stops the run (unreadable inputs or inventory, invalid
/// configuration), as messages for exit code 2.
pub fn check_files(
    files: &[String],
    nodes: Option<&Path>,
    config: Option<&Path>,
    dialect: DialectArgs,
    select: &[String],
    cwd: &Path,
) -> Result<Vec<(SourceFile, Vec<Diagnostic>)>, Vec<String>> {
    let (inputs, read_errors): (Vec<_>, Vec<_>) = files
        .iter()
        .map(|f| input::read(f))
        .partition(Result::is_ok);
    if !read_errors.is_empty() {
        return Err(read_errors
            .into_iter()
            .filter_map(Result::err)
            .map(|e| e.to_string())
            .collect());
    }
    let inputs: Vec<Input> = inputs.into_iter().filter_map(Result::ok).collect();

    let mut configs = Configs::new(config, cwd);
    let mut inventories: HashMap<PathBuf, LoadedInventory> = HashMap::new();
    let mut errors = Vec::new();
    let mut reports = Vec::new();
    for input in &inputs {
        let config = match configs.for_input(input) {
            Ok(config) => config,
            Err(error) => {
                push_new(&mut errors, error);
                continue;
            }
        };
        let inventory_path = nodes.map(Path::to_owned).or_else(|| config.nodes.clone());
        let inventory = match inventory_path {
            Some(path) => match load_inventory(&mut inventories, &path) {
                Ok(loaded) => {
                    if !loaded.reported && !loaded.diagnostics.is_empty() {
                        loaded.reported = true;
                        reports.push((loaded.file.clone(), loaded.diagnostics.clone()));
                    }
                    loaded.inventory.as_ref()
                }
                Err(error) => {
                    push_new(&mut errors, error.to_string());
                    continue;
                }
            },
            None => None,
        };
        let config = if select.is_empty() {
            config.clone()
        } else {
            match config.clone().with_select(select, ALL_RULES) {
                Ok(c) => c,
                Err(e) => {
                    push_new(&mut errors, e);
                    continue;
                }
            }
        };
        // The security audit (TP11xx) runs when it is selected.
        let audit = config.selects_audit();
        let analysis = analyse(input, inventory, dialect.or(config.dialect), audit);
        let diagnostics = apply_suppressions(&analysis.file, analysis.diagnostics);
        let relative = input
            .path
            .as_deref()
            .map(|p| config.relative_path(p, cwd))
            .unwrap_or_default();
        let mut diagnostics = config.apply(&relative, diagnostics);
        diagnostics.sort();
        reports.push((analysis.file, diagnostics.into_vec()));
    }
    if errors.is_empty() {
        Ok(reports)
    } else {
        Err(errors)
    }
}

/// Adds `error` unless it is already there (several files share a configuration).
fn push_new(errors: &mut Vec<String>, error: String) {
    if !errors.contains(&error) {
        errors.push(error);
    }
}

fn load_inventory<'a>(
    cache: &'a mut HashMap<PathBuf, LoadedInventory>,
    path: &Path,
) -> Result<&'a mut LoadedInventory, InputError> {
    match cache.entry(path.to_owned()) {
        Entry::Occupied(entry) => Ok(entry.into_mut()),
        Entry::Vacant(entry) => {
            let input = input::read(&path.to_string_lossy())?;
            Ok(entry.insert(read_inventory(&input)))
        }
    }
}

/// Configuration lookup: `--config` for every file, or discovery per directory.
struct Configs {
    explicit: Option<Result<Config, String>>,
    cwd: PathBuf,
    by_path: HashMap<PathBuf, Result<Config, String>>,
    defaults: Config,
}

impl Configs {
    fn new(explicit: Option<&Path>, cwd: &Path) -> Self {
        Self {
            explicit: explicit.map(|p| Config::load(p, ALL_RULES).map_err(|e| e.to_string())),
            cwd: cwd.to_owned(),
            by_path: HashMap::new(),
            defaults: Config::default(),
        }
    }

    fn for_input(&mut self, input: &Input) -> Result<&Config, String> {
        if let Some(explicit) = &self.explicit {
            return explicit.as_ref().map_err(Clone::clone);
        }
        let dir = match &input.path {
            Some(path) => self
                .cwd
                .join(path)
                .parent()
                .map(Path::to_owned)
                .unwrap_or_default(),
            None => self.cwd.clone(),
        };
        let Some(found) = Config::discover(&dir) else {
            return Ok(&self.defaults);
        };
        let entry = self
            .by_path
            .entry(found.clone())
            .or_insert_with(|| Config::load(&found, ALL_RULES).map_err(|e| e.to_string()));
        entry.as_ref().map_err(Clone::clone)
    }
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
