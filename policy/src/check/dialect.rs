//! What one control server accepts and the other rejects (policy-spec §7), checked
//! over the model: headscale's unsupported constructs in headscale mode, and in
//! Tailscale mode the places where Tailscale is stricter than headscale. Each
//! diagnostic's help says what the other dialect does with the same construct.

use super::CheckOptions;
use super::codes as cc;
use crate::Dialect;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Alias, Autogroup, Policy};
use crate::span::Span;

/// headscale 0.29's autogroups, in the order its error message lists them.
pub const HEADSCALE_AUTOGROUPS: &[&str] = &[
    "autogroup:internet",
    "autogroup:member",
    "autogroup:nonroot",
    "autogroup:tagged",
    "autogroup:self",
    "autogroup:danger-all",
];

/// headscale's message for an autogroup it does not know (`got` as written).
pub fn headscale_unknown_autogroup(got: &str) -> String {
    format!(
        "invalid autogroup: got \"{got}\", must be one of [{}]",
        HEADSCALE_AUTOGROUPS.join(" ")
    )
}

/// Runs the dialect-specific checks for `options.dialect`.
pub fn check(p: &Policy, options: &CheckOptions, diags: &mut Diagnostics) {
    match options.dialect {
        Dialect::Headscale => headscale(p, diags),
        Dialect::Tailscale => tailscale(p, diags),
    }
}

/// Every selector of the policy with its span (rules, SSH, owners, approvers, nodeAttrs).
fn selectors(p: &Policy) -> Vec<(&Alias, Span)> {
    let mut out: Vec<(&Alias, Span)> = Vec::new();
    for a in p.acls.iter().flatten() {
        out.extend(a.src.iter().map(|s| (&s.value, s.span)));
        out.extend(a.dst.iter().map(|d| (&d.value.alias, d.span)));
    }
    let spanned = p
        .grants
        .iter()
        .flatten()
        .flat_map(|g| g.src.iter().chain(&g.dst).chain(&g.via))
        .chain(
            p.ssh
                .iter()
                .flatten()
                .flat_map(|r| r.src.iter().chain(&r.dst).chain(&r.recorder)),
        )
        .chain(p.tag_owners.iter().flat_map(|t| t.owners.iter()))
        .chain(p.auto_approvers.routes.iter().flat_map(|(_, a)| a))
        .chain(&p.auto_approvers.exit_node)
        .chain(p.auto_approvers.services.iter().flat_map(|(_, a)| a))
        .chain(p.node_attrs.iter().flat_map(|n| n.target.iter()));
    out.extend(spanned.map(|s| (&s.value, s.span)));
    out
}

fn headscale(p: &Policy, diags: &mut Diagnostics) {
    let unsupported = |span: Span, msg: String, help: &str| {
        Diagnostic::new(cc::UNSUPPORTED_IN_DIALECT.as_code(), span, msg).with_help(help.to_owned())
    };
    for (alias, span) in selectors(p) {
        match alias {
            Alias::Autogroup(a) if !HEADSCALE_AUTOGROUPS.contains(&a.to_string().as_str()) => {
                diags.push(
                    Diagnostic::new(
                        cc::UNKNOWN_AUTOGROUP.as_code(),
                        span,
                        headscale_unknown_autogroup(&a.to_string()),
                    )
                    .with_help(format!(
                        "Tailscale accepts `{a}`; headscale has no user roles or sharing, so it rejects the policy"
                    )),
                );
            }
            Alias::UserDomain(domain) => diags.push(unsupported(
                span,
                format!("`user:*@{domain}` is not supported by headscale"),
                "Tailscale accepts `user:*@domain`; with headscale list the users (`alice@example.com`) or use a group",
            )),
            Alias::Service(name) => diags.push(unsupported(
                span,
                format!("`{name}` is not supported by headscale: it has no Tailscale Services"),
                "Tailscale accepts `svc:` services; headscale rejects them",
            )),
            _ => {}
        }
    }
    for (name, _) in &p.auto_approvers.services {
        diags.push(unsupported(
            name.span,
            format!(
                "`autoApprovers.services` (`{}`) is not supported by headscale",
                name.value
            ),
            "Tailscale accepts service auto-approvers; headscale has no Tailscale Services",
        ));
    }
    for n in &p.node_attrs {
        for a in &n.attr {
            if a.value.eq_ignore_ascii_case("funnel") {
                diags.push(unsupported(
                    a.span,
                    "node attribute `funnel` is not supported by headscale".to_owned(),
                    "Tailscale accepts `funnel`; headscale does not implement Funnel",
                ));
            }
        }
        if let Some(first) = n.ip_pool.first() {
            diags.push(unsupported(
                first.span,
                "`ipPool` is not supported by headscale".to_owned(),
                "Tailscale accepts `ipPool` in nodeAttrs; headscale assigns addresses from its own `prefixes` setting",
            ));
        }
    }
}

/// A test source Tailscale does not know as a user or host: any autogroup (headscale
/// accepts `autogroup:member` and `autogroup:tagged` there).
fn tailscale_test_source(raw: &str) -> bool {
    raw.trim().starts_with("autogroup:")
        && matches!(
            Alias::parse(raw.trim(), false),
            Ok(Alias::Autogroup(Autogroup::Member | Autogroup::Tagged))
        )
}

fn tailscale(p: &Policy, diags: &mut Diagnostics) {
    let help = "headscale accepts this autogroup as a test source (`--dialect headscale`); Tailscale knows no user or host of that name and fails the test: name a user, a group member or a tag";
    for t in &p.tests {
        if let Some(s) = &t.src
            && tailscale_test_source(&s.value)
        {
            diags.push(
                Diagnostic::new(
                    cc::MALFORMED_TEST.as_code(),
                    s.span,
                    format!(
                        "test(s) failed: tests[{}]: unknown user or host \"{}\"",
                        t.origin.index,
                        s.value.trim()
                    ),
                )
                .with_help(help),
            );
        }
    }
    for t in &p.ssh_tests {
        if let Some(s) = &t.src
            && tailscale_test_source(&s.value)
        {
            diags.push(
                Diagnostic::new(
                    cc::MALFORMED_SSH_TEST.as_code(),
                    s.span,
                    format!(
                        "sshTests[{}]: unknown user or host \"{}\"",
                        t.origin.index,
                        s.value.trim()
                    ),
                )
                .with_help(help),
            );
        }
    }
}
