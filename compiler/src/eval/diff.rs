//! The semantic diff of two policies, computed from the rules that differ.
//!
//! A rule that is the same in both policies (same sources, destinations, protocols,
//! ports and `via`, wherever it sits and however it is written, and naming only
//! groups, hosts and ipsets defined alike in both) gives the same access under both. So
//! access can only differ between endpoints that some differing rule applies to. The
//! diff classes only those endpoints, and for each pair of classes that a differing
//! rule touches compares the whole access under each policy (the common rules
//! included, so that a removed rule still covered by another one shows nothing). The
//! work grows with the change, not with the tailnet; [`diff_full`] is
//! the straightforward reference it equals.

use super::access::Evaluator;
use super::classes::{Signer, dst_points, src_points};
use super::matrix::{ClassAccess, Classes, ports_of, rules_meeting, subtract};
use super::rules::{NetRule, net_rules};
use super::tailnet::Tailnet;
use std::collections::HashMap;
use tailpolicy_policy::model::Origin;
use tailpolicy_policy::model::{Alias, Autogroup, Policy};

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
    /// Endpoints and classes (common to both policies). From [`diff()`], only the
    /// endpoints that some rule differing between the policies applies to.
    pub classes: Classes,
    /// Every change; empty when access is the same.
    pub changes: Vec<Change>,
}

/// Compares the access `old` and `new` give over `tailnet` the straightforward way:
/// every pair of endpoint classes under every rule of both policies. The reference
/// that [`diff()`] is checked against; its work grows with the tailnet, not the change.
pub fn diff_full(old: &Policy, new: &Policy, tailnet: &Tailnet) -> Diff {
    let eo = Evaluator::new(old, tailnet);
    let en = Evaluator::new(new, tailnet);
    let classes = Classes::new(&[&eo, &en], &[old, new], tailnet);
    let mut changes = Vec::new();
    for sc in 0..classes.src_classes.len() {
        for dc in 0..classes.dst_classes.len() {
            let ao = classes.access(&[&eo, &en], 0, sc, dc);
            let an = classes.access(&[&eo, &en], 1, sc, dc);
            compare(sc, dc, &ao, &an, &mut changes);
        }
    }
    Diff { classes, changes }
}

/// Appends the changes from access `ao` (old) to `an` (new) between two classes: per
/// protocol, the port ranges gained and lost, each with the rules responsible (sorted).
pub fn compare(sc: usize, dc: usize, ao: &ClassAccess, an: &ClassAccess, out: &mut Vec<Change>) {
    if ao.is_empty() && an.is_empty() {
        return;
    }
    let mut protos: Vec<u8> = ao.keys().chain(an.keys()).copied().collect();
    protos.sort_unstable();
    protos.dedup();
    for p in protos {
        let (po, pn) = (ports_of(ao, p), ports_of(an, p));
        for (gained, from, minus, access) in [(true, &pn, &po, an), (false, &po, &pn, ao)] {
            for (a, b) in subtract(from, minus) {
                let mut rules = rules_meeting(access, p, a, b);
                rules.sort();
                out.push(Change {
                    src_class: sc,
                    dst_class: dc,
                    proto: p,
                    ports: (a, b),
                    gained,
                    rules,
                });
            }
        }
    }
}

/// The rules of `old` and `new` split into (common, only in old, only in new). A common
/// rule is taken from `new` (with its position there).
pub fn split_rules(old: &Policy, new: &Policy) -> (Vec<NetRule>, Vec<NetRule>, Vec<NetRule>) {
    let ro = net_rules(old);
    let rn = net_rules(new);
    // Posture conditions are read from the whole policy: when they differ, no rule is
    // assumed to keep its meaning.
    let comparable =
        old.postures == new.postures && old.default_src_posture == new.default_src_posture;
    let mut buckets: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, r) in ro.iter().enumerate() {
        buckets.entry(key(r)).or_default().push(i);
    }
    let mut used = vec![false; ro.len()];
    let (mut common, mut only_new) = (Vec::new(), Vec::new());
    for r in rn {
        let found = if comparable && same_meaning(&r, old, new) {
            buckets.get(&key(&r)).and_then(|v| {
                v.iter().copied().find(|i| {
                    !used.get(*i).copied().unwrap_or(true)
                        && ro.get(*i).is_some_and(|o| same_rule(o, &r))
                })
            })
        } else {
            None
        };
        match found.and_then(|i| used.get_mut(i)) {
            Some(u) => {
                *u = true;
                common.push(r);
            }
            None => only_new.push(r),
        }
    }
    let only_old = ro
        .into_iter()
        .zip(used)
        .filter_map(|(r, u)| (!u).then_some(r))
        .collect();
    (common, only_old, only_new)
}

