//! `tailpolicy compile POLICY --nodes FILE [--node NAME]... [--format json|pretty]`:
//! prints what Tailscale's control plane would send each node, as
//! `{"nodes": {"<name>": {"packetFilter": [...], "sshPolicy": {...} | null,
//! "approvedRoutes": [...]}}}` with tailcfg's JSON field names.
//!
//! Exit 0 with the output; 1 with diagnostics (rendered on stderr) when the policy or
//! the inventory has errors, or a `--node` is unknown; 2 when a file cannot be read.

use crate::exit::Exit;
use crate::input::{self, Input};
use crate::render::{self, FileDiagnostics, Format, RenderOptions};
use std::path::PathBuf;
use tailpolicy_compiler::compile::OutputJson;
use tailpolicy_compiler::{CompileOptions, Compiler, inventory};
use tailpolicy_policy::{CheckOptions, Diagnostics, Dialect, SourceFile};

/// Output formats of `compile`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// Compact JSON on one line.
    Json,
    /// Indented JSON.
    Pretty,
}

/// Arguments of `tailpolicy compile`.
#[derive(Debug, clap::Args)]
pub struct CompileArgs {
    /// The policy file (`-` reads standard input).
    #[arg(value_name = "POLICY")]
    pub policy: String,
    /// The node inventory: tailpolicy's format, `tailscale status --json` output, or the
    /// API's device list (detected automatically).
    #[arg(long, value_name = "FILE")]
    pub nodes: PathBuf,
    /// Only print these nodes (repeatable).
    #[arg(long = "node", value_name = "NAME")]
    pub node: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Pretty)]
    pub format: OutputFormat,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
}

/// Runs `tailpolicy compile`.
pub fn run(args: &CompileArgs) -> Exit {
    let policy_input = match input::read(&args.policy) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failure;
        }
    };
    let inventory_input = match input::read(&args.nodes.to_string_lossy()) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failure;
        }
    };
    let (inventory_file, inventory_text) = source_of(&inventory_input);
    let (inventory, inventory_diags) = inventory::load(&inventory_text);
    let inventory = inventory.unwrap_or_default();
    let (policy_file, policy_text) = source_of(&policy_input);
    let options = CheckOptions {
        tailnet_domains: inventory.tailnet_domain().map(|d| vec![d.to_owned()]),
        dialect: args.dialect.or(None),
        ..CheckOptions::default()
    };
    let analysis = tailpolicy_policy::analyse(&policy_text, &options);
    let failed = analysis.diagnostics.has_errors() || inventory_diags.has_errors();
    report(&[
        (&policy_file, &analysis.diagnostics),
        (&inventory_file, &inventory_diags),
    ]);
    let Some(policy) = analysis.policy.filter(|_| !failed) else {
        return Exit::Findings;
    };
    let unknown: Vec<&String> = args
        .node
        .iter()
        .filter(|n| inventory.node(n).is_none())
        .collect();
    if !unknown.is_empty() {
        for n in unknown {
            eprintln!("error: no node called `{n}` in `{}`", inventory_file.name());
        }
        return Exit::Findings;
    }
    // headscale listings name users several ways; take the spelling the policy uses.
    let mut inventory = inventory;
    inventory.adopt_policy_users(&policy);
    let dialect = args.dialect.or(None);
    if dialect == Dialect::Headscale
        && policy.is_allow_all_default()
        && args.format == OutputFormat::Pretty
    {
        eprintln!(
            "note: the policy has neither `acls` nor `grants`: headscale allows the literal source `*` (juanfont/headscale#3211), where Tailscale expands `*` to the tailnet's ranges and routes"
        );
    }
    let options = CompileOptions {
        dialect,
        ..CompileOptions::default()
    };
    let compiler = Compiler::new(&policy, inventory, options);
    let output = OutputJson::new(
        compiler
            .nodes()
            .iter()
            .filter(|n| args.node.is_empty() || args.node.contains(&n.name)),
    );
    let text = match args.format {
        OutputFormat::Json => serde_json::to_string(&output),
        OutputFormat::Pretty => serde_json::to_string_pretty(&output),
    };
    match text {
        Ok(t) => {
            use std::io::Write as _;
            let mut out = std::io::stdout().lock();
            // A closed pipe (`| head`) is not an error of ours.
            let _ = writeln!(out, "{t}").and_then(|()| out.flush());
            Exit::Clean
        }
        Err(e) => {
            eprintln!("error: cannot serialise the output: {e}");
            Exit::Failure
        }
    }
}

fn source_of(input: &Input) -> (SourceFile, String) {
    let text = String::from_utf8_lossy(&input.bytes).into_owned();
    (SourceFile::new(input.name.clone(), text.clone()), text)
}

/// Renders the diagnostics of both files on stderr (the rich `full` format).
fn report(files: &[(&SourceFile, &Diagnostics)]) {
    let owned: Vec<(&SourceFile, Vec<tailpolicy_policy::Diagnostic>)> = files
        .iter()
        .filter(|(_, d)| !d.is_empty())
        .map(|(f, d)| (*f, d.iter().cloned().collect()))
        .collect();
    if owned.is_empty() {
        return;
    }
    let list: Vec<FileDiagnostics<'_>> = owned
        .iter()
        .map(|(file, diagnostics)| FileDiagnostics { file, diagnostics })
        .collect();
    use std::io::IsTerminal as _;
    let mut options = RenderOptions::from_environment();
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    options.full_style = render::FullStyle::detect(std::io::stderr().is_terminal(), no_color);
    let rendered = render::render(Format::Full, &list, &options);
    eprint!("{}", rendered.stdout);
    eprintln!("{}", render::summary_line(&list));
}
