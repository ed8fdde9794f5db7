//! Code actions: "did you mean" fixes, `tailpolicy:ignore` comments, and
//! `source.fixAll` applying the safe fixes.

use crate::line_index::LineIndex;
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, Position, Range, TextEdit, Url, WorkspaceEdit,
};
use std::collections::HashMap;
use tailpolicy_policy::Diagnostic;

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
