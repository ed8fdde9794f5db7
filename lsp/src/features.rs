//! The language features as pure functions of the analysis host: hover, definition,
//! references, rename, completion, document symbols, formatting and code actions.
//! Positions in and out are protocol positions (UTF-16); [`Doc`] converts.

use crate::context;
use crate::line_index::LineIndex;
use lsp_types::{
    CompletionItem, CompletionItemKind, DocumentSymbol, Documentation, Hover, HoverContents,
    Location, MarkupContent, MarkupKind, Position, PrepareRenameResponse, Range,
    SymbolKind as LspSymbolKind, TextEdit, Url, WorkspaceEdit,
};
use std::collections::HashMap;
use tailpolicy_policy::hujson::{self, Value, ValueKind};
use tailpolicy_policy::model::{Alias, Origin, Policy};
use tailpolicy_policy::{Span, Spanned};
use tailpolicy_workspace::{FileId, Occurrence, Symbol, SymbolKind, Workspace};

/// One open fragment of a workspace: what every feature starts from.
pub struct Doc<'a> {
    /// The host.
    pub ws: &'a Workspace,
    /// The fragment.
    pub file: FileId,
    /// Its text (as the host has it).
    pub text: &'a str,
    /// The URI of every fragment, by [`FileId`].
    pub uris: &'a [Url],
}

impl Doc<'_> {
    fn index(&self) -> LineIndex<'_> {
        LineIndex::new(self.text)
    }

    /// The byte offset of `position` in this fragment.
    pub fn offset(&self, position: Position) -> u32 {
        self.index().offset(position)
    }

    /// The protocol locations of `occurrences` (one line index per fragment).
    fn locations<'o>(&self, occurrences: impl Iterator<Item = &'o Occurrence>) -> Vec<Location> {
        let merged = self.ws.merged();
        let mut indexes: HashMap<FileId, LineIndex<'_>> = HashMap::new();
        let mut out = Vec::new();
        for o in occurrences {
            let (Some(uri), Some(file)) = (self.uris.get(o.file.0), merged.map.file(o.file)) else {
                continue;
            };
            let index = indexes
                .entry(o.file)
                .or_insert_with(|| LineIndex::new(file.text()));
            out.push(Location::new(uri.clone(), index.range(o.span)));
        }
        out
    }

    fn global(&self, local: u32) -> u32 {
        self.ws.merged().map.base(self.file).saturating_add(local)
    }
}

fn markdown(value: String, range: Option<Range>) -> Hover {
    Hover {
        contents: HoverContents::Markup(MarkupContent {
            kind: MarkupKind::Markdown,
            value,
        }),
        range,
    }
}

/// What each autogroup means.
pub fn autogroup_doc(name: &str) -> &'static str {
    match name {
        "autogroup:member" => {
            "Devices of the tailnet's members (users, not tags), shared devices excluded."
        }
        "autogroup:tagged" => "Every tagged device.",
        "autogroup:self" => "The source user's own untagged devices (destinations only).",
        "autogroup:internet" => "The public internet through exit nodes (destinations only).",
        "autogroup:shared" => "Users from other tailnets a device was shared with.",
        "autogroup:danger-all" => "Every IP address, in the tailnet or not.",
        "autogroup:nonroot" => "Any local user except `root` (SSH `users` only).",
        "autogroup:admin" => "Users with the Admin role.",
        "autogroup:owner" => "The tailnet's owner.",
        "autogroup:it-admin" => "Users with the IT admin role.",
        "autogroup:network-admin" => "Users with the Network admin role.",
        "autogroup:billing-admin" => "Users with the Billing admin role.",
        "autogroup:auditor" => "Users with the Auditor role.",
        _ => "An autogroup.",
    }
}

fn list(items: impl IntoIterator<Item = String>) -> String {
    let items: Vec<String> = items.into_iter().map(|s| format!("- `{s}`")).collect();
    if items.is_empty() {
        "_none_".to_owned()
    } else {
        items.join("\n")
    }
}

