//! Code actions: "did you mean" fixes, `tailpolicy:ignore` comments, and
//! `source.fixAll` applying the safe fixes.

use crate::line_index::LineIndex;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Position, Range, TextEdit, Url, WorkspaceEdit,
};
use std::collections::HashMap;
use tailpolicy_policy::hujson::{self, Document, Value};
use tailpolicy_policy::{Diagnostic, Span};

fn inside(outer: Span, inner: Span) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// The values holding the span `at`, outermost first.
fn objects_around<'a>(value: &'a Value, at: Span, out: &mut Vec<&'a Value>) {
    if !inside(value.span, at) {
        return;
    }
    out.push(value);
    if let Some(o) = value.as_object() {
        for m in &o.members {
            objects_around(&m.value, at, out);
        }
    } else if let Some(a) = value.as_array() {
        for e in &a.elements {
            objects_around(e, at, out);
        }
    }
}

/// Removes an unused definition (`TP1001`–`TP1004`): the member whose name is the
/// diagnostic's span, its whole lines when it has them to itself.
fn remove_unused(
    d: &Diagnostic,
    doc: &Document,
    text: &str,
    index: &LineIndex<'_>,
) -> Option<TextEdit> {
    let root = doc.root.as_object()?;
    let member = root
        .members
        .iter()
        .filter_map(|m| m.value.as_object())
        .flat_map(|o| &o.members)
        .find(|m| inside(m.name.span, d.span) || inside(d.span, m.name.span))?;
    let bytes = text.as_bytes();
    let mut start = member.name.span.start as usize;
    while start > 0 && matches!(bytes.get(start - 1), Some(b' ' | b'\t')) {
        start -= 1;
    }
    if start > 0 && bytes.get(start - 1) != Some(&b'\n') {
        return None;
    }
    let mut end = member.value.span.end as usize;
    while matches!(bytes.get(end), Some(b' ' | b'\t' | b',')) {
        end += 1;
    }
    if bytes.get(end) != Some(&b'\n') {
        return None;
    }
    let span = Span::new(u32::try_from(start).ok()?, u32::try_from(end + 1).ok()?);
    Some(TextEdit::new(index.range(span), String::new()))
}

/// Renames the legacy `users`/`ports` keys of the ACL holding `d` to `src`/`dst`.
fn convert_legacy(d: &Diagnostic, doc: &Document, index: &LineIndex<'_>) -> Vec<TextEdit> {
    let mut around = Vec::new();
    objects_around(&doc.root, d.span, &mut around);
    let Some(acl) = around.iter().rev().find_map(|v| {
        v.as_object()
            .filter(|o| o.get("users").is_some() || o.get("ports").is_some())
    }) else {
        return Vec::new();
    };
    acl.members
        .iter()
        .filter_map(|m| {
            let new = match m.key() {
                "users" => "\"src\"",
                "ports" => "\"dst\"",
                _ => return None,
            };
            Some(TextEdit::new(index.range(m.name.span), new.to_owned()))
        })
        .collect()
}

/// Adds `"tag:x": []` to `tagOwners` for an undefined tag (`TP0201` on a `tag:`).
fn add_tag_owner(
    d: &Diagnostic,
    doc: &Document,
    text: &str,
    index: &LineIndex<'_>,
) -> Option<(String, TextEdit)> {
    let written = d.span.text(text).trim_matches('"');
    if !written.starts_with("tag:")
        || d.code != tailpolicy_policy::codes::check::UNDEFINED_TAG.as_code()
    {
        return None;
    }
    let tag = written.get(4..)?.split(':').next()?;
    let tag = format!("tag:{tag}");
    let root = doc.root.as_object()?;
    let (at, new_text) = match root.members.iter().find(|m| m.key() == "tagOwners") {
        Some(m) => {
            let o = m.value.as_object()?;
            match o.members.first() {
                Some(first) => (first.name.span.start, format!("\"{tag}\": [], ")),
                None => (m.value.span.start + 1, format!("\"{tag}\": []")),
            }
        }
        None => (
            doc.root.span.start + 1,
            format!("\"tagOwners\": {{\"{tag}\": []}}, "),
        ),
    };
    let position = index.position(at);
    Some((tag, TextEdit::new(Range::new(position, position), new_text)))
}

