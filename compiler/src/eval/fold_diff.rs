//! A [`Diff`] folded onto the policy's names: one change per (source, gained or lost,
//! destination, protocols, rules), with every port range that shares them, sources
//! and destinations named as [`super::label`] names them (`alice@example.com`,
//! `k8s-api (via vpc-router)`, `autogroup:internet (via exit-1)`).
//!
//! A name stands for the endpoints under it that the change applies to; the devices
//! are listed with each change.

use super::classes::{DstPoint, SrcPoint};
use super::diff::Diff;
use super::label::{Label, Labeler};
use super::matrix::{Ports, merge, ports_text};
use super::select::Identity;
use super::tailnet::Tailnet;
use std::collections::{BTreeMap, HashMap};
use tailpolicy_policy::model::{Origin, Policy, Proto};

/// One folded change in access.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoldedChange {
    /// The source's name.
    pub src: String,
    /// The destination's name.
    pub dst: String,
    /// Gained (true) or lost (false).
    pub gained: bool,
    /// IP protocol numbers, sorted.
    pub protos: Vec<u8>,
    /// Port ranges, merged.
    pub ports: Ports,
    /// The rules responsible: in the new policy for a gain, in the old one for a loss.
    pub rules: Vec<Origin>,
    /// The source devices (or ranges) it applies to.
    pub src_devices: Vec<String>,
    /// The destination devices (or ranges) it applies to.
    pub dst_devices: Vec<String>,
}

impl FoldedChange {
    /// Protocols and ports as policies spell them: `*` or `22` for the default set
    /// (TCP, UDP, ICMP), `icmp`, else `tcp:22`, `udp:53`, `proto:47`, joined by `, `.
    pub fn ports_text(&self) -> String {
        spell(&self.protos, &self.ports)
    }
}

/// `protos` on `ports` as policies spell them (see [`FoldedChange::ports_text`]).
pub fn spell(protos: &[u8], ports: &Ports) -> String {
    let mut default: Vec<u8> = Proto::DEFAULT_SET.iter().map(|p| p.0).collect();
    default.sort_unstable();
    let pt = ports_text(ports);
    if protos == default.as_slice() {
        return pt;
    }
    let mut parts = Vec::new();
    let mut icmp = false;
    for p in protos {
        let proto = Proto(*p);
        if proto == Proto::ICMP || proto == Proto::ICMPV6 {
            icmp = true;
        } else if proto.has_ports() {
            parts.push(format!("{proto}:{pt}"));
        } else {
            parts.push(format!("proto:{p}"));
        }
    }
    if icmp {
        parts.push("icmp".to_owned());
    }
    parts.join(", ")
}

/// The labels of a class's members: label → (node, display name) of each member.
type ClassLabels = Vec<(Label, Vec<(Option<usize>, bool, String)>)>;

fn class_labels<P>(
    classes: &[Vec<usize>],
    points: &[P],
    label: impl Fn(&P) -> Label,
    member: impl Fn(&P) -> (Option<usize>, bool, String),
) -> Vec<ClassLabels> {
    classes
        .iter()
        .map(|members| {
            let mut out: ClassLabels = Vec::new();
            for p in members.iter().filter_map(|i| points.get(*i)) {
                let l = label(p);
                let m = member(p);
                match out.iter_mut().find(|(x, _)| *x == l) {
                    Some((_, v)) => v.push(m),
                    None => out.push((l, vec![m])),
                }
            }
            out
        })
        .collect()
}

/// Accumulated line data: protocols, rules, devices.
#[derive(Debug, Default)]
struct Line {
    protos: Vec<u8>,
    rules: Vec<Origin>,
    src_devices: Vec<String>,
    dst_devices: Vec<String>,
}

fn push<T: PartialEq>(v: &mut Vec<T>, x: T) {
    if !v.contains(&x) {
        v.push(x);
    }
}

/// What merged changes share: source, gained, destination, protocols, rules.
type MergeKey = (String, bool, String, Vec<u8>, Vec<Origin>);

/// Folds the changes of `d` (computed for `policies`, old then new, over `tailnet`).
pub fn fold_diff(d: &Diff, policies: &[&Policy], tailnet: &Tailnet) -> Vec<FoldedChange> {
    let labeler = Labeler::new(policies, tailnet);
    let c = &d.classes;
    let src_labels = class_labels(
        &c.src_classes,
        &c.srcs,
        |p: &SrcPoint| labeler.src(p),
        |p: &SrcPoint| (p.src.node, true, p.name.clone()),
    );
    let dst_labels = class_labels(
        &c.dst_classes,
        &c.dsts,
        |p: &DstPoint| labeler.dst(p),
        |p: &DstPoint| {
            (
                p.dst.node,
                p.dst.identity != Identity::Anonymous,
                p.name.clone(),
            )
        },
    );
    let mut out: BTreeMap<(String, bool, String, (u16, u16)), Line> = BTreeMap::new();
    let mut titles: HashMap<Label, String> = HashMap::new();
    let mut title = |l: &Label| titles.entry(l.clone()).or_insert_with(|| l.title()).clone();
    for ch in &d.changes {
        let (Some(ss), Some(ds)) = (src_labels.get(ch.src_class), dst_labels.get(ch.dst_class))
        else {
            continue;
        };
        for (sl, sm) in ss {
            for (dl, dm) in ds {
                // A node talking to itself never crosses its filter.
                let crosses = |s: &(Option<usize>, bool, String),
                               t: &(Option<usize>, bool, String)| {
                    !(t.1 && s.0.is_some() && s.0 == t.0)
                };
                if !sm.iter().any(|s| dm.iter().any(|t| crosses(s, t))) {
                    continue;
                }
                let key = (title(sl), ch.gained, title(dl), ch.ports);
                let line = out.entry(key).or_default();
                push(&mut line.protos, ch.proto);
                for r in &ch.rules {
                    push(&mut line.rules, *r);
                }
                for s in sm {
                    push(&mut line.src_devices, s.2.clone());
                }
                for t in dm {
                    push(&mut line.dst_devices, t.2.clone());
                }
            }
        }
    }
    for l in out.values_mut() {
        l.protos.sort_unstable();
        l.rules.sort();
        l.src_devices.sort();
        l.dst_devices.sort();
    }
    // One change per (source, gained, destination, protocols, rules, devices), with
    // every port range that shares them.
    let mut merged: Vec<FoldedChange> = Vec::new();
    let mut index: HashMap<MergeKey, Vec<usize>> = HashMap::new();
    for ((src, gained, dst, ports), l) in out {
        let key = (
            src.clone(),
            gained,
            dst.clone(),
            l.protos.clone(),
            l.rules.clone(),
        );
        let found = index.get(&key).and_then(|v| {
            v.iter().copied().find(|i| {
                merged.get(*i).is_some_and(|m| {
                    m.src_devices == l.src_devices && m.dst_devices == l.dst_devices
                })
            })
        });
        match found.and_then(|i| merged.get_mut(i)) {
            Some(m) => m.ports.push(ports),
            None => {
                index.entry(key).or_default().push(merged.len());
                merged.push(FoldedChange {
                    src,
                    dst,
                    gained,
                    protos: l.protos,
                    ports: vec![ports],
                    rules: l.rules,
                    src_devices: l.src_devices,
                    dst_devices: l.dst_devices,
                });
            }
        }
    }
    for m in &mut merged {
        m.ports = merge(std::mem::take(&mut m.ports));
    }
    merged.sort_by(|a, b| {
        (&a.src, a.gained, &a.dst, &a.ports).cmp(&(&b.src, b.gained, &b.dst, &b.ports))
    });
    merged
}
