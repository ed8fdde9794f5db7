//! The folded access matrix: who reaches what, named the way the policy names it.
//!
//! - **Rows** are sources: one per user (their untagged devices), per tag set (tagged
//!   devices), per device with neither, and per address range a rule names as a source
//!   (subnets behind routers included). Each row lists the groups its user belongs to
//!   (the reason most access exists), not a row per group: a group's members can
//!   differ (`autogroup:self`, postures), a user cannot.
//! - **Columns** are destinations: a user's devices, a tag set, a host alias (`k8s-api`),
//!   a subnet route or the part of one a rule names, with its router
//!   (`10.0.0.0/16 (via vpc-router)`), and `autogroup:internet (via exit-1)` for the
//!   ranges an exit node carries (see [`super::label`]).
//! - **Cells** hold the folded ports ([`FoldedPorts`], spelt as policies write them:
//!   `tcp:443`, `tcp:22, icmp`, `*`) and the rules that grant them, with section,
//!   index and span.
//!
//! Folding is exact: endpoints are first grouped into classes that every rule treats
//! alike ([`Classes`]), and a row or column holds one class. When one name covers
//! endpoints that rules treat differently (a host alias naming one of a tag's devices,
//! a device failing a posture), the name is split and each part lists its members
//! (`tag:k8s: k8s-1, k8s-2`). Every cell is therefore true of every member pair, except
//! that a device never needs a rule to reach itself.
//!
//! The work is (source classes) × (rules matching them) × (destination classes each
//! destination names), through an index from destination atoms to destination
//! classes; nothing is done per pair of endpoints.

use super::access::{Evaluator, is_icmp};
use super::classes::{DstPoint, SrcPoint, dst_points, src_points};
use super::label::{Kind, Label, Labeler};
use super::matrix::{Classes, Ports, merge, ports_text};
use super::select::{Dst, Src};
use super::tailnet::Tailnet;
use std::collections::{BTreeMap, HashMap};
use tailpolicy_policy::model::{Alias, Autogroup, Origin, Policy, PortRange, Proto};

/// A row (source) or a column (destination) of the folded matrix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// What it is, as the policy names it.
    pub label: Label,
    /// The displayed name: the label's title, followed by its members when the label
    /// had to be split (`tag:k8s: k8s-1, k8s-2`).
    pub name: String,
    /// The endpoints it holds: `device (address)` or `range via router`.
    pub members: Vec<String>,
    /// For a user's row: the groups the user belongs to, in policy order.
    pub groups: Vec<String>,
    /// The node (index into [`Tailnet::nodes`]) when every member is one of its own
    /// addresses.
    pub node: Option<usize>,
}

impl Principal {
    /// The kind of principal.
    pub fn kind(&self) -> Kind {
        self.label.kind
    }
}

/// The protocols and ports of a cell.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldedPorts {
    /// Per IP protocol number, the merged port ranges (ICMP and ICMPv6 on `0-65535`
    /// whenever any rule applies: the client's filter allows ping on any access,
    /// policy-spec §5.12).
    pub protos: BTreeMap<u8, Ports>,
    /// Whether a rule grants ICMP itself (its protocol is ICMP, or the default set),
    /// rather than ICMP following from other access.
    pub icmp_granted: bool,
}

impl FoldedPorts {
    /// The policy's spelling: `*` for every port of the default protocols (TCP, UDP,
    /// ICMP), `443` for ports of the default protocols, else `tcp:443`, `udp:53`,
    /// `sctp:9`, `proto:47`, and `icmp` where a rule grants ICMP; parts joined by `, `
    /// (`tcp:22, icmp`). ICMP that only follows from other access is not shown.
    pub fn text(&self) -> String {
        let empty = Vec::new();
        let get = |p: Proto| self.protos.get(&p.0).unwrap_or(&empty);
        let (tcp, udp) = (get(Proto::TCP), get(Proto::UDP));
        let mut parts: Vec<String> = Vec::new();
        let mut shown_default = false;
        if self.icmp_granted && !tcp.is_empty() && tcp == udp {
            parts.push(ports_text(tcp));
            shown_default = true;
        } else {
            for (p, ports) in [(Proto::TCP, tcp), (Proto::UDP, udp)] {
                if !ports.is_empty() {
                    parts.push(format!("{p}:{}", ports_text(ports)));
                }
            }
        }
        for (p, ports) in &self.protos {
            let proto = Proto(*p);
            if proto == Proto::TCP || proto == Proto::UDP || is_icmp(proto) {
                continue;
            }
            if proto.has_ports() {
                parts.push(format!("{proto}:{}", ports_text(ports)));
            } else {
                parts.push(format!("proto:{p}"));
            }
        }
        if self.icmp_granted && !shown_default {
            parts.push("icmp".to_owned());
        }
        if parts.is_empty() {
            // Only a rule on a port-less protocol with ports applies: ping remains.
            parts.push("icmp (implied)".to_owned());
        }
        parts.join(", ")
    }

