//! The packet simulator behind `tailpolicy simulate`: packets described as JSON steps (the
//! format of `testdata/conformance/packets/`) run in order through one real [`Filter`] and
//! one [`FlowTable`], so `out` steps create the flow state later replies use.

use crate::builder::{PacketSpec, build_packet};
use crate::filter::{Filter, FilterConfig};
use crate::flow::FlowTable;
use crate::packet::{ParsedPacket, tcp_flag};
use crate::rules::RuleError;
use crate::verdict::Verdict;
use crate::wire::FilterRule;
use serde::Deserialize;
use std::fmt;
use std::net::IpAddr;

/// Direction of a step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// From a peer into this node: the filter decides.
    In,
    /// From this node to a peer: pre-checks only, records UDP/SCTP flows.
    Out,
}

/// A protocol given as a number or a name.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ProtoSpec {
    /// IANA number.
    Number(i64),
    /// Name: `tcp`, `udp`, `icmp`, `icmpv6`, `sctp`, `igmp`, `gre`, `esp`, `ah`, `tsmp`,
    /// or `proto-<n>`.
    Name(String),
}

impl ProtoSpec {
    /// The protocol number.
    ///
    /// # Errors
    /// A message when the number is out of range or the name unknown.
    pub fn number(&self) -> Result<u8, String> {
        match self {
            Self::Number(n) => {
                u8::try_from(*n).map_err(|_| format!("protocol `{n}` is not in 0-255"))
            }
            Self::Name(name) => {
                let lower = name.to_ascii_lowercase();
                let n = match lower.as_str() {
                    "icmp" | "icmpv4" => 1,
                    "igmp" => 2,
                    "tcp" => 6,
                    "udp" => 17,
                    "gre" => 47,
                    "esp" => 50,
                    "ah" => 51,
                    "icmpv6" | "ipv6-icmp" => 58,
                    "tsmp" => 99,
                    "sctp" => 132,
                    other => {
                        let digits = other.strip_prefix("proto-").unwrap_or(other);
                        return digits
                            .parse::<u8>()
                            .map_err(|_| format!("unknown protocol `{name}`"));
                    }
                };
                Ok(n)
            }
        }
    }
}

/// One packet step (a line of simulator input).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Step {
    /// `in` or `out`; default `in`.
    #[serde(default)]
    pub dir: Option<Direction>,
    /// Protocol number or name (not with `raw_hex`).
    #[serde(default)]
    pub proto: Option<ProtoSpec>,
    /// Source address.
    #[serde(default)]
    pub src: Option<IpAddr>,
    /// Destination address.
    #[serde(default)]
    pub dst: Option<IpAddr>,
    /// Source port.
    #[serde(default)]
    pub sport: Option<u16>,
    /// Destination port.
    #[serde(default)]
    pub dport: Option<u16>,
    /// TCP flag names (`SYN`, `ACK`, `FIN`, `RST`, `PSH`, `URG`).
    #[serde(default)]
    pub tcp_flags: Option<Vec<String>>,
    /// ICMP type.
    #[serde(default)]
    pub icmp_type: Option<u8>,
    /// ICMP code.
    #[serde(default)]
    pub icmp_code: Option<u8>,
    /// Raw IP packet bytes in hex (instead of the fields).
    #[serde(default)]
    pub raw_hex: Option<String>,
}

/// Why a step could not be turned into a packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepError(pub String);

impl fmt::Display for StepError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StepError {}

fn decode_hex(s: &str) -> Result<Vec<u8>, StepError> {
    let s = s.trim();
    if !s.len().is_multiple_of(2) {
        return Err(StepError("`raw_hex` has an odd number of digits".into()));
    }
    s.as_bytes()
        .chunks(2)
        .map(|pair| {
            std::str::from_utf8(pair)
                .ok()
                .and_then(|p| u8::from_str_radix(p, 16).ok())
                .ok_or_else(|| StepError("`raw_hex` is not hexadecimal".into()))
        })
        .collect()
}

impl Step {
    /// The step's direction (`in` when absent).
    #[must_use]
    pub fn direction(&self) -> Direction {
        self.dir.unwrap_or(Direction::In)
    }

    /// The raw packet bytes of the step.
    ///
    /// # Errors
    /// A [`StepError`] naming the missing or invalid field.
    pub fn packet(&self) -> Result<Vec<u8>, StepError> {
        if let Some(hex) = &self.raw_hex {
            return decode_hex(hex);
        }
        let proto = self
            .proto
            .as_ref()
            .ok_or_else(|| StepError("missing `proto` (or `raw_hex`)".into()))?
            .number()
            .map_err(StepError)?;
        let src = self.src.ok_or_else(|| StepError("missing `src`".into()))?;
        let dst = self.dst.ok_or_else(|| StepError("missing `dst`".into()))?;
        let mut flags = 0u8;
        for f in self.tcp_flags.iter().flatten() {
            flags |= match f.to_ascii_uppercase().as_str() {
                "FIN" => tcp_flag::FIN,
                "SYN" => tcp_flag::SYN,
                "RST" => tcp_flag::RST,
                "PSH" => tcp_flag::PSH,
                "ACK" => tcp_flag::ACK,
                "URG" => tcp_flag::URG,
                _ => return Err(StepError(format!("unknown TCP flag `{f}`"))),
            };
        }
        let spec = PacketSpec {
            proto,
            src,
            dst,
            sport: self.sport.unwrap_or(0),
            dport: self.dport.unwrap_or(0),
            tcp_flags: flags,
            icmp_type: self.icmp_type.unwrap_or(0),
            icmp_code: self.icmp_code.unwrap_or(0),
            payload_len: 0,
        };
        build_packet(&spec).map_err(|e| StepError(e.to_string()))
    }
}

/// One filter instance plus its flow table, fed steps in order.
#[derive(Debug)]
pub struct Simulator {
    filter: Filter,
    flows: FlowTable,
    scratch: ParsedPacket,
    /// Simulated time in seconds; steps do not advance it.
    pub now: u32,
}

impl Simulator {
    /// Builds the simulator from FilterRules; also returns the malformed-entry errors.
    /// This is the single entry point for any source of rules (a rules file, or rules the
    /// compiler produced for one node).
    #[must_use]
    pub fn new(rules: &[FilterRule], config: &FilterConfig) -> (Self, Vec<RuleError>) {
        let (filter, errors) = Filter::new(rules, config);
        (
            Self {
                filter,
                flows: FlowTable::default(),
                scratch: ParsedPacket::default(),
                now: 0,
            },
            errors,
        )
    }

    /// The filter in use (for capability queries).
    #[must_use]
    pub fn filter(&self) -> &Filter {
        &self.filter
    }

    /// Decides raw packet bytes in the given direction.
    pub fn run_bytes(&mut self, dir: Direction, packet: &[u8]) -> Verdict {
        self.scratch.decode(packet);
        match dir {
            Direction::In => self.filter.check_in(&self.scratch, &self.flows, self.now),
            Direction::Out => self.filter.check_out(&self.scratch, &self.flows, self.now),
        }
    }

    /// Builds and decides one step.
    ///
    /// # Errors
    /// A [`StepError`] when the step does not describe a packet.
    pub fn run(&mut self, step: &Step) -> Result<Verdict, StepError> {
        let bytes = step.packet()?;
        Ok(self.run_bytes(step.direction(), &bytes))
    }
}
