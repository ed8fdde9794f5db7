//! `tailpolicy`: lint, test, compile, analyse and enforce tailnet policy files.

use clap::Parser;
use std::process::ExitCode;

mod commands;
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
enum Command {
    /// Run packets through a node's packet filter and explain each verdict.
    Simulate(commands::simulate::SimulateArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Simulate(args) => commands::simulate::run(&args).into(),
    }
}
