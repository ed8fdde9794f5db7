//! `tailpolicy completions SHELL` and `tailpolicy manpage`: shell completions and man pages,
//! generated from the command-line definitions, for packagers and the release archives.

use crate::exit::Exit;
use clap::CommandFactory as _;
use std::path::PathBuf;

/// Arguments of `tailpolicy completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Arguments of `tailpolicy manpage`.
#[derive(Debug, clap::Args)]
pub struct ManpageArgs {
    /// Write `tailpolicy.1` and one `tailpolicy-COMMAND.1` per subcommand into DIR instead
    /// of printing `tailpolicy.1` on stdout.
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: &CompletionsArgs) -> Exit {
    let mut cmd = crate::Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cmd, "tailpolicy", &mut script);
    print_bytes(&script)
}

/// Prints the man page on stdout, or writes every page into `--out-dir`.
pub fn manpage(args: &ManpageArgs) -> Exit {
    let cmd = crate::Cli::command();
    if let Some(dir) = &args.out_dir {
        return match std::fs::create_dir_all(dir).and_then(|()| clap_mangen::generate_to(cmd, dir))
        {
            Ok(()) => Exit::Clean,
            Err(e) => {
                eprintln!(
                    "error: cannot write the man pages to `{}`: {e}",
                    dir.display()
                );
                Exit::Failure
            }
        };
    }
    let mut page = Vec::new();
    match clap_mangen::Man::new(cmd).render(&mut page) {
        Ok(()) => print_bytes(&page),
        Err(e) => {
            eprintln!("error: internal error, please report: {e}");
            Exit::Failure
        }
    }
}

/// Writes generated text to stdout (a closed pipe is the reader's choice, not an error).
fn print_bytes(bytes: &[u8]) -> Exit {
    let _ = crate::stdout::print_out(&String::from_utf8_lossy(bytes));
    Exit::Clean
}
