//! `tailpolicy`: lint, test, compile, analyse and enforce tailnet policy files.

use clap::Parser;
use std::process::ExitCode;

mod exit;

/// Offline toolkit for Tailscale and Headscale tailnet policy files.
#[derive(Debug, Parser)]
#[command(name = "tailpolicy", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each lives in its own module under `commands/`.
#[derive(Debug, clap::Subcommand)]
enum Command {}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {}
}
