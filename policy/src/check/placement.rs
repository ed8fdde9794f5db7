//! Where each kind of selector may appear, and the grant-, tagOwners-, autoApprovers-
//! and nodeAttrs-specific rules.

use super::codes as cc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Alias, Autogroup, Policy};
use crate::span::Spanned;
use ipnet::IpNet;

/// Grantable capabilities in the `tailscale.com` domain (policy-spec §2.2).
pub const GRANTABLE_TAILSCALE_CAPS: &[&str] = &[
    "tailscale.com/cap/drive",
    "tailscale.com/cap/relay",
    "tailscale.com/cap/webui",
    "tailscale.com/cap/kubernetes",
    "tailscale.com/cap/tsidp",
    "tailscale.com/cap/secrets",
    "tailscale.com/cap/tailsql",
    "tailscale.com/cap/golink",
    "tailscale.com/cap/pam",
    "tailscale.com/cap/databases",
    "tailscale.com/cap/funnel-ports",
];

pub fn check(p: &Policy, diags: &mut Diagnostics) {
    for acl in p.acls.iter().flatten() {
        if let Some(a) = &acl.action
            && a.value != "accept"
        {
            diags.push(
                Diagnostic::new(
                    cc::ACL_ACTION_NOT_ACCEPT.as_code(),
                    a.span,
                    format!("action=\"{}\" is not supported", a.value),
                )
                .with_help("Tailscale has no deny rules: access is the union of accept rules; narrow those instead"),
            );
        }
        network_sources(&acl.src, diags);
        let dsts: Vec<Spanned<Alias>> = acl
            .dst
            .iter()
            .map(|d| Spanned::new(d.value.alias.clone(), d.span))
            .collect();
        network_destinations(&dsts, diags);
        self_destination(&acl.src, &dsts, true, diags);
    }
    for g in p.grants.iter().flatten() {
        network_sources(&g.src, diags);
        network_destinations(&g.dst, diags);
        self_destination(&g.src, &g.dst, false, diags);
        if !g.capabilities_written {
            diags.push(
                Diagnostic::new(
                    cc::GRANT_WITHOUT_CAPABILITIES.as_code(),
                    g.origin.span.0,
                    "ip and app can not both be empty",
                )
                .with_help("add `\"ip\": [\"*\"]` (all network access) or the ports to allow, e.g. `\"ip\": [\"tcp:443\"]`"),
            );
        }
        for d in &g.dst {
            if let Alias::Addr(a) = &d.value
                && a.net.prefix_len() == 0
            {
                diags.push(
                    Diagnostic::new(
                        cc::ALL_ADDRESSES_GRANT_DESTINATION.as_code(),
                        d.span,
                        format!(
                            "dst \"{}\": to allow all IP addresses, use \"*\" or \"autogroup:internet\"",
                            a.net
                        ),
                    )
                    .with_help("`*` means every tailnet destination; `autogroup:internet` means the internet through exit nodes"),
                );
            }
            if !g.app.is_empty() && d.value == Alias::Autogroup(Autogroup::Internet) {
                diags.push(Diagnostic::new(
                    cc::APP_GRANT_TO_INTERNET.as_code(),
                    d.span,
                    "cannot use app grants with autogroup:internet",
                ));
            }
        }
        for v in &g.via {
            if !matches!(v.value, Alias::Tag(_)) {
                diags.push(
                    Diagnostic::new(cc::VIA_NOT_A_TAG.as_code(), v.span, "via can only be a tag")
                        .with_help("tag the routers or exit nodes and list the tag"),
                );
            }
        }
        for (name, _) in &g.app {
            capability_name(name, diags);
        }
    }
    for t in &p.tag_owners {
        for o in &t.owners {
            let ok = match &o.value {
                Alias::User(_) | Alias::Group(_) | Alias::Tag(_) => true,
                Alias::Autogroup(a) => a.is_role() || *a == Autogroup::Member,
                _ => false,
            };
            if !ok {
                not_allowed(
                    o,
                    "tag owners",
                    "users, groups, tags or role autogroups such as `autogroup:admin`",
                    diags,
                );
            }
        }
    }
    let approvers = p
        .auto_approvers
        .routes
        .iter()
        .flat_map(|(_, a)| a)
        .chain(&p.auto_approvers.exit_node)
        .chain(p.auto_approvers.services.iter().flat_map(|(_, a)| a));
    for a in approvers {
        let ok = match &a.value {
            Alias::User(_) | Alias::Group(_) | Alias::Tag(_) | Alias::UserDomain(_) => true,
            Alias::Autogroup(g) => {
                g.is_role() || matches!(g, Autogroup::Member | Autogroup::Tagged)
            }
            _ => false,
        };
        if !ok {
            not_allowed(
                a,
                "auto approvers",
                "users, groups, tags and autogroups of people",
                diags,
            );
        }
    }
    for n in &p.node_attrs {
        for t in &n.target {
            match &t.value {
                Alias::Autogroup(Autogroup::SelfDevices) => diags.push(
                    Diagnostic::new(
                        cc::INVALID_NODE_ATTR_TARGET.as_code(),
                        t.span,
                        "nodeAttrs target does not support autogroup:self",
                    )
                    .with_help(
                        "target `autogroup:member` to give the attribute to every user's devices",
                    ),
                ),
                Alias::Autogroup(
                    Autogroup::Internet
                    | Autogroup::Nonroot
                    | Autogroup::DangerAll
                    | Autogroup::Shared,
                ) => {
                    not_allowed(
                        t,
                        "nodeAttrs targets",
                        "users, groups, tags, hosts, addresses, `*`, `autogroup:member`, `autogroup:tagged` and role autogroups",
                        diags,
                    );
                }
                Alias::Service(_) => {
                    not_allowed(
                        t,
                        "nodeAttrs targets",
                        "users, groups, tags, hosts, addresses and `*`",
                        diags,
                    );
                }
                _ => {}
            }
        }
        for pool in &n.ip_pool {
            ip_pool(pool, diags);
        }
    }
}

