//! Semantic tokens for selectors (groups, tags, autogroups, hosts, ipsets, postures,
//! users, CIDRs: each its own token type) and inlay hints (a group's member count, a
//! rule's reach).

use crate::features::Doc;
use crate::line_index::LineIndex;
use lsp_types::{
    InlayHint, InlayHintKind, InlayHintLabel, InlayHintTooltip, Range, SemanticToken,
    SemanticTokenType, SemanticTokensLegend,
};
use std::collections::HashMap;
use tailpolicy_compiler::eval::Evaluator;
use tailpolicy_compiler::eval::select::Src;
use tailpolicy_policy::Span;
use tailpolicy_policy::model::{Alias, Origin, Section};
use tailpolicy_workspace::SymbolKind;

/// The token types, in legend order.
pub const TOKEN_TYPES: [&str; 8] = [
    "group",
    "tag",
    "autogroup",
    "host",
    "ipset",
    "posture",
    "user",
    "cidr",
];

/// The legend announced in the capabilities.
pub fn legend() -> SemanticTokensLegend {
    SemanticTokensLegend {
        token_types: TOKEN_TYPES
            .iter()
            .map(|t| SemanticTokenType::new(t))
            .collect(),
        token_modifiers: Vec::new(),
    }
}

fn kind_index(kind: SymbolKind) -> u32 {
    match kind {
        SymbolKind::Group => 0,
        SymbolKind::Tag => 1,
        SymbolKind::Autogroup => 2,
        SymbolKind::Host => 3,
        SymbolKind::IpSet => 4,
        SymbolKind::Posture => 5,
        SymbolKind::User => 6,
    }
}

/// Whether `s` is an IP address or prefix, optionally followed by `:ports`.
fn is_cidr(s: &str) -> bool {
    let addr = match s.rsplit_once(':') {
        Some((a, p)) if !a.contains(':') || a.ends_with(']') => {
            if p.chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == ',' || c == '-')
            {
                a.trim_start_matches('[').trim_end_matches(']')
            } else {
                s
            }
        }
        _ => s,
    };
    addr.parse::<std::net::IpAddr>().is_ok() || addr.parse::<ipnet::IpNet>().is_ok()
}

/// String literals of `text` (their contents' spans), skipping comments.
fn strings(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = bytes.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' | b'\n' => break,
                        _ => j += 1,
                    }
                }
                if let (Ok(a), Ok(e)) = (u32::try_from(start), u32::try_from(j)) {
                    out.push(Span::new(a, e));
                }
                i = j + 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|c| *c != b'\n') {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while bytes.get(i).is_some()
                    && !(bytes.get(i) == Some(&b'*') && bytes.get(i + 1) == Some(&b'/'))
                {
                    i += 1;
                }
                i += 2;
            }
            _ => i += 1,
        }
    }
    out
}

/// Every selector token of the document, delta-encoded as the protocol wants.
pub fn semantic_tokens(doc: &Doc<'_>) -> Vec<SemanticToken> {
    let index = LineIndex::new(doc.text);
    let symbols = doc.ws.symbols();
    let mut raw: Vec<(Span, u32)> = symbols
        .occurrences()
        .iter()
        .filter(|o| o.file == doc.file)
        .map(|o| (o.span, kind_index(o.symbol.kind)))
        .collect();
    for s in strings(doc.text) {
        let written = s.text(doc.text);
        if is_cidr(written) {
            raw.push((s, 7));
        } else if written.starts_with("autogroup:") {
            // Those the index leaves out (SSH `users`).
            raw.push((s, 2));
        }
    }
    raw.sort_by_key(|(s, k)| (s.start, *k == 2));
    raw.dedup_by_key(|(s, _)| s.start);
    let mut out = Vec::with_capacity(raw.len());
    let (mut line, mut character) = (0u32, 0u32);
    for (span, kind) in raw {
        let start = index.position(span.start);
        let end = index.position(span.end);
        if end.line != start.line || end.character <= start.character {
            continue;
        }
        let delta_line = start.line - line;
        let delta_start = if delta_line == 0 {
            start.character - character
        } else {
            start.character
        };
        out.push(SemanticToken {
            delta_line,
            delta_start,
            length: end.character - start.character,
            token_type: kind,
            token_modifiers_bitset: 0,
        });
        line = start.line;
        character = start.character;
    }
    out
}

/// Up to this many nodes × rules, inlay hints compile the policy to count the nodes
/// enforcing each rule (the example tailnet: 10 × 6; a 2,000-node, 15,000-rule tailnet
/// is far beyond it and takes about a second to compile).
const CHEAP_COMPILE: usize = 1_000_000;

