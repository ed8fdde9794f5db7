//! SSH rules: where each selector may appear and the source/destination constraints
//! (policy-spec §2.9), tailnet domains, and the shape of `sshTests` entries.

use super::CheckOptions;
use super::codes as cc;
use crate::Dialect;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Alias, Autogroup, Policy, SshRule, SshUser};
use crate::span::Spanned;

pub fn check(p: &Policy, options: &CheckOptions, diags: &mut Diagnostics) {
    for rule in p.ssh.iter().flatten() {
        sources(rule, options.dialect, diags);
        destinations(rule, options.dialect, diags);
        relationships(rule, diags);
        if let Some(domains) = &options.tailnet_domains {
            for u in &rule.users {
                if let SshUser::LocalpartOf(domain) = &u.value {
                    domain_associated(domain, u.span, domains, diags);
                }
            }
            for s in &rule.src {
                if let Alias::UserDomain(domain) = &s.value {
                    domain_associated(domain, s.span, domains, diags);
                }
            }
        }
    }
    if let Some(domains) = &options.tailnet_domains {
        let all = p.acls.iter().flatten().flat_map(|a| a.src.iter()).chain(
            p.grants
                .iter()
                .flatten()
                .flat_map(|g| g.src.iter().chain(&g.dst)),
        );
        for s in all {
            if let Alias::UserDomain(domain) = &s.value {
                domain_associated(domain, s.span, domains, diags);
            }
        }
    }
    ssh_tests(p, diags);
}

fn sources(rule: &SshRule, dialect: Dialect, diags: &mut Diagnostics) {
    for s in &rule.src {
        match &s.value {
            Alias::Wildcard
            | Alias::Addr(_)
            | Alias::Host(_)
            | Alias::IpSet(_)
            | Alias::Service(_) => {
                diags.push(
                    Diagnostic::new(
                        cc::INVALID_SSH_SOURCE.as_code(),
                        s.span,
                        match (dialect, &s.value) {
                            // headscale prints the Go type of `*`.
                            (Dialect::Headscale, Alias::Wildcard) => {
                                "alias not supported for SSH source: v2.Asterix (\"*\")".to_owned()
                            }
                            _ => format!("alias not supported for SSH source: \"{}\"", s.value),
                        },
                    )
                    .with_help("SSH sources are users, groups, tags, `autogroup:member` or `autogroup:tagged`"),
                );
            }
            Alias::Autogroup(Autogroup::SelfDevices) => diags.push(Diagnostic::new(
                cc::AUTOGROUP_SELF_AS_SOURCE.as_code(),
                s.span,
                "\"autogroup:self\" not valid on the src side of a rule",
            )),
            Alias::Autogroup(Autogroup::Internet) => diags.push(Diagnostic::new(
                cc::AUTOGROUP_INTERNET_MISPLACED.as_code(),
                s.span,
                "autogroup:internet can only be used in ACL destinations",
            )),
            Alias::Autogroup(a @ (Autogroup::DangerAll | Autogroup::Nonroot)) => {
                diags.push(Diagnostic::new(
                    cc::INVALID_SSH_SOURCE.as_code(),
                    s.span,
                    format!("alias not supported for SSH source: \"{a}\""),
                ))
            }
            _ => {}
        }
    }
}

fn destinations(rule: &SshRule, dialect: Dialect, diags: &mut Diagnostics) {
    for d in &rule.dst {
        let msg = match &d.value {
            Alias::Wildcard => Some("wildcard (*) is not supported as SSH destination".to_owned()),
            Alias::Host(h) => Some(format!("invalid dst \"{h}\"")),
            Alias::Addr(a) => Some(format!("invalid dst \"{a}\"")),
            Alias::IpSet(s) | Alias::Service(s) => Some(format!("invalid dst \"{s}\"")),
            Alias::Autogroup(Autogroup::Internet) => {
                diags.push(Diagnostic::new(
                    cc::AUTOGROUP_INTERNET_MISPLACED.as_code(),
                    d.span,
                    "autogroup:internet can only be used in ACL destinations",
                ));
                None
            }
            Alias::Autogroup(Autogroup::Member) if dialect == Dialect::Tailscale => {
                diags.push(
                    Diagnostic::new(
                        cc::INVALID_SSH_DESTINATION.as_code(),
                        d.span,
                        "invalid dst \"autogroup:member\"",
                    )
                    .with_help("Tailscale documents `autogroup:member` as invalid for SSH destinations (headscale accepts it, `--dialect headscale`): use `autogroup:self` for people's own devices, or tags"),
                );
                None
            }
            Alias::Autogroup(a)
                if !matches!(
                    a,
                    Autogroup::SelfDevices | Autogroup::Tagged | Autogroup::Member
                ) =>
            {
                Some(format!("invalid dst \"{a}\""))
            }
            _ => None,
        };
        if let Some(m) = msg {
            diags.push(
                Diagnostic::new(cc::INVALID_SSH_DESTINATION.as_code(), d.span, m)
                    .with_help("SSH destinations are tags, users, `autogroup:self` or `autogroup:tagged`, not addresses or host aliases"),
            );
        }
    }
}

