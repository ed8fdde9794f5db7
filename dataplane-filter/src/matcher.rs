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
//! Every source map of a family (the groups' maps, the merged class maps and the shared
//! merges) lives in one [`MapArena`]: one flat array of (start, value) pairs, a map being a
//! span of it. A class is just two spans (16 bytes), so a lookup goes from the class straight
//! to the keys, with no map headers or enum dispatch in between; "one map" is the second span
//! being the arena's empty map.
//!
//! A decision is therefore two or three binary searches over short arrays plus two
//! independent ones over the source intervals; nothing allocates.

use crate::addr::AddrRange;
use crate::interval::{IntervalMap, Key, NONE, PortMap, RangeSet, valued_intervals};
use crate::rules::{DstEntry, ProtoSet, proto};
use crate::search::count_at_most;
use crate::wire::PortRange;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Rule data of one family the builder needs.
pub(crate) struct FamilyRule<A> {
    pub protos: ProtoSet,
    pub srcs: RangeSet<A>,
    pub caps: u64,
    pub dsts: Vec<DstEntry<A>>,
}

/// Where one source map lives in a [`MapArena`]: `len` entries from `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MapSpan {
    off: u32,
    len: u32,
}

impl MapSpan {
    /// The arena's empty map (one interval, no rule), at offset 0.
    const EMPTY: Self = Self { off: 0, len: 1 };
    /// Marks a class that scans its groups ([`ClassExtra::scan`]); finds nothing itself.
    const SCAN: Self = Self { off: 0, len: 0 };
}

/// Every source map of one family in one flat array of `(interval start, value)` entries; a
/// map is a [`MapSpan`] of it, starting with key 0 like every [`IntervalMap`]. A start and its
/// value share a cache line (and page), so the value read after a search costs nothing more.
#[derive(Debug)]
pub(crate) struct MapArena<A> {
    entries: Vec<(A, u32)>,
}

impl<A: Key> MapArena<A> {
    /// An arena holding only the empty map ([`MapSpan::EMPTY`]).
    fn new() -> Self {
        Self {
            entries: vec![(A::default(), NONE)],
        }
    }

    /// Appends `map`. (An arena past `u32::MAX` entries, which no budget allows, would give
    /// spans that find nothing, never a wrong rule.)
    fn push(&mut self, map: &IntervalMap<A>) -> MapSpan {
        let off = self.entries.len();
        self.entries.extend(map.entries());
        MapSpan {
            off: u32::try_from(off).unwrap_or(u32::MAX),
            len: u32::try_from(self.entries.len() - off).unwrap_or(0),
        }
    }

    /// The entries of map `span` (empty if the span is out of range).
    #[inline(always)]
    fn entries_of(&self, span: MapSpan) -> &[(A, u32)] {
        let off = span.off as usize;
        self.entries
            .get(off..off + span.len as usize)
            .unwrap_or(&[])
    }

    /// The value of map `span` at `key`.
    #[inline]
    fn get(&self, span: MapSpan, key: A) -> u32 {
        let entries = self.entries_of(span);
        let idx = count_at_most(entries, key, |(s, _)| *s);
        idx.checked_sub(1)
            .and_then(|i| entries.get(i))
            .map_or(NONE, |(_, v)| *v)
    }

    /// The intervals of map `span` that have a value, as `(first, last, value)`.
    fn values(&self, span: MapSpan) -> impl Iterator<Item = (A, A, u32)> + '_ {
        valued_intervals(self.entries_of(span))
    }
}

/// Rules with identical protocols and destinations (so they always share classes), with one
/// merged source map in the arena. Every rule is in exactly one group, so groups cost memory
/// linear in the number of source ranges.
#[derive(Debug)]
pub(crate) struct Group {
    map: MapSpan,
    min_rule: u32,
    /// `(rule, capability mask)` of members with `cap:` sources, ascending by rule.
    caps: Box<[(u32, u64)]>,
    /// Intervals with a value in `map` (what merging it into a class costs).
    cost: usize,
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

/// The rules sharing one (destination, port) cell: the first rule containing a source is the
/// minimum over two source maps.
///
/// - Classes whose groups are all single-port, or which are small: `small` is the merge of
///   every group (or the one group's map) and `large` is empty.
/// - Otherwise `small` covers the single-port groups (own merge, or one group's map) and
///   `large` the *wide* groups, whose port range spans more than one port (a merge shared by
///   every class with the same wide groups, or one group's map). Wide groups (all ports, port
///   ranges) recur in every class their range overlaps; sharing their merge keeps memory
///   linear where a per-class merge would copy them into each of those classes.
/// - Over the merge budget: `small` is [`MapSpan::SCAN`] and the class scans its groups.
#[derive(Clone, Copy, Debug)]
struct Class {
    small: MapSpan,
    large: MapSpan,
}

/// The rarely needed part of a class, kept apart so that [`Class`] stays 16 bytes.
#[derive(Debug, Default)]
struct ClassExtra {
    /// For [`MapSpan::SCAN`] classes: their groups ascending by smallest rule index, so the
    /// scan stops as soon as no later group can hold a smaller rule.
    scan: Box<[u32]>,
    /// `(rule, capability mask)` of rules with `cap:` sources, ascending by rule.
    cap_rules: Box<[(u32, u64)]>,
}

/// Remaining number of merged source intervals the builder may create (`.0`), and the size
/// up to which a class with wide groups is still merged whole (`.1`, [`SMALL_CLASS`] except
/// in tests that force the split layout).
pub(crate) struct Budget(pub usize, pub usize);

/// Destination → ports → class → source maps for one protocol group.
#[derive(Debug)]
pub(crate) struct DstPortIndex<A> {
    dst: IntervalMap<A>,
    ports: Box<[PortMap]>,
    classes: Box<[Class]>,
    extras: Box<[ClassExtra]>,
}

/// Build state shared by the classes of one index.
struct ClassBuilder<'g, A> {
    groups: &'g [Group],
    arena: &'g mut MapArena<A>,
    class_ids: HashMap<Vec<u32>, u32>,
    classes: Vec<Class>,
    extras: Vec<ClassExtra>,
    /// Merged maps of wide-group sets, shared between classes.
    shared: HashMap<Vec<u32>, MapSpan>,
}

