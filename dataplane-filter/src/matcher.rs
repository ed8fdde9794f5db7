//! The compiled matcher of one address family.
//!
//! Layout, per protocol group: destination address → port table → *class* → source lookup.
//!
//! 1. The destination space is cut into elementary intervals at every rule-destination
//!    boundary; each interval points at a port table (identical tables are shared).
//! 2. A port table cuts `0..=65535` the same way; each port interval points at a class: the set
//!    of rules whose destination covers that (address, port) cell (identical sets are shared).
//! 3. A class answers "smallest rule index whose sources contain `src`" with one binary search
//!    in a merged source interval map built for exactly its rules, so nested and overlapping
//!    prefixes across rules are resolved at build time. If merged maps would grow past a
//!    budget (many large classes sharing big rules), a class falls back to scanning its rules'
//!    own source sets in order — still exact, only slower.
//!
//! `cap:` sources are a per-class list of `(rule, capability mask)` checked against the
//! source's capability mask, only when the family has such rules.
//!
//! A decision is therefore two or three binary searches over short arrays plus one over the
//! source intervals; nothing allocates.

use crate::addr::AddrRange;
use crate::interval::{IntervalMap, Key, NONE, PortMap, RangeSet};
use crate::rules::{DstEntry, ProtoSet, proto};
use crate::wire::PortRange;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Rule data of one family the builder needs.
pub(crate) struct FamilyRule<A> {
    pub protos: ProtoSet,
    pub srcs: RangeSet<A>,
    pub caps: u64,
    pub dsts: Vec<DstEntry<A>>,
}

/// How a class finds the first rule containing a source.
#[derive(Debug)]
enum SrcLookup<A> {
    /// Merged source map of exactly the class's rules: source → smallest rule index.
    Merged(IntervalMap<A>),
    /// The minimum of two maps: the class's single-port groups (own merge, or one group's
    /// map) and its *wide* groups, whose port range spans more than one port (a merge shared
    /// by every class with the same wide groups, or one group's map). Wide groups (all ports,
    /// port ranges) recur in every class their range overlaps; sharing their merge keeps
    /// memory linear where a per-class merge would copy them into each of those classes.
    Split { small: MapRef<A>, large: MapRef<A> },
    /// Minimum over these groups' maps; groups ascending by their smallest rule index, so the
    /// scan stops as soon as no later group can hold a smaller rule.
    Groups(Box<[u32]>),
}

/// Rules with identical protocols and destinations (so they always share classes), with one
/// merged source map. Every rule is in exactly one group, so groups cost memory linear in the
/// number of source ranges.
#[derive(Debug)]
pub(crate) struct Group<A> {
    map: IntervalMap<A>,
    min_rule: u32,
    /// `(rule, capability mask)` of members with `cap:` sources, ascending by rule.
    caps: Box<[(u32, u64)]>,
    /// Intervals with a value in `map` (what merging it into a class costs).
    cost: usize,
}

/// One source map a [`SrcLookup::Split`] class searches.
#[derive(Debug)]
enum MapRef<A> {
    /// No rule.
    Empty,
    /// A group's own map.
    Group(u32),
    /// A map merged for this class.
    Own(IntervalMap<A>),
    /// A merged map in [`DstPortIndex::shared`].
    Shared(u32),
}

/// Classes with at most this many source intervals in all are merged whole (one search)
/// even when they have wide groups.
pub(crate) const SMALL_CLASS: usize = 512;

/// Build-time facts about a group.
struct GroupInfo<'r, A> {
    protos: ProtoSet,
    dsts: &'r [DstEntry<A>],
    /// Some member has a source (address or capability) and the group has destinations.
    live: bool,
}

/// The rules sharing one (destination, port) cell.
#[derive(Debug)]
struct Class<A> {
    srcs: SrcLookup<A>,
    /// `(rule, capability mask)` of rules with `cap:` sources, ascending by rule.
    cap_rules: Box<[(u32, u64)]>,
}

