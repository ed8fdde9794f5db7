//! The `tests` and `sshTests` runner, with Tailscale's semantics (policy-spec §6).
//!
//! Sources and destinations are resolved to devices where the tailnet has them, and
//! by identity where it has none (Tailscale evaluates tests by identity). Every source
//! device must reach every destination for an `accept`; none may for a `deny`.
//! Unknown users fail. Entries the checker already reports as malformed
//! (TP0402/TP0404) fail too, but without a second diagnostic.

use super::access::{Evaluator, RuleRef};
use super::select::{Dst, Identity, Src};
use super::ssh::{SshVerdict, ssh_verdict};
use super::tailnet::Tailnet;
use ipnet::IpNet;
use tailpolicy_policy::codes::check as cc;
use tailpolicy_policy::model::{
    AclTest, Alias, Autogroup, Origin, Policy, PostureAttrs, Proto, SshTest,
};
use tailpolicy_policy::{CheckOptions, Diagnostic, Span, Spanned};

/// What an assertion expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expectation {
    /// `accept`: the traffic (or SSH login) must be allowed.
    Accept,
    /// `check` (sshTests): the login must need a check.
    Check,
    /// `deny`: it must not be allowed.
    Deny,
}

impl Expectation {
    /// The key as written in the policy.
    pub fn key(self) -> &'static str {
        match self {
            Expectation::Accept => "accept",
            Expectation::Check => "check",
            Expectation::Deny => "deny",
        }
    }
}

/// The result of one assertion: one destination of a `tests` entry, or one login of
/// an `sshTests` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct AssertionOutcome {
    /// What was expected.
    pub expect: Expectation,
    /// The destination (`host:port`) or login as written.
    pub target: Spanned<String>,
    /// Whether it holds.
    pub passed: bool,
    /// The rules that allow the traffic (the deciding rules: for a passing `accept`
    /// the rules that grant it, for a failing `deny` the rules that break it).
    pub rules: Vec<Origin>,
    /// Why it failed, in words (`None` when it passed).
    pub failure: Option<String>,
}

/// The result of one `tests` or `sshTests` entry.
#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    /// Section ([`tailpolicy_policy::model::Section::Tests`] or
    /// [`tailpolicy_policy::model::Section::SshTests`]), index and span.
    pub origin: Origin,
    /// The entry's `src` as written.
    pub src: Option<Spanned<String>>,
    /// Whether every assertion holds and the entry is well-formed.
    pub passed: bool,
    /// Whether the checker reports the entry as malformed (TP0402/TP0404); such an
    /// entry fails and its diagnostic comes from the checker.
    pub malformed: bool,
    /// One outcome per assertion that could be evaluated.
    pub assertions: Vec<AssertionOutcome>,
    /// The failure diagnostic (TP0401, TP0403, or TP0404 for shapes only the runner
    /// sees); `None` when the entry passed or the checker already reported it.
    pub diagnostic: Option<Diagnostic>,
}

/// Runs the policy's `tests` and then its `sshTests` against `tailnet`.
pub fn run_policy_tests(policy: &Policy, tailnet: &Tailnet) -> Vec<TestOutcome> {
    let checked = tailpolicy_policy::check(policy, &CheckOptions::default());
    let malformed_spans: Vec<(Span, bool)> = checked
        .iter()
        .filter_map(|d| {
            if d.code == cc::MALFORMED_TEST.as_code() {
                Some((d.span, false))
            } else if d.code == cc::MALFORMED_SSH_TEST.as_code() {
                Some((d.span, true))
            } else {
                None
            }
        })
        .collect();
    let malformed = |origin: &Origin, ssh: bool| {
        let e = origin.span.0;
        malformed_spans
            .iter()
            .any(|(s, is_ssh)| *is_ssh == ssh && s.start >= e.start && s.end <= e.end)
    };
    let ev = Evaluator::new(policy, tailnet);
    let mut out = Vec::new();
    for t in &policy.tests {
        out.push(run_acl_test(&ev, t, malformed(&t.origin, false)));
    }
    for t in &policy.ssh_tests {
        out.push(run_ssh_test(&ev, policy, t, malformed(&t.origin, true)));
    }
    out
}

