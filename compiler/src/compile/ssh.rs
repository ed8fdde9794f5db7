//! SSH policy compilation (policy-spec §5.11): one `SSHRule` per policy entry and
//! destination node, principals from the sources' addresses, `sshUsers` with its `root`
//! key, `localpart:*@domain` per-user rules, check before accept.

use crate::resolve::{NodeId, Resolver, login_in_domain};
use policy::model::{
    Alias, Autogroup, Origin, SshAction as PolicyAction, SshRule as PolicySsh, SshUser,
};
use std::collections::BTreeMap;
use wire::{SshAction, SshPrincipal, SshRule, SshUsers};

/// The path of the check-mode delegation URL; the client expands the `$…` variables.
pub const CHECK_PATH: &str =
    "/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER";

/// An SSH rule with the policy entry that produced it.
#[derive(Clone, Debug, PartialEq)]
pub struct CompiledSshRule {
    /// The wire rule.
    pub rule: SshRule,
    /// The `ssh` entry it came from.
    pub origin: Origin,
}

/// The SSH rules one entry gives each node, in order.
pub(crate) type SshEntryRules = Vec<(NodeId, CompiledSshRule)>;

/// Compiles one `ssh` entry for the whole tailnet.
pub(crate) fn entry_rules(r: &Resolver<'_>, e: &PolicySsh, control_url: &str) -> SshEntryRules {
    let mut out = Vec::new();
    let action = match e.action.value {
        PolicyAction::Accept => SshAction {
            accept: true,
            allow_agent_forwarding: true,
            allow_local_port_forwarding: true,
            allow_remote_port_forwarding: true,
            ..SshAction::default()
        },
        PolicyAction::Check => SshAction {
            hold_and_delegate: format!("{}{CHECK_PATH}", control_url.trim_end_matches('/')),
            ..SshAction::default()
        },
    };
    let accept_env: Vec<String> = e.accept_env.iter().map(|s| s.value.clone()).collect();
    let localpart_domains: Vec<&str> = e
        .users
        .iter()
        .filter_map(|u| match &u.value {
            SshUser::LocalpartOf(d) => Some(d.as_str()),
            _ => None,
        })
        .collect();
    let base_users = base_ssh_users(&e.users);
    let make = |principals: Vec<SshPrincipal>, users: SshUsers| CompiledSshRule {
        rule: SshRule {
            rule_expires: None,
            principals,
            ssh_users: users,
            action: action.clone(),
            accept_env: accept_env.clone(),
        },
        origin: e.origin,
    };

    let src_nodes = source_nodes(r, e);
    let (dst_nodes, self_dst) = destination_nodes(r, e);

    // Groups of sources that get their own rules: with `localpart:` one group per user
    // (tagged sources together), otherwise all sources in one group.
    let groups: Vec<(Option<&str>, Vec<NodeId>)> = if localpart_domains.is_empty() {
        vec![(None, src_nodes.clone())]
    } else {
        let mut gs: Vec<(Option<&str>, Vec<NodeId>)> = Vec::new();
        for id in &src_nodes {
            let owner = r.node(*id).and_then(|n| n.owner());
            match gs.iter_mut().find(|(o, _)| *o == owner) {
                Some((_, v)) => v.push(*id),
                None => gs.push((owner, vec![*id])),
            }
        }
        gs
    };
    let group_rules = |owner: Option<&str>, nodes: &[NodeId]| -> Vec<CompiledSshRule> {
        let principals = principals_of(r, nodes);
        if principals.is_empty() {
            return Vec::new();
        }
        let mut v = vec![make(principals.clone(), base_users.clone())];
        if let Some(login) = owner
            && localpart_domains.iter().any(|d| login_in_domain(login, d))
            && let Some((local, _)) = login.rsplit_once('@')
        {
            let mut users = SshUsers::default();
            users.insert(local, local);
            v.push(make(principals, users));
        }
        v
    };

    for d in &dst_nodes {
        for (owner, nodes) in &groups {
            for rule in group_rules(*owner, nodes) {
                out.push((*d, rule));
            }
        }
    }
    if self_dst {
        // Per group, its source nodes by owner, so each user device finds its own in
        // one lookup.
        let by_owner: Vec<std::collections::HashMap<&str, Vec<NodeId>>> = groups
            .iter()
            .map(|(_, nodes)| {
                let mut m: std::collections::HashMap<&str, Vec<NodeId>> =
                    std::collections::HashMap::new();
                for s in nodes {
                    if let Some(o) = r.node(*s).and_then(|n| n.owner()) {
                        m.entry(o).or_default().push(*s);
                    }
                }
                m
            })
            .collect();
        // A user's devices all receive the same rules: built once per (group, user).
        let mut built: std::collections::HashMap<(usize, &str), Vec<CompiledSshRule>> =
            std::collections::HashMap::new();
        for id in (0..r.node_count()).map(NodeId) {
            let Some(owner) = r.node(id).and_then(|n| n.owner()) else {
                continue;
            };
            if dst_nodes.binary_search(&id).is_ok() {
                continue;
            }
            for (gi, ((g_owner, _), mine)) in groups.iter().zip(&by_owner).enumerate() {
                let Some(mine) = mine.get(owner) else {
                    continue;
                };
                if g_owner.is_some_and(|o| o != owner) {
                    continue;
                }
                let rules = built
                    .entry((gi, owner))
                    .or_insert_with(|| group_rules(Some(owner), mine));
                for rule in rules.iter() {
                    out.push((id, rule.clone()));
                }
            }
        }
    }
    if !localpart_domains.is_empty() && !self_dst {
        // SaaS quirk: each group's source devices also receive that group's rules.
        for (owner, nodes) in &groups {
            let rules = group_rules(*owner, nodes);
            let mut own = nodes.clone();
            own.dedup();
            for id in own {
                if dst_nodes.binary_search(&id).is_ok() {
                    continue;
                }
                out.extend(rules.iter().map(|rule| (id, rule.clone())));
            }
        }
    }
    out
}