/// The diagnostic code (`TP1234`) written at `offset`, if any.
fn code_at(text: &str, offset: usize) -> Option<&'static tailpolicy_policy::Rule> {
    let bytes = text.as_bytes();
    let mut start = offset.min(bytes.len());
    while start > 0 && bytes.get(start - 1).is_some_and(u8::is_ascii_alphanumeric) {
        start -= 1;
    }
    let mut end = offset.min(bytes.len());
    while bytes.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        end += 1;
    }
    let word = text.get(start..end)?;
    (word.len() == 6 && word.starts_with("TP"))
        .then(|| tailpolicy_policy::rules::find_rule(word))
        .flatten()
}

/// Hover at `position`.
pub fn hover(doc: &Doc<'_>, position: Position) -> Option<Hover> {
    let offset = doc.offset(position);
    if let Some(rule) = code_at(doc.text, offset as usize) {
        return Some(markdown(
            format!(
                "**{}** `{}`: {}\n\n{}",
                rule.code, rule.name, rule.summary, rule.explanation
            ),
            None,
        ));
    }
    if let Some(occ) = doc.ws.symbol_at(doc.file, offset) {
        let range = doc.index().range(occ.span);
        return Some(markdown(symbol_hover(doc.ws, &occ.symbol), Some(range)));
    }
    if let Some((span, name)) = string_at(doc.text, offset as usize)
        && name.starts_with("autogroup:")
    {
        let symbol = Symbol {
            kind: SymbolKind::Autogroup,
            name: name.to_owned(),
        };
        return Some(markdown(
            symbol_hover(doc.ws, &symbol),
            Some(doc.index().range(span)),
        ));
    }
    rule_hover(doc, offset)
}

/// The string literal on the cursor's line that holds `offset`: its contents' span and
/// text (no escapes handled: names have none).
fn string_at(text: &str, offset: usize) -> Option<(Span, &str)> {
    let line_start = text.get(..offset)?.rfind('\n').map_or(0, |i| i + 1);
    let line_end = text
        .get(offset..)?
        .find('\n')
        .map_or(text.len(), |i| offset + i);
    let line = text.get(line_start..line_end)?;
    let mut open: Option<usize> = None;
    for (i, c) in line.char_indices() {
        if c != '"' {
            continue;
        }
        match open {
            None => open = Some(i + 1),
            Some(start) => {
                let (a, b) = (line_start + start, line_start + i);
                if a <= offset && offset <= b {
                    let span = Span::new(u32::try_from(a).ok()?, u32::try_from(b).ok()?);
                    return Some((span, text.get(a..b)?));
                }
                open = None;
            }
        }
    }
    None
}