/// The diagnostics `lint` adds for a policy's `tests`/`sshTests` (the failures the
/// checker does not already report), in entry order.
pub fn test_diagnostics(policy: &Policy, tailnet: &Tailnet) -> Vec<Diagnostic> {
    run_policy_tests(policy, tailnet)
        .into_iter()
        .filter_map(|o| o.diagnostic)
        .collect()
}

/// Whether every test passed.
pub fn all_passed(outcomes: &[TestOutcome]) -> bool {
    outcomes.iter().all(|o| o.passed)
}

/// Resolves a test `src` to source points. `Err` for what cannot be a source.
fn sources(ev: &Evaluator<'_>, raw: &str) -> Result<Vec<Src>, String> {
    let m = ev.matcher();
    let tailnet = m.tailnet;
    let alias = Alias::parse(raw, false).map_err(|e| e.to_string())?;
    let nodes = |pred: &dyn Fn(usize) -> bool| -> Vec<Src> {
        (0..tailnet.nodes.len())
            .filter(|i| pred(*i))
            .filter_map(|i| Src::node(tailnet, i))
            .collect()
    };
    let user_points = |login: &str| -> Vec<Src> {
        let mut v = nodes(&|i| {
            tailnet
                .nodes
                .get(i)
                .and_then(|n| n.owner())
                .is_some_and(|o| o.eq_ignore_ascii_case(login))
        });
        if v.is_empty() {
            v.push(Src {
                identity: Identity::User(login.to_owned()),
                node: None,
                nets: Vec::new(),
                posture: None,
            });
        }
        v
    };
    match &alias {
        Alias::User(u) => {
            if !tailnet.has_user(u) {
                return Err(format!("user `{u}` is not a user of the tailnet"));
            }
            Ok(user_points(u))
        }
        Alias::Group(g) => {
            let group = m
                .policy
                .group(g)
                .ok_or_else(|| format!("group `{g}` is not defined"))?;
            Ok(group
                .members
                .iter()
                .filter(|u| tailnet.has_user(&u.value))
                .flat_map(|u| user_points(&u.value))
                .collect())
        }
        Alias::Tag(t) => {
            let mut v = nodes(&|i| tailnet.nodes.get(i).is_some_and(|n| n.tags.contains(t)));
            if v.is_empty() {
                v.push(Src {
                    identity: Identity::Tagged(vec![t.clone()]),
                    node: None,
                    nets: Vec::new(),
                    posture: None,
                });
            }
            Ok(v)
        }
        Alias::Autogroup(Autogroup::Member) => Ok(nodes(&|i| {
            tailnet.nodes.get(i).is_some_and(|n| n.owner().is_some())
        })),
        Alias::Autogroup(Autogroup::Tagged) => Ok(nodes(&|i| {
            tailnet.nodes.get(i).is_some_and(|n| n.is_tagged())
        })),
        Alias::Addr(a) => Ok(vec![Src::addr(tailnet, a.net)]),
        Alias::Host(h) => {
            let host = m
                .policy
                .host(h)
                .ok_or_else(|| format!("host `{h}` is not defined"))?;
            Ok(vec![Src::addr(tailnet, host.addr.value.net)])
        }
        other => Err(format!("`{other}` cannot be a test source")),
    }
}

