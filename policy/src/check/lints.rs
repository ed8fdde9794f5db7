//! The lints (`TP1xxx`): unused definitions, redundant and allow-all rules, empty rule
//! lists, tests that cannot fail, legacy spellings.

use super::lint_codes as lc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Acl, Alias, Autogroup, Grant, Policy, PortRange, Proto};
use crate::span::{Span, Spanned};
use foldhash::{HashMap, HashSet, HashSetExt as _};

/// Runs every lint. `source` is the policy text (for spellings the model normalises).
pub fn check(p: &Policy, source: &str, diags: &mut Diagnostics) {
    check_all_but_rules(p, source, diags);
    rules(p, diags);
}

/// The shadowed, duplicate and allow-all rule lints: they read only the `acls` and
/// `grants` sections (selectors, ports, spans).
pub fn check_rules(p: &Policy, diags: &mut Diagnostics) {
    rules(p, diags);
}

/// Every lint but [`check_rules`]'s.
pub fn check_all_but_rules(p: &Policy, source: &str, diags: &mut Diagnostics) {
    unused(p, diags);
    empty_rules(p, diags);
    tests_that_cannot_fail(p, diags);
    legacy(p, source, diags);
    for r in p.ssh.iter().flatten() {
        if r.action.value == crate::model::SshAction::Accept
            && let Some(cp) = &r.check_period
        {
            diags.push(
                Diagnostic::new(
                    lc::CHECK_PERIOD_ON_ACCEPT.as_code(),
                    cp.span,
                    "`checkPeriod` has no effect on an `accept` rule",
                )
                .with_label(r.action.span, "the action is `accept`")
                .with_help("use `\"action\": \"check\"` to require re-authentication, or remove `checkPeriod`"),
            );
        }
    }
    for h in &p.hosts {
        host_bits(h.addr.value.net, h.addr.span, diags);
    }
    for acl in p.acls.iter().flatten() {
        for d in &acl.dst {
            if let Alias::Addr(a) = &d.value.alias {
                host_bits(a.net, d.span, diags);
            }
        }
    }
}

fn host_bits(net: ipnet::IpNet, span: Span, diags: &mut Diagnostics) {
    if net.addr() != net.network() {
        diags.push(
            Diagnostic::new(
                lc::HOST_BITS_SET.as_code(),
                span,
                format!("`{net}` has host bits set; it means `{}`", net.trunc()),
            )
            .with_help(format!(
                "write `{}`, or `{}` for the single host",
                net.trunc(),
                net.addr()
            )),
        );
    }
}

/// Every name the policy mentions anywhere (rules, SSH, owners, approvers, node
/// attributes, tests, ipsets): the selectors that can name a definition (users, groups,
/// tags, ipsets, services, hosts), borrowed from the policy, and every test string.
fn mentioned<'p>(p: &'p Policy) -> HashSet<&'p str> {
    let mut m = HashSet::new();
    let mut add = |a: &'p Alias| {
        if let Some(name) = named(a) {
            m.insert(name);
        }
    };
    for acl in p.acls.iter().flatten() {
        acl.src.iter().for_each(|s| add(&s.value));
        acl.dst.iter().for_each(|d| add(&d.value.alias));
    }
    for g in p.grants.iter().flatten() {
        g.src
            .iter()
            .chain(&g.dst)
            .chain(&g.via)
            .for_each(|s| add(&s.value));
    }
    for r in p.ssh.iter().flatten() {
        r.src
            .iter()
            .chain(&r.dst)
            .chain(&r.recorder)
            .for_each(|s| add(&s.value));
    }
    for t in &p.tag_owners {
        t.owners.iter().for_each(|s| add(&s.value));
    }
    let aa = &p.auto_approvers;
    aa.routes
        .iter()
        .flat_map(|(_, a)| a)
        .chain(&aa.exit_node)
        .chain(aa.services.iter().flat_map(|(_, a)| a))
        .for_each(|s| add(&s.value));
    for n in &p.node_attrs {
        n.target.iter().for_each(|s| add(&s.value));
    }
    for s in &p.ipsets {
        for op in &s.ops {
            add(&op.value.target);
        }
    }
    let test_strings = p
        .tests
        .iter()
        .flat_map(|t| {
            t.src
                .iter()
                .chain(t.accept.iter().flatten())
                .chain(t.deny.iter().flatten())
        })
        .chain(p.ssh_tests.iter().flat_map(|t| t.src.iter().chain(&t.dst)));
    for s in test_strings {
        let v = s.value.trim();
        m.insert(v);
        if let Some((host, _)) = v.rsplit_once(':') {
            m.insert(host);
        }
    }
    m
}

