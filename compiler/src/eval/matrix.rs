//! The whole source × destination access matrix of a tailnet, and the semantic
//! difference between two policies over the same tailnet.
//!
//! Endpoints ([`super::classes`]) are grouped into classes that every rule of the
//! policies treats alike, so the work is classes × classes × rules, not nodes².

use super::access::Evaluator;
use super::classes::{
    DstPoint, SrcPoint, classify, dst_points, dst_signature, src_points, src_signature,
};
use super::tailnet::Tailnet;
use std::collections::BTreeMap;
use tailpolicy_policy::model::{Origin, Policy, Proto};

/// Inclusive port intervals, sorted and merged.
pub type Ports = Vec<(u16, u16)>;

/// What one class may do to another: per protocol number, the port ranges, each with the
/// rules that grant it.
pub type ClassAccess = BTreeMap<u8, Vec<(u16, u16, Origin)>>;

/// Merges overlapping or adjacent intervals.
pub fn merge(mut v: Vec<(u16, u16)>) -> Ports {
    v.sort_unstable();
    let mut out: Ports = Vec::new();
    for (a, b) in v {
        match out.last_mut() {
            Some(last) if u32::from(a) <= u32::from(last.1) + 1 => last.1 = last.1.max(b),
            _ => out.push((a, b)),
        }
    }
    out
}

/// `a − b` for merged interval lists.
pub fn subtract(a: &Ports, b: &Ports) -> Ports {
    let mut out = Vec::new();
    for &(x, y) in a {
        let mut pieces = vec![(u32::from(x), u32::from(y))];
        for &(p, q) in b {
            let (p, q) = (u32::from(p), u32::from(q));
            let mut next = Vec::new();
            for (s, e) in pieces {
                if q < s || p > e {
                    next.push((s, e));
                    continue;
                }
                if p > s {
                    next.push((s, p - 1));
                }
                if q < e {
                    next.push((q + 1, e));
                }
            }
            pieces = next;
        }
        out.extend(
            pieces
                .into_iter()
                .filter_map(|(s, e)| Some((u16::try_from(s).ok()?, u16::try_from(e).ok()?))),
        );
    }
    out
}

/// The ports of `access` for `proto`, merged.
pub fn ports_of(access: &ClassAccess, proto: u8) -> Ports {
    merge(
        access
            .get(&proto)
            .map(|v| v.iter().map(|(a, b, _)| (*a, *b)).collect())
            .unwrap_or_default(),
    )
}

/// The rules of `access` for `proto` whose ranges meet `(a, b)`.
pub fn rules_meeting(access: &ClassAccess, proto: u8, a: u16, b: u16) -> Vec<Origin> {
    let mut out: Vec<Origin> = Vec::new();
    for (x, y, o) in access.get(&proto).into_iter().flatten() {
        if *x <= b && a <= *y && !out.contains(o) {
            out.push(*o);
        }
    }
    out
}

/// Access from source class `s` to destination class `d` (given representatives).
fn class_access(
    ev: &Evaluator<'_>,
    src: &super::select::Src,
    dst: &super::select::Dst,
) -> ClassAccess {
    let m = ev.matcher();
    let mut out: ClassAccess = BTreeMap::new();
    for rule in ev.rules() {
        if !rule.src.iter().any(|s| m.src_matches(s, src)) {
            continue;
        }
        for atom in &rule.dst {
            if !m.dst_matches(&atom.alias, dst, src) {
                continue;
            }
            let protos: Vec<u8> = match atom.proto {
                Some(p) => vec![p.0],
                None => Proto::DEFAULT_SET.iter().map(|p| p.0).collect(),
            };
            for p in protos {
                out.entry(p)
                    .or_default()
                    .push((atom.ports.first, atom.ports.last, rule.origin));
            }
        }
    }
    out
}

/// Endpoints and their classes, shared by the matrix and the diff.
#[derive(Clone, Debug)]
pub struct Classes {
    /// Source endpoints.
    pub srcs: Vec<SrcPoint>,
    /// Destination endpoints.
    pub dsts: Vec<DstPoint>,
    /// Source classes (indices into `srcs`).
    pub src_classes: Vec<Vec<usize>>,
    /// Destination classes (indices into `dsts`).
    pub dst_classes: Vec<Vec<usize>>,
}