    /// Whether it covers `proto` (and `port`, for protocols with ports); ICMP is
    /// covered by any access, as the client's filter decides.
    pub fn covers(&self, proto: Proto, port: Option<u16>) -> bool {
        if is_icmp(proto) {
            return true;
        }
        self.protos.get(&proto.0).is_some_and(|ports| {
            if proto.has_ports() {
                port.is_none_or(|x| ports.iter().any(|(a, b)| *a <= x && x <= *b))
            } else {
                ports.as_slice() == [(0, u16::MAX)]
            }
        })
    }
}

/// One cell: what a row may reach in a column, and by which rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Index into [`FoldedMatrix::rows`].
    pub row: usize,
    /// Index into [`FoldedMatrix::columns`].
    pub column: usize,
    /// The folded protocols and ports.
    pub ports: FoldedPorts,
    /// The deciding rules, as indices into [`FoldedMatrix::rules`], in compilation
    /// order (grants, then ACLs); [`FoldedMatrix::origins`] reads them.
    pub rules: Vec<u32>,
}

/// The access matrix folded onto the policy's names: rows are principals (users, tag
/// sets, address ranges), columns destination regions, cells the folded ports and
/// their rules. Only cells with access are listed, sorted by row then column.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FoldedMatrix {
    /// Sources, sorted by kind then name.
    pub rows: Vec<Principal>,
    /// Destinations, sorted by kind then name.
    pub columns: Vec<Principal>,
    /// Non-empty cells.
    pub cells: Vec<Cell>,
    /// The policy's network rules (section, index, span), in compilation order; cells
    /// refer to them by index.
    pub rules: Vec<Origin>,
}

impl FoldedMatrix {
    /// The deciding rules of `cell`: section, index and span.
    pub fn origins<'m>(&'m self, cell: &'m Cell) -> impl Iterator<Item = &'m Origin> + 'm {
        cell.rules
            .iter()
            .filter_map(|i| self.rules.get(usize::try_from(*i).ok()?))
    }

    /// The cells of row `row`.
    pub fn row_cells(&self, row: usize) -> impl Iterator<Item = &Cell> {
        let start = self.cells.partition_point(|c| c.row < row);
        self.cells
            .get(start..)
            .unwrap_or_default()
            .iter()
            .take_while(move |c| c.row == row)
    }
}

/// The folded matrix of `policy` over `tailnet`: every source, every destination.
pub fn folded_matrix(policy: &Policy, tailnet: &Tailnet) -> FoldedMatrix {
    build(
        policy,
        tailnet,
        src_points(&[policy], tailnet),
        dst_points(&[policy], tailnet),
    )
}

/// The folded rows of the given sources (from [`super::reach::resolve_sources`]):
/// what they reach, over every destination.
pub fn folded_from(policy: &Policy, tailnet: &Tailnet, srcs: &[Src]) -> FoldedMatrix {
    build(
        policy,
        tailnet,
        srcs.iter().flat_map(|s| src_of(tailnet, s)).collect(),
        dst_points(&[policy], tailnet),
    )
}

/// The folded columns of the given destinations (from
/// [`super::reach::resolve_destinations`]): who reaches them, from every source.
pub fn folded_to(policy: &Policy, tailnet: &Tailnet, dsts: &[Dst]) -> FoldedMatrix {
    build(
        policy,
        tailnet,
        src_points(&[policy], tailnet),
        dsts.iter().flat_map(|d| dst_of(tailnet, d)).collect(),
    )
}

