//! Merging the fragments of a multi-file policy into one [`Policy`], and checking
//! delegated fragments against their owners.
//!
//! - List sections (`acls`, `grants`, `ssh`, `nodeAttrs`, `tests`, `sshTests`, and
//!   `autoApprovers.exitNode`) are concatenated in fragment order.
//! - Map sections (`groups`, `tagOwners`, `hosts`, `ipsets`, `postures`,
//!   `autoApprovers.routes` and `.services`) are merged by key; a key defined in two
//!   fragments is `TP0701` at the later one, naming the earlier (groups are united
//!   instead when `merge-groups` is set).
//! - Any other top-level key given in two fragments is `TP0702`.
//!
//! Fragments are shifted to their base offsets first ([`SourceMap`]), so the merged
//! policy's spans, and every diagnostic about it, map back to a fragment and line.

use crate::config::{Owner, PolicyConfig};
use crate::files::SourceMap;
use crate::fragment::Fragment;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use tailpolicy_policy::codes::fragment::{
    DUPLICATE_DEFINITION, DUPLICATE_SETTING, OWNERSHIP_VIOLATION,
};
use tailpolicy_policy::model::{Alias, Policy};
use tailpolicy_policy::{Diagnostic, Related, Span, Spanned};

/// Top-level keys (lower-cased) whose values are merged rather than set once.
const MERGED_KEYS: &[&str] = &[
    "acls",
    "grants",
    "ssh",
    "nodeattrs",
    "tests",
    "sshtests",
    "groups",
    "tagowners",
    "hosts",
    "ipsets",
    "postures",
    "autoapprovers",
];

/// The merge's result: the policy (global spans) and what went wrong (global spans).
#[derive(Clone, Debug, Default)]
pub struct Merged {
    /// The merged policy, `None` when a fragment did not parse (a one-fragment
    /// policy that merging leaves as it is: that fragment's, shared).
    pub policy: Option<Arc<Policy>>,
    /// Duplicate definitions and settings, ownership violations.
    pub diagnostics: Vec<Diagnostic>,
}

/// Merges `fragments` (laid out by `map`) under `config`.
pub fn merge(fragments: &[&Fragment], map: &SourceMap, config: &PolicyConfig) -> Merged {
    let mut diagnostics = Vec::new();
    for (i, fragment) in fragments.iter().enumerate() {
        let base = map.base(crate::files::FileId(i));
        if let (Some(policy), Some(owner)) = (
            fragment.policy.as_deref(),
            config.owners.iter().find(|o| o.covers(&fragment.relative)),
        ) {
            for mut d in ownership(policy, &fragment.keys, owner) {
                shift_diagnostic(&mut d, base);
                diagnostics.push(d);
            }
        }
    }
    if fragments.iter().any(|f| f.policy.is_none()) {
        return Merged {
            policy: None,
            diagnostics,
        };
    }
    if let [only] = fragments
        && let Some(policy) = &only.policy
        && map.base(crate::files::FileId(0)) == 0
        && unchanged_by_merge(policy, &only.keys)
    {
        return Merged {
            policy: Some(policy.clone()),
            diagnostics,
        };
    }
    let mut merger = Merger {
        map,
        merge_groups: config.merge_groups,
        policy: Policy::default(),
        seen: HashMap::new(),
        settings: HashMap::new(),
        diagnostics,
    };
    for (i, fragment) in fragments.iter().enumerate() {
        let Some(policy) = &fragment.policy else {
            continue;
        };
        let base = map.base(crate::files::FileId(i));
        let mut policy = Policy::clone(policy);
        policy.shift_spans(base);
        let keys: Vec<(String, Span)> = fragment
            .keys
            .iter()
            .map(|(k, s)| (k.clone(), Span::new(s.start + base, s.end + base)))
            .collect();
        merger.add(policy, &keys);
    }
    let mut policy = merger.policy;
    policy.renumber();
    Merged {
        policy: Some(Arc::new(policy)),
        diagnostics: merger.diagnostics,
    }
}