impl Classes {
    /// Classes that the rules of every evaluator treat alike.
    pub fn new(evs: &[&Evaluator<'_>], policies: &[&Policy], tailnet: &Tailnet) -> Classes {
        let srcs = src_points(policies, tailnet);
        let dsts = dst_points(policies, tailnet);
        let sk: Vec<_> = srcs.iter().map(|p| src_signature(evs, &p.src)).collect();
        let dk: Vec<_> = dsts.iter().map(|p| dst_signature(evs, &p.dst)).collect();
        Classes {
            src_classes: classify(&sk),
            dst_classes: classify(&dk),
            srcs,
            dsts,
        }
    }

    /// Whether both classes hold only addresses of one and the same node.
    pub fn same_node_only(&self, sc: usize, dc: usize) -> bool {
        let s: Vec<Option<usize>> = self
            .src_classes
            .get(sc)
            .into_iter()
            .flatten()
            .map(|i| self.srcs.get(*i).and_then(|p| p.src.node))
            .collect();
        let d: Vec<Option<usize>> = self
            .dst_classes
            .get(dc)
            .into_iter()
            .flatten()
            .map(|i| {
                self.dsts.get(*i).and_then(|p| {
                    p.dst
                        .node
                        .filter(|_| p.dst.identity != super::select::Identity::Anonymous)
                })
            })
            .collect();
        match s.first() {
            Some(Some(n)) => s.iter().chain(&d).all(|x| *x == Some(*n)),
            _ => false,
        }
    }

    fn reps(&self, sc: usize, dc: usize) -> Option<(&SrcPoint, &DstPoint)> {
        let s = self.src_classes.get(sc)?.first()?;
        let d = self.dst_classes.get(dc)?.first()?;
        Some((self.srcs.get(*s)?, self.dsts.get(*d)?))
    }
}

/// The access matrix: for every pair of classes with some access, what it is.
#[derive(Clone, Debug)]
pub struct Matrix {
    /// Endpoints and classes.
    pub classes: Classes,
    /// (source class, destination class, access), only non-empty access.
    pub cells: Vec<(usize, usize, ClassAccess)>,
}

/// Computes the access matrix of `policy` over `tailnet`.
pub fn matrix(policy: &Policy, tailnet: &Tailnet) -> Matrix {
    let ev = Evaluator::new(policy, tailnet);
    let classes = Classes::new(&[&ev], &[policy], tailnet);
    let mut cells = Vec::new();
    for sc in 0..classes.src_classes.len() {
        for dc in 0..classes.dst_classes.len() {
            let Some((s, d)) = classes.reps(sc, dc) else {
                continue;
            };
            if s.src.node.is_some()
                && s.src.node == d.dst.node
                && d.dst.addr.is_some_and(|a| s.src.nets.contains(&a))
            {
                // A node talking to its own address never crosses the filter.
                continue;
            }
            let a = class_access(&ev, &s.src, &d.dst);
            if !a.is_empty() {
                cells.push((sc, dc, a));
            }
        }
    }
    Matrix { classes, cells }
}

/// One difference in access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// Source class.
    pub src_class: usize,
    /// Destination class.
    pub dst_class: usize,
    /// IP protocol number.
    pub proto: u8,
    /// Inclusive port range.
    pub ports: (u16, u16),
    /// Gained (true) or lost (false).
    pub gained: bool,
    /// The rules responsible: in the new policy for a gain, in the old one for a loss.
    pub rules: Vec<Origin>,
}

/// The semantic difference between two policies over one tailnet.
#[derive(Clone, Debug)]
pub struct Diff {
    /// Endpoints and classes (common to both policies).
    pub classes: Classes,
    /// Every change; empty when access is the same.
    pub changes: Vec<Change>,
}

