//! `tailpolicy`: lint, test, compile, analyse and enforce tailnet policy files.

use clap::Parser;
use std::process::ExitCode;

mod commands;
mod config;
mod exit;
mod input;
mod render;

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
    /// Check policy files and report diagnostics.
    Lint(commands::lint::LintArgs),
    /// Explain a diagnostic code, or list every code.
    Explain(commands::explain::ExplainArgs),
    /// Format policy files in the canonical layout (byte-identical to `hujsonfmt`).
    Fmt(commands::fmt::FmtArgs),
    /// Run a userspace WireGuard node that enforces the compiled policy.
    Node(commands::node::NodeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint(args) => commands::lint::run(&args).into(),
        Command::Explain(args) => commands::explain::run(&args).into(),
        Command::Fmt(args) => commands::fmt::run(&args).into(),
        Command::Node(args) => commands::node::run(&args).into(),
    }
}
