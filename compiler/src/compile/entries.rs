//! Step one of filter compilation: every `grants` and `acls` entry resolved once, for
//! the whole tailnet, into "global" rules (sources, protocols, destinations), before any
//! per-node reduction (policy-spec §5.3, §5.4, §5.6, §5.7, §5.9, §5.10).

use super::srcset::{GroupId, SrcId, SrcTable};
use crate::addr::{self, Addr};
use crate::resolve::{NodeId, Resolver};
use policy::Spanned;
use policy::model::{Acl, Alias, Autogroup, Grant, Origin, PortRange, Section};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A destination address of a global rule.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum DstAddr {
    /// `*`: kept on every node.
    Any,
    /// One address of a node named by identity.
    Node(NodeId, IpAddr),
    /// A literal address item (IP, CIDR, host, ipset part).
    Lit(Addr),
    /// A part of `autogroup:internet` (only exit nodes receive it).
    Internet(Addr),
}

/// One `DstPorts` entry before reduction.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Dst {
    /// The address.
    pub addr: DstAddr,
    /// The ports.
    pub ports: PortRange,
}

/// What a global rule grants.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Body {
    /// Network access.
    Ports(Vec<Dst>),
    /// Application capabilities, per destination node.
    Caps {
        /// Receiving nodes.
        nodes: Vec<NodeId>,
        /// Capability name → values (a JSON `null` is an empty list).
        caps: BTreeMap<String, Vec<serde_json::Value>>,
    },
}

/// One rule of one policy entry, for the whole tailnet.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct GlobalRule {
    /// Interned sources.
    pub src: SrcId,
    /// Interned (sources, protocols): the rules a node merges into one (§5.7).
    pub group: GroupId,
    /// `IPProto` (empty: the client default).
    pub proto: Vec<i32>,
    /// What it grants.
    pub body: Body,
    /// The `via` tags of a grant (empty: no route filtering).
    pub via: Vec<String>,
}

/// The global rules of one policy entry.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct EntryRules {
    /// Which entry.
    pub origin: Origin,
    /// Its rules in emission order.
    pub rules: Vec<GlobalRule>,
}

/// Capabilities that also grant a reverse capability to the sources (policy-spec §5.10).
const COMPANION_CAPS: &[(&str, &str)] = &[
    ("tailscale.com/cap/drive", "tailscale.com/cap/drive-sharer"),
    ("tailscale.com/cap/relay", "tailscale.com/cap/relay-target"),
];

/// Builds the global rules of every filter-producing entry: grants first, then ACLs;
/// the implicit allow-all rule when the policy has neither.
pub(crate) fn all_entries(
    r: &Resolver<'_>,
    srcs: &mut SrcTable,
    dialect: policy::Dialect,
) -> Vec<EntryRules> {
    let p = r.policy;
    let mut out = Vec::new();
    if p.is_allow_all_default() {
        // headscale sends the literal `*` (its FilterAllowAll), not the expansion.
        let all = match dialect {
            policy::Dialect::Tailscale => r.wildcard_sources(),
            policy::Dialect::Headscale => vec![crate::addr::Addr::Any],
        };
        let all = match r.posture_gate(&[]) {
            Some(g) => g.apply(all),
            None => all,
        };
        let src = srcs.intern(&all);
        out.push(EntryRules {
            origin: Origin {
                section: Section::Default,
                index: 0,
                span: Default::default(),
            },
            rules: vec![GlobalRule {
                src,
                group: 0,
                proto: Vec::new(),
                body: Body::Ports(vec![Dst {
                    addr: DstAddr::Any,
                    ports: PortRange::ALL,
                }]),
                via: Vec::new(),
            }],
        });
        assign_groups(srcs, &mut out);
        return out;
    }
    for g in p.grants.iter().flatten() {
        out.push(grant_rules(r, srcs, g));
    }
    for a in p.acls.iter().flatten() {
        out.push(acl_rules(r, srcs, a));
    }
    out
}

