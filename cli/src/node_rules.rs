//! A node's compiled packet filter from a policy file and an inventory file: shared by
//! `simulate` and `node`, so both enforce exactly what `compile` prints.

use std::path::Path;
use tailpolicy_compiler::{CompileOptions, Compiler, inventory};
use tailpolicy_dataplane_filter::addr::{AddrSet, parse_addr_list};
use tailpolicy_dataplane_filter::wire::FilterRule;
use tailpolicy_policy::{CheckOptions, SourceFile};

/// The rules a node receives and its local nets (its addresses and approved routes;
/// on an approved exit node these include `0.0.0.0/0` and `::/0`).
pub struct NodeRules {
    /// The node's `PacketFilter`.
    pub rules: Vec<FilterRule>,
    /// Destinations the node accepts traffic for.
    pub local_nets: AddrSet,
}

/// Compiles `policy` for the inventory `nodes` and returns `node`'s filter. The error
/// lists every problem as `file:line:col: error[CODE] message` lines.
pub fn load(
    policy: &Path,
    nodes: &Path,
    node: &str,
    dialect: tailpolicy_policy::Dialect,
) -> Result<NodeRules, String> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))
    };
    let policy_text = read(policy)?;
    let inventory_text = read(nodes)?;
    let (inventory, inventory_diags) = inventory::load(&inventory_text);
    let inventory = inventory.unwrap_or_default();
    let options = CheckOptions {
        tailnet_domains: inventory.tailnet_domain().map(|d| vec![d.to_owned()]),
        dialect,
        ..CheckOptions::default()
    };
    let analysis = tailpolicy_policy::analyse(&policy_text, &options);
    let mut problems = Vec::new();
    for (name, text, diags) in [
        (policy, &policy_text, &analysis.diagnostics),
        (nodes, &inventory_text, &inventory_diags),
    ] {
        let file = SourceFile::new(name.display().to_string(), text.as_str());
        for d in diags.iter().filter(|d| d.is_error()) {
            let at = file.line_col(d.span.start);
            problems.push(format!(
                "{}:{}:{}: error[{}] {}",
                file.name(),
                at.line,
                at.column,
                d.code,
                d.message
            ));
        }
    }
    if !problems.is_empty() {
        return Err(problems.join("\n"));
    }
    let Some(policy) = analysis.policy else {
        return Err(format!("`{}` could not be read", policy.display()));
    };
    let mut inventory = inventory;
    inventory.adopt_policy_users(&policy);
    let options = CompileOptions {
        dialect,
        ..CompileOptions::default()
    };
    let compiler = Compiler::new(&policy, inventory, options);
    let Some(compiled) = compiler.node(node) else {
        return Err(format!("no node called `{node}` in `{}`", nodes.display()));
    };
    let Some(inv_node) = compiler.inventory().node(node) else {
        return Err(format!("no node called `{node}` in `{}`", nodes.display()));
    };
    let mut local: Vec<String> = inv_node.addresses().map(|a| a.to_string()).collect();
    local.extend(compiled.approved_routes.iter().map(ToString::to_string));
    let local_nets = parse_addr_list(&local).map_err(|(i, p)| {
        format!(
            "local address `{}` of `{node}`: {p:?}",
            local.get(i).map_or("", String::as_str)
        )
    })?;
    Ok(NodeRules {
        rules: compiled
            .packet_filter
            .iter()
            .map(|r| r.rule.clone())
            .collect(),
        local_nets,
    })
}