/// The name a selector is written with, when it can name a definition.
fn named(a: &Alias) -> Option<&str> {
    match a {
        Alias::User(s)
        | Alias::Group(s)
        | Alias::Tag(s)
        | Alias::IpSet(s)
        | Alias::Service(s)
        | Alias::Host(s) => Some(s),
        Alias::Wildcard
        | Alias::UserDomain(_)
        | Alias::Autogroup(_)
        | Alias::Addr(_)
        | Alias::Range(_, _) => None,
    }
}

fn unused(p: &Policy, diags: &mut Diagnostics) {
    let m = mentioned(p);
    for g in &p.groups {
        if !m.contains(g.name.value.as_str()) {
            diags.push(unused_diag(&lc::UNUSED_GROUP, &g.name, "group"));
        }
    }
    for h in &p.hosts {
        if !m.contains(h.name.value.as_str()) {
            diags.push(unused_diag(&lc::UNUSED_HOST, &h.name, "host alias"));
        }
    }
    for t in &p.tag_owners {
        if !m.contains(t.tag.value.as_str()) {
            diags.push(unused_diag(&lc::UNUSED_TAG, &t.tag, "tag"));
        }
    }
    for s in &p.ipsets {
        if !m.contains(s.name.value.as_str()) {
            diags.push(unused_diag(&lc::UNUSED_IPSET, &s.name, "ipset"));
        }
    }
}

fn unused_diag(
    rule: &'static crate::rules::Rule,
    name: &Spanned<String>,
    what: &str,
) -> Diagnostic {
    Diagnostic::new(
        rule.as_code(),
        name.span,
        format!("{what} `{}` is defined but never used", name.value),
    )
    .with_primary_label("defined here")
}

/// Alias ids: every distinct selector of a section gets a small number, so rules compare
/// and index by integers. `*` is always [`WILDCARD`]. Nothing the lint reports depends
/// on which number a selector got (only on which selectors are equal), so an update
/// may give a new selector the next free number.
#[derive(Clone, Debug, Default)]
struct Interner {
    ids: HashMap<Alias, u32>,
}

/// The id of `*` in every [`Interner`].
const WILDCARD: u32 = 0;

impl Interner {
    fn id(&mut self, a: &Alias) -> u32 {
        if *a == Alias::Wildcard {
            return WILDCARD;
        }
        if let Some(&id) = self.ids.get(a) {
            return id;
        }
        let next = u32::try_from(self.ids.len() + 1).unwrap_or(u32::MAX);
        self.ids.insert(a.clone(), next);
        next
    }
}

/// One destination of a [`Reach`]: alias id, whether it is `autogroup:internet` (which
/// `*` does not cover), and its ports.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Dst {
    id: u32,
    internet: bool,
    ports: Vec<PortRange>,
}

/// A rule reduced to sets for comparison: sources, destinations with ports, protocols.
#[derive(Clone, Debug)]
struct Reach {
    /// Source alias ids, sorted, without repeats.
    src: Vec<u32>,
    /// Source alias ids in the order written (the order the index is searched in, so
    /// that which pair is searched does not depend on the ids' numbering).
    src_written: Vec<u32>,
    /// Whether the sources include `autogroup:danger-all` (which `*` does not cover).
    src_danger_all: bool,
    dst: Vec<Dst>,
    /// `None`: the default protocol set.
    protos: Vec<Option<Proto>>,
    allow_all: bool,
    /// The rule's position in the policy's `acls` or `grants` list.
    pos: usize,
}

impl Reach {
    fn new(
        interner: &mut Interner,
        src: &[&Alias],
        dst: Vec<(&Alias, Vec<PortRange>)>,
        protos: Vec<Option<Proto>>,
        allow_all: bool,
        pos: usize,
    ) -> Self {
        let src_written: Vec<u32> = src.iter().map(|a| interner.id(a)).collect();
        let mut src_ids = src_written.clone();
        src_ids.sort_unstable();
        src_ids.dedup();
        let dst = dst
            .into_iter()
            .map(|(a, ports)| Dst {
                id: interner.id(a),
                internet: matches!(a, Alias::Autogroup(Autogroup::Internet)),
                ports,
            })
            .collect();
        Self {
            src: src_ids,
            src_written,
            src_danger_all: src
                .iter()
                .any(|a| matches!(a, Alias::Autogroup(Autogroup::DangerAll))),
            dst,
            protos,
            allow_all,
            pos,
        }
    }

