//! `tailpolicy simulate`: run packets (JSON lines on stdin) through the real dataplane filter
//! of one node and print one verdict line per packet.
//!
//! The rules come from a FilterRule file (`--rules`), or from compiling a policy for one node
//! of an inventory (`[POLICY] --nodes FILE --node NAME`, through the analysis host, so
//! exactly what `compile` prints). Both paths end in [`simulate_rules`], which takes the
//! node's `Vec<FilterRule>` and local nets.

use crate::exit::Exit;
use crate::load::{PolicyArgs, node_filter_error, open, require_inventory, require_valid};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::sim::{Simulator, Step};
use tailpolicy_dataplane_filter::wire::FilterRule;
use tailpolicy_dataplane_filter::{FilterConfig, Verdict};

/// Output format of `simulate`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum SimulateFormat {
    /// `{"verdict","reason","rule"}` per packet.
    #[default]
    Json,
    /// Also the packet as decoded and the full matching FilterRule.
    Full,
}

/// Arguments of `tailpolicy simulate`.
#[derive(Debug, clap::Args)]
#[command(
    about = "Run packets (JSON lines on stdin) through a node's packet filter and explain each verdict",
    long_about = "Reads packets as JSON lines on stdin, in the step format of conformance/packets \
                  (dir in|out, proto number or name, src, dst, sport, dport, tcp_flags, icmp_type, \
                  icmp_code, or raw_hex), runs them in order through one filter instance (so `out` \
                  packets create the UDP flow state later replies use), and prints one line per \
                  packet: {\"verdict\":\"accept\"|\"drop\",\"reason\":…,\"rule\":…}."
)]
pub struct SimulateArgs {
    /// Policy file to compile for `--node` (default: the fragments listed under
    /// `[policy] files` in tailpolicy.toml).
    #[arg(value_name = "POLICY", conflicts_with_all = ["rules", "local"])]
    pub policy: Option<String>,
    /// FilterRule JSON: an array of rules, or an object with `rules` (and optional
    /// `local_nets`, `src_caps`) such as a conformance packet case, or `{"PacketFilter": […]}`.
    #[arg(long, value_name = "RULES.json")]
    pub rules: Option<PathBuf>,
    /// The node's own addresses and served routes (comma-separated CIDRs or IPs). Without it,
    /// every unicast address counts as local.
    #[arg(long, value_name = "CIDR,…", value_delimiter = ',', requires = "rules")]
    pub local: Option<Vec<String>>,
    /// Node inventory (with a policy; default: `nodes` in tailpolicy.toml).
    #[arg(long, value_name = "FILE", conflicts_with = "rules")]
    pub nodes: Option<PathBuf>,
    /// Configuration file (with a policy; default: the nearest tailpolicy.toml).
    #[arg(long, value_name = "PATH", conflicts_with = "rules")]
    pub config: Option<PathBuf>,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
    /// Name of the node whose filter to simulate (with a policy).
    #[arg(long, value_name = "NAME", conflicts_with = "rules")]
    pub node: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = SimulateFormat::Json)]
    pub format: SimulateFormat,
}

/// The accepted shapes of a rules file.
#[derive(Deserialize)]
#[serde(untagged)]
enum RulesFile {
    List(Vec<FilterRule>),
    Case {
        rules: Vec<FilterRule>,
        #[serde(default)]
        local_nets: Option<Vec<String>>,
        #[serde(default)]
        src_caps: BTreeMap<IpAddr, Vec<String>>,
    },
    MapResponse {
        #[serde(rename = "PacketFilter")]
        packet_filter: Vec<FilterRule>,
    },
}

/// Runs the command.
pub fn run(args: &SimulateArgs) -> Exit {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let mut err = std::io::stderr();
    let input = match load_input(args) {
        Ok(input) => input,
        Err(exit) => return exit,
    };
    simulate_rules(
        &input.rules,
        input.config,
        args.format,
        &mut stdin.lock(),
        &mut stdout.lock(),
        &mut err,
    )
}

/// Rules and node facts, wherever they came from.
struct Input {
    rules: Vec<FilterRule>,
    config: FilterConfig,
}

fn load_input(args: &SimulateArgs) -> Result<Input, Exit> {
    if let Some(path) = &args.rules {
        return load_rules_file(path, args.local.as_deref()).map_err(|message| {
            eprintln!("error: {message}");
            Exit::Failure
        });
    }
    let Some(node) = &args.node else {
        eprintln!("error: simulating a policy needs `--node NAME` (and an inventory)");
        return Err(Exit::Failure);
    };
    let ws = open(&PolicyArgs {
        policy: args.policy.clone(),
        nodes: args.nodes.clone(),
        config: args.config.clone(),
        dialect: args.dialect,
    })?;
    require_valid(&ws)?;
    require_inventory(&ws, "simulate")?;
    let filter = ws
        .node_filter(node)
        .map_err(|e| node_filter_error(&ws, &e))?;
    Ok(Input {
        rules: filter.rules,
        config: FilterConfig {
            local_nets: Some(filter.local_nets),
            node_caps: Vec::new(),
            merge_budget: None,
        },
    })
}