impl<A: Key> DstPortIndex<A> {
    /// Builds the index over `(group, destination, ports)` entries.
    pub(crate) fn build(
        entries: &[(u32, AddrRange<A>, PortRange)],
        groups: &[Group],
        arena: &mut MapArena<A>,
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
            arena,
            class_ids: HashMap::new(),
            classes: Vec::new(),
            extras: Vec::new(),
            shared: HashMap::new(),
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
            extras: cb.extras.into_boxed_slice(),
        }
    }

    /// The smallest rule index admitting `(src, dst, port)`, or [`NONE`].
    #[inline(always)]
    pub(crate) fn lookup(
        &self,
        src: A,
        dst: A,
        port: u16,
        src_caps: u64,
        groups: &[Group],
        arena: &MapArena<A>,
    ) -> u32 {
        // `NONE` tables and classes are out of range, so they end here too.
        let Some(ports) = self.ports.get(self.dst.get(dst) as usize) else {
            return NONE;
        };
        let class_id = ports.get(port) as usize;
        let Some(class) = self.classes.get(class_id) else {
            return NONE;
        };
        // Two independent searches: the CPU runs them side by side.
        let mut best = arena.get(class.small, src).min(arena.get(class.large, src));
        if class.small.len == 0 {
            best = self.scan(class_id, src, groups, arena);
        }
        if src_caps != 0 {
            best = self.cap_rule(class_id, best, src_caps);
        }
        best
    }

    /// The minimum over the groups of a [`MapSpan::SCAN`] class.
    #[cold]
    #[inline(never)]
    fn scan(&self, class_id: usize, src: A, groups: &[Group], arena: &MapArena<A>) -> u32 {
        let mut best = NONE;
        let ids = self.extras.get(class_id).map_or(&[][..], |e| &e.scan);
        for g in ids.iter().filter_map(|g| groups.get(*g as usize)) {
            if g.min_rule >= best {
                break;
            }
            best = best.min(arena.get(g.map, src));
        }
        best
    }

    /// `best`, or the first `cap:` rule of the class below it that the source's
    /// capabilities satisfy.
    #[inline(never)]
    fn cap_rule(&self, class_id: usize, mut best: u32, src_caps: u64) -> u32 {
        let rules = self.extras.get(class_id).map_or(&[][..], |e| &e.cap_rules);
        for &(rule, mask) in rules {
            if rule >= best {
                break;
            }
            if mask & src_caps != 0 {
                best = rule;
                break;
            }
        }
        best
    }

    /// Number of classes (for tests of the structure).
    #[cfg(test)]
    pub(crate) fn class_count(&self) -> usize {
        self.classes.len()
    }

    /// Number of classes with the split layout (two non-empty maps; for tests of the
    /// structure).
    #[cfg(test)]
    pub(crate) fn split_count(&self) -> usize {
        self.classes
            .iter()
            .filter(|c| c.small.len != 0 && c.large != MapSpan::EMPTY)
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
            let (class, extra) = build_class(&set, &wide, cb, budget);
            let id = u32::try_from(cb.classes.len()).unwrap_or(NONE);
            cb.classes.push(class);
            cb.extras.push(extra);
            cb.class_ids.insert(set, id);
            id
        };
        cuts.push((point, id));
    }
    PortMap::new(IntervalMap::from_cuts(&cuts))
}

