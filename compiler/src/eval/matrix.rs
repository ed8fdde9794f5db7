//! The whole source × destination access matrix of a tailnet, and the semantic
//! difference between two policies over the same tailnet.
//!
//! Endpoints ([`super::classes`]) are grouped into classes that every rule of the
//! policies treats alike, so the work is classes × classes × rules, not nodes².

use super::access::{Evaluator, is_icmp};
use super::classes::{Bits, DstPoint, Signer, SrcPoint, classify, dst_points, src_points};
use super::select::Identity;
use super::tailnet::Tailnet;
use std::collections::BTreeMap;
use tailpolicy_policy::model::{Alias, Autogroup, Origin, Policy, PortRange, Proto};

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

/// `a − b` for merged interval lists (sorted, disjoint), in one pass over both.
pub fn subtract(a: &Ports, b: &Ports) -> Ports {
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut j = 0;
    for &(x, y) in a {
        let (mut start, end) = (u32::from(x), u32::from(y));
        while b.get(j).is_some_and(|&(_, q)| u32::from(q) < start) {
            j += 1;
        }
        for &(p, q) in b.iter().skip(j) {
            let (p, q) = (u32::from(p), u32::from(q));
            if p > end || start > end {
                break;
            }
            if p > start {
                out.push((start, p - 1));
            }
            start = start.max(q + 1);
        }
        if start <= end {
            out.push((start, end));
        }
    }
    out.into_iter()
        .filter_map(|(s, e)| Some((u16::try_from(s).ok()?, u16::try_from(e).ok()?)))
        .collect()
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
    /// Per source class: its signature (matching rules of every evaluator, in order).
    src_sigs: Vec<(Bits, Option<String>)>,
    /// Per destination class: its signature (matching destination atoms, owner).
    dst_sigs: Vec<(Bits, Option<String>)>,
    /// Per source class: the node all its members belong to, if one.
    src_single: Vec<Option<usize>>,
    /// Per destination class: the node all its members are own addresses of, if one.
    dst_single: Vec<Option<usize>>,
    /// Per evaluator: where its rules start in source signatures, and where each of its
    /// rules' destinations start in destination signatures.
    layout: Vec<(usize, Vec<usize>)>,
}