    /// Every (source, destination) pair the rule is listed under, without repeats.
    fn pairs(&self) -> Vec<(u32, u32)> {
        let mut v: Vec<(u32, u32)> = self
            .src
            .iter()
            .flat_map(|&s| self.dst.iter().map(move |d| (s, d.id)))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    }

    /// Whether a search for this rule's covering rule reads the list of any of `keys`.
    fn looks_up_any(&self, keys: &[(u32, u32)]) -> bool {
        if self.src.is_empty() || self.dst.is_empty() {
            return false;
        }
        let has_src = |a: u32| self.src.binary_search(&a).is_ok();
        let has_dst = |b: u32| self.dst.iter().any(|d| d.id == b);
        keys.iter()
            .any(|&(a, b)| match (a == WILDCARD, b == WILDCARD) {
                (true, true) => true,
                (true, false) => has_dst(b),
                (false, true) => has_src(a),
                (false, false) => has_src(a) && has_dst(b),
            })
    }
}

fn acl_reach(interner: &mut Interner, a: &Acl, pos: usize) -> Reach {
    let src: Vec<&Alias> = a.src.iter().map(|s| &s.value).collect();
    let dst: Vec<(&Alias, Vec<PortRange>)> = a
        .dst
        .iter()
        .map(|d| (&d.value.alias, d.value.ports.clone()))
        .collect();
    let allow_all = src.contains(&&Alias::Wildcard)
        && a.proto.is_none()
        && dst
            .iter()
            .any(|(al, ports)| **al == Alias::Wildcard && ports.iter().any(|r| r.is_all()));
    Reach::new(
        interner,
        &src,
        dst,
        vec![a.proto.as_ref().map(|p| p.value)],
        allow_all,
        pos,
    )
}

/// Whether [`grant_reach`] compares `g` with other grants.
fn grant_compared(g: &Grant) -> bool {
    if !g.app.is_empty() || !g.via.is_empty() || !g.src_posture.is_empty() {
        return false;
    }
    // Mixed protocols with different ports cannot be compared element-wise; only
    // compare grants whose ip elements all share one protocol.
    let first = g.ip.first().map(|ip| ip.value.proto);
    g.ip.iter().all(|ip| Some(ip.value.proto) == first)
}

fn grant_reach(interner: &mut Interner, g: &Grant, pos: usize) -> Option<Reach> {
    if !grant_compared(g) {
        return None;
    }
    let first = g.ip.first().map(|ip| ip.value.proto);
    let src: Vec<&Alias> = g.src.iter().map(|s| &s.value).collect();
    // A grant is a product of dst × ip; model every ip element's ports on every dst.
    let ports: Vec<PortRange> = g.ip.iter().flat_map(|i| i.value.ports.clone()).collect();
    let dst: Vec<(&Alias, Vec<PortRange>)> =
        g.dst.iter().map(|d| (&d.value, ports.clone())).collect();
    let allow_all = src.contains(&&Alias::Wildcard)
        && g.dst.iter().any(|d| d.value == Alias::Wildcard)
        && g.ip
            .iter()
            .any(|i| i.value.proto.is_none() && i.value.ports.iter().any(|r| r.is_all()));
    Some(Reach::new(
        interner,
        &src,
        dst,
        first.into_iter().collect(),
        allow_all,
        pos,
    ))
}

/// Whether sorted `small` is a subset of sorted `big`.
fn sorted_subset(small: &[u32], big: &[u32]) -> bool {
    let mut big = big.iter();
    small.iter().all(|s| big.any(|b| b == s))
}