/// Whether merging the one fragment whose policy is `p` (at offset 0, top-level keys
/// `keys`) gives `p` back with no diagnostics: no setting written twice, no two
/// definitions of a kind under one name (lowering keeps the first of a name written
/// twice, but two spellings of one route prefix are one name here), every rule's
/// index its position. Then the merge is skipped and the policy shared.
fn unchanged_by_merge(p: &Policy, keys: &[(String, Span)]) -> bool {
    fn unique<'a>(names: impl Iterator<Item = &'a str>) -> bool {
        let mut seen = HashSet::new();
        names.into_iter().all(|n| seen.insert(n))
    }
    fn numbered<T>(items: &[T], origin: impl Fn(&T) -> usize) -> bool {
        items.iter().enumerate().all(|(i, item)| origin(item) == i)
    }
    let settings = keys
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| !MERGED_KEYS.contains(k));
    let routes: Vec<String> = p
        .auto_approvers
        .routes
        .iter()
        .map(|(prefix, _)| prefix.value.to_string())
        .collect();
    unique(settings)
        && unique(p.groups.iter().map(|g| g.name.value.as_str()))
        && unique(p.tag_owners.iter().map(|t| t.tag.value.as_str()))
        && unique(p.hosts.iter().map(|h| h.name.value.as_str()))
        && unique(p.ipsets.iter().map(|s| s.name.value.as_str()))
        && unique(p.postures.iter().map(|s| s.name.value.as_str()))
        && unique(routes.iter().map(String::as_str))
        && unique(
            p.auto_approvers
                .services
                .iter()
                .map(|(s, _)| s.value.as_str()),
        )
        && numbered(p.acls.as_deref().unwrap_or_default(), |a| a.origin.index)
        && numbered(p.grants.as_deref().unwrap_or_default(), |g| g.origin.index)
        && numbered(p.ssh.as_deref().unwrap_or_default(), |r| r.origin.index)
        && numbered(&p.node_attrs, |n| n.origin.index)
        && numbered(&p.tests, |t| t.origin.index)
        && numbered(&p.ssh_tests, |t| t.origin.index)
}

fn shift_diagnostic(d: &mut Diagnostic, by: u32) {
    d.span = Span::new(d.span.start + by, d.span.end + by);
    for label in &mut d.labels {
        label.span = Span::new(label.span.start + by, label.span.end + by);
    }
}

/// Which map a definition lives in (names are unique per kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Kind {
    Group,
    Tag,
    Host,
    IpSet,
    Posture,
    Route,
    Service,
}

impl Kind {
    fn section(self) -> &'static str {
        match self {
            Kind::Group => "groups",
            Kind::Tag => "tagOwners",
            Kind::Host => "hosts",
            Kind::IpSet => "ipsets",
            Kind::Posture => "postures",
            Kind::Route => "autoApprovers.routes",
            Kind::Service => "autoApprovers.services",
        }
    }
}

struct Merger<'a> {
    map: &'a SourceMap,
    merge_groups: bool,
    policy: Policy,
    /// Per kind and name: the span of the first definition and its index in its list.
    seen: HashMap<(Kind, String), (Span, usize)>,
    /// Per single-valued top-level key: the span of the first.
    settings: HashMap<String, Span>,
    diagnostics: Vec<Diagnostic>,
}

