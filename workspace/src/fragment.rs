//! One policy fragment on its own: parsed and lowered with spans local to its text.
//! Depends on the fragment's text only, so an edit to one fragment re-reads that one.

use crate::files::{Contents, FileInput};
use std::sync::Arc;
use tailpolicy_policy::Scanned;
use tailpolicy_policy::hujson::{self, Document};
use tailpolicy_policy::{Diagnostic, Dialect, Policy, SourceFile, Span};

/// A fragment parsed and lowered.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// The file (name, text, line index).
    pub file: SourceFile,
    /// The path relative to the configuration's directory.
    pub relative: String,
    /// The lowered policy, when the text parsed. Spans are local to [`Fragment::file`].
    pub policy: Option<Arc<Policy>>,
    /// The top-level keys written, lower-cased, with the span of each key.
    pub keys: Vec<(String, Span)>,
    /// Syntax and structure diagnostics (local spans).
    pub diagnostics: Vec<Diagnostic>,
    /// The `tailpolicy:ignore` comments of the text, scanned once.
    pub suppressions: Scanned,
    /// What an edit needs to be applied without parsing again ([`update`]).
    parts: Option<Parts>,
}

/// The parsed tree and [`Fragment::diagnostics`] by origin, kept for [`update`].
#[derive(Clone, Debug)]
struct Parts {
    doc: Document,
    syntax: Vec<Diagnostic>,
    placeholders: Vec<Diagnostic>,
    lowered: Vec<Diagnostic>,
}

/// Parses and lowers one fragment as `dialect`'s control server reads it.
pub fn analyse(input: &FileInput, dialect: Dialect) -> Fragment {
    let text = input.contents.to_text();
    let parsed = match &input.contents {
        Contents::Bytes(bytes) if plain_text(bytes).is_none() => hujson::parse_bytes(bytes),
        _ => hujson::parse(&text),
    };
    let (doc, diagnostics) = parsed;
    let mut diagnostics = diagnostics.into_vec();
    let (policy, keys, parts) = match doc {
        Some(doc) => {
            let keys = top_level_keys(&doc);
            let (policy, lowered) = tailpolicy_policy::lower_with(&doc, dialect);
            let placeholders = tailpolicy_policy::template_placeholders(&doc).into_vec();
            let lowered = lowered.into_vec();
            let parts = (dialect == Dialect::Tailscale
                && matches!(&input.contents, Contents::Text(_))
                && doc.source == text)
                .then(|| Parts {
                    syntax: diagnostics.clone(),
                    placeholders: placeholders.clone(),
                    lowered: lowered.clone(),
                    doc,
                });
            diagnostics.extend(placeholders);
            diagnostics.extend(lowered);
            (Some(Arc::new(policy)), keys, parts)
        }
        None => (None, Vec::new(), None),
    };
    let file = SourceFile::new(input.name.clone(), text);
    Fragment {
        suppressions: Scanned::registered(&file),
        file,
        relative: input.relative.clone(),
        policy,
        keys,
        diagnostics,
        parts,
    }
}

/// `old` with its text replaced by `input`'s, without parsing again, when the two
/// texts differ inside one string value of a section read on its own (a group's
/// member, a rule's selector, …) that holds no escapes, quotes or control characters:
/// the tree is edited in place, every span after the edit moves, and only that section
/// is lowered again. The result is what [`analyse`] gives for `input`; `None` when the
/// edit is anything else (then [`analyse`] it).
pub fn update(old: &mut Fragment, input: &FileInput, dialect: Dialect) -> Option<(Fragment, Edit)> {
    let Contents::Text(new) = &input.contents else {
        return None;
    };
    if dialect != Dialect::Tailscale || old.file.name() != input.name {
        return None;
    }
    let mut policy = old.policy.take()?;
    // Shared only while the merged policy that holds it lives; copied otherwise.
    let policy_mut = Arc::make_mut(&mut policy);
    let mut parts = old.parts.take()?;
    let (start, old_end, new_end) = changed(old.file.text(), new)?;
    let replacement = new.get(start..new_end)?;
    let old_span = Span::new(u32::try_from(start).ok()?, u32::try_from(old_end).ok()?);
    let edit = parts.doc.edit_in_string(old_span, replacement)?;
    if parts.doc.source.len() != new.len() {
        return None;
    }
    let at = old_span.end;
    let by = i64::try_from(new_end).ok()? - i64::try_from(old_end).ok()?;
    let member = parts.doc.root.as_object()?.members.get(edit.member)?;
    let section_key = member.key().to_owned();
    policy_mut.move_spans_after(at, by);
    let (relowered, section) =
        tailpolicy_policy::relower_section(&parts.doc, edit.member, edit.element, policy_mut)?;
    // What was read again (the section, or the element of a list section), before.
    let old_end_of_section = u32::try_from(i64::from(section.end) - by).ok()?;
    let in_section = |s: Span| s.start >= section.start && s.end <= old_end_of_section;
    for d in &mut parts.syntax {
        move_diagnostic(d, at, by);
    }
    parts.placeholders.retain(|d| d.span != edit.old_span);
    for d in &mut parts.placeholders {
        move_diagnostic(d, at, by);
    }
    if let tailpolicy_policy::hujson::ValueKind::String(s) = &string_at(&parts.doc, edit.new_span) {
        parts
            .placeholders
            .extend(tailpolicy_policy::template_placeholder_in(s, edit.new_span));
    }
    parts.lowered.retain(|d| !in_section(d.span));
    for d in &mut parts.lowered {
        move_diagnostic(d, at, by);
    }
    parts.lowered.extend(relowered);
    let mut keys = std::mem::take(&mut old.keys);
    for (_, span) in &mut keys {
        *span = moved(*span, at, by);
    }
    let mut diagnostics = parts.syntax.clone();
    diagnostics.extend(parts.placeholders.iter().cloned());
    diagnostics.extend(parts.lowered.iter().cloned());
    let file = SourceFile::new(input.name.clone(), new.clone());
    let edit = Edit {
        at,
        by,
        section: section_key,
        element: edit.element,
    };
    let fragment = Fragment {
        suppressions: Scanned::registered(&file),
        file,
        relative: input.relative.clone(),
        policy: Some(policy),
        keys,
        diagnostics,
        parts: Some(parts),
    };
    Some((fragment, edit))
}

