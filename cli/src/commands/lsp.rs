//! `tailpolicy lsp`: the language server over stdio (see the `tailpolicy-lsp` crate).

use crate::exit::Exit;

/// Arguments of `tailpolicy lsp`.
#[derive(Debug, clap::Args)]
pub struct LspArgs {
    /// Accepted for editors that pass it; stdio is the only transport.
    #[arg(long)]
    stdio: bool,
}

/// Serves the Language Server Protocol on standard input and output.
pub fn run(args: &LspArgs) -> Exit {
    let _ = args.stdio;
    match tailpolicy_lsp::run() {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!("error: language server: {e}");
            Exit::Failure
        }
    }
}
