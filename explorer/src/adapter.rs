//! The one place the explorer reads the compiler's whole-tailnet answers: the folded
//! matrix ([`folded_matrix`]) and the folded access diff ([`fold_diff`]), named as the
//! CLI's `matrix` and `diff` name them.
//!
//! - Rows are the fold's sources (users, tag sets, address ranges, devices with neither
//!   owner nor tags), plus one row per group: the union of its member users' rows (the
//!   fold lists a user's groups rather than giving them rows). Ordered users, groups,
//!   tags, then the rest.
//! - Columns are the fold's destinations, ordered tags, hosts, subnet routes with their
//!   router (`10.0.0.0/16 (via vpc-router)`), the internet through each exit node
//!   (`autogroup:internet (via exit-1)`), then users' own devices, address ranges and
//!   devices.
//! - Cells hold the fold's ports ([`FoldedPorts`], spelt as policies do: `tcp:443`,
//!   `tcp:22, icmp`, `*`) and the deciding rules.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_compiler::eval::diff::diff as eval_diff;
use tailpolicy_compiler::eval::fold::{
    FoldedMatrix, FoldedPorts, Principal, folded_matrix, groups_of,
};
use tailpolicy_compiler::eval::fold_diff::fold_diff;
use tailpolicy_compiler::eval::label::Kind;
use tailpolicy_compiler::eval::matrix::{Ports, merge};
use tailpolicy_policy::Policy;
use tailpolicy_policy::model::Origin;

/// A row or a column of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The fold's name ([`Principal::name`]): `alice@example.com`, `group:platform`,
    /// `tag:k8s`, `k8s-api (via vpc-router)`, `autogroup:internet (via exit-1)`, or a
    /// split name with its members (`tag:k8s: k8s-1, k8s-2`).
    pub name: String,
    /// The fold's kind ([`Kind::as_str`]: `user`, `tag`, `host`, `subnet`,
    /// `internet`, `address`, `node`), or `group`.
    pub kind: &'static str,
    /// The name as a selector for the "from" and "to" views: the label's name without
    /// its router or members (`k8s-api`, `tag:k8s`, `group:platform`).
    pub select: String,
    /// What it holds: `device (address)` or `range via router` ([`Principal::members`]);
    /// for a group, its member users' row names.
    pub members: Vec<String>,
    /// For a user: the groups the user belongs to, in policy order.
    pub groups: Vec<String>,
}

impl Axis {
    fn of(p: &Principal) -> Self {
        Self {
            name: p.name.clone(),
            kind: p.kind().as_str(),
            select: p.label.name.clone(),
            members: p.members.clone(),
            groups: p.groups.clone(),
        }
    }
}

/// One cell: its folded ports and the deciding rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Row index.
    pub row: usize,
    /// Column index.
    pub col: usize,
    /// The folded ports; [`FoldedPorts::text`] spells them.
    pub ports: FoldedPorts,
    /// The deciding rules, in compilation order (grants, then ACLs).
    pub rules: Vec<Origin>,
}

/// The access grid.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    /// Sources: users, groups, tags, then the rest.
    pub rows: Vec<Axis>,
    /// Destinations: tags, hosts, subnet routes, the internet, then the rest.
    pub cols: Vec<Axis>,
    /// Cells with some access, by row then column.
    pub cells: Vec<Cell>,
}

/// A change of access between two policies, folded ([`fold_diff`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The source's name.
    pub src: String,
    /// The source user's groups (in the new policy for a gain, the old for a loss).
    pub groups: Vec<String>,
    /// The destination's name.
    pub dst: String,
    /// Gained (`true`) or lost.
    pub gained: bool,
    /// Ports in the policy's spelling ([`FoldedChange::ports_text`]).
    ///
    /// [`FoldedChange::ports_text`]: tailpolicy_compiler::eval::fold_diff::FoldedChange::ports_text
    pub ports: String,
    /// The rules responsible: in the new policy for a gain, in the old for a loss.
    pub rules: Vec<Origin>,
    /// The source devices (or ranges) it applies to.
    pub src_devices: Vec<String>,
    /// The destination devices (or ranges) it applies to.
    pub dst_devices: Vec<String>,
}

/// Where a row kind goes: users, groups, tags, then the rest in the fold's order.
fn row_rank(kind: Kind) -> u8 {
    match kind {
        Kind::User => 0,
        Kind::Tag => 2,
        _ => 3,
    }
}

/// Where a column kind goes: tags, hosts, subnet routes, the internet, then the rest.
fn col_rank(kind: Kind) -> u8 {
    match kind {
        Kind::Tag => 0,
        Kind::Host => 1,
        Kind::Subnet => 2,
        Kind::Internet => 3,
        Kind::User => 4,
        Kind::Address => 5,
        Kind::Node => 6,
    }
}

/// The positions of `ps` after a stable sort by `rank`: (new order, old → new index).
fn order(ps: &[Principal], rank: impl Fn(Kind) -> u8) -> (Vec<usize>, Vec<usize>) {
    let mut order: Vec<usize> = (0..ps.len()).collect();
    order.sort_by_key(|i| ps.get(*i).map(|p| rank(p.kind())));
    let mut new_of = vec![0; ps.len()];
    for (new, old) in order.iter().enumerate() {
        if let Some(x) = new_of.get_mut(*old) {
            *x = new;
        }
    }
    (order, new_of)
}