/// Remaining number of merged source intervals the builder may create (`.0`), and the size
/// up to which a class with wide groups is still merged whole (`.1`, [`SMALL_CLASS`] except
/// in tests that force the split layout).
pub(crate) struct Budget(pub usize, pub usize);

/// Destination → ports → class → source index for one protocol group.
#[derive(Debug)]
pub(crate) struct DstPortIndex<A> {
    dst: IntervalMap<A>,
    ports: Box<[PortMap]>,
    classes: Box<[Class<A>]>,
    /// Merged maps of large-group sets, shared between classes.
    shared: Box<[IntervalMap<A>]>,
}

/// Build state shared by the classes of one index.
struct ClassBuilder<'g, A> {
    groups: &'g [Group<A>],
    class_ids: HashMap<Vec<u32>, u32>,
    classes: Vec<Class<A>>,
    shared_ids: HashMap<Vec<u32>, u32>,
    shared: Vec<IntervalMap<A>>,
}

impl<A: Key> DstPortIndex<A> {
    /// Builds the index over `(group, destination, ports)` entries.
    pub(crate) fn build(
        entries: &[(u32, AddrRange<A>, PortRange)],
        groups: &[Group<A>],
        budget: &mut Budget,
    ) -> Self {
        let mut points: Vec<A> = vec![A::default()];
        for (_, a, _) in entries {
            points.push(a.first);
            if let Some(n) = a.last.succ() {
                points.push(n);
            }
        }
        points.sort_unstable();
        points.dedup();

        let mut by_first: Vec<usize> = (0..entries.len()).collect();
        by_first.sort_unstable_by_key(|i| entries.get(*i).map(|e| e.1.first));
        let mut by_last: Vec<usize> = (0..entries.len()).collect();
        by_last.sort_unstable_by_key(|i| entries.get(*i).map(|e| e.1.last));

        let mut active: BTreeSet<(u32, u16, u16, usize)> = BTreeSet::new();
        let mut table_ids: HashMap<Vec<(u32, u16, u16)>, u32> = HashMap::new();
        let mut ports: Vec<PortMap> = Vec::new();
        let mut cb = ClassBuilder {
            groups,
            class_ids: HashMap::new(),
            classes: Vec::new(),
            shared_ids: HashMap::new(),
            shared: Vec::new(),
        };
        let mut cuts: Vec<(A, u32)> = Vec::with_capacity(points.len());
        let (mut fi, mut li) = (0, 0);
        for &p in &points {
            while let Some(e) = by_first
                .get(fi)
                .and_then(|i| entries.get(*i).map(|e| (*i, e)))
            {
                if e.1.1.first > p {
                    break;
                }
                active.insert((e.1.0, e.1.2.first, e.1.2.last, e.0));
                fi += 1;
            }
            while let Some(e) = by_last
                .get(li)
                .and_then(|i| entries.get(*i).map(|e| (*i, e)))
            {
                if e.1.1.last >= p {
                    break;
                }
                active.remove(&(e.1.0, e.1.2.first, e.1.2.last, e.0));
                li += 1;
            }
            let mut key: Vec<(u32, u16, u16)> = active.iter().map(|e| (e.0, e.1, e.2)).collect();
            key.dedup();
            let id = if key.is_empty() {
                NONE
            } else if let Some(id) = table_ids.get(&key) {
                *id
            } else {
                let table = build_port_table(&key, &mut cb, budget);
                let id = u32::try_from(ports.len()).unwrap_or(NONE);
                ports.push(table);
                table_ids.insert(key, id);
                id
            };
            cuts.push((p, id));
        }
        Self {
            dst: IntervalMap::from_cuts(&cuts),
            ports: ports.into_boxed_slice(),
            classes: cb.classes.into_boxed_slice(),
            shared: cb.shared.into_boxed_slice(),
        }
    }

