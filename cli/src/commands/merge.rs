//! `tailpolicy merge [--config FILE] [-o FILE]`: the fragments listed under
//! `[policy] files` combined into one `hujsonfmt`-formatted policy, each entry preceded
//! by `// from <fragment>:<line>`, ready to upload to Tailscale or headscale.
//!
//! Exit 0 with the output; 1 when the fragments have errors (printed like every
//! command prints them; nothing is written); 2 when a file cannot be read or written.

use crate::exit::Exit;
use crate::load::{PolicyArgs, open, require_valid};
use std::path::PathBuf;
use tailpolicy_workspace::combine::combined_source;

/// Arguments of `tailpolicy merge`.
#[derive(Debug, clap::Args)]
pub struct MergeArgs {
    /// Configuration file (default: the nearest tailpolicy.toml above the working
    /// directory).
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
    /// Node inventory to check the fragments against (default: `nodes` in
    /// tailpolicy.toml).
    #[arg(long, value_name = "FILE")]
    pub nodes: Option<PathBuf>,
    /// Write the combined policy here (atomically) instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Runs `tailpolicy merge`.
pub fn run(args: &MergeArgs) -> Exit {
    let ws = match open(&PolicyArgs {
        policy: None,
        nodes: args.nodes.clone(),
        config: args.config.clone(),
        dialect: args.dialect,
    }) {
        Ok(ws) => ws,
        Err(exit) => return exit,
    };
    if let Err(exit) = require_valid(&ws) {
        return exit;
    }
    let text = match combined_source(&ws) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("error: the fragments cannot be combined: {e:?}");
            return Exit::Findings;
        }
    };
    match &args.output {
        Some(path) => match crate::commands::fmt::write_atomically(path, &text) {
            Ok(()) => Exit::Clean,
            Err(e) => {
                eprintln!("error: cannot write `{}`: {e}", path.display());
                Exit::Failure
            }
        },
        None => {
            let _ = crate::stdout::print_out(&text);
            Exit::Clean
        }
    }
}
