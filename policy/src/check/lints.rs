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
/// and index by integers. `*` is always [`WILDCARD`].
#[derive(Default)]
struct Interner<'p> {
    ids: HashMap<&'p Alias, u32>,
}

/// The id of `*` in every [`Interner`].
const WILDCARD: u32 = 0;

impl<'p> Interner<'p> {
    fn id(&mut self, a: &'p Alias) -> u32 {
        if *a == Alias::Wildcard {
            return WILDCARD;
        }
        let next = u32::try_from(self.ids.len() + 1).unwrap_or(u32::MAX);
        *self.ids.entry(a).or_insert(next)
    }
}

/// One destination of a [`Reach`]: alias id, whether it is `autogroup:internet` (which
/// `*` does not cover), and its ports.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Dst {
    id: u32,
    internet: bool,
    ports: Vec<PortRange>,
}

/// A rule reduced to sets for comparison: sources, destinations with ports, protocols.
struct Reach {
    /// Source alias ids, sorted, without repeats.
    src: Vec<u32>,
    /// Whether the sources include `autogroup:danger-all` (which `*` does not cover).
    src_danger_all: bool,
    dst: Vec<Dst>,
    /// `None`: the default protocol set.
    protos: Vec<Option<Proto>>,
    allow_all: bool,
    span: Span,
    index: usize,
}

impl Reach {
    fn new<'p>(
        interner: &mut Interner<'p>,
        src: &[&'p Alias],
        dst: Vec<(&'p Alias, Vec<PortRange>)>,
        protos: Vec<Option<Proto>>,
        allow_all: bool,
        (span, index): (Span, usize),
    ) -> Self {
        let mut src_ids: Vec<u32> = src.iter().map(|a| interner.id(a)).collect();
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
            src_danger_all: src
                .iter()
                .any(|a| matches!(a, Alias::Autogroup(Autogroup::DangerAll))),
            dst,
            protos,
            allow_all,
            span,
            index,
        }
    }
}

fn acl_reach<'p>(interner: &mut Interner<'p>, a: &'p Acl) -> Reach {
    let src: Vec<&'p Alias> = a.src.iter().map(|s| &s.value).collect();
    let dst: Vec<(&'p Alias, Vec<PortRange>)> = a
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
        (a.origin.span.0, a.origin.index),
    )
}

fn grant_reach<'p>(interner: &mut Interner<'p>, g: &'p Grant) -> Option<Reach> {
    if !g.app.is_empty() || !g.via.is_empty() || !g.src_posture.is_empty() {
        return None;
    }
    let protos: Vec<Option<Proto>> = g.ip.iter().map(|ip| ip.value.proto).collect();
    // Mixed protocols with different ports cannot be compared element-wise; only
    // compare grants whose ip elements all share one protocol.
    let first = protos.first().copied();
    if protos.iter().any(|p| Some(*p) != first) {
        return None;
    }
    let src: Vec<&'p Alias> = g.src.iter().map(|s| &s.value).collect();
    // A grant is a product of dst × ip; model every ip element's ports on every dst.
    let ports: Vec<PortRange> = g.ip.iter().flat_map(|i| i.value.ports.clone()).collect();
    let dst: Vec<(&'p Alias, Vec<PortRange>)> =
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
        (g.origin.span.0, g.origin.index),
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

/// Earlier rules by (source id, destination id): every rule is listed under each pair
/// of its sources and destinations. A rule that covers another names each of the
/// other's sources (or `*`) and each of its destinations (or `*`), so it is listed
/// under `(s, d)`, `(*, d)`, `(s, *)` or `(*, *)` for any one pair `(s, d)` of the
/// covered rule: the lint looks up only the pair whose lists are shortest.
#[derive(Default)]
struct PairIndex {
    rules: HashMap<(u32, u32), Vec<usize>>,
}

impl PairIndex {
    fn insert(&mut self, rule: &Reach, i: usize) {
        for &s in &rule.src {
            let mut seen: Vec<u32> = Vec::with_capacity(rule.dst.len());
            for d in &rule.dst {
                if !seen.contains(&d.id) {
                    seen.push(d.id);
                    self.rules.entry((s, d.id)).or_default().push(i);
                }
            }
        }
    }

    fn list(&self, s: u32, d: u32) -> &[usize] {
        self.rules
            .get(&(s, d))
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The earlier rules that may cover `later`, in the order they were defined.
    fn candidates(&self, later: &Reach) -> Vec<usize> {
        let lists = |s: u32, d: u32| {
            let mut l = vec![self.list(s, d)];
            if s != WILDCARD {
                l.push(self.list(WILDCARD, d));
            }
            if d != WILDCARD {
                l.push(self.list(s, WILDCARD));
            }
            if s != WILDCARD && d != WILDCARD {
                l.push(self.list(WILDCARD, WILDCARD));
            }
            l
        };
        let best = later
            .src
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

fn rules(p: &Policy, diags: &mut Diagnostics) {
    let mut acl_ids = Interner::default();
    let acls: Vec<Reach> = p
        .acls
        .iter()
        .flatten()
        .map(|a| acl_reach(&mut acl_ids, a))
        .collect();
    let mut grant_ids = Interner::default();
    let grants: Vec<Reach> = p
        .grants
        .iter()
        .flatten()
        .filter_map(|g| grant_reach(&mut grant_ids, g))
        .collect();
    for (section, list) in [("acls", &acls), ("grants", &grants)] {
        let mut index = PairIndex::default();
        for (i, later) in list.iter().enumerate() {
            if later.allow_all {
                diags.push(
                    Diagnostic::new(
                        lc::ALLOW_ALL_RULE.as_code(),
                        later.span,
                        format!("{section}[{}] allows every source to reach every destination on every port", later.index),
                    )
                    .with_help("this is Tailscale's default policy; replace it with the access that is needed"),
                );
            }
            let found = index
                .candidates(later)
                .into_iter()
                .filter_map(|j| list.get(j))
                .find(|e| covers(e, later));
            index.insert(later, i);
            let Some(earlier) = found else {
                continue;
            };
            let (rule, what) = if same(earlier, later) {
                (&lc::DUPLICATE_RULE, "duplicates")
            } else {
                (
                    &lc::SHADOWED_RULE,
                    "allows nothing beyond what is already allowed by",
                )
            };
            diags.push(
                Diagnostic::new(
                    rule.as_code(),
                    later.span,
                    format!(
                        "{section}[{}] {what} {section}[{}]",
                        later.index, earlier.index
                    ),
                )
                .with_label(earlier.span, "covered by this rule")
                .with_help("remove this rule, or narrow the earlier one"),
            );
        }
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