/// The source points of a resolved source: a node's addresses, or the source itself.
fn src_of(tailnet: &Tailnet, s: &Src) -> Vec<SrcPoint> {
    if let Some(n) = s.node.and_then(|i| tailnet.nodes.get(i)) {
        return n
            .addrs
            .iter()
            .map(|ip| {
                let src = Src::addr(tailnet, ipnet::IpNet::from(*ip));
                SrcPoint {
                    name: format!("{} ({ip})", n.name),
                    principal: super::classes::principal(&src.identity, None),
                    src,
                    region: None,
                }
            })
            .collect();
    }
    let name = super::reach::src_name(tailnet, s);
    vec![SrcPoint {
        principal: name.clone(),
        name,
        src: s.clone(),
        region: None,
    }]
}

/// The destination points of a resolved destination: a node's addresses, or the
/// destination itself.
fn dst_of(tailnet: &Tailnet, d: &Dst) -> Vec<DstPoint> {
    if d.addr.is_none()
        && let Some(n) = d.node.and_then(|i| tailnet.nodes.get(i))
    {
        return n
            .addrs
            .iter()
            .map(|ip| {
                let dst = Dst::addr(tailnet, ipnet::IpNet::from(*ip));
                DstPoint {
                    name: format!("{} ({ip})", n.name),
                    principal: super::classes::principal(&dst.identity, None),
                    dst,
                    region: None,
                }
            })
            .collect();
    }
    let name = super::reach::dst_name(tailnet, d);
    vec![DstPoint {
        principal: name.clone(),
        name,
        dst: d.clone(),
        region: None,
    }]
}

/// Groups points into principals: one per (label, class); a label spanning several
/// classes is split, each part named by its members. Returns the principals (sorted)
/// and, per principal, its class.
fn group(
    labels: Vec<Label>,
    names: &[String],
    nodes: &[Option<usize>],
    class_of: &[usize],
    groups_of: impl Fn(&Label) -> Vec<String>,
) -> (Vec<Principal>, Vec<usize>) {
    let mut by_key: BTreeMap<(Label, usize), Vec<usize>> = BTreeMap::new();
    for (i, l) in labels.into_iter().enumerate() {
        let c = class_of.get(i).copied().unwrap_or(0);
        by_key.entry((l, c)).or_default().push(i);
    }
    let mut classes_per_label: HashMap<&Label, usize> = HashMap::new();
    for (l, _) in by_key.keys() {
        *classes_per_label.entry(l).or_default() += 1;
    }
    let mut out: Vec<(Principal, usize)> = Vec::new();
    for ((label, class), members) in &by_key {
        let node = match members.first().and_then(|i| nodes.get(*i)) {
            Some(Some(n)) if members.iter().all(|i| nodes.get(*i) == Some(&Some(*n))) => Some(*n),
            _ => None,
        };
        let members: Vec<String> = members
            .iter()
            .filter_map(|i| names.get(*i).cloned())
            .collect();
        let split = classes_per_label.get(label).copied().unwrap_or(1) > 1;
        let name = if split {
            format!("{}: {}", label.title(), members_text(&members))
        } else {
            label.title()
        };
        out.push((
            Principal {
                groups: groups_of(label),
                label: label.clone(),
                name,
                members,
                node,
            },
            *class,
        ));
    }
    out.sort_by(|(a, _), (b, _)| (a.label.kind, &a.name).cmp(&(b.label.kind, &b.name)));
    out.into_iter().unzip()
}

/// Up to three members by device name (`k8s-1, k8s-2 +3 more`).
fn members_text(members: &[String]) -> String {
    let mut short: Vec<&str> = members.iter().map(|m| device_name(m)).collect();
    short.dedup();
    let more = short.len().saturating_sub(3);
    let mut s = short.iter().take(3).copied().collect::<Vec<_>>().join(", ");
    if more > 0 {
        s.push_str(&format!(" +{more} more"));
    }
    s
}

/// `node` of `node (address)`; other names whole.
fn device_name(member: &str) -> &str {
    match member.split_once(" (") {
        Some((n, rest)) if rest.ends_with(')') => n,
        _ => member,
    }
}