fn symbol_hover(ws: &Workspace, symbol: &Symbol) -> String {
    let name = &symbol.name;
    let policy = ws.policy();
    let inventory = ws.inventory().and_then(|i| i.inventory.clone());
    let policy = policy.as_deref();
    match symbol.kind {
        SymbolKind::Group => {
            let members = policy
                .and_then(|p| p.groups.iter().find(|g| &g.name.value == name))
                .map(|g| {
                    g.members
                        .iter()
                        .map(|m| m.value.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            format!(
                "**{name}** (group, {} members)\n\n{}",
                members.len(),
                list(members)
            )
        }
        SymbolKind::Tag => {
            let owners = policy
                .and_then(|p| p.tag_owners.iter().find(|t| &t.tag.value == name))
                .map(|t| {
                    t.owners
                        .iter()
                        .map(|o| o.value.to_string())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let mut out = format!("**{name}** (tag)\n\nOwners:\n{}", list(owners));
            if let Some(inv) = &inventory {
                let nodes = inv
                    .nodes
                    .iter()
                    .filter(|n| n.tags.iter().any(|t| t == name))
                    .map(|n| n.name.clone());
                out.push_str(&format!("\n\nNodes:\n{}", list(nodes)));
            }
            out
        }
        SymbolKind::Host => {
            let addr = policy
                .and_then(|p| p.hosts.iter().find(|h| &h.name.value == name))
                .map(|h| h.addr.value.to_string())
                .unwrap_or_else(|| "undefined".to_owned());
            format!("**{name}** (host): `{addr}`")
        }
        SymbolKind::IpSet => {
            let ops = policy
                .and_then(|p| p.ipsets.iter().find(|s| &s.name.value == name))
                .map(|s| {
                    s.ops
                        .iter()
                        .map(|o| {
                            format!(
                                "{}{}",
                                if o.value.add { "" } else { "remove " },
                                o.value.target
                            )
                        })
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            format!("**{name}** (ipset)\n\n{}", list(ops))
        }
        SymbolKind::Posture => {
            let conds = policy
                .and_then(|p| p.postures.iter().find(|s| &s.name.value == name))
                .map(|s| {
                    s.conditions
                        .iter()
                        .map(|c| c.value.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            format!("**{name}** (posture)\n\n{}", list(conds))
        }
        SymbolKind::User => {
            let groups = policy
                .map(|p| {
                    p.groups
                        .iter()
                        .filter(|g| g.members.iter().any(|m| &m.value == name))
                        .map(|g| g.name.value.clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default();
            let mut out = format!("**{name}** (user)\n\nGroups:\n{}", list(groups));
            if let Some(inv) = &inventory {
                let nodes = inv
                    .nodes
                    .iter()
                    .filter(|n| n.user.as_deref() == Some(name.as_str()) && !n.is_tagged())
                    .map(|n| n.name.clone());
                out.push_str(&format!("\n\nDevices:\n{}", list(nodes)));
            }
            out
        }
        SymbolKind::Autogroup => {
            let mut out = format!("**{name}**: {}", autogroup_doc(name));
            if let Some(inv) = &inventory {
                let nodes: Option<Vec<String>> = match name.as_str() {
                    "autogroup:member" => Some(
                        inv.nodes
                            .iter()
                            .filter(|n| !n.is_tagged())
                            .map(|n| n.name.clone())
                            .collect(),
                    ),
                    "autogroup:tagged" => Some(
                        inv.nodes
                            .iter()
                            .filter(|n| n.is_tagged())
                            .map(|n| n.name.clone())
                            .collect(),
                    ),
                    _ => None,
                };
                if let Some(nodes) = nodes {
                    out.push_str(&format!("\n\nIn the inventory:\n{}", list(nodes)));
                }
            }
            out
        }
    }
}

/// A rule of `acls`, `grants` or `ssh` whose span holds the global `offset`.
struct RuleAt {
    origin: Origin,
    src: Vec<Span>,
    dst: Vec<Span>,
}

fn rule_at(policy: &Policy, offset: u32) -> Option<RuleAt> {
    let inside = |o: &Origin| o.span.0.start <= offset && offset < o.span.0.end;
    let spans = |v: &[Spanned<Alias>]| v.iter().map(|s| s.span).collect::<Vec<_>>();
    if let Some(a) = policy.acls.iter().flatten().find(|a| inside(&a.origin)) {
        return Some(RuleAt {
            origin: a.origin,
            src: spans(&a.src),
            dst: a.dst.iter().map(|d| d.span).collect(),
        });
    }
    if let Some(g) = policy.grants.iter().flatten().find(|g| inside(&g.origin)) {
        return Some(RuleAt {
            origin: g.origin,
            src: spans(&g.src),
            dst: spans(&g.dst),
        });
    }
    policy
        .ssh
        .iter()
        .flatten()
        .find(|s| inside(&s.origin))
        .map(|s| RuleAt {
            origin: s.origin,
            src: spans(&s.src),
            dst: spans(&s.dst),
        })
}

fn rule_hover(doc: &Doc<'_>, offset: u32) -> Option<Hover> {
    let merged = doc.ws.merged();
    let policy = merged.policy.as_deref()?;
    let rule = rule_at(policy, doc.global(offset))?;
    let text = |spans: &[Span]| {
        spans
            .iter()
            .map(|s| s.text(&merged.text).trim_matches('"').to_owned())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut out = format!(
        "**{}[{}]** lets `{}` reach `{}`",
        rule.origin.section.key(),
        rule.origin.index,
        text(&rule.src),
        text(&rule.dst)
    );
    out.push_str(&rule_reach(doc, policy, &rule));
    let (file, local) = merged.map.resolve(rule.origin.span.0)?;
    let report = doc.ws.report();
    let covered: Vec<String> = report
        .files
        .iter()
        .filter(|f| f.fragment == Some(file))
        .flat_map(|f| &f.diagnostics)
        .filter(|d| {
            matches!(d.code.as_str(), "TP1005" | "TP1006")
                && d.span.start >= local.start
                && d.span.end <= local.end
        })
        .map(|d| d.message.clone())
        .collect();
    if covered.is_empty() {
        out.push_str("\n\nNo earlier rule covers it.");
    } else {
        out.push_str("\n\nAlready covered: ");
        out.push_str(&covered.join("; "));
    }
    Some(markdown(out, Some(doc.index().range(local))))
}

/// How long a hover may spend asking the evaluator.
const REACH_BUDGET: std::time::Duration = std::time::Duration::from_millis(100);
/// How many access lines a hover lists.
const REACH_LINES: usize = 12;

/// The evaluator's answer for one rule, folded as `reach` folds it: each source and
/// what this rule lets it reach, when the inventory is given and the policy has no
/// errors; bounded in time.
fn rule_reach(doc: &Doc<'_>, policy: &Policy, rule: &RuleAt) -> String {
    use tailpolicy_compiler::eval::Evaluator;
    use tailpolicy_compiler::eval::reach::{Endpoint, reachable_from, resolve_sources, src_name};
    if doc.ws.inventory().is_none() {
        return String::new();
    }
    if doc.ws.checked_policy().is_err() {
        return "\n\n_Reach: the evaluator needs a policy and an inventory without errors._"
            .to_owned();
    }
    let Ok(tailnet) = doc.ws.tailnet() else {
        return String::new();
    };
    let started = std::time::Instant::now();
    let ev = Evaluator::new(policy, &tailnet);
    let merged = doc.ws.merged();
    let mut lines: Vec<String> = Vec::new();
    let mut pairs = 0usize;
    let mut truncated = false;
    'sources: for span in &rule.src {
        let selector = span.text(&merged.text).trim_matches('"');
        let Ok(sources) = resolve_sources(&ev, selector) else {
            continue;
        };
        for src in sources {
            if started.elapsed() > REACH_BUDGET {
                truncated = true;
                break 'sources;
            }
            let name = src_name(&tailnet, &src);
            for a in reachable_from(&ev, &src) {
                if !a.rules.contains(&rule.origin) {
                    continue;
                }
                pairs += 1;
                if lines.len() < REACH_LINES {
                    let to = match &a.endpoint {
                        Endpoint::Node(i) => tailnet
                            .nodes
                            .get(*i)
                            .map_or_else(String::new, |n| n.name.clone()),
                        Endpoint::Addrs(s) => s.clone(),
                    };
                    let proto = a.proto.map_or_else(String::new, |p| format!("{p}:"));
                    lines.push(format!("- `{name}` → `{to}` {proto}{}", a.ports));
                }
            }
        }
    }
    let mut out = format!(
        "\n\nReach ({pairs} source–destination pairs{}):\n",
        if truncated {
            ", stopped at the time limit"
        } else {
            ""
        }
    );
    if lines.is_empty() {
        out.push_str("_nothing in this inventory_");
    } else {
        out.push_str(&lines.join("\n"));
        if pairs > lines.len() {
            out.push_str(&format!("\n- … {} more", pairs - lines.len()));
        }
    }
    out
}

/// The occurrence under the cursor.
fn occurrence(doc: &Doc<'_>, position: Position) -> Option<Occurrence> {
    doc.ws.symbol_at(doc.file, doc.offset(position))
}

/// Go to definition: the definitions of the symbol at `position`, in any fragment.
pub fn definition(doc: &Doc<'_>, position: Position) -> Vec<Location> {
    let Some(occ) = occurrence(doc, position) else {
        return Vec::new();
    };
    let index = doc.ws.symbols();
    doc.locations(index.definitions(&occ.symbol))
}

/// Find references: every occurrence of the symbol at `position`.
pub fn references(doc: &Doc<'_>, position: Position, include_declaration: bool) -> Vec<Location> {
    let Some(occ) = occurrence(doc, position) else {
        return Vec::new();
    };
    let index = doc.ws.symbols();
    doc.locations(
        index
            .occurrences_of(&occ.symbol)
            .filter(|o| include_declaration || !o.is_definition),
    )
}

/// Whether the symbol at `position` can be renamed (groups, tags, hosts, ipsets,
/// postures; not autogroups or users) and the range of its name.
pub fn prepare_rename(doc: &Doc<'_>, position: Position) -> Result<PrepareRenameResponse, String> {
    let occ = occurrence(doc, position).ok_or("no renamable name here")?;
    if !occ.symbol.kind.is_defined_in_policy() {
        return Err(format!("a {} cannot be renamed", occ.symbol.kind.as_str()));
    }
    Ok(PrepareRenameResponse::Range(doc.index().range(occ.span)))
}

/// Rename the symbol at `position` to `new_name` in every fragment. The prefix
/// (`group:`, `tag:`, …) is kept when `new_name` omits it.
pub fn rename(doc: &Doc<'_>, position: Position, new_name: &str) -> Result<WorkspaceEdit, String> {
    prepare_rename(doc, position)?;
    let occ = occurrence(doc, position).ok_or("no renamable name here")?;
    let prefix = match occ.symbol.kind {
        SymbolKind::Group => "group:",
        SymbolKind::Tag => "tag:",
        SymbolKind::IpSet => "ipset:",
        SymbolKind::Posture => "posture:",
        _ => "",
    };
    let new_name = if new_name.starts_with(prefix) {
        new_name.to_owned()
    } else {
        format!("{prefix}{new_name}")
    };
    if new_name.len() <= prefix.len() || new_name.contains(['"', '\\', '\n']) {
        return Err(format!("`{new_name}` is not a valid name"));
    }
    let mut changes: HashMap<Url, Vec<TextEdit>> = HashMap::new();
    let index = doc.ws.symbols();
    for loc in doc.locations(index.occurrences_of(&occ.symbol)) {
        changes
            .entry(loc.uri)
            .or_default()
            .push(TextEdit::new(loc.range, new_name.clone()));
    }
    Ok(WorkspaceEdit::new(changes))
}

/// Whole-document formatting, byte-identical to `tailpolicy fmt`; `None` when the text
/// does not parse, an empty list when it is already formatted.
pub fn format(text: &str) -> Option<Vec<TextEdit>> {
    let (document, _) = hujson::parse(text);
    let document = document?;
    let formatted = hujson::format(&document);
    if formatted == text {
        return Some(Vec::new());
    }
    let index = LineIndex::new(text);
    let end = index.position(u32::try_from(text.len()).unwrap_or(u32::MAX));
    Some(vec![TextEdit::new(
        Range::new(Position::new(0, 0), end),
        formatted,
    )])
}

/// The outline: each section, and in it each named entry or indexed rule.
pub fn document_symbols(text: &str) -> Vec<DocumentSymbol> {
    let (document, _) = hujson::parse(text);
    let Some(document) = document else {
        return Vec::new();
    };
    let index = LineIndex::new(text);
    let Some(root) = document.root.as_object() else {
        return Vec::new();
    };
    root.members
        .iter()
        .map(|m| {
            let key = m.key().to_owned();
            let children: Vec<DocumentSymbol> = match &m.value.kind {
                ValueKind::Object(o) => o
                    .members
                    .iter()
                    .map(|c| {
                        symbol(
                            &index,
                            c.key().to_owned(),
                            None,
                            entry_kind(c.key()),
                            &c.name,
                            &c.value,
                        )
                    })
                    .collect(),
                ValueKind::Array(a) => a
                    .elements
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        symbol(
                            &index,
                            format!("{key}[{i}]"),
                            Some(summary(e, text)),
                            LspSymbolKind::EVENT,
                            e,
                            e,
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            };
            let mut s = symbol(
                &index,
                key,
                None,
                LspSymbolKind::NAMESPACE,
                &m.name,
                &m.value,
            );
            s.children = (!children.is_empty()).then_some(children);
            s
        })
        .collect()
}

fn entry_kind(key: &str) -> LspSymbolKind {
    if key.starts_with("group:") {
        LspSymbolKind::ARRAY
    } else if key.starts_with("tag:") {
        LspSymbolKind::CONSTANT
    } else {
        LspSymbolKind::VARIABLE
    }
}

fn summary(value: &Value, text: &str) -> String {
    let Some(o) = value.as_object() else {
        return String::new();
    };
    let field = |k: &str| {
        o.get(k).map(|m| {
            m.value
                .text(text)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
    };
    match (field("src"), field("dst")) {
        (Some(s), Some(d)) => format!("{s} → {d}"),
        _ => String::new(),
    }
}

#[expect(deprecated, reason = "DocumentSymbol::deprecated must be written")]
fn symbol(
    index: &LineIndex<'_>,
    name: String,
    detail: Option<String>,
    kind: LspSymbolKind,
    name_value: &Value,
    value: &Value,
) -> DocumentSymbol {
    DocumentSymbol {
        name,
        detail: detail.filter(|d| !d.is_empty()),
        kind,
        tags: None,
        deprecated: None,
        range: index.range(Span::new(
            name_value.span.start,
            value.span.end.max(name_value.span.end),
        )),
        selection_range: index.range(name_value.span),
        children: None,
    }
}

/// Grantable capabilities in the `tailscale.com` domain: the list the checker accepts.
const CAPABILITIES: &[&str] = tailpolicy_policy::GRANTABLE_TAILSCALE_CAPS;

/// Keys of each place, with their documentation.
fn keys_for(ctx: &context::Context) -> &'static [(&'static str, &'static str)] {
    match (ctx.path.len(), ctx.section().as_deref()) {
        (0, _) => &[
            (
                "acls",
                "Legacy access rules: `action`, `src`, `dst`, `proto`.",
            ),
            ("grants", "Access rules: `src`, `dst`, `ip` and/or `app`."),
            (
                "ssh",
                "Tailscale SSH rules: `action`, `src`, `dst`, `users`.",
            ),
            ("groups", "Named sets of users: `\"group:name\": [logins]`."),
            (
                "tagOwners",
                "Who may apply each tag: `\"tag:name\": [owners]`.",
            ),
            ("hosts", "Names for IP addresses and prefixes."),
            ("ipsets", "Named sets of addresses, with `add`/`remove`."),
            (
                "postures",
                "Device posture conditions: `\"posture:name\": [conditions]`.",
            ),
            (
                "autoApprovers",
                "Who may advertise routes and exit nodes without approval.",
            ),
            ("nodeAttrs", "Node attributes by target."),
            ("tests", "ACL tests Tailscale runs on save."),
            ("sshTests", "SSH tests Tailscale runs on save."),
            (
                "defaultSrcPosture",
                "Postures every rule's source must satisfy.",
            ),
        ],
        (1, Some("acls")) => &[
            ("action", "Always `accept`."),
            (
                "src",
                "Sources: users, groups, tags, hosts, CIDRs, autogroups.",
            ),
            ("dst", "Destinations with ports: `host:port`."),
            ("proto", "IP protocol (`tcp`, `udp`, `icmp`, a number)."),
            ("srcPosture", "Postures the source must satisfy."),
        ],
        (1, Some("grants")) => &[
            ("src", "Sources."),
            ("dst", "Destinations (no ports: see `ip`)."),
            ("ip", "Protocols and ports: `*`, `tcp:443`, `udp:53`."),
            ("app", "Application capabilities."),
            ("via", "Route through these tagged routers."),
            ("srcPosture", "Postures the source must satisfy."),
        ],
        (1, Some("ssh")) => &[
            ("action", "`accept` or `check`."),
            ("src", "Who may connect."),
            ("dst", "Which devices."),
            ("users", "Local users: `root`, `autogroup:nonroot`, names."),
            ("checkPeriod", "How often `check` re-authenticates."),
            ("acceptEnv", "Environment variables the client may send."),
        ],
        _ => &[],
    }
}

/// The autogroups valid in `field` of `section`.
fn autogroups_for(section: &str, field: &str) -> &'static [&'static str] {
    match (section, field) {
        ("ssh", "users") => &["autogroup:nonroot"],
        ("ssh", "dst") => &["autogroup:self", "autogroup:member", "autogroup:tagged"],
        (_, "dst") => &[
            "autogroup:member",
            "autogroup:tagged",
            "autogroup:self",
            "autogroup:internet",
            "autogroup:danger-all",
        ],
        (_, "src" | "users") => &[
            "autogroup:member",
            "autogroup:tagged",
            "autogroup:shared",
            "autogroup:danger-all",
            "autogroup:admin",
            "autogroup:owner",
            "autogroup:it-admin",
            "autogroup:network-admin",
            "autogroup:billing-admin",
            "autogroup:auditor",
        ],
        _ => &[],
    }
}

fn item(label: &str, kind: CompletionItemKind, doc: Option<String>) -> CompletionItem {
    CompletionItem {
        label: label.to_owned(),
        kind: Some(kind),
        documentation: doc.map(|value| {
            Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value,
            })
        }),
        ..CompletionItem::default()
    }
}

/// Completion inside a string at `position`.
pub fn completion(doc: &Doc<'_>, position: Position) -> Vec<CompletionItem> {
    let offset = doc.offset(position) as usize;
    let ctx = context::at(doc.text, offset);
    if ctx.string_start.is_none() {
        return Vec::new();
    }
    if ctx.is_key && ctx.path.len() == 2 && ctx.field().as_deref() == Some("app") {
        return CAPABILITIES
            .iter()
            .map(|c| {
                item(
                    c,
                    CompletionItemKind::VALUE,
                    Some("a grantable Tailscale capability".into()),
                )
            })
            .collect();
    }
    if ctx.is_key {
        return keys_for(&ctx)
            .iter()
            .map(|(k, d)| item(k, CompletionItemKind::FIELD, Some((*d).to_owned())))
            .collect();
    }
    let section = ctx.section().unwrap_or_default();
    let field = ctx.field().unwrap_or_default();
    let mut out = Vec::new();
    let index = doc.ws.symbols();
    let names = |kind: SymbolKind| {
        index
            .symbols(kind)
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    match field.as_str() {
        "proto" => {
            for p in [
                "tcp",
                "udp",
                "icmp",
                "ipv6-icmp",
                "sctp",
                "gre",
                "esp",
                "ah",
                "igmp",
            ] {
                out.push(item(p, CompletionItemKind::ENUM_MEMBER, None));
            }
            return out;
        }
        "ip" => {
            for p in [
                "*",
                "tcp:443",
                "tcp:22",
                "udp:53",
                "icmp:*",
                "tcp:1000-2000",
            ] {
                out.push(item(
                    p,
                    CompletionItemKind::VALUE,
                    Some("`proto:port` or `port` or `*`".into()),
                ));
            }
            return out;
        }
        "app" => {
            for p in [
                "tailscale.com/cap/drive",
                "tailscale.com/cap/kubernetes",
                "tailscale.com/cap/tailsql",
                "tailscale.com/cap/relay",
            ] {
                out.push(item(
                    p,
                    CompletionItemKind::VALUE,
                    Some("a capability name".into()),
                ));
            }
            return out;
        }
        "srcposture" | "defaultsrcposture" => {
            for n in names(SymbolKind::Posture) {
                out.push(item(&n, CompletionItemKind::VARIABLE, None));
            }
            return out;
        }
        _ => {}
    }
    let in_selectors = matches!(field.as_str(), "src" | "dst" | "users")
        || section == "groups"
        || section == "tagowners"
        || section == "autoapprovers";
    if !in_selectors {
        return out;
    }
    for (kind, ck) in [
        (SymbolKind::Group, CompletionItemKind::MODULE),
        (SymbolKind::Tag, CompletionItemKind::CONSTANT),
        (SymbolKind::Host, CompletionItemKind::VARIABLE),
        (SymbolKind::IpSet, CompletionItemKind::VARIABLE),
    ] {
        if section == "groups" && kind != SymbolKind::Group {
            continue;
        }
        for n in names(kind) {
            let d = symbol_hover(
                doc.ws,
                &Symbol {
                    kind,
                    name: n.clone(),
                },
            );
            out.push(item(&n, ck, Some(d)));
        }
    }
    for a in autogroups_for(&section, &field) {
        out.push(item(
            a,
            CompletionItemKind::ENUM_MEMBER,
            Some(autogroup_doc(a).to_owned()),
        ));
    }
    if let Some(inv) = doc.ws.inventory().and_then(|i| i.inventory.clone()) {
        for u in &inv.users {
            out.push(item(&u.login, CompletionItemKind::REFERENCE, None));
        }
    }
    // Port shapes after a destination in `acls`.
    let typed = doc
        .text
        .get(ctx.string_start.unwrap_or(0) as usize..offset)
        .unwrap_or("");
    if section == "acls"
        && field == "dst"
        && typed.contains(':')
        && !typed.starts_with("tag:")
        && !typed.starts_with("group:")
        && !typed.starts_with("autogroup:")
        || section == "acls" && field == "dst" && typed.matches(':').count() >= 2
    {
        let base = typed.rsplit_once(':').map_or(typed, |(b, _)| b);
        out.clear();
        for p in ["*", "22", "80,443", "1000-2000"] {
            out.push(item(
                &format!("{base}:{p}"),
                CompletionItemKind::VALUE,
                None,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailpolicy_policy::model::Autogroup;

    #[test]
    fn every_autogroup_is_documented() {
        for (_, name) in Autogroup::ALL {
            assert_ne!(autogroup_doc(name), "An autogroup.", "{name}");
        }
    }

    #[test]
    fn string_at_finds_the_literal_under_the_cursor() {
        let text = "{\"users\": [\"root\", \"autogroup:nonroot\"]}";
        let offset = text.find("autogroup").unwrap_or(0) + 3;
        assert_eq!(
            string_at(text, offset).map(|(_, s)| s),
            Some("autogroup:nonroot")
        );
        assert_eq!(string_at(text, 1), None);
    }

    #[test]
    fn format_is_tailpolicy_fmt_and_refuses_broken_text() {
        let edits = format("{\"a\":1}");
        assert_eq!(
            edits.map(|e| e.into_iter().map(|e| e.new_text).collect::<Vec<_>>()),
            Some(vec!["{\"a\": 1}\n".to_owned()])
        );
        assert_eq!(format("{\"a\": 1}\n"), Some(Vec::new()));
        assert_eq!(format("{\"a\":"), None);
    }

    fn labels(text_with_cursor: &str) -> Vec<String> {
        let offset = text_with_cursor.find('|').unwrap_or(0);
        let text = text_with_cursor.replacen('|', "", 1);
        let mut ws = Workspace::new(tailpolicy_workspace::Config::default());
        ws.set_fragments(vec![tailpolicy_workspace::FileInput::text(
            "p.hujson",
            text.clone(),
        )]);
        let doc = Doc {
            ws: &ws,
            file: FileId(0),
            text: &text,
            uris: &[],
        };
        let position = LineIndex::new(&text).position(u32::try_from(offset).unwrap_or(0));
        completion(&doc, position)
            .into_iter()
            .map(|i| i.label)
            .collect()
    }

    #[test]
    fn completion_of_capabilities_ports_and_grant_fields() {
        let caps = labels(r#"{"grants": [{"src": ["*"], "dst": ["*"], "app": {"|"#);
        assert_eq!(
            caps,
            CAPABILITIES
                .iter()
                .map(|c| (*c).to_owned())
                .collect::<Vec<_>>()
        );
        let fields = labels(r#"{"grants": [{"|"#);
        assert_eq!(fields, vec!["src", "dst", "ip", "app", "via", "srcPosture"]);
        let ports = labels(
            r#"{"hosts": {"db": "10.0.0.1"}, "acls": [{"action": "accept", "src": ["*"], "dst": ["db:|"#,
        );
        assert_eq!(ports, vec!["db:*", "db:22", "db:80,443", "db:1000-2000"]);
    }

    #[test]
    fn code_at_reads_a_diagnostic_code() {
        let text = "// tailpolicy:ignore TP1001";
        assert_eq!(code_at(text, 23).map(|r| r.name), Some("unused-group"));
        assert!(code_at(text, 5).is_none());
    }
}
