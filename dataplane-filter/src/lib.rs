//! # tailpolicy-dataplane-filter
//!
//! The packet filter nodes run, over the wire types of compiled policy
//! (`tailcfg.FilterRule`, re-exported from `tailpolicy-tailcfg`): zero-copy packet
//! views, an immutable matcher built from FilterRules, a bounded flow table for stateful
//! return traffic, and atomic swapping.
//!
//! **Invariant:** depends only on the wire types, never on the policy parser; the packet
//! path never allocates and never panics on any bytes.
//!
//! Typical use on a node:
//!
//! ```
//! use tailpolicy_dataplane_filter::{
//!     Dataplane, DecisionScratch, Filter, FilterConfig, FilterRule, FlowTable, addr::parse_addr_list,
//! };
//!
//! let rules: Vec<FilterRule> = serde_json::from_str(
//!     r#"[{"SrcIPs":["100.64.0.2"],"DstPorts":[{"IP":"100.64.0.1","Ports":{"First":22,"Last":22}}]}]"#,
//! ).unwrap_or_default();
//! let config = FilterConfig {
//!     local_nets: parse_addr_list(&["100.64.0.1/32"]).ok(),
//!     ..FilterConfig::default()
//! };
//! let (filter, errors) = Filter::new(&rules, &config);
//! assert!(errors.is_empty());
//! let dp = Dataplane::new(filter, FlowTable::default());
//! let mut scratch = DecisionScratch::default();
//! let verdict = dp.run_in(&[], &mut scratch, 0);
//! assert_eq!(verdict.reason.as_str(), "keepalive");
//! ```
#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

pub use tailpolicy_tailcfg::addr;
pub mod builder;
mod dataplane;
mod filter;
pub mod flow;
mod interval;
mod local;
mod matcher;
pub mod packet;
pub mod reference;
pub mod rules;
mod search;
pub mod sim;
mod verdict;
pub use tailpolicy_tailcfg::wire;

pub use dataplane::{Dataplane, DecisionScratch};
pub use filter::{Filter, FilterConfig, MAX_SRC_CAPS};
pub use flow::FlowTable;
pub use packet::ParsedPacket;
pub use rules::RuleError;
pub use verdict::{Action, Reason, Verdict};
pub use wire::{
    CapGrant, FilterRule, NetPortRange, PortRange, SshAction, SshPolicy, SshPrincipal,
    SshRecorderFailureAction, SshRule, SshUsers,
};