/// Whether `earlier` allows everything `later` allows (syntactically).
fn covers(earlier: &Reach, later: &Reach) -> bool {
    let src_ok = earlier.src.first() == Some(&WILDCARD) && !later.src_danger_all
        || sorted_subset(&later.src, &earlier.src);
    let proto_ok = later.protos.iter().all(|lp| {
        earlier.protos.iter().any(|ep| match (ep, lp) {
            (None, None) => true,
            (None, Some(p)) => Proto::DEFAULT_SET.contains(p),
            (Some(e), Some(l)) => e == l,
            (Some(_), None) => false,
        })
    });
    let dst_ok = later.dst.iter().all(|l| {
        earlier.dst.iter().any(|e| {
            (e.id == l.id || (e.id == WILDCARD && !l.internet))
                && l.ports.iter().all(|p| {
                    e.ports
                        .iter()
                        .any(|e| e.first <= p.first && p.last <= e.last)
                })
        })
    });
    !later.src.is_empty() && !later.dst.is_empty() && src_ok && proto_ok && dst_ok
}

fn same(a: &Reach, b: &Reach) -> bool {
    let norm = |d: &[Dst]| {
        let mut v: Vec<Dst> = d
            .iter()
            .map(|d| {
                let mut d = d.clone();
                d.ports.sort();
                d
            })
            .collect();
        v.sort();
        v
    };
    a.src == b.src && a.protos == b.protos && norm(&a.dst) == norm(&b.dst)
}

/// At most this many earlier rules from each index list are compared with a rule, so
/// that the lint stays linear even when thousands of rules share one source and one
/// destination (and differ only in ports). Rules covered only by an earlier rule
/// beyond the window are not reported.
const MAX_CANDIDATES: usize = 64;

/// Rules by (source id, destination id): every rule is listed under each pair of its
/// sources and destinations, in the order defined. A rule that covers another names
/// each of the other's sources (or `*`) and each of its destinations (or `*`), so it is
/// listed under `(s, d)`, `(*, d)`, `(s, *)` or `(*, *)` for any one pair `(s, d)` of
/// the covered rule: the lint looks up only the pair whose lists (of the rules before
/// it) are shortest.
#[derive(Clone, Debug, Default)]
struct PairIndex {
    rules: HashMap<(u32, u32), Vec<usize>>,
}

impl PairIndex {
    /// Lists rule `i` under `pairs` (at its place in each list).
    fn insert(&mut self, pairs: &[(u32, u32)], i: usize) {
        for &key in pairs {
            let list = self.rules.entry(key).or_default();
            let at = list.partition_point(|&x| x < i);
            if list.get(at) != Some(&i) {
                list.insert(at, i);
            }
        }
    }

    fn remove(&mut self, pairs: &[(u32, u32)], i: usize) {
        for key in pairs {
            if let Some(list) = self.rules.get_mut(key)
                && let Ok(at) = list.binary_search(&i)
            {
                list.remove(at);
            }
        }
    }

    /// The rules before `before` listed under `(s, d)`.
    fn list(&self, s: u32, d: u32, before: usize) -> &[usize] {
        let l = self
            .rules
            .get(&(s, d))
            .map(Vec::as_slice)
            .unwrap_or_default();
        l.get(..l.partition_point(|&x| x < before))
            .unwrap_or_default()
    }

    /// The rules before `before` that may cover `later`, in the order they were
    /// defined.
    fn candidates(&self, later: &Reach, before: usize) -> Vec<usize> {
        let lists = |s: u32, d: u32| {
            let mut l = vec![self.list(s, d, before)];
            if s != WILDCARD {
                l.push(self.list(WILDCARD, d, before));
            }
            if d != WILDCARD {
                l.push(self.list(s, WILDCARD, before));
            }
            if s != WILDCARD && d != WILDCARD {
                l.push(self.list(WILDCARD, WILDCARD, before));
            }
            l
        };
        let best = later
            .src_written
            .iter()
            .flat_map(|&s| later.dst.iter().map(move |d| (s, d.id)))
            .map(|(s, d)| lists(s, d))
            .min_by_key(|l| l.iter().map(|x| x.len()).sum::<usize>())
            .unwrap_or_default();
        let mut merged: Vec<usize> = best
            .iter()
            .flat_map(|l| l.iter().rev().take(MAX_CANDIDATES))
            .copied()
            .collect();
        merged.sort_unstable();
        merged.dedup();
        merged
    }
}

/// Which rule list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum RuleList {
    Acls,
    Grants,
}