    /// The smallest rule index admitting `(src, dst, port)`, or [`NONE`].
    #[inline]
    pub(crate) fn lookup(
        &self,
        src: A,
        dst: A,
        port: u16,
        src_caps: u64,
        groups: &[Group<A>],
    ) -> u32 {
        let table = self.dst.get(dst);
        if table == NONE {
            return NONE;
        }
        let Some(ports) = self.ports.get(table as usize) else {
            return NONE;
        };
        let class = ports.get(port);
        let Some(class) = self.classes.get(class as usize) else {
            return NONE;
        };
        let mut best = match &class.srcs {
            SrcLookup::Merged(map) => map.get(src),
            SrcLookup::Split { small, large } => self
                .map_get(small, src, groups)
                .min(self.map_get(large, src, groups)),
            SrcLookup::Groups(ids) => {
                let mut best = NONE;
                for g in ids.iter().filter_map(|g| groups.get(*g as usize)) {
                    if g.min_rule >= best {
                        break;
                    }
                    best = best.min(g.map.get(src));
                }
                best
            }
        };
        if src_caps != 0 {
            for &(rule, mask) in &class.cap_rules {
                if rule >= best {
                    break;
                }
                if mask & src_caps != 0 {
                    best = rule;
                    break;
                }
            }
        }
        best
    }

    #[inline]
    fn map_get(&self, m: &MapRef<A>, src: A, groups: &[Group<A>]) -> u32 {
        let map = match m {
            MapRef::Empty => return NONE,
            MapRef::Group(g) => groups.get(*g as usize).map(|g| &g.map),
            MapRef::Own(map) => Some(map),
            MapRef::Shared(i) => self.shared.get(*i as usize),
        };
        map.map_or(NONE, |m| m.get(src))
    }

    /// Number of classes (for tests of the structure).
    #[cfg(test)]
    pub(crate) fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// Number of classes with the split layout (for tests of the structure).
    #[cfg(test)]
    pub(crate) fn split_count(&self) -> usize {
        self.classes
            .iter()
            .filter(|c| matches!(c.srcs, SrcLookup::Split { .. }))
            .count()
    }
}

fn build_port_table<A: Key>(
    key: &[(u32, u16, u16)],
    cb: &mut ClassBuilder<'_, A>,
    budget: &mut Budget,
) -> PortMap {
    // Sweep over port boundaries: additions at `first`, removals at `last + 1`.
    let mut events: Vec<(u16, bool, u32)> = Vec::with_capacity(key.len() * 2);
    for &(group, first, last) in key {
        events.push((first, true, group));
        if let Some(n) = last.checked_add(1) {
            events.push((n, false, group));
        }
    }
    events.sort_unstable_by_key(|e| e.0);
    let wide: BTreeSet<u32> = key
        .iter()
        .filter(|(_, first, last)| last > first)
        .map(|(g, _, _)| *g)
        .collect();
    let mut active: BTreeMap<u32, u32> = BTreeMap::new();
    let mut cuts = Vec::new();
    let mut i = 0;
    while let Some(&(point, _, _)) = events.get(i) {
        while let Some(&(p, add, rule)) = events.get(i) {
            if p != point {
                break;
            }
            if add {
                *active.entry(rule).or_insert(0) += 1;
            } else if let Some(c) = active.get_mut(&rule) {
                *c -= 1;
                if *c == 0 {
                    active.remove(&rule);
                }
            }
            i += 1;
        }
        let set: Vec<u32> = active.keys().copied().collect();
        let id = if set.is_empty() {
            NONE
        } else if let Some(id) = cb.class_ids.get(&set) {
            *id
        } else {
            let class = build_class(&set, &wide, cb, budget);
            let id = u32::try_from(cb.classes.len()).unwrap_or(NONE);
            cb.classes.push(class);
            cb.class_ids.insert(set, id);
            id
        };
        cuts.push((point, id));
    }
    PortMap::new(IntervalMap::from_cuts(&cuts))
}