/// Resolves a test destination host (the part before the port) to destination points.
fn destinations(ev: &Evaluator<'_>, alias: &Alias) -> Result<Vec<Dst>, String> {
    let m = ev.matcher();
    let tailnet = m.tailnet;
    let user_points = |login: &str| -> Vec<Dst> {
        let mut v: Vec<Dst> = (0..tailnet.nodes.len())
            .filter(|i| {
                tailnet
                    .nodes
                    .get(*i)
                    .and_then(|n| n.owner())
                    .is_some_and(|o| o.eq_ignore_ascii_case(login))
            })
            .filter_map(|i| Dst::node(tailnet, i))
            .collect();
        if v.is_empty() {
            v.push(Dst {
                identity: Identity::User(login.to_owned()),
                node: None,
                addr: None,
            });
        }
        v
    };
    match alias {
        Alias::User(u) => {
            if !tailnet.has_user(u) {
                return Err(format!("user `{u}` is not a user of the tailnet"));
            }
            Ok(user_points(u))
        }
        Alias::Group(g) => {
            let group = m
                .policy
                .group(g)
                .ok_or_else(|| format!("group `{g}` is not defined"))?;
            Ok(group
                .members
                .iter()
                .filter(|u| tailnet.has_user(&u.value))
                .flat_map(|u| user_points(&u.value))
                .collect())
        }
        Alias::Tag(t) => {
            let mut v: Vec<Dst> = (0..tailnet.nodes.len())
                .filter(|i| tailnet.nodes.get(*i).is_some_and(|n| n.tags.contains(t)))
                .filter_map(|i| Dst::node(tailnet, i))
                .collect();
            if v.is_empty() {
                v.push(Dst {
                    identity: Identity::Tagged(vec![t.clone()]),
                    node: None,
                    addr: None,
                });
            }
            Ok(v)
        }
        Alias::Addr(a) if a.bare => Ok(vec![Dst::addr(tailnet, a.net)]),
        Alias::Host(h) => match m.policy.host(h) {
            Some(host) if host.addr.value.bare => Ok(vec![Dst::addr(tailnet, host.addr.value.net)]),
            Some(_) => Err(format!("host `{h}` is a CIDR range, not a single host")),
            None => Err(format!("host `{h}` is not defined")),
        },
        other => Err(format!("`{other}` is not a single host Tailscale can test")),
    }
}

/// The protocol a test uses: `tcp` when none is given.
fn test_proto(t: &AclTest) -> Result<Proto, String> {
    match &t.proto {
        None => Ok(Proto::TCP),
        Some(p) => {
            let v = p.value.trim();
            if v.is_empty() {
                Ok(Proto::TCP)
            } else {
                Proto::parse(v)
            }
        }
    }
}

fn describe(ev: &Evaluator<'_>, src: &Src) -> String {
    let tailnet = ev.matcher().tailnet;
    match src.node.and_then(|i| tailnet.nodes.get(i)) {
        Some(n) => format!("device `{}`", n.name),
        None => match &src.identity {
            Identity::User(u) => format!("`{u}`"),
            Identity::Tagged(t) => format!("`{}`", t.join(",")),
            Identity::Anonymous => src
                .nets
                .first()
                .map_or_else(|| "the source".to_owned(), |n| format!("`{n}`")),
        },
    }
}

fn describe_dst(ev: &Evaluator<'_>, dst: &Dst) -> String {
    let tailnet = ev.matcher().tailnet;
    match (dst.node.and_then(|i| tailnet.nodes.get(i)), dst.addr) {
        (Some(n), None) => format!("device `{}`", n.name),
        (Some(n), Some(a)) => format!("`{}` (device `{}`)", a.addr(), n.name),
        (None, Some(a)) => format!("`{}`", a.addr()),
        (None, None) => match &dst.identity {
            Identity::User(u) => format!("`{u}`"),
            Identity::Tagged(t) => format!("`{}`", t.join(",")),
            Identity::Anonymous => "the destination".to_owned(),
        },
    }
}

