//! Lossless printing: the tree back to the exact text it was parsed from.

use super::tree::{Document, Value, ValueKind};

impl Document {
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