/// Groups rules by identical (protocols, destinations) and builds one source map per group.
fn group_rules<A: Key>(rules: &[FamilyRule<A>]) -> (Vec<Group<A>>, Vec<GroupInfo<'_, A>>) {
    let mut ids: HashMap<(ProtoSet, &[DstEntry<A>]), usize> = HashMap::new();
    let mut members: Vec<Vec<u32>> = Vec::new();
    let mut infos: Vec<GroupInfo<'_, A>> = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        let idx = u32::try_from(i).unwrap_or(NONE);
        let next = members.len();
        let g = *ids.entry((r.protos, r.dsts.as_slice())).or_insert(next);
        if g == next {
            members.push(Vec::new());
            infos.push(GroupInfo {
                protos: r.protos,
                dsts: &r.dsts,
                live: false,
            });
        }
        if let Some(m) = members.get_mut(g) {
            m.push(idx);
        }
        if let Some(info) = infos.get_mut(g) {
            info.live |= (!r.srcs.is_empty() || r.caps != 0) && !r.dsts.is_empty();
        }
    }
    let groups = members
        .iter()
        .map(|m| {
            let items: Vec<(A, A, u32)> = m
                .iter()
                .filter_map(|r| rules.get(*r as usize).map(|x| (*r, x)))
                .flat_map(|(r, x)| x.srcs.iter().map(move |(a, b)| (a, b, r)))
                .collect();
            let map = IntervalMap::min_cover(&items);
            let caps = m
                .iter()
                .filter_map(|r| {
                    let c = rules.get(*r as usize)?.caps;
                    (c != 0).then_some((*r, c))
                })
                .collect();
            Group {
                cost: map.value_count(),
                map,
                min_rule: m.first().copied().unwrap_or(NONE),
                caps,
            }
        })
        .collect();
    (groups, infos)
}

/// Builds the class of groups `set`; `wide`: the groups whose port range in this table spans
/// more than one port.
fn build_class<A: Key>(
    set: &[u32],
    wide: &BTreeSet<u32>,
    cb: &mut ClassBuilder<'_, A>,
    budget: &mut Budget,
) -> Class<A> {
    let groups = cb.groups;
    let members: Vec<(u32, &Group<A>)> = set
        .iter()
        .filter_map(|g| groups.get(*g as usize).map(|x| (*g, x)))
        .collect();
    let mut cap_rules: Vec<(u32, u64)> = members
        .iter()
        .flat_map(|(_, g)| g.caps.iter().copied())
        .collect();
    cap_rules.sort_unstable();
    let mut ordered: Vec<(u32, &Group<A>)> = members
        .iter()
        .copied()
        .filter(|(_, g)| g.cost > 0)
        .collect();
    ordered.sort_unstable_by_key(|(_, g)| g.min_rule);
    let (large, small): (Vec<Member<'_, A>>, Vec<Member<'_, A>>) = ordered
        .iter()
        .copied()
        .partition(|(id, _)| wide.contains(id));
    let cost = |part: &[(u32, &Group<A>)]| -> usize { part.iter().map(|(_, g)| g.cost).sum() };
    let srcs = if ordered.len() <= 1 {
        SrcLookup::Groups(ordered.iter().map(|(id, _)| *id).collect())
    } else if large.is_empty() || cost(&ordered) <= budget.1 {
        if cost(&ordered) <= budget.0 {
            budget.0 -= cost(&ordered);
            SrcLookup::Merged(merge(&ordered))
        } else {
            SrcLookup::Groups(ordered.iter().map(|(id, _)| *id).collect())
        }
    } else {
        let large_ids: Vec<u32> = large.iter().map(|(id, _)| *id).collect();
        let new_large = large.len() > 1 && !cb.shared_ids.contains_key(&large_ids);
        let need = if small.len() > 1 { cost(&small) } else { 0 }
            + if new_large { cost(&large) } else { 0 };
        if need <= budget.0 {
            budget.0 -= need;
            let small_ref = match small.as_slice() {
                [] => MapRef::Empty,
                [(id, _)] => MapRef::Group(*id),
                _ => MapRef::Own(merge(&small)),
            };
            let large_ref = match large.as_slice() {
                [(id, _)] => MapRef::Group(*id),
                _ => {
                    if let Some(i) = cb.shared_ids.get(&large_ids) {
                        MapRef::Shared(*i)
                    } else {
                        let i = u32::try_from(cb.shared.len()).unwrap_or(NONE);
                        cb.shared.push(merge(&large));
                        cb.shared_ids.insert(large_ids, i);
                        MapRef::Shared(i)
                    }
                }
            };
            SrcLookup::Split {
                small: small_ref,
                large: large_ref,
            }
        } else {
            SrcLookup::Groups(ordered.iter().map(|(id, _)| *id).collect())
        }
    };
    Class {
        srcs,
        cap_rules: cap_rules.into_boxed_slice(),
    }
}