/// Access being gathered for one cell.
#[derive(Debug, Default)]
struct Acc {
    /// (protocol, first port, last port), unmerged.
    ports: Vec<(u8, u16, u16)>,
    icmp_granted: bool,
    /// Rule indices, ascending (rules are visited in order).
    rules: Vec<u32>,
}

impl Acc {
    fn add(&mut self, proto: Option<Proto>, ports: PortRange, rule: u32) {
        let protos: &[Proto] = match &proto {
            Some(p) => std::slice::from_ref(p),
            None => &Proto::DEFAULT_SET,
        };
        for p in protos {
            if is_icmp(*p) {
                self.icmp_granted = true;
            } else if p.has_ports() || ports == PortRange::ALL {
                self.ports.push((p.0, ports.first, ports.last));
            }
        }
        if self.rules.last() != Some(&rule) {
            self.rules.push(rule);
        }
    }

    fn finish(mut self) -> (FoldedPorts, Vec<u32>) {
        self.ports.sort_unstable();
        let mut protos: BTreeMap<u8, Ports> = BTreeMap::new();
        for (p, a, b) in self.ports {
            protos.entry(p).or_default().push((a, b));
        }
        for v in protos.values_mut() {
            *v = merge(std::mem::take(v));
        }
        for p in [Proto::ICMP, Proto::ICMPV6] {
            protos.insert(p.0, vec![(0, u16::MAX)]);
        }
        self.rules.shrink_to_fit();
        (
            FoldedPorts {
                protos,
                icmp_granted: self.icmp_granted,
            },
            self.rules,
        )
    }
}

/// The groups (in policy order) whose members include `login`, directly.
pub fn groups_of(policy: &Policy, login: &str) -> Vec<String> {
    policy
        .groups
        .iter()
        .filter(|g| {
            g.members
                .iter()
                .any(|m| m.value.eq_ignore_ascii_case(login))
        })
        .map(|g| g.name.value.clone())
        .collect()
}