/// The global rules of one grant.
pub(crate) fn grant_rules(r: &Resolver<'_>, srcs: &mut SrcTable, g: &Grant) -> EntryRules {
    let mut rules = Vec::new();
    let via: Vec<String> = g
        .via
        .iter()
        .filter_map(|v| match &v.value {
            Alias::Tag(t) => Some(t.clone()),
            _ => None,
        })
        .collect();
    let has_self = g
        .dst
        .iter()
        .any(|d| d.value == Alias::Autogroup(Autogroup::SelfDevices));
    let src_addrs = r.gated_sources(&g.src, &g.src_posture);
    let gate = r.posture_gate(&g.src_posture);
    // Network capabilities: one rule per distinct protocol, in order of first use.
    let mut protos: Vec<(Option<u8>, Vec<PortRange>)> = Vec::new();
    for ip in &g.ip {
        let key = ip.value.proto.map(|p| p.0);
        match protos.iter_mut().find(|(k, _)| *k == key) {
            Some((_, ports)) => ports.extend(ip.value.ports.iter().copied()),
            None => protos.push((key, ip.value.ports.clone())),
        }
    }
    let src = srcs.intern(&src_addrs);
    if !src_addrs.is_empty() {
        for (proto, ports) in &protos {
            let dsts = non_self_dsts(r, g.dst.iter().map(|d| &d.value), ports);
            if !dsts.is_empty() {
                rules.push(GlobalRule {
                    src,
                    group: 0,
                    proto: proto.map(i32::from).into_iter().collect(),
                    body: Body::Ports(dsts),
                    via: via.clone(),
                });
            }
        }
    }
    // App capabilities are sent even when the sources resolve to nothing (SaaS sends
    // `"SrcIPs": []` then), but not when `src` is empty.
    if !g.app.is_empty() && !g.src.is_empty() {
        let caps: BTreeMap<String, Vec<serde_json::Value>> = cap_map(&g.app);
        let nodes = cap_receivers(r, g.dst.iter().map(|d| &d.value));
        if !nodes.is_empty() {
            rules.push(GlobalRule {
                src,
                group: 0,
                proto: Vec::new(),
                body: Body::Caps {
                    nodes,
                    caps: caps.clone(),
                },
                via: via.clone(),
            });
            // The companion grant runs the other way: the sources receive it, from the
            // destinations.
            let mut reverse_nodes = cap_receivers(r, g.src.iter().map(|s| &s.value));
            reverse_nodes.retain(|id| gate.is_none_or(|x| x.admits(*id)));
            let reverse_src = r.sources(&g.dst);
            companion_rules(srcs, &caps, reverse_nodes, &reverse_src, &mut rules);
        }
    }
    if has_self {
        for (src, nodes) in self_groups(r, &g.src, gate) {
            for (proto, ports) in &protos {
                rules.push(GlobalRule {
                    src: srcs.intern(&src),
                    group: 0,
                    proto: proto.map(i32::from).into_iter().collect(),
                    body: Body::Ports(node_dsts(r, &nodes, ports)),
                    via: Vec::new(),
                });
            }
            if !g.app.is_empty() {
                let caps = cap_map(&g.app);
                rules.push(GlobalRule {
                    src: srcs.intern(&src),
                    group: 0,
                    proto: Vec::new(),
                    body: Body::Caps {
                        nodes: nodes.clone(),
                        caps: caps.clone(),
                    },
                    via: Vec::new(),
                });
                let sources: Vec<NodeId> = nodes
                    .iter()
                    .copied()
                    .filter(|id| {
                        r.node(*id)
                            .is_some_and(|n| n.addresses().any(|ip| src.contains(&Addr::ip(ip))))
                    })
                    .collect();
                let all: Vec<Addr> = nodes
                    .iter()
                    .filter_map(|id| r.node(*id))
                    .flat_map(|n| n.addresses().map(Addr::ip))
                    .collect();
                companion_rules(srcs, &caps, sources, &all, &mut rules);
            }
        }
    }
    let mut entry = EntryRules {
        origin: g.origin,
        rules,
    };
    assign_groups(srcs, std::slice::from_mut(&mut entry));
    entry
}

/// Sets every rule's merge group from its sources and protocols.
fn assign_groups(srcs: &mut SrcTable, entries: &mut [EntryRules]) {
    for rule in entries.iter_mut().flat_map(|e| e.rules.iter_mut()) {
        rule.group = srcs.group(rule.src, &rule.proto);
    }
}

fn cap_map(
    app: &[(Spanned<String>, Vec<serde_json::Value>)],
) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut caps: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for (name, values) in app {
        caps.entry(name.value.clone())
            .or_default()
            .extend(values.iter().cloned());
    }
    caps
}

/// The reverse grants of companion capabilities: the grant's sources learn that its
/// destinations may use them (e.g. `drive-sharer`), as a grant with `src` and `dst`
/// swapped.
fn companion_rules(
    srcs: &mut SrcTable,
    caps: &BTreeMap<String, Vec<serde_json::Value>>,
    receivers: Vec<NodeId>,
    reverse_src: &[Addr],
    out: &mut Vec<GlobalRule>,
) {
    if receivers.is_empty() {
        return;
    }
    // One rule per companion capability, as SaaS sends them.
    for (cap, companion) in COMPANION_CAPS {
        if caps.contains_key(*cap) {
            let mut reverse = BTreeMap::new();
            reverse.insert((*companion).to_owned(), Vec::new());
            out.push(GlobalRule {
                src: srcs.intern(reverse_src),
                group: 0,
                proto: Vec::new(),
                body: Body::Caps {
                    nodes: receivers.clone(),
                    caps: reverse,
                },
                via: Vec::new(),
            });
        }
    }
}

