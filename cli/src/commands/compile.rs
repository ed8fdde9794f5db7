//! `tailpolicy compile [POLICY] --nodes FILE [--node NAME]... [--format json|pretty]`:
//! prints what Tailscale's control plane would send each node, as
//! `{"nodes": {"<name>": {"packetFilter": [...], "sshPolicy": {...} | null,
//! "approvedRoutes": [...]}}}` with tailcfg's JSON field names.
//!
//! Exit 0 with the output; 1 when the policy or the inventory has errors (printed as
//! `file:line:col: error[CODE] message` lines on stderr) or a `--node` is unknown; 2
//! when a file cannot be read or no inventory is given.

use crate::exit::Exit;
use crate::load::{PolicyArgs, open, require_valid};
use tailpolicy_compiler::OutputJson;
use tailpolicy_policy::Dialect;
use tailpolicy_workspace::Unavailable;

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
    #[command(flatten)]
    pub input: PolicyArgs,
    /// Only print these nodes (repeatable).
    #[arg(long = "node", value_name = "NAME")]
    pub node: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Pretty)]
    pub format: OutputFormat,
}

/// Runs `tailpolicy compile`.
pub fn run(args: &CompileArgs) -> Exit {
    match compile(args) {
        Ok(exit) | Err(exit) => exit,
    }
}

fn compile(args: &CompileArgs) -> Result<Exit, Exit> {
    let ws = open(&args.input)?;
    require_valid(&ws)?;
    if ws.dialect() == Dialect::Headscale
        && ws.policy().is_some_and(|p| p.is_allow_all_default())
        && args.format == OutputFormat::Pretty
    {
        eprintln!(
            "note: the policy has neither `acls` nor `grants`: headscale allows the literal source `*` (juanfont/headscale#3211), where Tailscale expands `*` to the tailnet's ranges and routes"
        );
    }
    let compiler = match ws.compiler() {
        Ok(c) => c,
        Err(Unavailable::NoInventory) => {
            eprintln!(
                "error: `compile` needs a node inventory: pass `--nodes FILE` or set `nodes` in tailpolicy.toml"
            );
            return Err(Exit::Failure);
        }
        Err(_) => return require_valid(&ws).map(|()| Exit::Findings),
    };
    let inventory_name = ws
        .inventory_input()
        .map(|i| i.name.clone())
        .unwrap_or_default();
    let unknown: Vec<&String> = args
        .node
        .iter()
        .filter(|n| compiler.inventory().node(n).is_none())
        .collect();
    if !unknown.is_empty() {
        for n in unknown {
            eprintln!("error: no node called `{n}` in `{inventory_name}`");
        }
        return Err(Exit::Findings);
    }
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
            let _ = crate::stdout::print_out(&format!("{t}\n"));
            Ok(Exit::Clean)
        }
        Err(e) => {
            eprintln!("error: cannot serialise the output: {e}");
            Err(Exit::Failure)
        }
    }
}