/// Inlay hints in `range` (the visible part of the buffer; `None`: all of it): each
/// group definition's member count after its name, and, when the policy and the
/// inventory have no errors, each `acls`/`grants` rule's reach at its start: how many
/// nodes it lets send, and how many nodes enforce it (the destinations, the subnet
/// routers and exit nodes that carry them), from the compiled filters.
pub fn inlay_hints(doc: &Doc<'_>, range: Option<Range>) -> Vec<InlayHint> {
    let Some(policy) = doc.ws.policy() else {
        return Vec::new();
    };
    let merged = doc.ws.merged();
    let index = LineIndex::new(doc.text);
    let visible = range.map(|r| index.span(r));
    let shown = |local: Span| visible.is_none_or(|v| local.start <= v.end && v.start <= local.end);
    let hint = |local: Span, label: String, tooltip: Option<String>| InlayHint {
        position: index.position(local.end),
        label: InlayHintLabel::String(label),
        kind: Some(InlayHintKind::TYPE),
        text_edits: None,
        tooltip: tooltip.map(InlayHintTooltip::String),
        padding_left: Some(true),
        padding_right: None,
        data: None,
    };
    let mut out: Vec<InlayHint> = policy
        .groups
        .iter()
        .filter_map(|g| {
            let (file, local) = merged.map.resolve(g.name.span)?;
            (file == doc.file && shown(local)).then(|| {
                hint(
                    local,
                    format!(
                        "{} member{}",
                        g.members.len(),
                        if g.members.len() == 1 { "" } else { "s" }
                    ),
                    None,
                )
            })
        })
        .collect();
    // Rules in view, with the span of their opening brace.
    let rules: Vec<(Origin, Span, Vec<&Alias>)> = policy
        .acls
        .iter()
        .flatten()
        .map(|a| (a.origin, a.src.iter().map(|s| &s.value).collect()))
        .chain(
            policy
                .grants
                .iter()
                .flatten()
                .map(|g| (g.origin, g.src.iter().map(|s| &s.value).collect())),
        )
        .filter_map(|(origin, src)| {
            let (file, local) = merged.map.resolve(origin.span.0)?;
            let brace = Span::new(local.start, local.start.saturating_add(1));
            (file == doc.file && shown(local)).then_some((origin, brace, src))
        })
        .collect();
    if rules.is_empty() || doc.ws.inventory().is_none() || doc.ws.checked_policy().is_err() {
        return out;
    }
    let Ok(tailnet) = doc.ws.tailnet() else {
        return out;
    };
    // Compiling is cheap on a small tailnet; on a large one the compiled filters are
    // used only when something else already asked for them.
    let rule_count = policy.acls.iter().flatten().count() + policy.grants.iter().flatten().count();
    let compiler = doc.ws.compiler_if_ready().or_else(|| {
        (tailnet.nodes.len().saturating_mul(rule_count) <= CHEAP_COMPILE)
            .then(|| doc.ws.compiler().ok())
            .flatten()
    });
    // How many nodes receive each rule in their packet filter.
    let mut enforcing: HashMap<(Section, usize), usize> = HashMap::new();
    for node in compiler.iter().flat_map(|c| c.nodes()) {
        let mut mine: Vec<(Section, usize)> = node
            .packet_filter
            .iter()
            .flat_map(|r| &r.origins)
            .map(|o| (o.section, o.index))
            .collect();
        mine.sort_unstable();
        mine.dedup();
        for key in mine {
            *enforcing.entry(key).or_default() += 1;
        }
    }
    let ev = Evaluator::new(&policy, &tailnet);
    for (origin, brace, src) in rules {
        let senders = (0..tailnet.nodes.len())
            .filter_map(|i| Src::node(&tailnet, i))
            .filter(|s| src.iter().any(|a| ev.matcher().src_matches(a, s)))
            .count();
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        if compiler.is_none() {
            out.push(hint(
                brace,
                format!("from {senders} node{}", plural(senders)),
                Some(format!(
                    "{}[{}]: {senders} node{} of the inventory may send (the nodes enforcing it are counted once the filters are compiled)",
                    origin.section.key(),
                    origin.index,
                    plural(senders),
                )),
            ));
            continue;
        }
        let receivers = enforcing
            .get(&(origin.section, origin.index))
            .copied()
            .unwrap_or(0);
        out.push(hint(
            brace,
            format!(
                "{senders} node{} → {receivers} node{}",
                plural(senders),
                plural(receivers)
            ),
            Some(format!(
                "{}[{}]: {senders} node{} of the inventory may send; enforced by {receivers} node{} (its destinations, and the routers and exit nodes that carry routed destinations)",
                origin.section.key(),
                origin.index,
                plural(senders),
                plural(receivers),
            )),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_with_and_without_ports() {
        for s in [
            "10.0.0.0/8",
            "10.0.1.10",
            "10.0.0.0/16:443",
            "fd7a::1",
            "[fd7a::1]:22",
            "100.64.0.1:*",
        ] {
            assert!(is_cidr(s), "{s}");
        }
        for s in [
            "tag:web",
            "group:a",
            "k8s-api:443",
            "*:*",
            "autogroup:self:22",
        ] {
            assert!(!is_cidr(s), "{s}");
        }
    }

    #[test]
    fn strings_skip_comments() {
        let text = "// \"no\"\n{\"a\": \"b\" /* \"c\" */}";
        let found: Vec<&str> = strings(text).iter().map(|s| s.text(text)).collect();
        assert_eq!(found, vec!["a", "b"]);
    }
}