fn load_rules_file(path: &Path, local: Option<&[String]>) -> Result<Input, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    let file: RulesFile = serde_json::from_str(&text).map_err(|e| {
        format!(
            "`{}` is not a FilterRule list (nor an object with `rules` or `PacketFilter`): {e}",
            path.display()
        )
    })?;
    let (rules, file_local, src_caps) = match file {
        RulesFile::List(rules)
        | RulesFile::MapResponse {
            packet_filter: rules,
        } => (rules, None, BTreeMap::new()),
        RulesFile::Case {
            rules,
            local_nets,
            src_caps,
        } => (rules, local_nets, src_caps),
    };
    let local_strings: Option<Vec<String>> = local.map(<[String]>::to_vec).or(file_local);
    let local_nets = match local_strings {
        Some(list) => Some(parse_addr_list(&list).map_err(|(i, problem)| {
            let item = list.get(i).map_or("", String::as_str);
            format!("invalid local net `{item}`: {problem}")
        })?),
        None => None,
    };
    Ok(Input {
        rules,
        config: FilterConfig {
            local_nets,
            node_caps: src_caps.into_iter().collect(),
            merge_budget: None,
        },
    })
}

/// Runs every JSON line of `input` through one filter built from `rules` and writes one
/// verdict line per packet to `out`. Malformed rule entries are reported on `err` as warnings
/// (they are skipped, as on a real node). A line that is not a packet gets an `{"error": …}`
/// line and makes the exit code 2.
pub fn simulate_rules(
    rules: &[FilterRule],
    config: FilterConfig,
    format: SimulateFormat,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Exit {
    let (mut sim, rule_errors) = Simulator::new(rules, &config);
    for e in &rule_errors {
        let _ = writeln!(err, "warning: {e}; entry skipped");
    }
    let mut failed = false;
    for (n, line) in input.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                let _ = writeln!(err, "error: cannot read stdin: {e}");
                return Exit::Failure;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let line_no = n + 1;
        let result = serde_json::from_str::<Step>(&line)
            .map_err(|e| format!("line {line_no}: not a packet step: {e}"))
            .and_then(|step| {
                let bytes = step.packet().map_err(|e| format!("line {line_no}: {e}"))?;
                Ok((step, bytes))
            });
        let record = match result {
            Ok((step, bytes)) => {
                let verdict = sim.run_bytes(step.direction(), &bytes);
                render(verdict, format, rules, &bytes)
            }
            Err(message) => {
                failed = true;
                json!({ "error": message })
            }
        };
        if writeln!(out, "{record}").is_err() {
            return Exit::Failure;
        }
    }
    if failed { Exit::Failure } else { Exit::Clean }
}

fn render(verdict: Verdict, format: SimulateFormat, rules: &[FilterRule], bytes: &[u8]) -> Value {
    let mut record = json!({
        "verdict": verdict.action.as_str(),
        "reason": verdict.reason.as_str(),
        "rule": verdict.rule_index(),
    });
    if format == SimulateFormat::Full {
        let mut p = tailpolicy_dataplane_filter::ParsedPacket::default();
        p.decode(bytes);
        let addr = |v: u128| -> String {
            match p.family {
                tailpolicy_dataplane_filter::packet::Family::V4 => {
                    std::net::Ipv4Addr::from(u32::try_from(v).unwrap_or(0)).to_string()
                }
                tailpolicy_dataplane_filter::packet::Family::V6 => {
                    std::net::Ipv6Addr::from(v).to_string()
                }
            }
        };
        let decoded = json!({
            "decoded": format!("{:?}", p.decoded).to_ascii_lowercase(),
            "proto": p.proto,
            "src": addr(p.src),
            "dst": addr(p.dst),
            "sport": p.sport,
            "dport": p.dport,
            "tcp_flags": p.tcp_flags,
            "icmp_type": p.icmp_type,
            "icmp_code": p.icmp_code,
        });
        let matched = verdict
            .rule_index()
            .and_then(|i| rules.get(usize::try_from(i).ok()?))
            .and_then(|r| serde_json::to_value(r).ok());
        if let Value::Object(map) = &mut record {
            map.insert("packet".into(), decoded);
            map.insert("matched_rule".into(), matched.unwrap_or(Value::Null));
        }
    }
    record
}

#[cfg(test)]
#[path = "simulate_tests.rs"]
mod tests;
