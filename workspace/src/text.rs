//! The one-line form of a diagnostic, `file:line:col: severity[CODE] message`, shared by
//! every command and the node, so the same problem prints the same line everywhere;
//! and what makes messages safe to print.

use tailpolicy_policy::{Diagnostic, SourceFile};

/// Whether `c` must not reach a terminal or a log as is: control characters (but tab
/// and line breaks), bidirectional overrides and the byte order mark.
pub fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// A message safe to print: unsafe characters are written as `\u{…}` escapes.
pub fn safe_message(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::new();
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out.into()
}

/// `file:line:col: severity[CODE] message` for `d` in `file` (no line break; breaks
/// inside the message become spaces).
pub fn concise_line(file: &SourceFile, d: &Diagnostic) -> String {
    let at = file.line_col(d.span.start);
    let message = d.message.replace("\r\n", " ").replace(['\n', '\r'], " ");
    format!(
        "{}:{}:{}: {}[{}] {}",
        file.name(),
        at.line,
        at.column,
        d.severity,
        d.code,
        safe_message(&message)
    )
}