/// Compares the access `old` and `new` give over `tailnet`.
pub fn diff(old: &Policy, new: &Policy, tailnet: &Tailnet) -> Diff {
    let eo = Evaluator::new(old, tailnet);
    let en = Evaluator::new(new, tailnet);
    let classes = Classes::new(&[&eo, &en], &[old, new], tailnet);
    let mut changes = Vec::new();
    for sc in 0..classes.src_classes.len() {
        for dc in 0..classes.dst_classes.len() {
            let Some((s, d)) = classes.reps(sc, dc) else {
                continue;
            };
            let ao = class_access(&eo, &s.src, &d.dst);
            let an = class_access(&en, &s.src, &d.dst);
            if ao.is_empty() && an.is_empty() {
                continue;
            }
            let mut protos: Vec<u8> = ao.keys().chain(an.keys()).copied().collect();
            protos.sort_unstable();
            protos.dedup();
            for p in protos {
                let (po, pn) = (ports_of(&ao, p), ports_of(&an, p));
                for (a, b) in subtract(&pn, &po) {
                    changes.push(Change {
                        src_class: sc,
                        dst_class: dc,
                        proto: p,
                        ports: (a, b),
                        gained: true,
                        rules: rules_meeting(&an, p, a, b),
                    });
                }
                for (a, b) in subtract(&po, &pn) {
                    changes.push(Change {
                        src_class: sc,
                        dst_class: dc,
                        proto: p,
                        ports: (a, b),
                        gained: false,
                        rules: rules_meeting(&ao, p, a, b),
                    });
                }
            }
        }
    }
    Diff { classes, changes }
}

/// Access between principals (users, tag sets, address regions): the union over their
/// endpoints, keyed by (source principal, destination principal).
pub type PrincipalAccess = BTreeMap<(String, String), ClassAccess>;

impl Matrix {
    /// The matrix folded onto principals, which keeps it readable at any tailnet size.
    pub fn by_principal(&self) -> PrincipalAccess {
        let mut out: PrincipalAccess = BTreeMap::new();
        for (sc, dc, access) in &self.cells {
            let sp = principals(self.classes.src_classes.get(*sc), |i| {
                self.classes.srcs.get(i).map(|p| p.principal.clone())
            });
            let dp = principals(self.classes.dst_classes.get(*dc), |i| {
                self.classes.dsts.get(i).map(|p| p.principal.clone())
            });
            for s in &sp {
                for d in &dp {
                    let cell = out.entry((s.clone(), d.clone())).or_default();
                    for (proto, ranges) in access {
                        let v = cell.entry(*proto).or_default();
                        for r in ranges {
                            if !v.contains(r) {
                                v.push(*r);
                            }
                        }
                    }
                }
            }
        }
        out
    }
}

fn principals(members: Option<&Vec<usize>>, name: impl Fn(usize) -> Option<String>) -> Vec<String> {
    let mut v: Vec<String> = members
        .into_iter()
        .flatten()
        .filter_map(|i| name(*i))
        .collect();
    v.sort();
    v.dedup();
    v
}

/// A short text for an access: protocols with their ports, `all` for every default
/// protocol on every port (e.g. `tcp 22,443; udp 53`).
pub fn summary(access: &ClassAccess) -> String {
    let mut groups: Vec<(Ports, Vec<u8>)> = Vec::new();
    for p in access.keys() {
        let ports = ports_of(access, *p);
        match groups.iter_mut().find(|(q, _)| *q == ports) {
            Some((_, ps)) => ps.push(*p),
            None => groups.push((ports, vec![*p])),
        }
    }
    let mut parts = Vec::new();
    for (ports, protos) in groups {
        let all_ports = ports == [(0, u16::MAX)];
        let default = Proto::DEFAULT_SET.iter().all(|d| protos.contains(&d.0)) && protos.len() == 4;
        if all_ports && default {
            parts.push("all".to_owned());
            continue;
        }
        let names: Vec<String> = if default {
            vec!["tcp,udp,icmp".to_owned()]
        } else {
            protos.iter().map(|p| Proto(*p).to_string()).collect()
        };
        let portless = protos.iter().all(|p| !Proto(*p).has_ports());
        let ports_text = ports_text(&ports);
        if portless {
            parts.push(names.join(","));
        } else {
            parts.push(format!("{} {ports_text}", names.join(",")));
        }
    }
    parts.join("; ")
}

/// `22,80-90` or `*`.
pub fn ports_text(ports: &Ports) -> String {
    if ports.as_slice() == [(0, u16::MAX)] {
        return "*".to_owned();
    }
    ports
        .iter()
        .map(|(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}-{b}")
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Every rule in an access, in order of first appearance.
pub fn all_rules(access: &ClassAccess) -> Vec<Origin> {
    let mut out: Vec<Origin> = Vec::new();
    for (_, _, o) in access.values().flatten() {
        if !out.contains(o) {
            out.push(*o);
        }
    }
    out.sort();
    out
}