/// A group's cell being gathered: ports per protocol, ICMP granted, rule indices.
#[derive(Default)]
struct GroupCell {
    protos: BTreeMap<u8, Ports>,
    icmp_granted: bool,
    rules: BTreeSet<u32>,
}

/// The access grid of `policy` over `tailnet`: the folded matrix, with group rows.
pub fn grid(policy: &Policy, tailnet: &Tailnet) -> Grid {
    let m = folded_matrix(policy, tailnet);
    let FoldedMatrix {
        rows: fold_rows,
        columns,
        cells: fold_cells,
        rules,
    } = &m;
    let origins = |ids: &mut dyn Iterator<Item = &u32>| -> Vec<Origin> {
        ids.filter_map(|i| rules.get(usize::try_from(*i).ok()?).copied())
            .collect()
    };

    // Groups, by name: their member users' rows.
    let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, r) in fold_rows.iter().enumerate() {
        for g in &r.groups {
            groups.entry(g.as_str()).or_default().push(i);
        }
    }

    let (row_order, _) = order(fold_rows, row_rank);
    let (col_order, col_of) = order(columns, col_rank);
    let mut row_of = vec![0; fold_rows.len()];
    let mut rows: Vec<Axis> = Vec::with_capacity(fold_rows.len() + groups.len());
    let mut push_row = |rows: &mut Vec<Axis>, old: usize| {
        if let (Some(p), Some(x)) = (fold_rows.get(old), row_of.get_mut(old)) {
            *x = rows.len();
            rows.push(Axis::of(p));
        }
    };
    let is_user = |i: &&usize| fold_rows.get(**i).is_some_and(|r| r.kind() == Kind::User);
    for old in row_order.iter().filter(is_user) {
        push_row(&mut rows, *old);
    }
    // Per group: its row and its member users' rows.
    let mut group_rows: Vec<(usize, &Vec<usize>)> = Vec::with_capacity(groups.len());
    for (g, members) in &groups {
        // A user split by posture has several rows: name it once.
        let mut seen: HashSet<&str> = HashSet::new();
        let names: Vec<String> = members
            .iter()
            .filter_map(|i| fold_rows.get(*i))
            .filter(|r| seen.insert(r.label.name.as_str()))
            .map(|r| r.label.name.clone())
            .collect();
        group_rows.push((rows.len(), members));
        rows.push(Axis {
            name: (*g).to_owned(),
            kind: "group",
            select: (*g).to_owned(),
            members: names,
            groups: Vec::new(),
        });
    }
    for old in row_order.iter().filter(|i| !is_user(i)) {
        push_row(&mut rows, *old);
    }

    let mut cells: Vec<Cell> = Vec::with_capacity(fold_cells.len());
    for c in fold_cells {
        let (Some(row), Some(col)) = (row_of.get(c.row), col_of.get(c.column)) else {
            continue;
        };
        cells.push(Cell {
            row: *row,
            col: *col,
            ports: c.ports.clone(),
            rules: origins(&mut c.rules.iter()),
        });
    }
    for (row, members) in group_rows {
        let mut acc: BTreeMap<usize, GroupCell> = BTreeMap::new();
        for r in members {
            for c in m.row_cells(*r) {
                let Some(col) = col_of.get(c.column) else {
                    continue;
                };
                let a = acc.entry(*col).or_default();
                for (p, ports) in &c.ports.protos {
                    a.protos
                        .entry(*p)
                        .or_default()
                        .extend(ports.iter().copied());
                }
                a.icmp_granted |= c.ports.icmp_granted;
                a.rules.extend(c.rules.iter().copied());
            }
        }
        for (col, a) in acc {
            let protos = a
                .protos
                .into_iter()
                .map(|(p, ports)| (p, merge(ports)))
                .collect();
            cells.push(Cell {
                row,
                col,
                ports: FoldedPorts {
                    protos,
                    icmp_granted: a.icmp_granted,
                },
                rules: origins(&mut a.rules.iter()),
            });
        }
    }
    cells.sort_by_key(|c| (c.row, c.col));

    Grid {
        rows,
        cols: col_order
            .iter()
            .filter_map(|i| columns.get(*i).map(Axis::of))
            .collect(),
        cells,
    }
}

/// The tailnet both policies are judged on: `new`'s, with the routes that `old`'s
/// `autoApprovers` approve added.
pub fn common_tailnet(old: &Tailnet, new: &Tailnet) -> Tailnet {
    let mut t = new.clone();
    for (n, m) in t.nodes.iter_mut().zip(&old.nodes) {
        for r in &m.approved_routes {
            if !n.approved_routes.contains(r) {
                n.approved_routes.push(*r);
            }
        }
    }
    t
}

/// Access gained and lost from `old` to `new` over `tailnet`, folded.
pub fn diff(old: &Policy, new: &Policy, tailnet: &Tailnet) -> Vec<Change> {
    let d = eval_diff(old, new, tailnet);
    fold_diff(&d, &[old, new], tailnet)
        .into_iter()
        .map(|c| Change {
            groups: groups_of(if c.gained { new } else { old }, &c.src),
            ports: c.ports_text(),
            src: c.src,
            dst: c.dst,
            gained: c.gained,
            rules: c.rules,
            src_devices: c.src_devices,
            dst_devices: c.dst_devices,
        })
        .collect()
}
