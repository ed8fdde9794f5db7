//! The security audit (`TP11xx`, codes in [`super::audit_codes`]): what Adversis's
//! tailsnitch checks offline, and more, as warnings with the risk and the fix.

use super::audit_codes as ac;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Alias, Autogroup, Policy, SshAction, SshUser};
use crate::span::{Span, Spanned};

/// Runs every audit check.
pub fn check(p: &Policy, diags: &mut Diagnostics) {
    default_allow_all(p, diags);
    ssh(p, diags);
    no_tests(p, diags);
    member_source(p, diags);
    auto_approvers(p, diags);
    member_owns_tag(p, diags);
    danger_all(p, diags);
    exit_node_open(p, diags);
}

fn is_member(a: &Alias) -> bool {
    matches!(a, Alias::Autogroup(Autogroup::Member))
}

fn is_broad(a: &Alias) -> bool {
    matches!(
        a,
        Alias::Wildcard | Alias::Autogroup(Autogroup::Member | Autogroup::DangerAll)
    )
}

fn default_allow_all(p: &Policy, diags: &mut Diagnostics) {
    if p.acls.is_none() && p.grants.is_none() {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_DEFAULT_ALLOW_ALL.as_code(),
                Span::empty(0),
                "the policy has neither `acls` nor `grants`: every device may reach every other on every port",
            )
            .with_help("add `grants` (or `acls`) for the access that is needed; an empty list denies everything"),
        );
    }
}

fn ssh(p: &Policy, diags: &mut Diagnostics) {
    for r in p.ssh.iter().flatten() {
        let user_devices = r.dst.iter().find(|d| {
            matches!(
                d.value,
                Alias::Autogroup(Autogroup::SelfDevices | Autogroup::Member) | Alias::User(_)
            )
        });
        if r.action.value == SshAction::Accept
            && let Some(d) = user_devices
        {
            diags.push(
                Diagnostic::new(
                    ac::AUDIT_SSH_ACCEPT_USER_DEVICES.as_code(),
                    r.action.span,
                    format!(
                        "ssh[{}] opens shells on user devices (`{}`) with `accept`, without re-authentication",
                        r.origin.index, d.value
                    ),
                )
                .with_label(d.span, "user devices")
                .with_help("use `\"action\": \"check\"` for people's own devices"),
            );
        }
        let root = r.users.iter().find(|u| u.value == SshUser::Root);
        if let (Some(root), Some(src)) = (root, r.src.iter().find(|s| is_broad(&s.value))) {
            diags.push(
                Diagnostic::new(
                    ac::AUDIT_SSH_ROOT_BROAD.as_code(),
                    root.span,
                    format!(
                        "ssh[{}] allows `root` from `{}`",
                        r.origin.index, src.value
                    ),
                )
                .with_label(src.span, "a broad source")
                .with_help("allow root to a small reviewed group with `check`; use `autogroup:nonroot` for everyone else"),
            );
        }
    }
}

fn no_tests(p: &Policy, diags: &mut Diagnostics) {
    let has_rules = p.acls.as_ref().is_some_and(|a| !a.is_empty())
        || p.grants.as_ref().is_some_and(|g| !g.is_empty())
        || p.ssh.as_ref().is_some_and(|s| !s.is_empty());
    if has_rules && p.tests.is_empty() && p.ssh_tests.is_empty() {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_NO_TESTS.as_code(),
                Span::empty(0),
                "the policy has access rules but no `tests` or `sshTests`",
            )
            .with_help(
                "add `tests` that assert the access that must exist and the access that must not",
            ),
        );
    }
}

fn member_source(p: &Policy, diags: &mut Diagnostics) {
    fn self_only<'a>(mut dsts: impl Iterator<Item = &'a Alias>) -> bool {
        dsts.all(|d| {
            matches!(
                d,
                Alias::Autogroup(Autogroup::SelfDevices | Autogroup::Internet)
            )
        })
    }
    let mut report = |src: &Spanned<Alias>, section: &str, index: usize| {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_MEMBER_SOURCE.as_code(),
                src.span,
                format!("{section}[{index}] gives `autogroup:member` access: every present and future member, including invited users"),
            )
            .with_help("name a reviewed group instead"),
        );
    };
    for a in p.acls.iter().flatten() {
        if let Some(s) = a.src.iter().find(|s| is_member(&s.value))
            && !self_only(a.dst.iter().map(|d| &d.value.alias))
        {
            report(s, "acls", a.origin.index);
        }
    }
    for g in p.grants.iter().flatten() {
        if let Some(s) = g.src.iter().find(|s| is_member(&s.value))
            && !self_only(g.dst.iter().map(|d| &d.value))
        {
            report(s, "grants", g.origin.index);
        }
    }
}