/// What [`update`] changed: offsets at or after `at` moved by `by`, and only the
/// section written under the top-level key `section` was lowered again.
#[derive(Clone, Debug)]
pub struct Edit {
    /// The end of the replaced bytes in the old text.
    pub at: u32,
    /// How far what followed them moved.
    pub by: i64,
    /// The top-level key (as written) of the section read again.
    pub section: String,
    /// Of a list section, the element read again (alone).
    pub element: Option<usize>,
}

/// The edited string's kind (a clone of the decoded value).
fn string_at(doc: &Document, span: Span) -> tailpolicy_policy::hujson::ValueKind {
    let mut v = &doc.root;
    loop {
        let next = match &v.kind {
            tailpolicy_policy::hujson::ValueKind::Object(o) => o
                .members
                .iter()
                .map(|m| &m.value)
                .find(|c| c.span.start <= span.start && span.end <= c.span.end),
            tailpolicy_policy::hujson::ValueKind::Array(a) => a
                .elements
                .iter()
                .find(|c| c.span.start <= span.start && span.end <= c.span.end),
            kind => return kind.clone(),
        };
        match next {
            Some(n) => v = n,
            None => return tailpolicy_policy::hujson::ValueKind::Null,
        }
    }
}

/// The bytes that differ between `old` and `new`: `(start, end in old, end in new)`,
/// on character boundaries; `None` when the texts are equal.
fn changed(old: &str, new: &str) -> Option<(usize, usize, usize)> {
    const CHUNK: usize = 64;
    let (a, b) = (old.as_bytes(), new.as_bytes());
    // Whole chunks compared at once (`memcmp`), then byte by byte in the first that
    // differs.
    let mut start = 0;
    for (x, y) in a.chunks(CHUNK).zip(b.chunks(CHUNK)) {
        if x == y {
            start += x.len();
        } else {
            start += x.iter().zip(y).take_while(|(p, q)| p == q).count();
            break;
        }
    }
    while !old.is_char_boundary(start) || !new.is_char_boundary(start) {
        start = start.checked_sub(1)?;
    }
    let room = a.len().min(b.len()) - start;
    let (a_rest, b_rest) = (a.get(start..)?, b.get(start..)?);
    let mut suffix = 0;
    for (x, y) in a_rest.rchunks(CHUNK).zip(b_rest.rchunks(CHUNK)) {
        if x == y && x.len() == y.len() {
            suffix += x.len();
        } else {
            suffix += x
                .iter()
                .rev()
                .zip(y.iter().rev())
                .take_while(|(p, q)| p == q)
                .count();
            break;
        }
    }
    let mut suffix = suffix.min(room);
    while !old.is_char_boundary(a.len() - suffix) || !new.is_char_boundary(b.len() - suffix) {
        suffix = suffix.checked_sub(1)?;
    }
    let (old_end, new_end) = (a.len() - suffix, b.len() - suffix);
    (old_end != start || new_end != start).then_some((start, old_end, new_end))
}

pub(crate) fn moved(s: Span, at: u32, by: i64) -> Span {
    let offset = |x: u32| {
        if x < at {
            x
        } else {
            u32::try_from((i64::from(x) + by).max(0)).unwrap_or(u32::MAX)
        }
    };
    Span::new(offset(s.start), offset(s.end))
}

pub(crate) fn move_diagnostic(d: &mut Diagnostic, at: u32, by: i64) {
    d.span = moved(d.span, at, by);
    for label in &mut d.labels {
        label.span = moved(label.span, at, by);
    }
    for r in &mut d.related {
        r.span = moved(r.span, at, by);
    }
}

/// The bytes as text, unless [`hujson::parse_bytes`] has something to say about the
/// encoding (not UTF-8, a byte order mark, a NUL byte).
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.starts_with('\u{feff}') && !text.contains('\0')).then_some(text)
}

fn top_level_keys(doc: &Document) -> Vec<(String, Span)> {
    doc.root
        .as_object()
        .map(|o| {
            o.members
                .iter()
                .map(|m| (m.key().to_ascii_lowercase(), m.name.span))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::changed;

    #[test]
    fn the_changed_bytes_are_found_on_character_boundaries() {
        let long = "x".repeat(200);
        assert_eq!(changed("abc", "abc"), None);
        assert_eq!(changed("abc", "abXc"), Some((2, 2, 3)));
        assert_eq!(changed("abc", "ac"), Some((1, 2, 1)));
        assert_eq!(changed("aaa", "aaaa"), Some((3, 3, 4)));
        assert_eq!(changed("é", "è"), Some((0, 2, 2)));
        let (a, b) = (format!("{long}a{long}"), format!("{long}bb{long}"));
        assert_eq!(changed(&a, &b), Some((200, 201, 202)));
        let (a, b) = (format!("{long}{long}"), format!("{long}z{long}"));
        assert_eq!(changed(&a, &b), Some((200, 200, 201)));
    }
}
