//! The one place the explorer reads the compiler's whole-tailnet answers (the matrix and
//! the access diff) and folds them onto the names a policy uses: rows are users, groups
//! and tags; columns are tags, hosts, subnet routes with their router, the internet
//! through each exit node, and users' own devices. Ports are spelled as in policies
//! (`tcp:443`).
//!
//! Today this folds `compiler::eval::matrix` and `compiler::eval::diff` itself; when the
//! compiler answers folded, only this module changes.

use ipnet::IpNet;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use tailpolicy_compiler::eval::diff::diff as eval_diff;
use tailpolicy_compiler::eval::matrix::{ClassAccess, Classes, matrix, merge, ports_text};
use tailpolicy_compiler::eval::select::is_internet;
use tailpolicy_compiler::eval::{Identity, Tailnet};
use tailpolicy_policy::Policy;
use tailpolicy_policy::model::{Origin, Proto};

/// A row or a column of the grid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Axis {
    /// The name as the policy spells it (`group:platform`, `k8s-api`,
    /// `10.0.0.0/16 (via vpc-router)`, `autogroup:internet (via exit-1)`).
    pub name: String,
    /// `user`, `group`, `tag`, `host`, `route` or `internet`.
    pub kind: &'static str,
}

/// What one cell allows: per protocol, port ranges with the rules granting them.
pub type CellAccess = BTreeMap<u8, BTreeSet<(u16, u16, Origin)>>;

/// One cell: its folded ports and the deciding rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cell {
    /// Row index.
    pub row: usize,
    /// Column index.
    pub col: usize,
    /// Ports in the policy's spelling: `*`, `tcp:443`, `udp:53,5353`, `icmp`.
    pub ports: Vec<String>,
    /// The rules that grant it, in policy order.
    pub rules: Vec<Origin>,
}

/// The access grid.
#[derive(Clone, Debug, Default)]
pub struct Grid {
    /// Sources: users, then groups, then tags.
    pub rows: Vec<Axis>,
    /// Destinations: tags, hosts, subnet routes, the internet, users' devices.
    pub cols: Vec<Axis>,
    /// Cells with some access, by row then column.
    pub cells: Vec<Cell>,
}

/// A change of access between two policies, folded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Source row name.
    pub src: String,
    /// Destination column name.
    pub dst: String,
    /// Gained (`true`) or lost.
    pub gained: bool,
    /// Ports in the policy's spelling.
    pub ports: Vec<String>,
    /// The rules responsible: in the new policy for a gain, in the old for a loss.
    pub rules: Vec<Origin>,
}

/// Rows, columns, and which of them each endpoint of the classes belongs to.
struct Axes {
    rows: Vec<Axis>,
    cols: Vec<Axis>,
    /// Per source class: its rows.
    class_rows: Vec<Vec<usize>>,
    /// Per destination class: its columns.
    class_cols: Vec<Vec<usize>>,
}

fn index_of(
    names: &mut Vec<Axis>,
    index: &mut HashMap<String, usize>,
    name: &str,
    kind: &'static str,
) -> usize {
    if let Some(i) = index.get(name) {
        return *i;
    }
    names.push(Axis {
        name: name.to_owned(),
        kind,
    });
    let i = names.len() - 1;
    index.insert(name.to_owned(), i);
    i
}