impl Merger<'_> {
    fn add(&mut self, p: Policy, keys: &[(String, Span)]) {
        for (key, span) in keys {
            if MERGED_KEYS.contains(&key.as_str()) {
                continue;
            }
            match self.settings.entry(key.clone()) {
                Entry::Vacant(e) => {
                    e.insert(*span);
                }
                Entry::Occupied(e) => {
                    let first = *e.get();
                    self.diagnostics.push(
                        Diagnostic::new(
                            DUPLICATE_SETTING.as_code(),
                            *span,
                            format!(
                                "`{}` is already set in another fragment",
                                span_key(self.map, *span)
                            ),
                        )
                        .with_help("keep the setting in one fragment")
                        .with_related(self.related(first, "first set here")),
                    );
                }
            }
        }
        let Policy {
            acls,
            grants,
            ssh,
            groups,
            tag_owners,
            hosts,
            ipsets,
            postures,
            default_src_posture,
            auto_approvers,
            node_attrs,
            tests,
            ssh_tests,
            settings,
        } = p;
        concat(&mut self.policy.acls, acls);
        concat(&mut self.policy.grants, grants);
        concat(&mut self.policy.ssh, ssh);
        self.policy.node_attrs.extend(node_attrs);
        self.policy.tests.extend(tests);
        self.policy.ssh_tests.extend(ssh_tests);
        for g in groups {
            match self.first(Kind::Group, &g.name, self.policy.groups.len()) {
                None => self.policy.groups.push(g),
                Some(index) if self.merge_groups => {
                    if let Some(existing) = self.policy.groups.get_mut(index) {
                        for m in g.members {
                            if !existing.members.contains(&m) {
                                existing.members.push(m);
                            }
                        }
                    }
                }
                Some(_) => {}
            }
        }
        for t in tag_owners {
            if self
                .first(Kind::Tag, &t.tag, self.policy.tag_owners.len())
                .is_none()
            {
                self.policy.tag_owners.push(t);
            }
        }
        for h in hosts {
            if self
                .first(Kind::Host, &h.name, self.policy.hosts.len())
                .is_none()
            {
                self.policy.hosts.push(h);
            }
        }
        for s in ipsets {
            if self
                .first(Kind::IpSet, &s.name, self.policy.ipsets.len())
                .is_none()
            {
                self.policy.ipsets.push(s);
            }
        }
        for s in postures {
            if self
                .first(Kind::Posture, &s.name, self.policy.postures.len())
                .is_none()
            {
                self.policy.postures.push(s);
            }
        }
        if self.policy.default_src_posture.is_empty() {
            self.policy.default_src_posture = default_src_posture;
        }
        let approvers = &mut self.policy.auto_approvers;
        approvers.exit_node.extend(auto_approvers.exit_node);
        for (prefix, who) in auto_approvers.routes {
            let name = Spanned::new(prefix.value.to_string(), prefix.span);
            let len = self.policy.auto_approvers.routes.len();
            if self.first(Kind::Route, &name, len).is_none() {
                self.policy.auto_approvers.routes.push((prefix, who));
            }
        }
        for (service, who) in auto_approvers.services {
            let len = self.policy.auto_approvers.services.len();
            if self.first(Kind::Service, &service, len).is_none() {
                self.policy.auto_approvers.services.push((service, who));
            }
        }
        let mine = &mut self.policy.settings;
        mine.derp_map = mine.derp_map.take().or(settings.derp_map);
        mine.disable_ipv4 = mine.disable_ipv4.or(settings.disable_ipv4);
        mine.randomize_client_port = mine
            .randomize_client_port
            .or(settings.randomize_client_port);
        mine.one_cgnat_route = mine.one_cgnat_route.take().or(settings.one_cgnat_route);
        mine.extra_dns_records = mine.extra_dns_records.take().or(settings.extra_dns_records);
        mine.other.extend(settings.other);
    }

    /// Records a definition of `name`; returns the index of an earlier definition of
    /// the same name (reporting `TP0701` unless groups are merged), or `None` when this
    /// is the first (which will be at `next_index`).
    fn first(&mut self, kind: Kind, name: &Spanned<String>, next_index: usize) -> Option<usize> {
        match self.seen.entry((kind, name.value.clone())) {
            Entry::Vacant(e) => {
                e.insert((name.span, next_index));
                None
            }
            Entry::Occupied(e) => {
                let (first, index) = *e.get();
                if !(kind == Kind::Group && self.merge_groups) {
                    let related = self.related(first, "first defined here");
                    let mut d = Diagnostic::new(
                        DUPLICATE_DEFINITION.as_code(),
                        name.span,
                        format!(
                            "`{}` in `{}` is already defined in another fragment",
                            name.value,
                            kind.section()
                        ),
                    )
                    .with_related(related);
                    d = d.with_help(if kind == Kind::Group {
                        "define it in one fragment, or set `merge-groups = true` under `[policy]` in tailpolicy.toml to unite the members"
                    } else {
                        "define it in one fragment only"
                    });
                    self.diagnostics.push(d);
                }
                Some(index)
            }
        }
    }

    fn related(&self, span: Span, message: &str) -> Option<Related> {
        let at = self.map.locate(span)?;
        let file = self.map.file(at.file)?;
        let (start, end) = file.span_line_cols(at.span);
        Some(Related {
            file: at.name,
            span: at.span,
            start,
            end,
            message: message.to_owned(),
        })
    }
}

