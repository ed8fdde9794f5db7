//! Names that must be defined: tags, groups, hosts, ipsets, postures; and the shape of
//! the definitions themselves (group members, tag owners, ipset cycles).

use super::codes as cc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::{Alias, Policy};
use crate::span::{Span, Spanned};
use crate::suggest::did_you_mean;
use std::collections::HashSet;

/// How an undefined tag is worded in each place (Tailscale's wording differs by place).
#[derive(Clone, Copy)]
enum Place<'a> {
    Src,
    Dst(&'a Alias),
    Via,
    Plain,
    TagOwner(&'a str),
}

struct Defined<'p> {
    tags: HashSet<&'p str>,
    groups: HashSet<&'p str>,
    hosts: HashSet<&'p str>,
    ipsets: HashSet<&'p str>,
    postures: HashSet<&'p str>,
    policy: &'p Policy,
}

pub fn check(p: &Policy, diags: &mut Diagnostics) {
    let d = Defined {
        tags: p.tag_owners.iter().map(|t| t.tag.value.as_str()).collect(),
        groups: p.groups.iter().map(|g| g.name.value.as_str()).collect(),
        hosts: p.hosts.iter().map(|h| h.name.value.as_str()).collect(),
        ipsets: p.ipsets.iter().map(|s| s.name.value.as_str()).collect(),
        postures: p.postures.iter().map(|s| s.name.value.as_str()).collect(),
        policy: p,
    };
    group_members(p, diags);
    for t in &p.tag_owners {
        for o in &t.owners {
            d.alias(o, Place::TagOwner(&t.tag.value), diags);
        }
    }
    for acl in p.acls.iter().flatten() {
        for s in &acl.src {
            d.alias(s, Place::Src, diags);
        }
        for dst in &acl.dst {
            d.alias_at(
                &dst.value.alias,
                dst.span,
                Place::Dst(&dst.value.alias),
                diags,
            );
        }
        d.postures(&acl.src_posture, diags);
    }
    for g in p.grants.iter().flatten() {
        for s in &g.src {
            d.alias(s, Place::Src, diags);
        }
        for s in &g.dst {
            d.alias(s, Place::Dst(&s.value), diags);
        }
        for s in &g.via {
            d.alias(s, Place::Via, diags);
        }
        d.postures(&g.src_posture, diags);
    }
    for r in p.ssh.iter().flatten() {
        for s in r.src.iter().chain(&r.dst).chain(&r.recorder) {
            d.alias(s, Place::Plain, diags);
        }
        d.postures(&r.src_posture, diags);
    }
    for (_, approvers) in &p.auto_approvers.routes {
        for a in approvers {
            d.alias(a, Place::Plain, diags);
        }
    }
    for a in &p.auto_approvers.exit_node {
        d.alias(a, Place::Plain, diags);
    }
    for (_, approvers) in &p.auto_approvers.services {
        for a in approvers {
            d.alias(a, Place::Plain, diags);
        }
    }
    for n in &p.node_attrs {
        for t in &n.target {
            d.alias(t, Place::Plain, diags);
        }
    }
    d.postures(&p.default_src_posture, diags);
    ipsets(&d, diags);
}

impl Defined<'_> {
    fn alias(&self, a: &Spanned<Alias>, place: Place<'_>, diags: &mut Diagnostics) {
        self.alias_at(&a.value, a.span, place, diags);
    }

    /// Reports `value` (written at `span`) when it names something undefined.
    fn alias_at(&self, value: &Alias, span: Span, place: Place<'_>, diags: &mut Diagnostics) {
        match value {
            Alias::Tag(t) if !self.tags.contains(t.as_str()) => {
                let msg = match place {
                    Place::Src => format!("src=tag not found: \"{t}\""),
                    Place::Dst(raw) => format!("dst=\"{raw}\": tag not found: \"{t}\""),
                    Place::Via => format!("tag \"{t}\" not found"),
                    Place::Plain => format!("tag not found: \"{t}\""),
                    Place::TagOwner(owner) => {
                        format!("tag \"{owner}\" references undefined tag \"{t}\"")
                    }
                };
                diags.push(self.undefined(
                    &cc::UNDEFINED_TAG,
                    span,
                    msg,
                    t,
                    self.tags.iter().copied(),
                    "tagOwners",
                ));
            }
            Alias::Group(g) if !self.groups.contains(g.as_str()) => {
                let msg = format!("group not defined in policy: \"{g}\"");
                diags.push(self.undefined(
                    &cc::UNDEFINED_GROUP,
                    span,
                    msg,
                    g,
                    self.groups.iter().copied(),
                    "groups",
                ));
            }
            Alias::Host(h) if !self.hosts.contains(h.as_str()) => {
                let msg = format!("host not defined in policy: \"{h}\"");
                let mut diag = self.undefined(
                    &cc::UNDEFINED_HOST,
                    span,
                    msg,
                    h,
                    self.hosts.iter().copied(),
                    "hosts",
                );
                if diag.help.is_none() {
                    diag = diag.with_help(format!(
                        "define it in `hosts`, or if `{h}` is a user, write the full login (`{h}@example.com`)"
                    ));
                }
                diags.push(diag);
            }
            Alias::IpSet(s) if !self.ipsets.contains(s.as_str()) => {
                let msg = format!("ipset not defined in policy: \"{s}\"");
                diags.push(self.undefined(
                    &cc::UNDEFINED_IPSET,
                    span,
                    msg,
                    s,
                    self.ipsets.iter().copied(),
                    "ipsets",
                ));
            }
            _ => {}
        }
    }

    fn undefined<'a>(
        &self,
        rule: &'static crate::rules::Rule,
        span: Span,
        msg: String,
        name: &str,
        candidates: impl Iterator<Item = &'a str>,
        section: &str,
    ) -> Diagnostic {
        let d = Diagnostic::new(rule.as_code(), span, msg)
            .with_primary_label(format!("not defined in `{section}`"));
        // The definitions are hashed: sorted, a tie between two suggestions is decided
        // the same way every run.
        let mut candidates: Vec<&str> = candidates.collect();
        candidates.sort_unstable();
        match did_you_mean(name, candidates) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")),
            None if section == "hosts" => d,
            None => d.with_help(format!("define `{name}` in `{section}`")),
        }
    }

    fn postures(&self, list: &[Spanned<String>], diags: &mut Diagnostics) {
        for p in list {
            if !self.postures.contains(p.value.as_str()) {
                let msg = format!("posture not defined in policy: \"{}\"", p.value);
                diags.push(self.undefined(
                    &cc::UNDEFINED_POSTURE,
                    p.span,
                    msg,
                    &p.value,
                    self.postures.iter().copied(),
                    "postures",
                ));
            }
        }
    }
}