/// Sources of acls and grants.
fn network_sources(src: &[Spanned<Alias>], diags: &mut Diagnostics) {
    for s in src {
        match &s.value {
            Alias::Autogroup(Autogroup::SelfDevices) => diags.push(
                Diagnostic::new(
                    cc::AUTOGROUP_SELF_AS_SOURCE.as_code(),
                    s.span,
                    "\"autogroup:self\" not valid on the src side of a rule",
                )
                .with_help(
                    "use `autogroup:member` as the source and `autogroup:self` as the destination",
                ),
            ),
            Alias::Autogroup(Autogroup::Internet) => diags.push(Diagnostic::new(
                cc::AUTOGROUP_INTERNET_MISPLACED.as_code(),
                s.span,
                "autogroup:internet can only be used in ACL destinations",
            )),
            Alias::Autogroup(Autogroup::Nonroot) => {
                not_allowed(
                    s,
                    "sources",
                    "users, groups, tags, hosts, addresses and autogroups of devices",
                    diags,
                );
            }
            Alias::Service(_) => not_allowed(
                s,
                "sources",
                "users, groups, tags, hosts and addresses",
                diags,
            ),
            _ => {}
        }
    }
}

/// Destinations of acls and grants.
fn network_destinations(dst: &[Spanned<Alias>], diags: &mut Diagnostics) {
    for d in dst {
        match &d.value {
            Alias::Autogroup(Autogroup::DangerAll) => diags.push(
                Diagnostic::new(
                    cc::DANGER_ALL_AS_DESTINATION.as_code(),
                    d.span,
                    "cannot use autogroup:danger-all as a dst",
                )
                .with_help("use `*` for every tailnet destination"),
            ),
            Alias::Autogroup(Autogroup::Nonroot | Autogroup::Shared) => {
                not_allowed(
                    d,
                    "destinations",
                    "users, groups, tags, hosts, addresses and autogroups of devices",
                    diags,
                );
            }
            _ => {}
        }
    }
}