/// The global rules of one ACL: the non-self destinations first, then one rule per user
/// for `autogroup:self`.
pub(crate) fn acl_rules(r: &Resolver<'_>, srcs: &mut SrcTable, a: &Acl) -> EntryRules {
    let mut rules = Vec::new();
    let proto: Vec<i32> = a.proto.iter().map(|p| i32::from(p.value.0)).collect();
    let src_addrs = r.gated_sources(&a.src, &a.src_posture);
    if !src_addrs.is_empty() {
        let mut dsts = Vec::new();
        for d in &a.dst {
            dsts.extend(non_self_dsts(
                r,
                std::iter::once(&d.value.alias),
                &d.value.ports,
            ));
        }
        if !dsts.is_empty() {
            rules.push(GlobalRule {
                src: srcs.intern(&src_addrs),
                group: 0,
                proto: proto.clone(),
                body: Body::Ports(dsts),
                via: Vec::new(),
            });
        }
    }
    let self_ports: Vec<PortRange> = a
        .dst
        .iter()
        .filter(|d| d.value.alias == Alias::Autogroup(Autogroup::SelfDevices))
        .flat_map(|d| d.value.ports.iter().copied())
        .collect();
    if !self_ports.is_empty() {
        for (src, nodes) in self_groups(r, &a.src, r.posture_gate(&a.src_posture)) {
            rules.push(GlobalRule {
                src: srcs.intern(&src),
                group: 0,
                proto: proto.clone(),
                body: Body::Ports(node_dsts(r, &nodes, &self_ports)),
                via: Vec::new(),
            });
        }
    }
    let mut entry = EntryRules {
        origin: a.origin,
        rules,
    };
    assign_groups(srcs, std::slice::from_mut(&mut entry));
    entry
}

/// For `autogroup:self`: per user, the user's untagged nodes that the sources name,
/// as (source addresses, all of the user's untagged nodes). Sources failing the rule's
/// posture `gate` are left out.
fn self_groups(
    r: &Resolver<'_>,
    src: &[Spanned<Alias>],
    gate: Option<&crate::posture::Gate>,
) -> Vec<(Vec<Addr>, Vec<NodeId>)> {
    let mut out = Vec::new();
    for login in r.owners() {
        let nodes = r.nodes_of_user(login);
        let matching: Vec<NodeId> = nodes
            .iter()
            .copied()
            .filter(|id| {
                gate.is_none_or(|g| g.admits(*id))
                    && r.node(*id).is_some_and(|n| {
                        src.iter().any(|s| match &s.value {
                            Alias::Wildcard => true,
                            other => r.node_matches(n, other),
                        })
                    })
            })
            .collect();
        if matching.is_empty() {
            continue;
        }
        let addrs: Vec<Addr> = matching
            .iter()
            .filter_map(|id| r.node(*id))
            .flat_map(|n| n.addresses().map(Addr::ip))
            .collect();
        out.push((addrs, nodes.to_vec()));
    }
    out
}

/// Every address of `nodes` × `ports`, grouped by address.
fn node_dsts(r: &Resolver<'_>, nodes: &[NodeId], ports: &[PortRange]) -> Vec<Dst> {
    let mut out = Vec::new();
    for id in nodes {
        if let Some(n) = r.node(*id) {
            for ip in n.addresses() {
                for p in ports {
                    out.push(Dst {
                        addr: DstAddr::Node(*id, ip),
                        ports: *p,
                    });
                }
            }
        }
    }
    out
}

/// The destinations of a list of selectors other than `autogroup:self`, × `ports`.
fn non_self_dsts<'x>(
    r: &Resolver<'_>,
    aliases: impl Iterator<Item = &'x Alias>,
    ports: &[PortRange],
) -> Vec<Dst> {
    let mut out = Vec::new();
    let push = |addr: DstAddr, out: &mut Vec<Dst>| {
        for p in ports {
            out.push(Dst {
                addr: addr.clone(),
                ports: *p,
            });
        }
    };
    for alias in aliases {
        match alias {
            Alias::Autogroup(Autogroup::SelfDevices) => {}
            Alias::Wildcard => push(DstAddr::Any, &mut out),
            Alias::Autogroup(Autogroup::Internet) => {
                for a in addr::internet() {
                    push(DstAddr::Internet(a), &mut out);
                }
            }
            Alias::Autogroup(Autogroup::DangerAll) => push(DstAddr::Any, &mut out),
            other => {
                if let Some(nodes) = r.identity_nodes(other) {
                    for id in nodes {
                        if let Some(n) = r.node(id) {
                            for ip in n.addresses() {
                                push(DstAddr::Node(id, ip), &mut out);
                            }
                        }
                    }
                } else if let Some(lits) = r.literal_addrs(other) {
                    for a in lits {
                        push(DstAddr::Lit(a), &mut out);
                    }
                }
            }
        }
    }
    out
}

/// The nodes that receive an app grant: the nodes its destinations name.
fn cap_receivers<'x>(r: &Resolver<'_>, aliases: impl Iterator<Item = &'x Alias>) -> Vec<NodeId> {
    let mut out = Vec::new();
    for alias in aliases {
        match alias {
            Alias::Autogroup(Autogroup::SelfDevices | Autogroup::Internet) => {}
            Alias::Wildcard => out.extend((0..r.node_count()).map(NodeId)),
            other => {
                if let Some(nodes) = r.identity_nodes(other) {
                    out.extend(nodes);
                } else if let Some(lits) = r.literal_addrs(other) {
                    for a in lits {
                        out.extend(r.nodes_with_address_in(&a));
                    }
                }
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}