fn origin_list(rules: &[Origin]) -> String {
    rules
        .iter()
        .map(|o| format!("{}[{}]", o.section.key(), o.index))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The test's sources as the device it describes: every source that is a device of
/// the tailnet has the test's `srcPostureAttrs` (none when absent), whatever the real
/// devices have (Tailscale runs a test "from the perspective of a device authenticated
/// with the provided identity").
fn with_test_posture(
    srcs: Result<Vec<Src>, String>,
    attrs: Option<&Spanned<PostureAttrs>>,
) -> Result<Vec<Src>, String> {
    srcs.map(|v| {
        v.into_iter()
            .map(|mut s| {
                if s.node.is_some() || s.identity != Identity::Anonymous {
                    s.posture = Some(attrs.map(|a| a.value.clone()).unwrap_or_default());
                }
                s
            })
            .collect()
    })
}

fn run_acl_test(ev: &Evaluator<'_>, t: &AclTest, malformed: bool) -> TestOutcome {
    let src_raw = t.src.as_ref().map(|s| s.value.trim().to_owned());
    let srcs = match &src_raw {
        Some(s) if !s.is_empty() => sources(ev, s),
        _ => Err("missing src".to_owned()),
    };
    let srcs = with_test_posture(srcs, t.src_posture_attrs.as_ref());
    let proto = test_proto(t);
    let mut assertions = Vec::new();
    let mut entry_error: Option<(Span, String)> = None;
    if let Err(e) = &srcs {
        let span = t.src.as_ref().map_or(t.origin.span.0, |s| s.span);
        entry_error = Some((span, e.clone()));
    }
    if let (Err(e), None) = (&proto, &entry_error) {
        let span = t.proto.as_ref().map_or(t.origin.span.0, |s| s.span);
        entry_error = Some((span, e.clone()));
    }
    if let (Ok(srcs), Ok(proto)) = (&srcs, proto) {
        let items = t
            .accept
            .iter()
            .flatten()
            .map(|d| (Expectation::Accept, d))
            .chain(t.deny.iter().flatten().map(|d| (Expectation::Deny, d)));
        for (expect, d) in items {
            assertions.push(acl_assertion(ev, srcs, proto, expect, d));
        }
    }
    let src_text = src_raw.unwrap_or_default();
    let mut failures: Vec<(Span, String)> = Vec::new();
    if let Some((span, e)) = entry_error {
        failures.push((span, format!("tests[{}]: {e}", t.origin.index)));
    }
    for a in &assertions {
        if let Some(f) = &a.failure {
            failures.push((a.target.span, format!("`{src_text}` {f}")));
        }
    }
    finish(
        t.origin,
        t.src.clone(),
        malformed,
        assertions,
        failures,
        cc::TEST_FAILED.as_code(),
    )
}

fn acl_assertion(
    ev: &Evaluator<'_>,
    srcs: &[Src],
    proto: Proto,
    expect: Expectation,
    d: &Spanned<String>,
) -> AssertionOutcome {
    let fail = |msg: String| AssertionOutcome {
        expect,
        target: d.clone(),
        passed: false,
        rules: Vec::new(),
        failure: Some(msg),
    };
    let raw = d.value.trim();
    let Some((host, port)) = raw.rsplit_once(':') else {
        return fail(format!("cannot be tested against `{raw}`: no port"));
    };
    let port = match port.parse::<u16>() {
        Ok(p) if proto.has_ports() || p == 0 => p,
        _ => {
            return fail(format!(
                "cannot be tested against `{raw}`: the port must be a single number"
            ));
        }
    };
    let dsts = match Alias::parse(host, false)
        .map_err(|e| e.to_string())
        .and_then(|a| destinations(ev, &a))
    {
        Ok(d) => d,
        Err(e) => return fail(format!("cannot be tested against `{raw}`: {e}")),
    };
    let mut rules: Vec<RuleRef> = Vec::new();
    let mut blocked: Option<String> = None;
    let mut allowed_pair: Option<String> = None;
    for s in srcs {
        for dst in &dsts {
            let r = ev.allowing(s, dst, proto, port);
            if r.is_empty() {
                if blocked.is_none() {
                    blocked = Some(format!(
                        "{} cannot reach {}",
                        describe(ev, s),
                        describe_dst(ev, dst)
                    ));
                }
            } else if allowed_pair.is_none() {
                allowed_pair = Some(format!(
                    "{} can reach {}",
                    describe(ev, s),
                    describe_dst(ev, dst)
                ));
            }
            for x in r {
                if !rules.contains(&x) {
                    rules.push(x);
                }
            }
        }
    }
    let origins: Vec<Origin> = {
        let mut v: Vec<Origin> = Vec::new();
        for r in &rules {
            if !v.contains(&r.origin) {
                v.push(r.origin);
            }
        }
        v
    };
    let proto_text = format!("{proto}");
    let failure = match expect {
        Expectation::Accept | Expectation::Check => {
            if srcs.is_empty() {
                Some(format!(
                    "cannot access `{raw}` over {proto_text}: the source has no devices"
                ))
            } else if dsts.is_empty() {
                Some(format!(
                    "cannot access `{raw}` over {proto_text}: the destination has no devices"
                ))
            } else {
                blocked.map(|b| {
                    let whole = allowed_pair.is_none();
                    if whole {
                        format!("cannot access `{raw}` over {proto_text} (expected accept)")
                    } else {
                        format!("cannot access `{raw}` over {proto_text} (expected accept): {b}")
                    }
                })
            }
        }
        Expectation::Deny => allowed_pair.map(|p| {
            format!(
                "can access `{raw}` over {proto_text} (expected deny): {p}, allowed by {}",
                origin_list(&origins)
            )
        }),
    };
    AssertionOutcome {
        expect,
        target: d.clone(),
        passed: failure.is_none(),
        rules: origins,
        failure,
    }
}

fn finish(
    origin: Origin,
    src: Option<Spanned<String>>,
    malformed: bool,
    assertions: Vec<AssertionOutcome>,
    failures: Vec<(Span, String)>,
    code: tailpolicy_policy::Code,
) -> TestOutcome {
    let passed = !malformed && failures.is_empty();
    let diagnostic = if malformed {
        None
    } else {
        let mut it = failures.into_iter();
        it.next().map(|(span, msg)| {
            let rest: Vec<(Span, String)> = it.collect();
            let message = if rest.is_empty() {
                format!("test(s) failed: {msg}")
            } else {
                format!("test(s) failed: {msg} (and {} more)", rest.len())
            };
            let mut d = Diagnostic::new(code, span, message).with_label(origin.span.0, "in this test");
            for (s, m) in rest {
                d = d.with_label(s, m);
            }
            d.with_help("fix the rules, or the test if the rules are right; `tailpolicy reach` shows which rules apply")
        })
    };
    TestOutcome {
        origin,
        src,
        passed,
        malformed,
        assertions,
        diagnostic,
    }
}

/// Resolves an `sshTests` dst entry to destination devices for `src`.
fn ssh_destinations(ev: &Evaluator<'_>, raw: &str, src: &Src) -> Result<Vec<Dst>, String> {
    let m = ev.matcher();
    let tailnet = m.tailnet;
    let raw = raw.trim();
    let alias = Alias::parse(raw, false).map_err(|e| e.to_string())?;
    let pick = |pred: &dyn Fn(&super::tailnet::TailnetNode) -> bool| -> Vec<Dst> {
        tailnet
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| pred(n))
            .filter_map(|(i, _)| Dst::node(tailnet, i))
            .collect()
    };
    let by_ip = |net: IpNet| -> Vec<Dst> {
        tailnet
            .node_by_ip(net.addr())
            .and_then(|i| Dst::node(tailnet, i))
            .into_iter()
            .collect()
    };
    // Without an inventory (every login a user), names without devices are judged by
    // identity, as for `tests`; with one, a destination without devices fails.
    let or_identity = |v: Vec<Dst>, identity: Identity| -> Vec<Dst> {
        if v.is_empty() && tailnet.open_users {
            vec![Dst {
                identity,
                node: None,
                addr: None,
            }]
        } else {
            v
        }
    };
    match &alias {
        Alias::Tag(t) => Ok(or_identity(
            pick(&|n| n.tags.contains(t)),
            Identity::Tagged(vec![t.clone()]),
        )),
        Alias::User(u) => {
            if !tailnet.has_user(u) {
                return Err(format!("user `{u}` is not a user of the tailnet"));
            }
            Ok(pick(&|n| {
                n.owner().is_some_and(|o| o.eq_ignore_ascii_case(u))
            }))
        }
        Alias::Group(g) => {
            let group = m
                .policy
                .group(g)
                .ok_or_else(|| format!("group `{g}` is not defined"))?;
            Ok(pick(&|n| {
                n.owner().is_some_and(|o| {
                    group
                        .members
                        .iter()
                        .any(|u| u.value.eq_ignore_ascii_case(o))
                })
            }))
        }
        Alias::Autogroup(Autogroup::SelfDevices) => Ok(match &src.identity {
            Identity::User(u) => or_identity(
                pick(&|n| n.owner().is_some_and(|o| o.eq_ignore_ascii_case(u))),
                Identity::User(u.clone()),
            ),
            _ => Vec::new(),
        }),
        Alias::Autogroup(Autogroup::Member) => Ok(pick(&|n| n.owner().is_some())),
        Alias::Autogroup(Autogroup::Tagged) => Ok(pick(&|n| n.is_tagged())),
        Alias::Addr(a) if a.bare && a.net.addr().is_ipv4() => Ok(by_ip(a.net)),
        Alias::Addr(a) if a.bare => Err(format!(
            "IPv6 address `{a}` cannot be an sshTests destination"
        )),
        Alias::Host(h) => match m.policy.host(h) {
            Some(host) if host.addr.value.bare => Ok(by_ip(host.addr.value.net)),
            Some(_) => Err(format!("host `{h}` is a CIDR range, not a single host")),
            None => Err(format!("host `{h}` is not defined")),
        },
        other => Err(format!("`{other}` cannot be an sshTests destination")),
    }
}