impl RuleList {
    fn name(self) -> &'static str {
        match self {
            Self::Acls => "acls",
            Self::Grants => "grants",
        }
    }

    /// The span and `origin.index` of the rule at `pos` of the list.
    fn origin(self, p: &Policy, pos: usize) -> Option<(Span, usize)> {
        match self {
            Self::Acls => p
                .acls
                .as_ref()?
                .get(pos)
                .map(|a| (a.origin.span.0, a.origin.index)),
            Self::Grants => p
                .grants
                .as_ref()?
                .get(pos)
                .map(|g| (g.origin.span.0, g.origin.index)),
        }
    }

    fn len(self, p: &Policy) -> usize {
        match self {
            Self::Acls => p.acls.as_ref().map_or(0, Vec::len),
            Self::Grants => p.grants.as_ref().map_or(0, Vec::len),
        }
    }
}

/// One list's comparable rules, their index and what each was found covered by.
#[derive(Clone, Debug)]
struct ListLints {
    list: RuleList,
    ids: Interner,
    reaches: Vec<Reach>,
    index: PairIndex,
    /// For each rule of `reaches`, the earlier one (of `reaches`) that covers it.
    found: Vec<Option<usize>>,
    /// How many rules the policy's list held.
    len: usize,
}

impl ListLints {
    fn new(p: &Policy, list: RuleList) -> Self {
        let mut ids = Interner::default();
        let reaches: Vec<Reach> = match list {
            RuleList::Acls => p
                .acls
                .iter()
                .flatten()
                .enumerate()
                .map(|(pos, a)| acl_reach(&mut ids, a, pos))
                .collect(),
            RuleList::Grants => p
                .grants
                .iter()
                .flatten()
                .enumerate()
                .filter_map(|(pos, g)| grant_reach(&mut ids, g, pos))
                .collect(),
        };
        let mut index = PairIndex::default();
        let mut found = Vec::with_capacity(reaches.len());
        for (i, later) in reaches.iter().enumerate() {
            found.push(Self::search(&index, &reaches, later, i));
            index.insert(&later.pairs(), i);
        }
        Self {
            list,
            ids,
            reaches,
            index,
            found,
            len: list.len(p),
        }
    }

    /// The first rule before `i` (the rule `later`) that covers it.
    fn search(index: &PairIndex, reaches: &[Reach], later: &Reach, i: usize) -> Option<usize> {
        index
            .candidates(later, i)
            .into_iter()
            .find(|&j| reaches.get(j).is_some_and(|e| covers(e, later)))
    }

    /// The diagnostics of rule `i` (allow-all, then shadowed or duplicate).
    fn diagnostics(&self, p: &Policy, i: usize, out: &mut Vec<(Diagnostic, usize)>) {
        let section = self.list.name();
        let Some(later) = self.reaches.get(i) else {
            return;
        };
        let Some((span, index)) = self.list.origin(p, later.pos) else {
            return;
        };
        if later.allow_all {
            out.push((
                Diagnostic::new(
                    lc::ALLOW_ALL_RULE.as_code(),
                    span,
                    format!("{section}[{index}] allows every source to reach every destination on every port"),
                )
                .with_help("this is Tailscale's default policy; replace it with the access that is needed"),
                i,
            ));
        }
        let Some(Some(j)) = self.found.get(i) else {
            return;
        };
        let Some(earlier) = self.reaches.get(*j) else {
            return;
        };
        let Some((earlier_span, earlier_index)) = self.list.origin(p, earlier.pos) else {
            return;
        };
        let (rule, what) = if same(earlier, later) {
            (&lc::DUPLICATE_RULE, "duplicates")
        } else {
            (
                &lc::SHADOWED_RULE,
                "allows nothing beyond what is already allowed by",
            )
        };
        out.push((
            Diagnostic::new(
                rule.as_code(),
                span,
                format!("{section}[{index}] {what} {section}[{earlier_index}]"),
            )
            .with_label(earlier_span, "covered by this rule")
            .with_help("remove this rule, or narrow the earlier one"),
            i,
        ));
    }