/// The replacement a "did you mean `X`?" help proposes for `d`, as an edit.
fn suggestion(d: &Diagnostic, text: &str, index: &LineIndex<'_>) -> Option<TextEdit> {
    let help = d.help.as_deref()?;
    let rest = help.strip_prefix("did you mean `")?;
    let (name, _) = rest.split_once("`?")?;
    let written = d.span.text(text);
    let new_text = if written.starts_with('"') && written.ends_with('"') && written.len() >= 2 {
        format!("\"{name}\"")
    } else {
        name.to_owned()
    };
    Some(TextEdit::new(index.range(d.span), new_text))
}

fn edit(uri: &Url, edits: Vec<TextEdit>) -> WorkspaceEdit {
    WorkspaceEdit::new(HashMap::from([(uri.clone(), edits)]))
}

/// The code actions for the file `uri` (its `text` and its `diagnostics`, local spans)
/// whose diagnostics overlap `range`. `only` restricts the kinds.
pub fn code_actions(
    uri: &Url,
    text: &str,
    diagnostics: &[Diagnostic],
    range: Range,
    only: Option<&[CodeActionKind]>,
) -> Vec<CodeActionOrCommand> {
    let index = LineIndex::new(text);
    let (document, _) = hujson::parse(text);
    let wants = |kind: &CodeActionKind| {
        only.is_none_or(|o| o.iter().any(|k| kind.as_str().starts_with(k.as_str())))
    };
    let mut out = Vec::new();
    if wants(&CodeActionKind::SOURCE_FIX_ALL) {
        let fixes: Vec<TextEdit> = diagnostics
            .iter()
            .filter_map(|d| suggestion(d, text, &index))
            .collect();
        if !fixes.is_empty() && only.is_some() {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: "Apply every suggested fix".to_owned(),
                kind: Some(CodeActionKind::SOURCE_FIX_ALL),
                edit: Some(edit(uri, fixes)),
                ..CodeAction::default()
            }));
        }
    }
    if !wants(&CodeActionKind::QUICKFIX) {
        return out;
    }
    for d in diagnostics {
        let r = index.range(d.span);
        if r.end < range.start || r.start > range.end {
            continue;
        }
        let code = d.code.as_str();
        let lsp_d = crate::diagnostics::to_lsp(d, uri, &index, &|_| None);
        if let Some(fix) = suggestion(d, text, &index) {
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Replace with {}", fix.new_text),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp_d.clone()]),
                edit: Some(edit(uri, vec![fix])),
                is_preferred: Some(true),
                ..CodeAction::default()
            }));
        }
        let quickfix = |title: String, edits: Vec<TextEdit>, d: lsp_types::Diagnostic| {
            CodeActionOrCommand::CodeAction(CodeAction {
                title,
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![d]),
                edit: Some(edit(uri, edits)),
                ..CodeAction::default()
            })
        };
        if let Some(doc) = &document {
            if matches!(code, "TP1001" | "TP1002" | "TP1003" | "TP1004")
                && let Some(e) = remove_unused(d, doc, text, &index)
            {
                out.push(quickfix(
                    "Remove the unused definition".to_owned(),
                    vec![e],
                    lsp_d.clone(),
                ));
            }
            if code == "TP1010" {
                let edits = convert_legacy(d, doc, &index);
                if !edits.is_empty() {
                    out.push(quickfix(
                        "Rename `users`/`ports` to `src`/`dst`".to_owned(),
                        edits,
                        lsp_d.clone(),
                    ));
                }
            }
            if let Some((tag, e)) = add_tag_owner(d, doc, text, &index) {
                out.push(quickfix(
                    format!("Add `{tag}` to tagOwners"),
                    vec![e],
                    lsp_d.clone(),
                ));
            }
        }
        if !code.starts_with("TP00") {
            let line = r.start.line;
            let line_start = index.offset(Position::new(line, 0));
            let indent: String = text
                .get(line_start as usize..)
                .unwrap_or("")
                .chars()
                .take_while(|c| *c == ' ' || *c == '\t')
                .collect();
            out.push(CodeActionOrCommand::CodeAction(CodeAction {
                title: format!("Ignore {code} on this line (tailpolicy:ignore)"),
                kind: Some(CodeActionKind::QUICKFIX),
                diagnostics: Some(vec![lsp_d]),
                edit: Some(edit(
                    uri,
                    vec![TextEdit::new(
                        Range::new(Position::new(line, 0), Position::new(line, 0)),
                        format!("{indent}// tailpolicy:ignore {code}\n"),
                    )],
                )),
                ..CodeAction::default()
            }));
        }
    }
    out
}
