//! `tailpolicy node`: a userspace WireGuard node that enforces the compiled policy, and
//! `tailpolicy node --status`, which asks a running node for its report.

use crate::exit::Exit;
use std::path::PathBuf;
use tailpolicy_node::render_text;
use tailpolicy_node::{NodeOptions, RulesSource};
use tailpolicy_node::{default_status_socket, interface_name};

/// Arguments of `tailpolicy node`.
#[derive(Debug, clap::Args)]
#[command(group(
    clap::ArgGroup::new("filter_source")
        .args(["rules", "policy", "no_filter"])
        .conflicts_with("status"),
))]
pub struct NodeArgs {
    /// A `wg-quick` configuration file (`[Interface]` and `[Peer]` sections).
    #[arg(long = "wg", value_name = "CONF", required_unless_present = "status")]
    pub wg: Option<PathBuf>,
    /// TUN interface name (default: the configuration file name without `.conf`).
    #[arg(long, value_name = "NAME")]
    pub interface: Option<String>,
    /// FilterRules as JSON: an array, `{"packetFilter": [...]}`, or `tailpolicy compile`
    /// output (`{"nodes": {...}}`, choose with `--node`).
    #[arg(long, value_name = "RULES.json")]
    pub rules: Option<PathBuf>,
    /// A policy file to compile for `--node` with the inventory `--nodes`.
    #[arg(long, value_name = "POLICY", requires_all = ["nodes", "node"])]
    pub policy: Option<PathBuf>,
    /// The node inventory (with `--policy`).
    #[arg(long, value_name = "FILE", requires = "policy")]
    pub nodes: Option<PathBuf>,
    /// The node to enforce the policy of (with `--policy`, or to pick from compile output).
    #[arg(long, value_name = "NAME")]
    pub node: Option<String>,
    /// Run without a packet filter (every packet from a peer's AllowedIPs passes); for
    /// throughput baselines.
    #[arg(long)]
    pub no_filter: bool,
    /// The status socket (default `/run/tailpolicy/INTERFACE.sock`).
    #[arg(long, value_name = "PATH")]
    pub status_socket: Option<PathBuf>,
    /// Print the status of a running node (peers, handshakes, transfer, filter counters).
    #[arg(long)]
    pub status: bool,
    /// Output of `--status`: `full` (text) or `json` (the report the node serves).
    #[arg(long, value_enum, default_value_t = StatusFormat::Full, requires = "status")]
    pub format: StatusFormat,
    /// Log level: error, warn, info, debug or trace.
    #[arg(long, value_name = "LEVEL", default_value = "info")]
    pub log_level: String,
}

/// Output format of `tailpolicy node --status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// `key: value` lines and counter lines, for people and grep.
    Full,
    /// The node's JSON status report, one object.
    Json,
}

/// Runs `tailpolicy node`.
pub fn run(args: &NodeArgs) -> Exit {
    if args.status {
        return status(args);
    }
    let Some(wg) = args.wg.clone() else {
        eprintln!("error: `--wg CONF` is required");
        return Exit::Failure;
    };
    let source = match source(args) {
        Ok(s) => s,
        Err(msg) => {
            eprintln!("error: {msg}");
            return Exit::Failure;
        }
    };
    if let Err(msg) = init_logging(&args.log_level) {
        eprintln!("error: {msg}");
        return Exit::Failure;
    }
    let opts = NodeOptions {
        wg_config: wg,
        interface: args.interface.clone(),
        source,
        status_socket: args.status_socket.clone(),
    };
    match tailpolicy_node::run(&opts) {
        Ok(()) => Exit::Clean,
        Err(e) => {
            for line in e.to_string().lines() {
                eprintln!("error: {line}");
            }
            Exit::Failure
        }
    }
}

fn source(args: &NodeArgs) -> Result<RulesSource, String> {
    if args.no_filter {
        return Ok(RulesSource::Disabled);
    }
    if let Some(path) = &args.rules {
        return Ok(RulesSource::Rules {
            path: path.clone(),
            node: args.node.clone(),
        });
    }
    match (&args.policy, &args.nodes, &args.node) {
        (Some(policy), Some(nodes), Some(node)) => Ok(RulesSource::Policy {
            policy: policy.clone(),
            nodes: nodes.clone(),
            node: node.clone(),
        }),
        _ => Err(
            "choose the filter: `--rules RULES.json`, `--policy POLICY --nodes FILE --node NAME`, \
             or `--no-filter`"
                .to_owned(),
        ),
    }
}

fn status(args: &NodeArgs) -> Exit {
    let path = match &args.status_socket {
        Some(p) => p.clone(),
        None => {
            let name = match (&args.interface, &args.wg) {
                (Some(_), _) | (None, Some(_)) => interface_name(
                    args.interface.as_deref(),
                    args.wg.as_deref().unwrap_or(std::path::Path::new("")),
                ),
                (None, None) => {
                    eprintln!(
                        "error: `--status` needs `--interface NAME`, `--wg CONF` or `--status-socket PATH`"
                    );
                    return Exit::Failure;
                }
            };
            match name {
                Ok(n) => default_status_socket(&n),
                Err(e) => {
                    eprintln!("error: {e}");
                    return Exit::Failure;
                }
            }
        }
    };
    match tailpolicy_node::query_status(&path) {
        Ok(report) => {
            match args.format {
                StatusFormat::Full => {
                    let _ = crate::stdout::print_out(&render_text(&report));
                }
                StatusFormat::Json => match serde_json::to_string_pretty(&report) {
                    Ok(json) => {
                        let _ = crate::stdout::print_out(&format!("{json}\n"));
                    }
                    Err(e) => {
                        eprintln!("error: cannot print the status report: {e}");
                        return Exit::Failure;
                    }
                },
            }
            Exit::Clean
        }
        Err(e) => {
            eprintln!(
                "error: cannot read the node status from `{}`: {e}",
                path.display()
            );
            Exit::Failure
        }
    }
}

fn init_logging(level: &str) -> Result<(), String> {
    let level: tracing_subscriber::filter::LevelFilter = level
        .parse()
        .map_err(|_| format!("unknown log level `{level}`"))?;
    use std::io::IsTerminal as _;
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init()
        .map_err(|e| format!("cannot start logging: {e}"))
}