fn run_ssh_test(ev: &Evaluator<'_>, policy: &Policy, t: &SshTest, malformed: bool) -> TestOutcome {
    let src_raw = t.src.as_ref().map(|s| s.value.trim().to_owned());
    let srcs = match &src_raw {
        Some(s) if !s.is_empty() => sources(ev, s),
        _ => Err("missing src".to_owned()),
    };
    let srcs = with_test_posture(srcs, t.src_posture_attrs.as_ref());
    let rules = policy.ssh.as_deref().unwrap_or_default();
    let src_text = src_raw.clone().unwrap_or_default();
    let mut failures: Vec<(Span, String)> = Vec::new();
    let mut shape_failure = false;
    let mut assertions = Vec::new();
    match &srcs {
        Err(e) => {
            let span = t.src.as_ref().map_or(t.origin.span.0, |s| s.span);
            failures.push((span, format!("sshTests[{}]: {e}", t.origin.index)));
        }
        Ok(srcs) => {
            // Destinations per source (autogroup:self depends on the source).
            let mut dst_error = None;
            let mut per_src: Vec<SrcTargets<'_>> = Vec::new();
            for s in srcs {
                let mut ds = Vec::new();
                for d in &t.dst {
                    match ssh_destinations(ev, &d.value, s) {
                        Ok(v) => ds.push((d.value.trim().to_owned(), v)),
                        Err(e) => {
                            if dst_error.is_none() {
                                dst_error = Some((d.span, e));
                            }
                        }
                    }
                }
                per_src.push((s, ds));
            }
            if let Some((span, e)) = dst_error {
                shape_failure = true;
                failures.push((span, format!("sshTests[{}]: {e}", t.origin.index)));
            }
            let items = t
                .accept
                .iter()
                .map(|u| (Expectation::Accept, u))
                .chain(t.check.iter().map(|u| (Expectation::Check, u)))
                .chain(t.deny.iter().map(|u| (Expectation::Deny, u)));
            for (expect, login) in items {
                let a = ssh_assertion(ev, rules, &per_src, srcs.is_empty(), expect, login);
                if let Some(f) = &a.failure {
                    failures.push((a.target.span, format!("`{src_text}` {f}")));
                }
                if login.value.is_empty() {
                    shape_failure = true;
                }
                assertions.push(a);
            }
        }
    }
    let code = if shape_failure {
        cc::MALFORMED_SSH_TEST.as_code()
    } else {
        cc::SSH_TEST_FAILED.as_code()
    };
    finish(
        t.origin,
        t.src.clone(),
        malformed,
        assertions,
        failures,
        code,
    )
}

