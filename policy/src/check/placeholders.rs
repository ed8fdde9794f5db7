//! Template placeholders left in the policy (`TP1014`): `${VAR}`, `{{ var }}`, `%VAR%`
//! in any key or string value, found on the lossless tree.

use super::lint_codes as lc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::hujson::{Document, Value, ValueKind};
use crate::span::Span;

/// Reports every string or key of `doc` holding a template placeholder.
pub fn check(doc: &Document, diags: &mut Diagnostics) {
    // An explicit stack: the tree's depth is bounded by the parser, but no recursion
    // is needed either.
    let mut stack: Vec<&Value> = vec![&doc.root];
    while let Some(v) = stack.pop() {
        match &v.kind {
            ValueKind::String(s) => report(s, v.span, diags),
            ValueKind::Array(a) => stack.extend(a.elements.iter().rev()),
            ValueKind::Object(o) => {
                for m in o.members.iter().rev() {
                    stack.push(&m.value);
                }
                for m in &o.members {
                    report(m.key(), m.name.span, diags);
                }
            }
            _ => {}
        }
    }
}

pub(super) fn report(s: &str, span: Span, diags: &mut Diagnostics) {
    if let Some(found) = placeholder(s) {
        diags.push(
            Diagnostic::new(
                lc::TEMPLATE_PLACEHOLDER.as_code(),
                span,
                format!("`{found}` looks like a template placeholder that was not expanded"),
            )
            .with_help("render the template (Terraform, Helm, envsubst, …) before checking, or write the value"),
        );
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The first placeholder in `s`, if any.
fn placeholder(s: &str) -> Option<&str> {
    if let Some(start) = s.find("${")
        && let Some(len) = s.get(start..)?.find('}')
    {
        return s.get(start..=start + len);
    }
    if let Some(start) = s.find("{{")
        && let Some(len) = s.get(start..)?.find("}}")
    {
        return s.get(start..start + len + 2);
    }
    let mut rest = s;
    let mut offset = 0;
    while let Some(a) = rest.find('%') {
        let after = rest.get(a + 1..)?;
        let b = after.find('%')?;
        let name = after.get(..b)?;
        if is_ident(name) {
            return s.get(offset + a..offset + a + b + 2);
        }
        offset += a + 1;
        rest = after;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::placeholder;

    #[test]
    fn finds_the_three_styles_only() {
        assert_eq!(placeholder("${ADMIN}@example.com"), Some("${ADMIN}"));
        assert_eq!(placeholder("group:{{ .Team }}"), Some("{{ .Team }}"));
        assert_eq!(placeholder("%USER%@example.com"), Some("%USER%"));
        assert_eq!(placeholder("100% sure, 50%"), None);
        assert_eq!(placeholder("tag:web:80,443"), None);
        assert_eq!(placeholder("$HOME"), None);
    }
}