fn axes(policies: &[&Policy], tailnet: &Tailnet, classes: &Classes) -> Axes {
    // Names, sorted within each kind.
    let mut users: BTreeSet<String> = tailnet
        .user_logins()
        .iter()
        .map(|u| (*u).to_owned())
        .collect();
    users.extend(
        tailnet
            .nodes
            .iter()
            .filter_map(|n| n.owner().map(str::to_owned)),
    );
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut tags: BTreeSet<String> = BTreeSet::new();
    let mut hosts: Vec<(String, IpNet)> = Vec::new();
    for p in policies {
        for g in &p.groups {
            groups
                .entry(g.name.value.clone())
                .or_default()
                .extend(g.members.iter().map(|m| m.value.clone()));
        }
        tags.extend(p.tag_owners.iter().map(|t| t.tag.value.clone()));
        for h in &p.hosts {
            if !hosts.iter().any(|(n, _)| *n == h.name.value) {
                hosts.push((h.name.value.clone(), h.addr.value.net));
            }
        }
    }
    tags.extend(tailnet.nodes.iter().flat_map(|n| n.tags.iter().cloned()));
    hosts.sort_by(|a, b| a.0.cmp(&b.0));

    let mut rows = Vec::new();
    let mut row_index = HashMap::new();
    for u in &users {
        index_of(&mut rows, &mut row_index, u, "user");
    }
    for g in groups.keys() {
        index_of(&mut rows, &mut row_index, g, "group");
    }
    for t in &tags {
        index_of(&mut rows, &mut row_index, t, "tag");
    }
    let mut user_groups: HashMap<&str, Vec<usize>> = HashMap::new();
    for (g, members) in &groups {
        if let Some(gi) = row_index.get(g) {
            for m in members {
                user_groups.entry(m.as_str()).or_default().push(*gi);
            }
        }
    }

    let mut cols = Vec::new();
    let mut col_index = HashMap::new();
    for t in &tags {
        index_of(&mut cols, &mut col_index, t, "tag");
    }
    for (h, _) in &hosts {
        index_of(&mut cols, &mut col_index, h, "host");
    }
    let mut routes: Vec<(IpNet, usize, String)> = Vec::new();
    for (i, n) in tailnet.nodes.iter().enumerate() {
        for r in n.subnet_routes() {
            let name = format!("{r} (via {})", n.name);
            routes.push((*r, i, name));
        }
    }
    routes.sort_by(|a, b| a.2.cmp(&b.2));
    for (_, _, name) in &routes {
        index_of(&mut cols, &mut col_index, name, "route");
    }
    let mut exits: Vec<(usize, String)> = Vec::new();
    for (i, n) in tailnet.nodes.iter().enumerate() {
        if n.is_exit_node() {
            let name = format!("autogroup:internet (via {})", n.name);
            index_of(&mut cols, &mut col_index, &name, "internet");
            exits.push((i, name));
        }
    }
    for u in &users {
        index_of(&mut cols, &mut col_index, u, "user");
    }

    let src_rows = |i: usize| -> Vec<usize> {
        let Some(p) = classes.srcs.get(i) else {
            return Vec::new();
        };
        match &p.src.identity {
            Identity::User(u) => {
                let mut v: Vec<usize> = row_index.get(u).copied().into_iter().collect();
                v.extend(user_groups.get(u.as_str()).into_iter().flatten().copied());
                v
            }
            Identity::Tagged(ts) => ts
                .iter()
                .filter_map(|t| row_index.get(t).copied())
                .collect(),
            Identity::Anonymous => Vec::new(),
        }
    };
    let dst_cols = |i: usize| -> Vec<usize> {
        let Some(p) = classes.dsts.get(i) else {
            return Vec::new();
        };
        let d = &p.dst;
        let Some(addr) = d.addr.map(|a| a.addr()) else {
            return Vec::new();
        };
        let mut v: Vec<usize> = hosts
            .iter()
            .filter(|(_, net)| net.contains(&addr))
            .filter_map(|(h, _)| col_index.get(h).copied())
            .collect();
        match &d.identity {
            Identity::User(u) => v.extend(col_index.get(u).copied()),
            Identity::Tagged(ts) => v.extend(ts.iter().filter_map(|t| col_index.get(t).copied())),
            Identity::Anonymous => {
                if !v.is_empty() {
                    // A host alias names it; the route's column keeps the rest.
                } else if let Some((_, name)) = exits
                    .iter()
                    .find(|(e, _)| Some(*e) == d.node && is_internet(IpNet::from(addr)))
                {
                    v.extend(col_index.get(name).copied());
                } else if let Some((_, _, name)) = routes
                    .iter()
                    .find(|(r, router, _)| Some(*router) == d.node && r.contains(&addr))
                {
                    v.extend(col_index.get(name).copied());
                }
            }
        }
        v
    };
    let union = |members: &Vec<usize>, f: &dyn Fn(usize) -> Vec<usize>| -> Vec<usize> {
        let set: BTreeSet<usize> = members.iter().flat_map(|i| f(*i)).collect();
        set.into_iter().collect()
    };
    let class_rows = classes
        .src_classes
        .iter()
        .map(|m| union(m, &src_rows))
        .collect();
    let class_cols = classes
        .dst_classes
        .iter()
        .map(|m| union(m, &dst_cols))
        .collect();
    Axes {
        rows,
        cols,
        class_rows,
        class_cols,
    }
}