fn auto_approvers(p: &Policy, diags: &mut Diagnostics) {
    let aa = &p.auto_approvers;
    let mut broad = |a: &Spanned<Alias>, what: String| {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_BROAD_AUTO_APPROVER.as_code(),
                a.span,
                format!(
                    "`{}` auto-approves {what}: any member's device qualifies",
                    a.value
                ),
            )
            .with_help("approve for a tag owned by administrators"),
        );
    };
    for (route, approvers) in &aa.routes {
        for a in approvers.iter().filter(|a| is_broad(&a.value)) {
            broad(a, format!("route `{}`", route.value));
        }
    }
    for a in aa.exit_node.iter().filter(|a| is_broad(&a.value)) {
        broad(a, "exit nodes".to_owned());
    }
    for (route, approvers) in &aa.routes {
        if route.value.prefix_len() == 0 && !approvers.is_empty() {
            diags.push(
                Diagnostic::new(
                    ac::AUDIT_BROAD_AUTO_APPROVER.as_code(),
                    route.span,
                    format!(
                        "the route `{}` (all addresses) is auto-approved",
                        route.value
                    ),
                )
                .with_help(
                    "auto-approve specific prefixes; use `exitNode` approvers for exit nodes",
                ),
            );
        }
    }
}

fn member_owns_tag(p: &Policy, diags: &mut Diagnostics) {
    let sources: Vec<&Alias> = p
        .acls
        .iter()
        .flatten()
        .flat_map(|a| a.src.iter())
        .chain(p.grants.iter().flatten().flat_map(|g| g.src.iter()))
        .chain(p.ssh.iter().flatten().flat_map(|r| r.src.iter()))
        .map(|s| &s.value)
        .collect();
    for t in &p.tag_owners {
        let Some(owner) = t.owners.iter().find(|o| is_broad(&o.value)) else {
            continue;
        };
        let used = sources
            .iter()
            .any(|s| matches!(s, Alias::Tag(name) if *name == t.tag.value));
        if used {
            diags.push(
                Diagnostic::new(
                    ac::AUDIT_MEMBER_OWNS_TAG.as_code(),
                    owner.span,
                    format!(
                        "every member may apply `{}`, which is the source of access rules",
                        t.tag.value
                    ),
                )
                .with_label(t.tag.span, "this tag grants access")
                .with_help("let a reviewed group own the tag"),
            );
        }
    }
}

fn danger_all(p: &Policy, diags: &mut Diagnostics) {
    let all = p
        .acls
        .iter()
        .flatten()
        .flat_map(|a| a.src.iter())
        .chain(
            p.grants
                .iter()
                .flatten()
                .flat_map(|g| g.src.iter().chain(&g.dst)),
        )
        .chain(
            p.ssh
                .iter()
                .flatten()
                .flat_map(|r| r.src.iter().chain(&r.dst)),
        )
        .chain(p.node_attrs.iter().flat_map(|n| n.target.iter()));
    for s in all.filter(|s| matches!(s.value, Alias::Autogroup(Autogroup::DangerAll))) {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_DANGER_ALL.as_code(),
                s.span,
                "`autogroup:danger-all` matches every address, including devices shared in from other tailnets",
            )
            .with_help("use `*` or name the sources"),
        );
    }
}

fn exit_node_open(p: &Policy, diags: &mut Diagnostics) {
    let open = |srcs: &[Spanned<Alias>]| {
        srcs.iter()
            .find(|s| {
                matches!(
                    s.value,
                    Alias::Wildcard | Alias::Autogroup(Autogroup::Member)
                )
            })
            .map(|s| s.span)
    };
    let internet = |a: &Alias| matches!(a, Alias::Autogroup(Autogroup::Internet));
    let mut found: Vec<(Span, String)> = Vec::new();
    for a in p.acls.iter().flatten() {
        if a.dst.iter().any(|d| internet(&d.value.alias))
            && let Some(span) = open(&a.src)
        {
            found.push((span, format!("acls[{}]", a.origin.index)));
        }
    }
    for g in p.grants.iter().flatten() {
        if g.dst.iter().any(|d| internet(&d.value))
            && let Some(span) = open(&g.src)
        {
            found.push((span, format!("grants[{}]", g.origin.index)));
        }
    }
    for (span, what) in found {
        diags.push(
            Diagnostic::new(
                ac::AUDIT_EXIT_NODE_OPEN.as_code(),
                span,
                format!("{what} lets every device use the tailnet's exit nodes"),
            )
            .with_help("name who may use exit nodes"),
        );
    }
}
