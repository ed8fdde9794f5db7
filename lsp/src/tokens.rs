//! Semantic tokens for selectors (groups, tags, autogroups, hosts, ipsets, postures,
//! users, CIDRs: each its own token type) and inlay hints (a group's member count).

use crate::features::Doc;
use crate::line_index::LineIndex;
use lsp_types::{
    InlayHint, InlayHintKind, InlayHintLabel, SemanticToken, SemanticTokenType,
    SemanticTokensLegend,
};
use tailpolicy_policy::Span;
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

/// Inlay hints: each group definition's member count, after its name.
pub fn inlay_hints(doc: &Doc<'_>) -> Vec<InlayHint> {
    let Some(policy) = doc.ws.policy() else {
        return Vec::new();
    };
    let merged = doc.ws.merged();
    let index = LineIndex::new(doc.text);
    policy
        .groups
        .iter()
        .filter_map(|g| {
            let (file, local) = merged.map.resolve(g.name.span)?;
            (file == doc.file).then(|| InlayHint {
                position: index.position(local.end),
                label: InlayHintLabel::String(format!(
                    "{} member{}",
                    g.members.len(),
                    if g.members.len() == 1 { "" } else { "s" }
                )),
                kind: Some(InlayHintKind::TYPE),
                text_edits: None,
                tooltip: None,
                padding_left: Some(true),
                padding_right: None,
                data: None,
            })
        })
        .collect()
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