fn add(cell: &mut CellAccess, access: &ClassAccess) {
    for (proto, ranges) in access {
        cell.entry(*proto)
            .or_default()
            .extend(ranges.iter().copied());
    }
}

/// The ports of a cell in the policy's spelling: `*` for every protocol on every port,
/// else one `proto:ports` per protocol with ports (`tcp:22,443`), and the portless
/// protocols (`icmp`) only when nothing else is allowed (any rule allows ICMP).
pub fn fold_ports(cell: &CellAccess) -> Vec<String> {
    let ports: BTreeMap<u8, Vec<(u16, u16)>> = cell
        .iter()
        .map(|(p, v)| (*p, merge(v.iter().map(|(a, b, _)| (*a, *b)).collect())))
        .collect();
    let everything = Proto::DEFAULT_SET.iter().all(|d| {
        ports
            .get(&d.0)
            .is_some_and(|v| v.as_slice() == [(0, u16::MAX)])
    });
    if everything {
        return vec!["*".to_owned()];
    }
    let mut out: Vec<String> = ports
        .iter()
        .filter(|(p, _)| Proto(**p).has_ports())
        .map(|(p, v)| format!("{}:{}", Proto(*p), ports_text(v)))
        .collect();
    if out.is_empty() {
        let portless: BTreeSet<String> = ports
            .keys()
            .map(|p| {
                if *p == Proto::ICMPV6.0 {
                    "icmp".to_owned()
                } else {
                    Proto(*p).to_string()
                }
            })
            .collect();
        out.extend(portless);
    }
    out
}

fn rules_of(cell: &CellAccess) -> Vec<Origin> {
    let set: BTreeSet<Origin> = cell.values().flatten().map(|(_, _, o)| *o).collect();
    set.into_iter().collect()
}

/// The access grid of `policy` over `tailnet`, folded onto the policy's names.
pub fn grid(policy: &Policy, tailnet: &Tailnet) -> Grid {
    let m = matrix(policy, tailnet);
    let ax = axes(&[policy], tailnet, &m.classes);
    let mut cells: BTreeMap<(usize, usize), CellAccess> = BTreeMap::new();
    for (sc, dc, access) in &m.cells {
        let (Some(rows), Some(cols)) = (ax.class_rows.get(*sc), ax.class_cols.get(*dc)) else {
            continue;
        };
        for r in rows {
            for c in cols {
                add(cells.entry((*r, *c)).or_default(), access);
            }
        }
    }
    Grid {
        rows: ax.rows,
        cols: ax.cols,
        cells: cells
            .iter()
            .map(|((row, col), a)| Cell {
                row: *row,
                col: *col,
                ports: fold_ports(a),
                rules: rules_of(a),
            })
            .collect(),
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
    let ax = axes(&[new, old], tailnet, &d.classes);
    let mut cells: BTreeMap<(usize, bool, usize), CellAccess> = BTreeMap::new();
    for ch in &d.changes {
        if d.classes.same_node_only(ch.src_class, ch.dst_class) {
            continue;
        }
        let (Some(rows), Some(cols)) = (
            ax.class_rows.get(ch.src_class),
            ax.class_cols.get(ch.dst_class),
        ) else {
            continue;
        };
        for r in rows {
            for c in cols {
                let cell = cells.entry((*r, !ch.gained, *c)).or_default();
                let set = cell.entry(ch.proto).or_default();
                for o in &ch.rules {
                    set.insert((ch.ports.0, ch.ports.1, *o));
                }
            }
        }
    }
    cells
        .iter()
        .filter_map(|((r, lost, c), a)| {
            Some(Change {
                src: ax.rows.get(*r)?.name.clone(),
                dst: ax.cols.get(*c)?.name.clone(),
                gained: !lost,
                ports: fold_ports(a),
                rules: rules_of(a),
            })
        })
        .collect()
}