/// `autogroup:self` destinations need sources that are people (policy-spec §5.6).
fn self_destination(
    src: &[Spanned<Alias>],
    dst: &[Spanned<Alias>],
    is_acl: bool,
    diags: &mut Diagnostics,
) {
    let Some(self_dst) = dst
        .iter()
        .find(|d| d.value == Alias::Autogroup(Autogroup::SelfDevices))
    else {
        return;
    };
    for s in src {
        let ok = match &s.value {
            Alias::User(_) | Alias::Group(_) | Alias::UserDomain(_) => true,
            Alias::Wildcard => is_acl,
            Alias::Autogroup(a) => {
                *a == Autogroup::Member || a.is_role() || *a == Autogroup::Shared
            }
            _ => false,
        };
        if !ok {
            diags.push(
                Diagnostic::new(
                    cc::AUTOGROUP_SELF_INVALID_SOURCE.as_code(),
                    s.span,
                    "autogroup:self can only be used with users, groups, or supported autogroups",
                )
                .with_primary_label("this source has no owning user")
                .with_label(self_dst.span, "`autogroup:self` destination")
                .with_help("move tag, address and `*` sources to a separate rule with explicit destinations"),
            );
        }
    }
}

/// Capability names: `domain/path`, and `tailscale.com` ones only when grantable.
fn capability_name(name: &Spanned<String>, diags: &mut Diagnostics) {
    let n = name.value.as_str();
    let well_formed = match n.split_once('/') {
        Some((domain, path)) => {
            !domain.is_empty()
                && !path.is_empty()
                && domain.contains('.')
                && !domain.contains(':')
                && !n.contains(char::is_whitespace)
        }
        None => false,
    };
    if !well_formed {
        diags.push(
            Diagnostic::new(
                cc::INVALID_CAPABILITY_NAME.as_code(),
                name.span,
                format!("capability name must have the form {{domain}}/{{path}}: \"{n}\""),
            )
            .with_help("e.g. `example.com/cap/my-app` (no `https://`)"),
        );
        return;
    }
    let domain = n.split('/').next().unwrap_or("");
    if domain.eq_ignore_ascii_case("tailscale.com") && !GRANTABLE_TAILSCALE_CAPS.contains(&n) {
        diags.push(
            Diagnostic::new(
                cc::INVALID_CAPABILITY_NAME.as_code(),
                name.span,
                format!("capability name must not be in the tailscale.com domain: \"{n}\""),
            )
            .with_help(
                match crate::suggest::did_you_mean(n, GRANTABLE_TAILSCALE_CAPS.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!(
                        "grantable tailscale.com capabilities: {}",
                        GRANTABLE_TAILSCALE_CAPS.join(", ")
                    ),
                },
            ),
        );
    }
}

/// `ipPool` must lie in 100.64.0.0/10 outside Tailscale's reserved ranges.
fn ip_pool(pool: &Spanned<IpNet>, diags: &mut Diagnostics) {
    let cgnat: IpNet = IpNet::V4(ipnet::Ipv4Net::new_assert(
        std::net::Ipv4Addr::new(100, 64, 0, 0),
        10,
    ));
    // 100.100.100.0/24 (the quad-100 service address) and 100.115.92.0/23 (ChromeOS)
    // are reserved; the rest of 100.100.0.0/16 is accepted (real policies use it).
    let reserved = [
        IpNet::V4(ipnet::Ipv4Net::new_assert(
            std::net::Ipv4Addr::new(100, 100, 100, 0),
            24,
        )),
        IpNet::V4(ipnet::Ipv4Net::new_assert(
            std::net::Ipv4Addr::new(100, 115, 92, 0),
            23,
        )),
    ];
    let net = pool.value;
    let msg = if !cgnat.contains(&net) {
        Some(format!("IPPool({net}): network not within 100.64.0.0/10"))
    } else if reserved.iter().any(|r| r.contains(&net) || net.contains(r)) {
        Some(format!("IPPool({net}): network within reserved range"))
    } else {
        None
    };
    if let Some(m) = msg {
        diags.push(Diagnostic::new(cc::INVALID_IP_POOL.as_code(), pool.span, m));
    }
}

fn not_allowed(a: &Spanned<Alias>, place: &str, allowed: &str, diags: &mut Diagnostics) {
    diags.push(
        Diagnostic::new(
            cc::SELECTOR_NOT_ALLOWED_HERE.as_code(),
            a.span,
            format!("`{}` cannot be used in {place}", a.value),
        )
        .with_help(format!("{place} accept {allowed}")),
    );
}
