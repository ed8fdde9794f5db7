//! The JSON output of `tailpolicy compile`:
//! `{"nodes": {"<name>": {"packetFilter": [...], "sshPolicy": {"rules": [...]} | null,
//! "approvedRoutes": [...]}}}`, with tailcfg's field names. Provenance is left out.

use super::NodeCompiled;
use serde::Serialize;
use std::collections::BTreeMap;
use wire::{FilterRule, SshPolicy};

/// One node's wire output.
#[derive(Clone, Debug, Serialize)]
pub struct NodeJson {
    /// `PacketFilter`.
    #[serde(rename = "packetFilter")]
    pub packet_filter: Vec<FilterRule>,
    /// `SSHPolicy`, `null` when the policy has no `ssh` section.
    #[serde(rename = "sshPolicy")]
    pub ssh_policy: Option<SshPolicy>,
    /// Approved routes.
    #[serde(rename = "approvedRoutes")]
    pub approved_routes: Vec<String>,
}

/// The whole output, nodes keyed (and sorted) by name.
#[derive(Clone, Debug, Serialize)]
pub struct OutputJson {
    /// Per node.
    pub nodes: BTreeMap<String, NodeJson>,
}

impl NodeCompiled {
    /// The wire form, without provenance.
    pub fn to_json(&self) -> NodeJson {
        NodeJson {
            packet_filter: self.packet_filter.iter().map(|r| r.rule.clone()).collect(),
            ssh_policy: self.ssh_policy.as_ref().map(|rules| SshPolicy {
                rules: rules.iter().map(|r| r.rule.clone()).collect(),
            }),
            approved_routes: self
                .approved_routes
                .iter()
                .map(ToString::to_string)
                .collect(),
        }
    }
}

impl OutputJson {
    /// The output for `nodes`, keeping those `keep` accepts.
    pub fn new<'a>(nodes: impl IntoIterator<Item = &'a NodeCompiled>) -> Self {
        Self {
            nodes: nodes
                .into_iter()
                .map(|n| (n.name.clone(), n.to_json()))
                .collect(),
        }
    }
}