impl Classes {
    /// Classes that the rules of every evaluator treat alike.
    pub fn new(evs: &[&Evaluator<'_>], policies: &[&Policy], tailnet: &Tailnet) -> Classes {
        Classes::from_points(
            evs,
            src_points(policies, tailnet),
            dst_points(policies, tailnet),
        )
    }

    /// Classes of the given endpoints that the rules of every evaluator treat alike.
    pub fn from_points(
        evs: &[&Evaluator<'_>],
        srcs: Vec<SrcPoint>,
        dsts: Vec<DstPoint>,
    ) -> Classes {
        let mut signer = Signer::new(evs);
        // Packed as soon as computed: signatures are as long as the policies have rules.
        let pack = |(b, u): (Vec<bool>, Option<String>)| (Bits::from_bools(&b), u);
        let sk: Vec<_> = srcs.iter().map(|p| pack(signer.src(&p.src))).collect();
        let dk: Vec<_> = dsts.iter().map(|p| pack(signer.dst(&p.dst))).collect();
        let src_classes = classify(&sk);
        let dst_classes = classify(&dk);
        let first = |c: &Vec<usize>| c.first().copied().unwrap_or(0);
        let single = |nodes: Vec<Option<usize>>| match nodes.first() {
            Some(Some(n)) if nodes.iter().all(|x| *x == Some(*n)) => Some(*n),
            _ => None,
        };
        let src_single = src_classes
            .iter()
            .map(|c| {
                single(
                    c.iter()
                        .map(|i| srcs.get(*i).and_then(|p| p.src.node))
                        .collect(),
                )
            })
            .collect();
        let dst_single = dst_classes
            .iter()
            .map(|c| {
                single(
                    c.iter()
                        .map(|i| {
                            dsts.get(*i).and_then(|p| {
                                p.dst.node.filter(|_| p.dst.identity != Identity::Anonymous)
                            })
                        })
                        .collect(),
                )
            })
            .collect();
        let mut layout = Vec::new();
        let (mut so, mut dof) = (0usize, 0usize);
        for ev in evs {
            let mut offs = Vec::new();
            for r in ev.rules() {
                offs.push(dof);
                dof += r.dst.len();
            }
            layout.push((so, offs));
            so += ev.rules().len();
        }
        Classes {
            layout,
            src_sigs: src_classes
                .iter()
                .map(|c| sk.get(first(c)).cloned().unwrap_or_default())
                .collect(),
            dst_sigs: dst_classes
                .iter()
                .map(|c| dk.get(first(c)).cloned().unwrap_or_default())
                .collect(),
            src_single,
            dst_single,
            src_classes,
            dst_classes,
            srcs,
            dsts,
        }
    }

    /// The signature of source class `sc`: the rules (of every evaluator, in order)
    /// whose sources match it, and its user.
    pub fn src_signature(&self, sc: usize) -> Option<&(Bits, Option<String>)> {
        self.src_sigs.get(sc)
    }

    /// The signature of destination class `dc`: the destination atoms (of every
    /// evaluator's rules, in order) that match it, and the user owning it.
    pub fn dst_signature(&self, dc: usize) -> Option<&(Bits, Option<String>)> {
        self.dst_sigs.get(dc)
    }

    /// Per rule of the `which`-th evaluator, where its destination atoms start in
    /// destination signatures.
    pub fn rule_offsets(&self, which: usize) -> &[usize] {
        self.layout.get(which).map_or(&[], |(_, o)| o.as_slice())
    }

    /// Whether both classes hold only addresses of one and the same node.
    pub fn same_node_only(&self, sc: usize, dc: usize) -> bool {
        match (self.src_single.get(sc), self.dst_single.get(dc)) {
            (Some(Some(a)), Some(Some(b))) => a == b,
            _ => false,
        }
    }

    /// The pairs of classes that some rule of the evaluators numbered `which` (of those
    /// the classes were built with) applies to: its sources match the source class and
    /// one of its destinations the destination class. Sorted, without duplicates.
    pub fn touched_pairs(&self, evs: &[&Evaluator<'_>], which: &[usize]) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let (mut so, mut dof) = (0usize, 0usize);
        for (e, ev) in evs.iter().enumerate() {
            for (ri, rule) in ev.rules().iter().enumerate() {
                let k0 = dof;
                dof += rule.dst.len();
                if !which.contains(&e) {
                    continue;
                }
                let scs: Vec<usize> = (0..self.src_sigs.len())
                    .filter(|sc| self.src_sigs.get(*sc).is_some_and(|(b, _)| b.has(so + ri)))
                    .collect();
                if scs.is_empty() {
                    continue;
                }
                let has_self = rule
                    .dst
                    .iter()
                    .any(|a| a.alias == Alias::Autogroup(Autogroup::SelfDevices));
                let dcs: Vec<usize> = (0..self.dst_sigs.len())
                    .filter(|dc| {
                        self.dst_sigs.get(*dc).is_some_and(|(b, owner)| {
                            (has_self && owner.is_some()) || (k0..dof).any(|k| b.has(k))
                        })
                    })
                    .collect();
                for sc in &scs {
                    out.extend(dcs.iter().map(|dc| (*sc, *dc)));
                }
            }
            so += ev.rules().len();
        }
        out.sort_unstable();
        out.dedup();
        out
    }

    /// What source class `sc` may do to destination class `dc` under the `which`-th
    /// evaluator (of those the classes were built with), read off the signatures: no
    /// selector is matched again. Protocols are counted as the client's filter counts
    /// them (policy-spec §5.12): any rule that applies allows ICMP (v4 and v6) on every
    /// "port"; protocols without ports need a destination covering every port.
    pub fn access(
        &self,
        evs: &[&Evaluator<'_>],
        which: usize,
        sc: usize,
        dc: usize,
    ) -> ClassAccess {
        self.access_of(evs, which, sc, dc, &self.matching_rules(which, sc))
    }

    /// The rules of the `which`-th evaluator whose sources match source class `sc`
    /// (indices into its rules).
    pub fn matching_rules(&self, which: usize, sc: usize) -> Vec<usize> {
        let (Some((so, offs)), Some((bits, _))) = (self.layout.get(which), self.src_sigs.get(sc))
        else {
            return Vec::new();
        };
        (0..offs.len()).filter(|ri| bits.has(so + ri)).collect()
    }

    /// The rules of the `which`-th evaluator whose sources match source class `sc`, as
    /// a bit set (bit `i` of word `i / 64`).
    pub fn src_rule_bits(&self, which: usize, sc: usize) -> Vec<u64> {
        let (Some((so, offs)), Some((bits, _))) = (self.layout.get(which), self.src_sigs.get(sc))
        else {
            return Vec::new();
        };
        let mut out = vec![0u64; offs.len().div_ceil(64)];
        for ri in 0..offs.len() {
            if bits.has(so + ri)
                && let Some(w) = out.get_mut(ri / 64)
            {
                *w |= 1 << (ri % 64);
            }
        }
        out
    }

    /// The rules of the `which`-th evaluator with a destination that matches
    /// destination class `dc` (for some source: `autogroup:self` counts when the class
    /// is a user's), as a bit set like [`Classes::src_rule_bits`].
    pub fn dst_rule_bits(&self, evs: &[&Evaluator<'_>], which: usize, dc: usize) -> Vec<u64> {
        let (Some((_, offs)), Some((bits, owner)), Some(ev)) = (
            self.layout.get(which),
            self.dst_sigs.get(dc),
            evs.get(which),
        ) else {
            return Vec::new();
        };
        let mut out = vec![0u64; offs.len().div_ceil(64)];
        for (ri, (rule, k0)) in ev.rules().iter().zip(offs).enumerate() {
            let hit = rule.dst.iter().enumerate().any(|(j, a)| {
                if a.alias == Alias::Autogroup(Autogroup::SelfDevices) {
                    owner.is_some()
                } else {
                    bits.has(k0 + j)
                }
            });
            if hit && let Some(w) = out.get_mut(ri / 64) {
                *w |= 1 << (ri % 64);
            }
        }
        out
    }

    /// [`Classes::access`] given the rules that can apply: at least every rule of
    /// [`Classes::matching_rules`] with a destination matching the class (so that it can
    /// be worked out once per class). Rules whose sources do not match are skipped.
    pub fn access_of(
        &self,
        evs: &[&Evaluator<'_>],
        which: usize,
        sc: usize,
        dc: usize,
        rules: &[usize],
    ) -> ClassAccess {
        let mut out: ClassAccess = BTreeMap::new();
        let (Some((_, user)), Some((dbits, owner)), Some(ev), Some((_, offs))) = (
            self.src_sigs.get(sc),
            self.dst_sigs.get(dc),
            evs.get(which),
            self.layout.get(which),
        ) else {
            return out;
        };
        let self_ok = matches!((user, owner), (Some(u), Some(o)) if u == o);
        let sbits = self.src_sigs.get(sc).map(|(b, _)| b);
        let so = self.layout.get(which).map_or(0, |(so, _)| *so);
        for &ri in rules {
            let (Some(rule), Some(&k0)) = (ev.rules().get(ri), offs.get(ri)) else {
                continue;
            };
            if !sbits.is_some_and(|b| b.has(so + ri)) {
                continue;
            }
            let mut any = false;
            for (j, atom) in rule.dst.iter().enumerate() {
                let hit = if atom.alias == Alias::Autogroup(Autogroup::SelfDevices) {
                    self_ok
                } else {
                    dbits.has(k0 + j)
                };
                if !hit {
                    continue;
                }
                any = true;
                let protos: Vec<Proto> = match atom.proto {
                    Some(p) => vec![p],
                    None => Proto::DEFAULT_SET.to_vec(),
                };
                for p in protos {
                    if is_icmp(p) || !(p.has_ports() || atom.ports == PortRange::ALL) {
                        continue;
                    }
                    out.entry(p.0).or_default().push((
                        atom.ports.first,
                        atom.ports.last,
                        rule.origin,
                    ));
                }
            }
            if any {
                for p in [Proto::ICMP, Proto::ICMPV6] {
                    out.entry(p.0).or_default().push((0, u16::MAX, rule.origin));
                }
            }
        }
        out
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
            if classes.same_node_only(sc, dc) {
                // A node talking to itself never crosses its filter.
                continue;
            }
            let a = classes.access(&[&ev], 0, sc, dc);
            if !a.is_empty() {
                cells.push((sc, dc, a));
            }
        }
    }
    Matrix { classes, cells }
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
/// protocol on every port, `icmp` for ICMP and ICMPv6 (which any rule allows, so
/// they follow the protocols with ports), e.g. `tcp 22,443; udp 53; icmp`.
pub fn summary(access: &ClassAccess) -> String {
    let mut groups: Vec<(Ports, Vec<u8>)> = Vec::new();
    for p in access.keys() {
        let ports = ports_of(access, *p);
        match groups.iter_mut().find(|(q, _)| *q == ports) {
            Some((_, ps)) => ps.push(*p),
            None => groups.push((ports, vec![*p])),
        }
    }
    groups.sort_by_key(|(_, ps)| ps.iter().all(|p| !Proto(*p).has_ports()));
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
        } else if protos == [Proto::ICMP.0, Proto::ICMPV6.0] {
            vec!["icmp".to_owned()]
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

#[cfg(test)]
mod tests {
    #![expect(clippy::indexing_slicing, reason = "tests")]
    use super::{merge, subtract};

    /// The set of ports in merged intervals.
    fn set(v: &[(u16, u16)]) -> Vec<bool> {
        let mut out = vec![false; 70_000];
        for &(a, b) in v {
            for p in a..=b {
                out[usize::from(p)] = true;
            }
        }
        out
    }

    /// Two interval lists.
    type Case<'a> = (&'a [(u16, u16)], &'a [(u16, u16)]);

    #[test]
    fn subtract_is_set_difference() {
        let cases: &[Case<'_>] = &[
            (&[(0, u16::MAX)], &[(22, 22), (80, 90)]),
            (&[(10, 20), (30, 40)], &[(15, 35)]),
            (&[(10, 20), (30, 40)], &[(0, 9), (21, 29), (41, 50)]),
            (&[(5, 5)], &[(5, 5)]),
            (&[(0, 100)], &[(0, 0), (100, 100)]),
            (&[(0, 10), (12, 30), (50, 60)], &[(5, 13), (29, 55)]),
            (&[(1, 3)], &[]),
            (&[], &[(1, 3)]),
        ];
        for (a, b) in cases {
            let (a, b) = (merge(a.to_vec()), merge(b.to_vec()));
            let got = subtract(&a, &b);
            let want: Vec<bool> = set(&a).iter().zip(set(&b)).map(|(x, y)| *x && !y).collect();
            assert_eq!(set(&got), want, "{a:?} - {b:?} = {got:?}");
            assert_eq!(merge(got.clone()), got, "merged and sorted");
        }
    }
}