/// `sshUsers` without the `localpart:` entries: `root` always present (`""` unless
/// allowed), literal names to themselves, `autogroup:nonroot` as `"*": "="`. Keys are
/// sorted, as Go writes maps.
fn base_ssh_users(users: &[policy::Spanned<SshUser>]) -> SshUsers {
    let mut m: BTreeMap<String, String> = BTreeMap::new();
    m.insert("root".to_owned(), String::new());
    for u in users {
        match &u.value {
            SshUser::Root => {
                m.insert("root".to_owned(), "root".to_owned());
            }
            SshUser::NonRoot => {
                m.insert("*".to_owned(), "=".to_owned());
            }
            SshUser::Named(n) => {
                if n != "root" {
                    m.insert(n.clone(), n.clone());
                }
            }
            SshUser::LocalpartOf(_) => {}
        }
    }
    let mut out = SshUsers::default();
    for (k, v) in m {
        out.insert(k, v);
    }
    out
}

/// The source nodes that pass the rule's posture, with a tagged node repeated once per tag when the sources include
/// `autogroup:tagged` (as SaaS lists them).
fn source_nodes(r: &Resolver<'_>, e: &PolicySsh) -> Vec<NodeId> {
    let mut set: Vec<NodeId> = Vec::new();
    let mut per_tag = false;
    for s in &e.src {
        if s.value == Alias::Autogroup(Autogroup::Tagged) {
            per_tag = true;
        }
        if let Some(nodes) = r.identity_nodes(&s.value) {
            set.extend(nodes);
        }
    }
    set.sort_unstable();
    set.dedup();
    if let Some(gate) = r.posture_gate(&e.src_posture) {
        set.retain(|id| gate.admits(*id));
    }
    if !per_tag {
        return set;
    }
    let mut out = Vec::new();
    for id in set {
        let times = r
            .node(id)
            .map_or(1, |n| if n.is_tagged() { n.tags.len() } else { 1 });
        out.extend(std::iter::repeat_n(id, times));
    }
    out
}

/// The destination nodes other than `autogroup:self`, and whether `autogroup:self` is a
/// destination.
fn destination_nodes(r: &Resolver<'_>, e: &PolicySsh) -> (Vec<NodeId>, bool) {
    let mut out = Vec::new();
    let mut self_dst = false;
    for d in &e.dst {
        if d.value == Alias::Autogroup(Autogroup::SelfDevices) {
            self_dst = true;
        } else if let Some(nodes) = r.identity_nodes(&d.value) {
            out.extend(nodes);
        }
    }
    out.sort_unstable();
    out.dedup();
    (out, self_dst)
}

fn principals_of(r: &Resolver<'_>, nodes: &[NodeId]) -> Vec<SshPrincipal> {
    nodes
        .iter()
        .filter_map(|id| r.node(*id))
        .flat_map(|n| n.addresses())
        .map(|ip| SshPrincipal {
            node_ip: ip.to_string(),
            ..SshPrincipal::default()
        })
        .collect()
}

/// Orders one node's rules: check rules before accept rules, otherwise policy order.
pub(crate) fn order_node_rules(rules: &mut [CompiledSshRule]) {
    rules.sort_by_key(|r| r.rule.action.hold_and_delegate.is_empty());
}