/// The key text a span covers, without quotes.
fn span_key(map: &SourceMap, span: Span) -> String {
    map.locate(span)
        .and_then(|at| map.file(at.file).map(|f| f.snippet(at.span).to_owned()))
        .map(|t| t.trim_matches('"').to_owned())
        .unwrap_or_default()
}

fn concat<T>(into: &mut Option<Vec<T>>, more: Option<Vec<T>>) {
    if let Some(more) = more {
        into.get_or_insert_with(Vec::new).extend(more);
    }
}

/// Diagnostic extension: an optional related location.
trait WithRelated {
    fn with_related(self, related: Option<Related>) -> Self;
}

impl WithRelated for Diagnostic {
    fn with_related(mut self, related: Option<Related>) -> Self {
        self.related.extend(related);
        self
    }
}

/// Sections a delegated fragment may not define at all.
const UNDELEGABLE: &[(&str, &str)] = &[
    ("postures", "postures"),
    ("autoapprovers", "autoApprovers"),
    ("nodeattrs", "nodeAttrs"),
];

/// The ownership violations of a delegated fragment (local spans).
fn ownership(p: &Policy, keys: &[(String, Span)], owner: &Owner) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let rule = format!(
        "the `[[policy.owners]]` entry at tailpolicy.toml:{}:{} owns only {}",
        owner.position.0,
        owner.position.1,
        owner.describe_names()
    );
    let violation = |span: Span, message: String| {
        Diagnostic::new(OWNERSHIP_VIOLATION.as_code(), span, message).with_help(rule.clone())
    };
    let defined = p
        .groups
        .iter()
        .map(|g| ("group", &g.name))
        .chain(p.tag_owners.iter().map(|t| ("tag", &t.tag)))
        .chain(p.hosts.iter().map(|h| ("host", &h.name)))
        .chain(p.ipsets.iter().map(|s| ("ipset", &s.name)));
    for (what, name) in defined {
        if !owner.owns(&name.value) {
            out.push(violation(
                name.span,
                format!(
                    "this fragment may not define {what} `{}`: it does not own the name",
                    name.value
                ),
            ));
        }
    }
    for (key, span) in keys {
        let forbidden = UNDELEGABLE
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, name)| *name)
            .or_else(|| (!MERGED_KEYS.contains(&key.as_str())).then_some("top-level settings"));
        if let Some(what) = forbidden {
            out.push(violation(
                *span,
                format!("a delegated fragment may not define {what}"),
            ));
        }
    }
    let destinations = p
        .acls
        .iter()
        .flatten()
        .flat_map(|a| {
            a.dst
                .iter()
                .map(|d| (&d.value.alias, d.span, "acls", a.origin.index))
        })
        .chain(p.grants.iter().flatten().flat_map(|g| {
            g.dst
                .iter()
                .map(|d| (&d.value, d.span, "grants", g.origin.index))
        }))
        .chain(p.ssh.iter().flatten().flat_map(|s| {
            s.dst
                .iter()
                .map(|d| (&d.value, d.span, "ssh", s.origin.index))
        }));
    for (alias, span, section, index) in destinations {
        if !owns_alias(owner, alias) {
            out.push(violation(
                span,
                format!(
                    "`{section}[{index}]` of this fragment grants access to `{alias}`, which it does not own"
                ),
            ));
        }
    }
    out
}

fn owns_alias(owner: &Owner, alias: &Alias) -> bool {
    owner.owns(&alias.to_string())
}