    /// Takes in the new version of the rule whose `origin.index` is `element`; returns
    /// the rules whose diagnostics may have changed (sorted), or `None` when the change
    /// is not one rule replaced by another in place (then lint again from scratch).
    fn update(&mut self, p: &Policy, element: usize) -> Option<Vec<usize>> {
        if self.list.len(p) != self.len {
            return None;
        }
        let pos = match self.list {
            RuleList::Acls => p
                .acls
                .as_ref()?
                .iter()
                .position(|a| a.origin.index == element)?,
            RuleList::Grants => p
                .grants
                .as_ref()?
                .iter()
                .position(|g| g.origin.index == element)?,
        };
        let at = self.reaches.partition_point(|r| r.pos < pos);
        let Some(old) = self.reaches.get(at).filter(|r| r.pos == pos) else {
            // A grant not compared before: nothing changes if it still is not.
            let g = p.grants.as_ref()?.get(pos)?;
            return (self.list == RuleList::Grants && !grant_compared(g)).then(Vec::new);
        };
        let new = match self.list {
            RuleList::Acls => acl_reach(&mut self.ids, p.acls.as_ref()?.get(pos)?, pos),
            // A grant that starts or stops being compared changes the list's numbering.
            RuleList::Grants => grant_reach(&mut self.ids, p.grants.as_ref()?.get(pos)?, pos)?,
        };
        let (old_pairs, new_pairs) = (old.pairs(), new.pairs());
        let touched: Vec<(u32, u32)> = {
            let mut t = old_pairs.clone();
            t.extend(&new_pairs);
            t.sort_unstable();
            t.dedup();
            t
        };
        self.index.remove(&old_pairs, at);
        self.index.insert(&new_pairs, at);
        let slot = self.reaches.get_mut(at)?;
        *slot = new;
        let mut changed = vec![at];
        let found = Self::search(&self.index, &self.reaches, self.reaches.get(at)?, at);
        *self.found.get_mut(at)? = found;
        for (i, later) in self.reaches.iter().enumerate().skip(at + 1) {
            let before = self.found.get(i).copied().flatten();
            let now = if later.looks_up_any(&touched) {
                Self::search(&self.index, &self.reaches, later, i)
            } else {
                before
            };
            if now != before || now == Some(at) {
                changed.push(i);
                if let Some(f) = self.found.get_mut(i) {
                    *f = now;
                }
            }
        }
        Some(changed)
    }
}

/// The rule lints' state: every comparable rule of `acls` and `grants` with its index
/// and its diagnostics, so that a change of one rule updates them
/// ([`RuleLints::update`]) without comparing every rule again.
#[derive(Clone, Debug)]
pub struct RuleLints {
    lists: [ListLints; 2],
    /// In order: `acls` then `grants`, each rule's in the rules' order.
    diagnostics: Vec<Diagnostic>,
    /// For each diagnostic, its list and rule.
    owners: Vec<(RuleList, usize)>,
}

impl RuleLints {
    /// The rule lints of `p`, from scratch.
    pub fn new(p: &Policy) -> Self {
        let lists = [
            ListLints::new(p, RuleList::Acls),
            ListLints::new(p, RuleList::Grants),
        ];
        let mut diagnostics = Vec::new();
        let mut owners = Vec::new();
        let mut out = Vec::new();
        for l in &lists {
            for i in 0..l.reaches.len() {
                l.diagnostics(p, i, &mut out);
            }
            for (d, i) in out.drain(..) {
                diagnostics.push(d);
                owners.push((l.list, i));
            }
        }
        Self {
            lists,
            diagnostics,
            owners,
        }
    }

    /// The diagnostics, in the order the rule lints give them.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The diagnostics, for moving their spans (not their order or number).
    pub fn diagnostics_mut(&mut self) -> &mut [Diagnostic] {
        &mut self.diagnostics
    }