/// A group of a class, with its id.
type Member<'g, A> = (u32, &'g Group<A>);

/// The merged source map of `part`'s groups: source → smallest rule index.
fn merge<A: Key>(part: &[(u32, &Group<A>)]) -> IntervalMap<A> {
    let items: Vec<(A, A, u32)> = part.iter().flat_map(|(_, g)| g.map.iter_values()).collect();
    IntervalMap::min_cover(&items)
}

/// The whole matcher of one family.
#[derive(Debug)]
pub(crate) struct FamilyMatcher<A> {
    tcp: DstPortIndex<A>,
    udp: DstPortIndex<A>,
    sctp: DstPortIndex<A>,
    /// Any rule, any protocol, any port: for ICMP echo requests.
    ips_only: DstPortIndex<A>,
    /// `cap:` rules with a destination in this family: for ICMP, no destination check.
    icmp_cap_rules: Box<[(u32, u64)]>,
    /// Protocol → index into `others` (`u8::MAX`: no rule), for port-less protocols.
    other_of_proto: [u8; 256],
    others: Box<[DstPortIndex<A>]>,
    /// Source maps of rules with identical protocols and destinations.
    groups: Box<[Group<A>]>,
    /// Source address → capability mask.
    src_caps: HashMap<A, u64>,
}

impl<A: Key> FamilyMatcher<A> {
    /// Builds the family matcher; `merge_budget` bounds the merged class maps; classes with
    /// wide groups and more than `small_class` source intervals get the split layout.
    pub(crate) fn build(
        rules: &[FamilyRule<A>],
        src_caps: HashMap<A, u64>,
        merge_budget: Option<usize>,
        small_class: usize,
    ) -> Self {
        let total_srcs: usize = rules.iter().map(|r| r.srcs.len()).sum();
        let mut budget = Budget(
            merge_budget.unwrap_or_else(|| total_srcs.saturating_mul(4).saturating_add(1 << 16)),
            small_class,
        );
        let (groups, infos) = group_rules(rules);
        let surviving =
            |r: &FamilyRule<A>| (!r.srcs.is_empty() || r.caps != 0) && !r.dsts.is_empty();
        // Entries are per group: members share protocols and destinations.
        let entries_where = |keep: &dyn Fn(&GroupInfo<'_, A>) -> bool,
                             all_ports_only: bool,
                             ignore_ports: bool|
         -> Vec<(u32, AddrRange<A>, PortRange)> {
            let mut out = Vec::new();
            for (g, info) in infos.iter().enumerate() {
                if !info.live || !keep(info) {
                    continue;
                }
                let id = u32::try_from(g).unwrap_or(NONE);
                for d in info.dsts {
                    if all_ports_only && !d.ports.is_all() {
                        continue;
                    }
                    let ports = if ignore_ports {
                        PortRange::ALL
                    } else {
                        d.ports
                    };
                    out.push((id, d.addrs, ports));
                }
            }
            out
        };
        // The ICMP index is one class per destination cell holding every group; build it
        // first so it gets the merge budget before the per-port classes.
        let ips_only =
            DstPortIndex::build(&entries_where(&|_| true, false, true), &groups, &mut budget);
        let by_proto = |p: u8| {
            entries_where(
                &move |i: &GroupInfo<'_, A>| i.protos.contains(p),
                false,
                false,
            )
        };
        let tcp = DstPortIndex::build(&by_proto(proto::TCP), &groups, &mut budget);
        let udp = DstPortIndex::build(&by_proto(proto::UDP), &groups, &mut budget);
        let sctp = DstPortIndex::build(&by_proto(proto::SCTP), &groups, &mut budget);

        let icmp_cap_rules = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| surviving(r) && r.caps != 0)
            .map(|(i, r)| (u32::try_from(i).unwrap_or(NONE), r.caps))
            .collect();

        // Port-less protocols: group protocol numbers by the rules that name them with an
        // all-ports destination, and build one index per distinct group.
        let mut other_of_proto = [u8::MAX; 256];
        let mut proto_groups: BTreeMap<Vec<u32>, u8> = BTreeMap::new();
        let mut others = Vec::new();
        for (p, slot) in (0u8..=255).zip(other_of_proto.iter_mut()) {
            let signature: Vec<u32> = infos
                .iter()
                .enumerate()
                .filter(|(_, i)| {
                    i.live && i.protos.contains(p) && i.dsts.iter().any(|d| d.ports.is_all())
                })
                .map(|(g, _)| u32::try_from(g).unwrap_or(NONE))
                .collect();
            if signature.is_empty() {
                continue;
            }
            if let Some(id) = proto_groups.get(&signature) {
                *slot = *id;
                continue;
            }
            let Ok(id) = u8::try_from(others.len()) else {
                continue;
            };
            let entries = entries_where(
                &move |i: &GroupInfo<'_, A>| i.protos.contains(p),
                true,
                true,
            );
            others.push(DstPortIndex::build(&entries, &groups, &mut budget));
            proto_groups.insert(signature, id);
            *slot = id;
        }
        Self {
            tcp,
            udp,
            sctp,
            ips_only,
            icmp_cap_rules,
            other_of_proto,
            others: others.into_boxed_slice(),
            groups: groups.into_boxed_slice(),
            src_caps,
        }
    }

