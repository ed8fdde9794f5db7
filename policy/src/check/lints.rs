//! The lints (`TP1xxx`): unused definitions, redundant and allow-all rules, empty rule
//! lists, tests that cannot fail, legacy spellings.

use super::lint_codes as lc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Acl, Alias, Autogroup, Grant, Policy, PortRange, Proto};
use crate::span::{Span, Spanned};
use std::collections::{HashMap, HashSet};

/// Runs every lint. `source` is the policy text (for spellings the model normalises).
pub fn check(p: &Policy, source: &str, diags: &mut Diagnostics) {
    unused(p, diags);
    rules(p, diags);
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

/// Every selector string the policy mentions anywhere (rules, SSH, owners, approvers,
/// node attributes, tests, ipsets).
fn mentioned(p: &Policy) -> HashSet<String> {
    let mut m = HashSet::new();
    let mut add = |a: &Alias| {
        m.insert(a.to_string());
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
            match &op.value.target {
                Alias::Host(h) => {
                    m.insert(h.clone());
                }
                other => {
                    m.insert(other.to_string());
                }
            }
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
        m.insert(v.to_owned());
        if let Some((host, _)) = v.rsplit_once(':') {
            m.insert(host.to_owned());
        }
    }
    m
}

fn unused(p: &Policy, diags: &mut Diagnostics) {
    let m = mentioned(p);
    for g in &p.groups {
        if !m.contains(&g.name.value) {
            diags.push(unused_diag(&lc::UNUSED_GROUP, &g.name, "group"));
        }
    }
    for h in &p.hosts {
        if !m.contains(&h.name.value) {
            diags.push(unused_diag(&lc::UNUSED_HOST, &h.name, "host alias"));
        }
    }
    for t in &p.tag_owners {
        if !m.contains(&t.tag.value) {
            diags.push(unused_diag(&lc::UNUSED_TAG, &t.tag, "tag"));
        }
    }
    for s in &p.ipsets {
        if !m.contains(&s.name.value) {
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

/// A rule reduced to sets for comparison: sources, destinations with ports, protocols.
struct Reach {
    src: HashSet<Alias>,
    dst: Vec<(Alias, Vec<PortRange>)>,
    /// `None`: the default protocol set.
    protos: Vec<Option<Proto>>,
    allow_all: bool,
    span: Span,
    index: usize,
}

fn acl_reach(a: &Acl) -> Reach {
    let src: HashSet<Alias> = a.src.iter().map(|s| s.value.clone()).collect();
    let dst: Vec<(Alias, Vec<PortRange>)> = a
        .dst
        .iter()
        .map(|d| (d.value.alias.clone(), d.value.ports.clone()))
        .collect();
    let allow_all = src.contains(&Alias::Wildcard)
        && a.proto.is_none()
        && dst
            .iter()
            .any(|(al, ports)| *al == Alias::Wildcard && ports.iter().any(|r| r.is_all()));
    Reach {
        src,
        dst,
        protos: vec![a.proto.as_ref().map(|p| p.value)],
        allow_all,
        span: a.origin.span.0,
        index: a.origin.index,
    }
}

fn grant_reach(g: &Grant) -> Option<Reach> {
    if !g.app.is_empty() || !g.via.is_empty() || !g.src_posture.is_empty() {
        return None;
    }
    let src: HashSet<Alias> = g.src.iter().map(|s| s.value.clone()).collect();
    let mut dst = Vec::new();
    let mut protos = Vec::new();
    for ip in &g.ip {
        protos.push(ip.value.proto);
    }
    // A grant is a product of dst × ip; model every ip element's ports on every dst.
    for d in &g.dst {
        let ports: Vec<PortRange> = g.ip.iter().flat_map(|i| i.value.ports.clone()).collect();
        dst.push((d.value.clone(), ports));
    }
    let allow_all = src.contains(&Alias::Wildcard)
        && g.dst.iter().any(|d| d.value == Alias::Wildcard)
        && g.ip
            .iter()
            .any(|i| i.value.proto.is_none() && i.value.ports.iter().any(|r| r.is_all()));
    // Mixed protocols with different ports cannot be compared element-wise; only
    // compare grants whose ip elements all share one protocol.
    let first = protos.first().copied();
    if protos.iter().any(|p| Some(*p) != first) {
        return None;
    }
    Some(Reach {
        src,
        dst,
        protos: first.into_iter().collect(),
        allow_all,
        span: g.origin.span.0,
        index: g.origin.index,
    })
}

/// Whether `earlier` allows everything `later` allows (syntactically).
fn covers(earlier: &Reach, later: &Reach) -> bool {
    let src_ok = earlier.src.contains(&Alias::Wildcard)
        && !later.src.contains(&Alias::Autogroup(Autogroup::DangerAll))
        || later.src.is_subset(&earlier.src);
    let proto_ok = later.protos.iter().all(|lp| {
        earlier.protos.iter().any(|ep| match (ep, lp) {
            (None, None) => true,
            (None, Some(p)) => Proto::DEFAULT_SET.contains(p),
            (Some(e), Some(l)) => e == l,
            (Some(_), None) => false,
        })
    });
    let dst_ok = later.dst.iter().all(|(alias, ports)| {
        earlier.dst.iter().any(|(ea, eports)| {
            (ea == alias
                || (*ea == Alias::Wildcard
                    && !matches!(alias, Alias::Autogroup(Autogroup::Internet))))
                && ports.iter().all(|p| {
                    eports
                        .iter()
                        .any(|e| e.first <= p.first && p.last <= e.last)
                })
        })
    });
    !later.src.is_empty() && !later.dst.is_empty() && src_ok && proto_ok && dst_ok
}

fn same(a: &Reach, b: &Reach) -> bool {
    let norm = |d: &Vec<(Alias, Vec<PortRange>)>| {
        let mut v: Vec<(Alias, Vec<PortRange>)> = d
            .iter()
            .map(|(a, p)| {
                let mut p = p.clone();
                p.sort();
                (a.clone(), p)
            })
            .collect();
        v.sort();
        v
    };
    a.src == b.src && a.protos == b.protos && norm(&a.dst) == norm(&b.dst)
}

/// At most this many earlier rules are compared with each rule, so that the lint stays
/// linear on policies with tens of thousands of rules sharing a destination. Rules
/// covered only by an earlier rule beyond the window are not reported.
const MAX_CANDIDATES: usize = 64;

/// Earlier rules that may cover `later`: those that name its first destination or `*`,
/// most recent first, at most [`MAX_CANDIDATES`].
fn candidates<'a>(
    index: &'a HashMap<Alias, Vec<usize>>,
    later: &Reach,
) -> impl Iterator<Item = usize> + 'a {
    let first = later.dst.first().map(|(a, _)| a.clone());
    let by_dst = first
        .and_then(|a| index.get(&a))
        .map(Vec::as_slice)
        .unwrap_or_default();
    let by_wildcard = index
        .get(&Alias::Wildcard)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut merged: Vec<usize> = by_dst
        .iter()
        .rev()
        .take(MAX_CANDIDATES)
        .chain(by_wildcard.iter().rev().take(MAX_CANDIDATES))
        .copied()
        .collect();
    merged.sort_unstable();
    merged.dedup();
    merged.into_iter()
}

/// Records rule `i` under each of its destination aliases.
fn index_rule(index: &mut HashMap<Alias, Vec<usize>>, rule: &Reach, i: usize) {
    let mut seen: HashSet<&Alias> = HashSet::new();
    for (a, _) in &rule.dst {
        if seen.insert(a) {
            index.entry(a.clone()).or_default().push(i);
        }
    }
}

fn rules(p: &Policy, diags: &mut Diagnostics) {
    let acls: Vec<Reach> = p.acls.iter().flatten().map(acl_reach).collect();
    let grants: Vec<Reach> = p.grants.iter().flatten().filter_map(grant_reach).collect();
    for (section, list) in [("acls", &acls), ("grants", &grants)] {
        let mut index: HashMap<Alias, Vec<usize>> = HashMap::new();
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
            let Some(earlier) = candidates(&index, later)
                .filter(|&j| j < i)
                .filter_map(|j| list.get(j))
                .find(|e| covers(e, later))
            else {
                index_rule(&mut index, later, i);
                continue;
            };
            index_rule(&mut index, later, i);
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
