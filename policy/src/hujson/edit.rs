//! Editing a parsed document in place, for the one edit whose effect on the tree is
//! known without parsing: text replaced inside one string value (not a member name)
//! that holds no escapes, quotes or control characters before or after. The tree keeps
//! its shape; the string's value is its new raw text and every offset after the edit
//! moves. Anything else is left to a fresh parse.

use super::tree::{Array, Document, Object, SmolStr, Value, ValueKind};
use crate::span::{Move, Span};

/// Where an in-place string edit landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StringEdit {
    /// The index of the root object's member whose value holds the string.
    pub member: usize,
    /// When that value is an array: the index of the element holding the string.
    pub element: Option<usize>,
    /// The string's span before the edit (with its quotes).
    pub old_span: Span,
    /// Its span after the edit.
    pub new_span: Span,
}

impl Document {
    /// Replaces the bytes `old` of the source with `new_text` when that lies inside one
    /// plain string value (see the module docs); returns where, or `None` (the document
    /// unchanged) when the edit needs a parse.
    pub fn edit_in_string(&mut self, old: Span, new_text: &str) -> Option<StringEdit> {
        let (member, path) = string_path(&self.root, old)?;
        let (start, end) = (old.start as usize, old.end as usize);
        let string = value_at(&self.root, &path)?;
        let span = string.span;
        let before = self
            .source
            .get(span.start as usize + 1..start)
            .filter(|s| plain(s))?;
        let after = self
            .source
            .get(end..(span.end as usize).checked_sub(1)?)
            .filter(|s| plain(s))?;
        self.source.get(start..end).filter(|s| plain(s))?;
        if !plain(new_text) {
            return None;
        }
        let content = SmolStr::from(format!("{before}{new_text}{after}"));
        let by = i64::try_from(new_text.len()).ok()? - i64::from(old.end - old.start);
        let new_len = i64::try_from(self.source.len()).ok()? + by;
        u32::try_from(new_len).ok()?;
        self.source.replace_range(start..end, new_text);
        let m = Move { at: old.end, by };
        move_value(&mut self.root, m);
        let element = match value_at(&self.root, path.get(..1)?)?.kind {
            ValueKind::Array(_) => path.get(1).copied(),
            _ => None,
        };
        let string = value_at_mut(&mut self.root, &path)?;
        string.kind = ValueKind::String(content);
        Some(StringEdit {
            member,
            element,
            old_span: span,
            new_span: string.span,
        })
    }
}

/// Text that stays the same inside a string: no quote, backslash or control character.
fn plain(s: &str) -> bool {
    !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20)
}

/// The path (child indexes; an object's member counts as its value) from the root to
/// the string value whose contents (between its quotes) contain `old`, with the index
/// of the root member it is under.
fn string_path(root: &Value, old: Span) -> Option<(usize, Vec<usize>)> {
    let inside = |v: &Value| v.span.start < old.start && old.end < v.span.end;
    let mut path = Vec::new();
    let mut v = root;
    loop {
        match &v.kind {
            ValueKind::String(_) => {
                let member = *path.first()?;
                return (path.len() >= 2).then_some((member, path));
            }
            ValueKind::Object(o) => {
                if o.members.iter().any(|m| inside(&m.name)) {
                    return None;
                }
                let i = o.members.iter().position(|m| inside(&m.value))?;
                path.push(i);
                v = &o.members.get(i)?.value;
            }
            ValueKind::Array(a) => {
                let i = a.elements.iter().position(inside)?;
                path.push(i);
                v = a.elements.get(i)?;
            }
            _ => return None,
        }
    }
}

fn value_at<'a>(root: &'a Value, path: &[usize]) -> Option<&'a Value> {
    let mut v = root;
    for &i in path {
        v = match &v.kind {
            ValueKind::Object(o) => &o.members.get(i)?.value,
            ValueKind::Array(a) => a.elements.get(i)?,
            _ => return None,
        };
    }
    Some(v)
}

fn value_at_mut<'a>(root: &'a mut Value, path: &[usize]) -> Option<&'a mut Value> {
    let mut v = root;
    for &i in path {
        v = match &mut v.kind {
            ValueKind::Object(o) => &mut o.members.get_mut(i)?.value,
            ValueKind::Array(a) => a.elements.get_mut(i)?,
            _ => return None,
        };
    }
    Some(v)
}

/// Moves every offset at or after `m.at` in `v`; subtrees that end before it are
/// skipped.
fn move_value(v: &mut Value, m: Move) {
    if v.span.end.max(v.after.span.end) < m.at {
        return;
    }
    m.span(&mut v.before.span);
    m.span(&mut v.span);
    m.span(&mut v.after.span);
    match &mut v.kind {
        ValueKind::Object(Object {
            members,
            after_last,
            ..
        }) => {
            m.span(&mut after_last.span);
            for member in members {
                move_value(&mut member.name, m);
                move_value(&mut member.value, m);
            }
        }
        ValueKind::Array(Array {
            elements,
            after_last,
            ..
        }) => {
            m.span(&mut after_last.span);
            for e in elements {
                move_value(e, m);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use crate::hujson::{Document, parse};
    use crate::span::Span;

    fn parsed(text: &str) -> Document {
        match parse(text).0 {
            Some(d) => d,
            None => unreachable!("the example parses"),
        }
    }

    fn spans(v: &crate::hujson::Value, out: &mut Vec<(u32, u32)>) {
        out.push((v.before.span.start, v.before.span.end));
        out.push((v.span.start, v.span.end));
        out.push((v.after.span.start, v.after.span.end));
        match &v.kind {
            crate::hujson::ValueKind::Object(o) => {
                out.push((o.after_last.span.start, o.after_last.span.end));
                for m in &o.members {
                    spans(&m.name, out);
                    spans(&m.value, out);
                }
            }
            crate::hujson::ValueKind::Array(a) => {
                out.push((a.after_last.span.start, a.after_last.span.end));
                for e in &a.elements {
                    spans(e, out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn an_edit_in_a_string_matches_a_fresh_parse() {
        let text = "{\n  // c\n  \"groups\": {\"group:a\": [\"alice@x.com\", \"b@x.com\"]},\n  \"hosts\": {\"h\": \"10.0.0.1\"} ,\n}";
        let at = text.find("alice").unwrap_or_default() + 2;
        let at = u32::try_from(at).unwrap_or_default();
        for new in ["", "Z", "zzzz", "é"] {
            let mut doc = parsed(text);
            let edit = doc.edit_in_string(Span::new(at, at + 1), new);
            assert!(edit.is_some());
            let fresh = parsed(&doc.source);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            spans(&doc.root, &mut a);
            spans(&fresh.root, &mut b);
            assert_eq!(a, b);
            assert!(doc.root.same_data(&fresh.root));
        }
        // A quote, a key, or an edit across strings needs a parse.
        let mut doc = parsed(text);
        assert_eq!(doc.edit_in_string(Span::new(at, at + 1), "\""), None);
        let key = u32::try_from(text.find("oup:a").unwrap_or_default()).unwrap_or_default();
        assert_eq!(doc.edit_in_string(Span::new(key, key + 1), "x"), None);
        assert_eq!(doc.edit_in_string(Span::new(at, at + 20), "x"), None);
        assert_eq!(doc.source, text);
    }
}