fn build(
    policy: &Policy,
    tailnet: &Tailnet,
    srcs: Vec<SrcPoint>,
    dsts: Vec<DstPoint>,
) -> FoldedMatrix {
    let ev = Evaluator::new(policy, tailnet);
    let labeler = Labeler::new(&[policy], tailnet);
    let src_labels: Vec<Label> = srcs.iter().map(|p| labeler.src(p)).collect();
    let dst_labels: Vec<Label> = dsts.iter().map(|p| labeler.dst(p)).collect();
    let src_names: Vec<String> = srcs.iter().map(|p| p.name.clone()).collect();
    let dst_names: Vec<String> = dsts.iter().map(|p| p.name.clone()).collect();
    let src_nodes: Vec<Option<usize>> = srcs.iter().map(|p| p.src.node).collect();
    // Only a node's own addresses: a router's region is not the router.
    let dst_nodes: Vec<Option<usize>> = dsts
        .iter()
        .map(|p| p.dst.node.filter(|_| p.region.is_none()))
        .collect();
    let classes = Classes::from_points(&[&ev], srcs, dsts);
    let class_of = |cs: &[Vec<usize>], n: usize| {
        let mut v = vec![0; n];
        for (c, members) in cs.iter().enumerate() {
            for i in members {
                if let Some(x) = v.get_mut(*i) {
                    *x = c;
                }
            }
        }
        v
    };
    let src_class = class_of(&classes.src_classes, src_names.len());
    let dst_class = class_of(&classes.dst_classes, dst_names.len());
    let user_groups = |l: &Label| {
        if l.kind == Kind::User {
            groups_of(policy, &l.name)
        } else {
            Vec::new()
        }
    };
    let (rows, row_class) = group(src_labels, &src_names, &src_nodes, &src_class, user_groups);
    let (columns, column_class) = group(dst_labels, &dst_names, &dst_nodes, &dst_class, |_| {
        Vec::new()
    });

    // Columns per destination class, and destination classes per destination atom.
    let mut columns_of: Vec<Vec<usize>> = vec![Vec::new(); classes.dst_classes.len()];
    for (col, c) in column_class.iter().enumerate() {
        if let Some(v) = columns_of.get_mut(*c) {
            v.push(col);
        }
    }
    let offsets = classes.rule_offsets(0);
    let atoms = ev.rules().iter().map(|r| r.dst.len()).sum::<usize>();
    let mut by_atom: Vec<Vec<usize>> = vec![Vec::new(); atoms];
    let mut by_owner: HashMap<&str, Vec<usize>> = HashMap::new();
    for dc in 0..classes.dst_classes.len() {
        let Some((bits, owner)) = classes.dst_signature(dc) else {
            continue;
        };
        for k in bits.ones() {
            if let Some(v) = by_atom.get_mut(k) {
                v.push(dc);
            }
        }
        if let Some(o) = owner {
            by_owner.entry(o.as_str()).or_default().push(dc);
        }
    }

    let mut rows_of_class: HashMap<usize, usize> = HashMap::new();
    for sc in &row_class {
        *rows_of_class.entry(*sc).or_default() += 1;
    }
    let mut cells = Vec::new();
    let mut done: HashMap<usize, Vec<(usize, FoldedPorts, Vec<u32>)>> = HashMap::new();
    for (row, sc) in row_class.iter().enumerate() {
        let per_class = match done.remove(sc) {
            Some(v) => v,
            None => class_access(&ev, &classes, offsets, &by_atom, &by_owner, *sc),
        };
        let left = rows_of_class.entry(*sc).or_default();
        *left = left.saturating_sub(1);
        let keep = *left > 0;
        let mut kept = Vec::new();
        let own = rows.get(row).and_then(|r| r.node);
        for (dc, ports, rules) in per_class {
            let mut cols: Vec<usize> = columns_of.get(dc).cloned().unwrap_or_default();
            // A device talking to itself never crosses its filter.
            cols.retain(|c| own.is_none() || columns.get(*c).and_then(|p| p.node) != own);
            if keep {
                kept.push((dc, ports.clone(), rules.clone()));
            }
            if let Some((last, rest)) = cols.split_last() {
                for column in rest {
                    cells.push(Cell {
                        row,
                        column: *column,
                        ports: ports.clone(),
                        rules: rules.clone(),
                    });
                }
                cells.push(Cell {
                    row,
                    column: *last,
                    ports,
                    rules,
                });
            }
        }
        if keep {
            done.insert(*sc, kept);
        }
    }
    cells.sort_by_key(|c| (c.row, c.column));
    FoldedMatrix {
        rows,
        columns,
        cells,
        rules: ev.rules().iter().map(|r| r.origin).collect(),
    }
}

/// What source class `sc` may reach: per destination class, the folded ports and rules.
fn class_access(
    ev: &Evaluator<'_>,
    classes: &Classes,
    offsets: &[usize],
    by_atom: &[Vec<usize>],
    by_owner: &HashMap<&str, Vec<usize>>,
    sc: usize,
) -> Vec<(usize, FoldedPorts, Vec<u32>)> {
    let Some((bits, user)) = classes.src_signature(sc) else {
        return Vec::new();
    };
    let mut acc: HashMap<usize, Acc> = HashMap::new();
    let nothing: Vec<usize> = Vec::new();
    for ri in bits.ones() {
        let (Some(rule), Some(k0), Ok(index)) =
            (ev.rules().get(ri), offsets.get(ri), u32::try_from(ri))
        else {
            continue;
        };
        for (j, atom) in rule.dst.iter().enumerate() {
            let dcs = if atom.alias == Alias::Autogroup(Autogroup::SelfDevices) {
                user.as_deref()
                    .and_then(|u| by_owner.get(u))
                    .unwrap_or(&nothing)
            } else {
                by_atom.get(k0 + j).unwrap_or(&nothing)
            };
            for dc in dcs {
                if classes.same_node_only(sc, *dc) {
                    // A node talking to itself never crosses its filter.
                    continue;
                }
                acc.entry(*dc)
                    .or_default()
                    .add(atom.proto, atom.ports, index);
            }
        }
    }
    let mut out: Vec<(usize, FoldedPorts, Vec<u32>)> = acc
        .into_iter()
        .map(|(dc, a)| {
            let (p, r) = a.finish();
            (dc, p, r)
        })
        .collect();
    out.sort_by_key(|(dc, _, _)| *dc);
    out
}