/// Group members must be user logins; nested groups are rejected.
fn group_members(p: &Policy, diags: &mut Diagnostics) {
    for g in &p.groups {
        for m in &g.members {
            let v = m.value.trim();
            if v.starts_with("group:") {
                diags.push(
                    Diagnostic::new(
                        cc::INVALID_GROUP_MEMBER.as_code(),
                        m.span,
                        format!(
                            "groups[\"{}\"]: \"{v}\": group members cannot be recursive",
                            g.name.value
                        ),
                    )
                    .with_help("groups cannot contain groups: list the users directly"),
                );
            } else if v.starts_with("tag:")
                || v.starts_with("autogroup:")
                || v == "*"
                || crate::model::alias::parse_addr(v).is_some()
            {
                diags.push(
                    Diagnostic::new(
                        cc::INVALID_GROUP_MEMBER.as_code(),
                        m.span,
                        format!(
                            "groups[\"{}\"]: \"{v}\": invalid group member type",
                            g.name.value
                        ),
                    )
                    .with_help("groups contain user logins only"),
                );
            } else if !v.contains('@') {
                diags.push(
                    Diagnostic::new(
                        cc::INVALID_GROUP_MEMBER.as_code(),
                        m.span,
                        format!("username must contain @, got: \"{v}\""),
                    )
                    .with_help(format!(
                        "write the full login, e.g. `{v}@example.com` (headscale: `{v}@`)"
                    )),
                );
            }
        }
    }
}

/// ipset operations must name defined hosts and ipsets, without cycles.
fn ipsets(d: &Defined<'_>, diags: &mut Diagnostics) {
    for set in &d.policy.ipsets {
        for op in &set.ops {
            match &op.value.target {
                Alias::Host(h) if !d.hosts.contains(h.as_str()) => diags.push(d.undefined(
                    &cc::UNDEFINED_HOST,
                    op.span,
                    format!("host not defined in policy: \"{h}\""),
                    h,
                    d.hosts.iter().copied(),
                    "hosts",
                )),
                Alias::IpSet(s) if !d.ipsets.contains(s.as_str()) => diags.push(d.undefined(
                    &cc::UNDEFINED_IPSET,
                    op.span,
                    format!("ipset not defined in policy: \"{s}\""),
                    s,
                    d.ipsets.iter().copied(),
                    "ipsets",
                )),
                _ => {}
            }
        }
        if let Some(path) = ipset_cycle(d.policy, &set.name.value, &mut Vec::new()) {
            diags.push(
                Diagnostic::new(
                    cc::INVALID_IPSET.as_code(),
                    set.name.span,
                    format!("ipset cycle: {}", path.join(" -> ")),
                )
                .with_help("an ipset cannot include itself, directly or through others"),
            );
        }
    }
}

/// A cycle through `name`, if any, as the list of names on it.
fn ipset_cycle(p: &Policy, name: &str, stack: &mut Vec<String>) -> Option<Vec<String>> {
    if stack.first().is_some_and(|s| s == name) {
        let mut path = stack.clone();
        path.push(name.to_owned());
        return Some(path);
    }
    if stack.iter().any(|s| s == name) || stack.len() > 64 {
        return None;
    }
    let set = p.ipset(name)?;
    stack.push(name.to_owned());
    for op in &set.ops {
        if let Alias::IpSet(next) = &op.value.target
            && let Some(path) = ipset_cycle(p, next, stack)
        {
            return Some(path);
        }
    }
    stack.pop();
    None
}