/// Tags cannot reach user-owned devices; user destinations need that same user as the
/// only source; `autogroup:self` needs people as sources.
fn relationships(rule: &SshRule, diags: &mut Diagnostics) {
    let tag_src = rule
        .src
        .iter()
        .find(|s| matches!(s.value, Alias::Tag(_) | Alias::Autogroup(Autogroup::Tagged)));
    for d in &rule.dst {
        match &d.value {
            Alias::User(user) => {
                if let Some(t) = tag_src {
                    push_tag_to_user(t, d, "user-owned devices", diags);
                    continue;
                }
                let others = rule
                    .src
                    .iter()
                    .find(|s| !matches!(&s.value, Alias::User(u) if u == user));
                if let Some(other) = others {
                    diags.push(
                        Diagnostic::new(
                            cc::SSH_USER_DESTINATION_OTHER_SOURCE.as_code(),
                            other.span,
                            format!("user destination requires source to contain only that same user \"{user}\""),
                        )
                        .with_label(d.span, "user destination")
                        .with_help("use `autogroup:self` as the destination to let people reach their own devices"),
                    );
                }
            }
            Alias::Autogroup(Autogroup::Member) => {
                if let Some(t) = tag_src {
                    push_tag_to_user(t, d, "autogroup:member", diags);
                }
            }
            Alias::Autogroup(Autogroup::SelfDevices) => {
                for s in &rule.src {
                    let ok = matches!(
                        &s.value,
                        Alias::User(_)
                            | Alias::Group(_)
                            | Alias::UserDomain(_)
                            | Alias::Autogroup(Autogroup::Member)
                    ) || matches!(&s.value, Alias::Autogroup(a) if a.is_role());
                    if !ok && !matches!(s.value, Alias::Wildcard) {
                        diags.push(
                            Diagnostic::new(
                                cc::AUTOGROUP_SELF_INVALID_SOURCE.as_code(),
                                s.span,
                                "autogroup:self destination requires source to contain only users or groups (autogroup:self can only be used with users, groups, or supported autogroups)",
                            )
                            .with_label(d.span, "`autogroup:self` destination"),
                        );
                    }
                }
            }
            _ => {}
        }
    }
}

fn push_tag_to_user(t: &Spanned<Alias>, d: &Spanned<Alias>, what: &str, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            cc::SSH_TAG_TO_USER_DEVICE.as_code(),
            t.span,
            format!("tags in SSH source cannot access {what}"),
        )
        .with_label(d.span, "user-owned destination")
        .with_help("tagged devices may only SSH into tagged devices"),
    );
}

fn domain_associated(
    domain: &str,
    span: crate::span::Span,
    domains: &[String],
    diags: &mut Diagnostics,
) {
    if !domains.iter().any(|d| d == domain) {
        diags.push(
            Diagnostic::new(
                cc::DOMAIN_NOT_IN_TAILNET.as_code(),
                span,
                format!("{domain} is not associated with this Tailnet and cannot be used in user:*@<domain> expressions"),
            )
            .with_help(format!("the tailnet's domains: {}", domains.join(", "))),
        );
    }
}

/// The shape of `sshTests` entries (evaluation happens in the compiler).
fn ssh_tests(p: &Policy, diags: &mut Diagnostics) {
    for t in &p.ssh_tests {
        let span = t.origin.span.0;
        match &t.src {
            Some(s) if !s.value.trim().is_empty() => {}
            Some(s) => diags.push(malformed(
                s.span,
                "SSH tests entry must have a non-empty src",
            )),
            None => diags.push(malformed(span, "SSH tests entry must have a non-empty src")),
        }
        if t.dst.is_empty() {
            diags.push(malformed(
                span,
                "SSH tests entry must have at least one dst",
            ));
        }
        for d in &t.dst {
            let v = d.value.trim();
            if let Some(name) = v.strip_prefix("tag:") {
                let defined = p.tag_owner(v).is_some();
                if !defined || name.contains(':') {
                    diags.push(malformed(
                        d.span,
                        &format!("SSH tests dst contains unknown tag \"{v}\""),
                    ));
                }
                continue;
            }
            let disallowed = v == "autogroup:internet"
                || v == "*"
                || (v.contains('/') && crate::model::alias::parse_addr(v).is_some());
            if disallowed {
                diags.push(malformed(
                    d.span,
                    &format!("SSH tests dst contains disallowed element \"{v}\""),
                ));
            }
        }
        if t.accept.is_empty() && t.check.is_empty() && t.deny.is_empty() {
            diags.push(malformed(
                span,
                "test(s) failed: SSH tests entry must have at least one of \"accept\", \"check\" or \"deny\"",
            ));
        }
    }
}

fn malformed(span: crate::span::Span, msg: &str) -> Diagnostic {
    Diagnostic::new(cc::MALFORMED_SSH_TEST.as_code(), span, msg.to_owned())
}