/// Groups rules by identical (protocols, destinations) and puts one source map per group
/// into `arena`.
fn group_rules<'r, A: Key>(
    rules: &'r [FamilyRule<A>],
    arena: &mut MapArena<A>,
) -> (Vec<Group>, Vec<GroupInfo<'r, A>>) {
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
                map: arena.push(&map),
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
) -> (Class, ClassExtra) {
    let groups = cb.groups;
    let members: Vec<Member<'_>> = set
        .iter()
        .filter_map(|g| groups.get(*g as usize).map(|x| (*g, x)))
        .collect();
    let mut cap_rules: Vec<(u32, u64)> = members
        .iter()
        .flat_map(|(_, g)| g.caps.iter().copied())
        .collect();
    cap_rules.sort_unstable();
    let mut ordered: Vec<Member<'_>> = members
        .iter()
        .copied()
        .filter(|(_, g)| g.cost > 0)
        .collect();
    ordered.sort_unstable_by_key(|(_, g)| g.min_rule);
    let (large, small): (Vec<Member<'_>>, Vec<Member<'_>>) = ordered
        .iter()
        .copied()
        .partition(|(id, _)| wide.contains(id));
    let cost = |part: &[Member<'_>]| -> usize { part.iter().map(|(_, g)| g.cost).sum() };
    let scan = || ordered.iter().map(|(id, _)| *id).collect::<Box<[u32]>>();
    let mut extra = ClassExtra {
        scan: Box::default(),
        cap_rules: cap_rules.into_boxed_slice(),
    };
    let one = |small: MapSpan| Class {
        small,
        large: MapSpan::EMPTY,
    };
    let class = if let [(_, g)] = ordered.as_slice() {
        one(g.map)
    } else if ordered.is_empty() {
        one(MapSpan::EMPTY)
    } else if large.is_empty() || cost(&ordered) <= budget.1 {
        if cost(&ordered) <= budget.0 {
            budget.0 -= cost(&ordered);
            one(merge(&ordered, cb.arena))
        } else {
            extra.scan = scan();
            one(MapSpan::SCAN)
        }
    } else {
        let large_ids: Vec<u32> = large.iter().map(|(id, _)| *id).collect();
        let new_large = large.len() > 1 && !cb.shared.contains_key(&large_ids);
        let need = if small.len() > 1 { cost(&small) } else { 0 }
            + if new_large { cost(&large) } else { 0 };
        if need <= budget.0 {
            budget.0 -= need;
            let small_span = match small.as_slice() {
                [] => MapSpan::EMPTY,
                [(_, g)] => g.map,
                _ => merge(&small, cb.arena),
            };
            let large_span = match large.as_slice() {
                [(_, g)] => g.map,
                _ => {
                    if let Some(span) = cb.shared.get(&large_ids) {
                        *span
                    } else {
                        let span = merge(&large, cb.arena);
                        cb.shared.insert(large_ids, span);
                        span
                    }
                }
            };
            Class {
                small: small_span,
                large: large_span,
            }
        } else {
            extra.scan = scan();
            one(MapSpan::SCAN)
        }
    };
    (class, extra)
}

/// A group of a class, with its id.
type Member<'g> = (u32, &'g Group);

/// Merges the maps of `part`'s groups (source → smallest rule index) into a new map in
/// `arena`.
fn merge<A: Key>(part: &[Member<'_>], arena: &mut MapArena<A>) -> MapSpan {
    let items: Vec<(A, A, u32)> = part.iter().flat_map(|(_, g)| arena.values(g.map)).collect();
    arena.push(&IntervalMap::min_cover(&items))
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
    /// Rules with identical protocols and destinations, with their source maps.
    groups: Box<[Group]>,
    /// Every source map of the family.
    arena: MapArena<A>,
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
        let mut arena = MapArena::new();
        let (groups, infos) = group_rules(rules, &mut arena);
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
        let ips_only = DstPortIndex::build(
            &entries_where(&|_| true, false, true),
            &groups,
            &mut arena,
            &mut budget,
        );
        let by_proto = |p: u8| {
            entries_where(
                &move |i: &GroupInfo<'_, A>| i.protos.contains(p),
                false,
                false,
            )
        };
        let tcp = DstPortIndex::build(&by_proto(proto::TCP), &groups, &mut arena, &mut budget);
        let udp = DstPortIndex::build(&by_proto(proto::UDP), &groups, &mut arena, &mut budget);
        let sctp = DstPortIndex::build(&by_proto(proto::SCTP), &groups, &mut arena, &mut budget);

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
            others.push(DstPortIndex::build(
                &entries,
                &groups,
                &mut arena,
                &mut budget,
            ));
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
            arena,
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
        index.lookup(
            src,
            dst,
            dport,
            self.caps_of(src),
            &self.groups,
            &self.arena,
        )
    }

    /// First rule letting `src` reach `dst` on any port and protocol, or a `cap:` rule the
    /// source satisfies (no destination check), or [`NONE`]. For ICMP echo requests.
    #[inline]
    pub(crate) fn match_ips_only(&self, src: A, dst: A) -> u32 {
        let caps = self.caps_of(src);
        let mut best = self
            .ips_only
            .lookup(src, dst, 0, 0, &self.groups, &self.arena);
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
            Some(index) => index.lookup(src, dst, 0, self.caps_of(src), &self.groups, &self.arena),
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