    /// `p` is the policy these lints were computed for with one rule replaced: the
    /// element `element` of the section `section` (`acls` or `grants`), every span
    /// outside it already moved here (in `p` and in [`Self::diagnostics_mut`]).
    /// Updates the lints to what [`RuleLints::new`] gives for `p`; `false` (and the
    /// lints then unusable) when this change cannot be applied in place.
    pub fn update(&mut self, p: &Policy, section: &str, element: usize) -> bool {
        let list = if section.eq_ignore_ascii_case("acls") {
            RuleList::Acls
        } else if section.eq_ignore_ascii_case("grants") {
            RuleList::Grants
        } else {
            return false;
        };
        let Some(state) = self.lists.iter_mut().find(|l| l.list == list) else {
            return false;
        };
        let Some(changed) = state.update(p, element) else {
            return false;
        };
        let mut fresh = Vec::new();
        for &i in &changed {
            state.diagnostics(p, i, &mut fresh);
        }
        let is_changed = |o: &(RuleList, usize)| o.0 == list && changed.binary_search(&o.1).is_ok();
        let old_diags = std::mem::take(&mut self.diagnostics);
        let old_owners = std::mem::take(&mut self.owners);
        let mut fresh = fresh.into_iter().peekable();
        for (d, o) in old_diags.into_iter().zip(old_owners) {
            while let Some((_, i)) = fresh.peek()
                && (list, *i) < o
            {
                if let Some((fd, fi)) = fresh.next() {
                    self.diagnostics.push(fd);
                    self.owners.push((list, fi));
                }
            }
            if !is_changed(&o) {
                self.diagnostics.push(d);
                self.owners.push(o);
            }
        }
        for (fd, fi) in fresh {
            self.diagnostics.push(fd);
            self.owners.push((list, fi));
        }
        true
    }
}

fn rules(p: &Policy, diags: &mut Diagnostics) {
    for d in RuleLints::new(p).diagnostics {
        diags.push(d);
    }
}

fn empty_rules(p: &Policy, diags: &mut Diagnostics) {
    let acls_empty = p.acls.as_ref().is_some_and(Vec::is_empty);
    let grants_empty = p.grants.as_ref().is_some_and(Vec::is_empty);
    let acls_none_or_empty = p.acls.as_ref().is_none_or(Vec::is_empty);
    let grants_none_or_empty = p.grants.as_ref().is_none_or(Vec::is_empty);
    if (acls_empty || grants_empty) && acls_none_or_empty && grants_none_or_empty {
        diags.push(
            Diagnostic::new(
                lc::EMPTY_RULES_DENY_ALL.as_code(),
                Span::empty(0),
                "the policy has no network rules: every connection between devices is denied",
            )
            .with_help(
                "an empty `acls`/`grants` list denies everything; a missing one allows everything",
            ),
        );
    }
}

fn tests_that_cannot_fail(p: &Policy, diags: &mut Diagnostics) {
    for t in &p.tests {
        let accept_empty = t.accept.as_ref().is_none_or(Vec::is_empty);
        let deny_empty = t.deny.as_ref().is_none_or(Vec::is_empty);
        if accept_empty && deny_empty && (t.accept.is_some() || t.deny.is_some()) {
            diags.push(
                Diagnostic::new(
                    lc::TEST_CANNOT_FAIL.as_code(),
                    t.origin.span.0,
                    format!("tests[{}] asserts nothing", t.origin.index),
                )
                .with_help("list destinations under `accept` or `deny`"),
            );
        }
    }
}

fn legacy(p: &Policy, source: &str, diags: &mut Diagnostics) {
    for acl in p.acls.iter().flatten() {
        if let Some(span) = acl.legacy_names {
            diags.push(
                Diagnostic::new(
                    lc::LEGACY_FIELD_NAMES.as_code(),
                    span,
                    "legacy field names `users`/`ports`: use `src`/`dst`",
                )
                .with_help("rename `users` to `src` and `ports` to `dst`"),
            );
        }
    }
    let all = p
        .acls
        .iter()
        .flatten()
        .flat_map(|a| {
            a.src
                .iter()
                .map(|s| s.span)
                .chain(a.dst.iter().map(|d| d.span))
        })
        .chain(
            p.grants
                .iter()
                .flatten()
                .flat_map(|g| g.src.iter().chain(&g.dst).map(|s| s.span)),
        )
        .chain(
            p.ssh
                .iter()
                .flatten()
                .flat_map(|r| r.src.iter().chain(&r.dst).map(|s| s.span)),
        )
        .chain(
            p.tag_owners
                .iter()
                .flat_map(|t| t.owners.iter().map(|s| s.span)),
        )
        .chain(
            p.node_attrs
                .iter()
                .flat_map(|n| n.target.iter().map(|s| s.span)),
        );
    for span in all {
        if span.text(source).contains("autogroup:members") {
            diags.push(
                Diagnostic::new(
                    lc::LEGACY_AUTOGROUP_MEMBERS.as_code(),
                    span,
                    "`autogroup:members` is the legacy spelling of `autogroup:member`",
                )
                .with_help("write `autogroup:member`"),
            );
        }
    }
}