/// A text that equal rules share (a bucket key; equality is checked by [`same_rule`]).
fn key(r: &NetRule) -> String {
    let mut k = String::new();
    for s in &r.src {
        k.push_str(&s.value.to_string());
        k.push(' ');
    }
    k.push('>');
    for a in &r.dst {
        k.push_str(&format!(
            " {}:{}-{}/{:?}",
            a.alias,
            a.ports.first,
            a.ports.last,
            a.proto.map(|p| p.0)
        ));
    }
    k.push_str(&r.via.join(","));
    k
}

/// Whether two rules are the same but for where they are written.
fn same_rule(a: &NetRule, b: &NetRule) -> bool {
    if a.dst.len() != b.dst.len() {
        return false;
    }
    let mut a = a.clone();
    a.origin = b.origin;
    for (x, y) in a.dst.iter_mut().zip(&b.dst) {
        x.span = y.span;
    }
    a == *b
}

/// Whether every group, host and ipset the rule names means the same in both policies.
fn same_meaning(r: &NetRule, old: &Policy, new: &Policy) -> bool {
    let stable = |alias: &Alias| match alias {
        Alias::Group(g) => old.group(g) == new.group(g),
        Alias::Host(h) => old.host(h) == new.host(h),
        // Ipsets name hosts and other ipsets: compare them all.
        Alias::IpSet(_) => old.ipsets == new.ipsets && old.hosts == new.hosts,
        _ => true,
    };
    r.src.iter().all(|s| stable(&s.value)) && r.dst.iter().all(|a| stable(&a.alias))
}

/// The union of two accesses.
fn union(mut a: ClassAccess, b: &ClassAccess) -> ClassAccess {
    for (p, v) in b {
        a.entry(*p).or_default().extend(v.iter().copied());
    }
    a
}

/// Compares the access `old` and `new` give over `tailnet`, looking only where a rule
/// that differs applies. Equal to [`diff_full`]; the classes hold only
/// the endpoints some differing rule applies to.
pub fn diff(old: &Policy, new: &Policy, tailnet: &Tailnet) -> Diff {
    let (common, only_old, only_new) = split_rules(old, new);
    let has_self = only_old.iter().chain(&only_new).any(|r| {
        r.dst
            .iter()
            .any(|a| a.alias == Alias::Autogroup(Autogroup::SelfDevices))
    });
    let e_old = Evaluator::with_rules(old, tailnet, only_old);
    let e_new = Evaluator::with_rules(new, tailnet, only_new);
    // Common rules mean the same under either policy's definitions.
    let e_common = Evaluator::with_rules(new, tailnet, common);
    let changed = [&e_old, &e_new];
    let mut signer = Signer::new(&changed);
    let srcs: Vec<_> = src_points(&[old, new], tailnet)
        .into_iter()
        .filter(|p| signer.src(&p.src).0.contains(&true))
        .collect();
    let dsts: Vec<_> = dst_points(&[old, new], tailnet)
        .into_iter()
        .filter(|p| {
            let (bits, owner) = signer.dst(&p.dst);
            bits.contains(&true) || (has_self && owner.is_some())
        })
        .collect();
    let evs = [&e_old, &e_new, &e_common];
    let classes = Classes::from_points(&evs, srcs, dsts);
    let mut changes = Vec::new();
    // The common rules that apply to a pair: those matching its source class and its
    // destination class, as bit sets worked out once per class.
    let mut src_bits: HashMap<usize, Vec<u64>> = HashMap::new();
    let mut dst_bits: HashMap<usize, Vec<u64>> = HashMap::new();
    for (sc, dc) in classes.touched_pairs(&evs, &[0, 1]) {
        let sb = src_bits
            .entry(sc)
            .or_insert_with(|| classes.src_rule_bits(2, sc));
        let db = dst_bits
            .entry(dc)
            .or_insert_with(|| classes.dst_rule_bits(&evs, 2, dc));
        let mut rules = Vec::new();
        for (w, (a, b)) in sb.iter().zip(db.iter()).enumerate() {
            let mut x = a & b;
            while x != 0 {
                rules.push(w * 64 + x.trailing_zeros() as usize);
                x &= x - 1;
            }
        }
        let both = classes.access_of(&evs, 2, sc, dc, &rules);
        let ao = union(classes.access(&evs, 0, sc, dc), &both);
        let an = union(classes.access(&evs, 1, sc, dc), &both);
        compare(sc, dc, &ao, &an, &mut changes);
    }
    Diff { classes, changes }
}
