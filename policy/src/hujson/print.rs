//! Lossless printing: the tree back to the exact text it was parsed from.

use super::tree::{Document, Extra, Value, ValueKind};

impl Document {
    /// The number of `//` and `/* */` comments in the file.
    pub fn comment_count(&self) -> usize {
        let mut count = 0;
        visit_extras(&self.root, &mut |extra| {
            count += count_comments(extra.text(&self.source))
        });
        count
    }

    /// The text as standard JSON, with every offset unchanged: comments are replaced by
    /// spaces (line breaks kept) and trailing commas by a space, as `hujson.Standardize`
    /// does. `serde_json` reads the result as the same value.
    pub fn to_standard_json(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        standardize_value(&self.source, &self.root, &mut out);
        out
    }

    /// Prints the tree back to text. For a tree produced by [`super::parse`] this is the
    /// input, byte for byte: every byte is either an extra, a scalar's text, a bracket or
    /// a separator, and this function emits them in order.
    pub fn to_source(&self) -> String {
        let mut out = String::with_capacity(self.source.len());
        print_value(&self.source, &self.root, &mut out);
        out
    }
}

fn print_value(source: &str, value: &Value, out: &mut String) {
    out.push_str(value.before.text(source));
    match &value.kind {
        ValueKind::Object(object) => {
            out.push('{');
            let last = object.members.len().saturating_sub(1);
            for (i, member) in object.members.iter().enumerate() {
                print_value(source, &member.name, out);
                out.push(':');
                print_value(source, &member.value, out);
                if i < last || object.trailing_comma {
                    out.push(',');
                }
            }
            out.push_str(object.after_last.text(source));
            out.push('}');
        }
        ValueKind::Array(array) => {
            out.push('[');
            let last = array.elements.len().saturating_sub(1);
            for (i, element) in array.elements.iter().enumerate() {
                print_value(source, element, out);
                if i < last || array.trailing_comma {
                    out.push(',');
                }
            }
            out.push_str(array.after_last.text(source));
            out.push(']');
        }
        _ => out.push_str(value.span.text(source)),
    }
    out.push_str(value.after.text(source));
}

fn standardize_value(source: &str, value: &Value, out: &mut String) {
    blank_comments(value.before.text(source), out);
    match &value.kind {
        ValueKind::Object(object) => {
            out.push('{');
            let last = object.members.len().saturating_sub(1);
            for (i, member) in object.members.iter().enumerate() {
                standardize_value(source, &member.name, out);
                out.push(':');
                standardize_value(source, &member.value, out);
                if i < last {
                    out.push(',');
                } else if object.trailing_comma {
                    out.push(' ');
                }
            }
            blank_comments(object.after_last.text(source), out);
            out.push('}');
        }
        ValueKind::Array(array) => {
            out.push('[');
            let last = array.elements.len().saturating_sub(1);
            for (i, element) in array.elements.iter().enumerate() {
                standardize_value(source, element, out);
                if i < last {
                    out.push(',');
                } else if array.trailing_comma {
                    out.push(' ');
                }
            }
            blank_comments(array.after_last.text(source), out);
            out.push(']');
        }
        _ => out.push_str(value.span.text(source)),
    }
    blank_comments(value.after.text(source), out);
}

/// Copies whitespace, replacing every byte of a comment with a space (line breaks kept,
/// so line numbers do not move; multi-byte characters become as many spaces as bytes).
fn blank_comments(extra: &str, out: &mut String) {
    if !extra.contains('/') {
        out.push_str(extra);
        return;
    }
    let mut in_line = false;
    let mut in_block = false;
    let bytes = extra.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let next = bytes.get(i + 1).copied();
        if in_line {
            if b == b'\n' {
                in_line = false;
                out.push('\n');
            } else {
                out.push(' ');
            }
        } else if in_block {
            if b == b'*' && next == Some(b'/') {
                in_block = false;
                out.push_str("  ");
                i += 1;
            } else {
                out.push(if b == b'\n' { '\n' } else { ' ' });
            }
        } else if b == b'/' && next == Some(b'/') {
            in_line = true;
            out.push_str("  ");
            i += 1;
        } else if b == b'/' && next == Some(b'*') {
            in_block = true;
            out.push_str("  ");
            i += 1;
        } else {
            out.push(char::from(b));
        }
        i += 1;
    }
}

fn visit_extras(value: &Value, f: &mut impl FnMut(&Extra)) {
    f(&value.before);
    match &value.kind {
        ValueKind::Object(object) => {
            for member in &object.members {
                visit_extras(&member.name, f);
                visit_extras(&member.value, f);
            }
            f(&object.after_last);
        }
        ValueKind::Array(array) => {
            for element in &array.elements {
                visit_extras(element, f);
            }
            f(&array.after_last);
        }
        _ => {}
    }
    f(&value.after);
}

/// Counts the comments in a run of whitespace and comments.
fn count_comments(mut extra: &str) -> usize {
    let mut count = 0;
    loop {
        extra = extra.trim_start_matches([' ', '\t', '\r', '\n']);
        let rest = if let Some(r) = extra.strip_prefix("//") {
            r.find('\n').map_or("", |n| r.get(n..).unwrap_or(""))
        } else if let Some(r) = extra.strip_prefix("/*") {
            r.find("*/").map_or("", |n| r.get(n + 2..).unwrap_or(""))
        } else {
            return count;
        };
        count += 1;
        extra = rest;
    }
}