/// A source and, per `dst` entry as written, the devices it names for that source.
type SrcTargets<'s> = (&'s Src, Vec<(String, Vec<Dst>)>);

fn ssh_assertion(
    ev: &Evaluator<'_>,
    rules: &[tailpolicy_policy::model::SshRule],
    per_src: &[SrcTargets<'_>],
    no_sources: bool,
    expect: Expectation,
    login: &Spanned<String>,
) -> AssertionOutcome {
    let name = login.value.as_str();
    let mut origins: Vec<Origin> = Vec::new();
    let mut failure: Option<String> = None;
    if name.is_empty() {
        failure = Some("cannot be tested with an empty login name".to_owned());
    } else if no_sources && expect != Expectation::Deny {
        failure = Some(format!("cannot ssh as `{name}`: the source has no devices"));
    }
    for (src, dsts) in per_src {
        for (dst_raw, nodes) in dsts {
            if nodes.is_empty() && expect != Expectation::Deny && failure.is_none() {
                failure = Some(format!(
                    "cannot ssh to `{dst_raw}` as `{name}`: no device matches `{dst_raw}`"
                ));
            }
            for dst in nodes {
                let v = ssh_verdict(ev.matcher(), rules, src, dst, name);
                let who = describe(ev, src);
                let to = describe_dst(ev, dst);
                let (ok, why) = match (expect, v) {
                    (Expectation::Accept, SshVerdict::Accept(o) | SshVerdict::Check(o)) => {
                        push_unique(&mut origins, o);
                        (true, String::new())
                    }
                    (Expectation::Accept, SshVerdict::Deny) => (
                        false,
                        format!(
                            "cannot ssh to `{dst_raw}` as `{name}` (expected accept): {who} to {to} matches no ssh rule"
                        ),
                    ),
                    (Expectation::Check, SshVerdict::Check(o)) => {
                        push_unique(&mut origins, o);
                        (true, String::new())
                    }
                    (Expectation::Check, SshVerdict::Accept(o)) => {
                        push_unique(&mut origins, o);
                        (
                            false,
                            format!(
                                "can ssh to `{dst_raw}` as `{name}` without a check (expected check): {who} to {to} is accepted by {}[{}]",
                                o.section.key(),
                                o.index
                            ),
                        )
                    }
                    (Expectation::Check, SshVerdict::Deny) => (
                        false,
                        format!(
                            "cannot ssh to `{dst_raw}` as `{name}` (expected check): {who} to {to} matches no ssh rule"
                        ),
                    ),
                    (Expectation::Deny, SshVerdict::Deny) => (true, String::new()),
                    (Expectation::Deny, SshVerdict::Accept(o) | SshVerdict::Check(o)) => {
                        push_unique(&mut origins, o);
                        (
                            false,
                            format!(
                                "can ssh to `{dst_raw}` as `{name}` (expected deny): {who} to {to} is allowed by {}[{}]",
                                o.section.key(),
                                o.index
                            ),
                        )
                    }
                };
                if !ok && failure.is_none() {
                    failure = Some(why);
                }
            }
        }
    }
    AssertionOutcome {
        expect,
        target: login.clone(),
        passed: failure.is_none(),
        rules: origins,
        failure,
    }
}

fn push_unique(v: &mut Vec<Origin>, o: Origin) {
    if !v.contains(&o) {
        v.push(o);
    }
}