    #[inline]
    fn caps_of(&self, src: A) -> u64 {
        if self.src_caps.is_empty() {
            0
        } else {
            self.src_caps.get(&src).copied().unwrap_or(0)
        }
    }

    /// First rule admitting a TCP SYN / UDP / SCTP packet, or [`NONE`].
    #[inline]
    pub(crate) fn match_ports(&self, p: u8, src: A, dst: A, dport: u16) -> u32 {
        let index = match p {
            proto::TCP => &self.tcp,
            proto::UDP => &self.udp,
            _ => &self.sctp,
        };
        index.lookup(src, dst, dport, self.caps_of(src), &self.groups)
    }

    /// First rule letting `src` reach `dst` on any port and protocol, or a `cap:` rule the
    /// source satisfies (no destination check), or [`NONE`]. For ICMP echo requests.
    #[inline]
    pub(crate) fn match_ips_only(&self, src: A, dst: A) -> u32 {
        let caps = self.caps_of(src);
        let mut best = self.ips_only.lookup(src, dst, 0, 0, &self.groups);
        if caps != 0 {
            for &(rule, mask) in &self.icmp_cap_rules {
                if rule >= best {
                    break;
                }
                if mask & caps != 0 {
                    best = rule;
                    break;
                }
            }
        }
        best
    }

    /// First rule naming protocol `p` with an all-ports destination covering `dst`, or [`NONE`].
    #[inline]
    pub(crate) fn match_all_ports(&self, p: u8, src: A, dst: A) -> u32 {
        let slot = self
            .other_of_proto
            .get(usize::from(p))
            .copied()
            .unwrap_or(u8::MAX);
        match self.others.get(usize::from(slot)) {
            Some(index) => index.lookup(src, dst, 0, self.caps_of(src), &self.groups),
            None => NONE,
        }
    }

    /// Number of split classes in the TCP and UDP indexes, for structure tests.
    #[cfg(test)]
    pub(crate) fn split_counts(&self) -> usize {
        self.tcp.split_count() + self.udp.split_count()
    }

    /// Number of classes per index (tcp, udp, sctp, ips-only), for structure tests.
    #[cfg(test)]
    pub(crate) fn class_counts(&self) -> [usize; 4] {
        [
            self.tcp.class_count(),
            self.udp.class_count(),
            self.sctp.class_count(),
            self.ips_only.class_count(),
        ]
    }
}

#[cfg(test)]
#[path = "matcher_tests.rs"]
mod tests;
