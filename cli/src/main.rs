//! `tailpolicy`: lint, test, compile, analyse and enforce tailnet policy files.

use clap::Parser;
use std::process::ExitCode;

mod commands;
mod completions;
mod dialect_arg;
mod exit;
mod load;
mod render;
mod stdout;
mod version;

/// Offline toolkit for Tailscale and Headscale tailnet policy files.
#[derive(Debug, Parser)]
#[command(name = "tailpolicy", version = version::VERSION, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The subcommands. Each lives in its own module under `commands/`.
#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Check policy files and report diagnostics.
    Lint(commands::lint::LintArgs),
    /// Compile a policy for a tailnet's nodes: packet filters, SSH policies, routes.
    Compile(commands::compile::CompileArgs),
    /// Explain a diagnostic code, or list every code.
    Explain(commands::explain::ExplainArgs),
    /// Format policy files in the canonical layout (byte-identical to `hujsonfmt`).
    Fmt(commands::fmt::FmtArgs),
    /// Run packets through a node's packet filter and explain each verdict.
    Simulate(commands::simulate::SimulateArgs),
    /// Run the policy's `tests` and `sshTests` as Tailscale does on save.
    Test(commands::test::TestArgs),
    /// Who can reach what, and by which rules.
    Reach(commands::reach::ReachArgs),
    /// Semantic difference in access between two policies.
    Diff(commands::diff::DiffArgs),
    /// The whole access matrix of the tailnet.
    Matrix(commands::matrix::MatrixArgs),
    /// Security audit: findings, and what each user and tag can reach.
    Audit(commands::audit::AuditArgs),
    /// Combine the fragments of a multi-file policy into one file to upload.
    Merge(commands::merge::MergeArgs),
    /// Print the JSON Schema of the policy file (for editors).
    Schema(commands::schema::SchemaArgs),
    /// Run a userspace WireGuard node that enforces the compiled policy.
    Node(commands::node::NodeArgs),
    /// Print shell completions (bash, zsh, fish, powershell, elvish).
    Completions(completions::CompletionsArgs),
    /// Print the man page, or write one page per command into a directory.
    Manpage(completions::ManpageArgs),
    /// Serve the Language Server Protocol over stdio (editors: see the README).
    Lsp(commands::lsp::LspArgs),
    /// Serve Tailscale's policy API (acl, validate, preview, devices) offline.
    Serve(commands::serve::ServeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Lint(args) => commands::lint::run(&args).into(),
        Command::Compile(args) => commands::compile::run(&args).into(),
        Command::Explain(args) => commands::explain::run(&args).into(),
        Command::Fmt(args) => commands::fmt::run(&args).into(),
        Command::Simulate(args) => commands::simulate::run(&args).into(),
        Command::Test(args) => commands::test::run(&args).into(),
        Command::Reach(args) => commands::reach::run(&args).into(),
        Command::Diff(args) => commands::diff::run(&args).into(),
        Command::Matrix(args) => commands::matrix::run(&args).into(),
        Command::Audit(args) => commands::audit::run(&args).into(),
        Command::Merge(args) => commands::merge::run(&args).into(),
        Command::Schema(args) => commands::schema::run(&args).into(),
        Command::Node(args) => commands::node::run(&args).into(),
        Command::Completions(args) => completions::completions(&args).into(),
        Command::Manpage(args) => completions::manpage(&args).into(),
        Command::Lsp(args) => commands::lsp::run(&args).into(),
        Command::Serve(args) => commands::serve::run(&args).into(),
    }
}
