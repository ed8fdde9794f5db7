//! `tailpolicy mcp`: the Model Context Protocol over stdio (tools validate, preview,
//! reach, diff, explain; `replace_policy` with `--allow-write`), on the policy that
//! `tailpolicy serve` would serve (crate `tailpolicy-serve`, module `mcp`).

use crate::commands::serve::open_store;
use crate::exit::Exit;
use crate::load::PolicyArgs;
use std::path::PathBuf;

/// Arguments of `tailpolicy mcp`.
#[derive(Debug, clap::Args)]
pub struct McpArgs {
    /// The policy and the node inventory (when `--state` has no version).
    #[command(flatten)]
    pub input: PolicyArgs,
    /// The state directory of `tailpolicy serve`: start from its newest version.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Offer `replace_policy`, which stores a new version in `--state`.
    #[arg(long, requires = "state")]
    pub allow_write: bool,
}

/// Runs `tailpolicy mcp` until standard input ends.
pub fn run(args: &McpArgs) -> Exit {
    let store = match open_store(&args.input, args.state.as_ref()) {
        Ok(store) => store,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failure;
        }
    };
    let server = tailpolicy_serve::mcp::Mcp::new(store, args.allow_write);
    match server.serve(std::io::stdin().lock(), std::io::stdout().lock()) {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}
