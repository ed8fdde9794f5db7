//! The `concise` format: `file:line:col: severity[CODE] message`, one line per finding,
//! as editors' problem matchers expect.

use super::Located;

pub(super) fn render(diagnostics: &[Located<'_>]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        out.push_str(&line(d));
        out.push('\n');
    }
    out
}

/// One finding as a concise line (without the line break). Line breaks inside the
/// message are replaced by spaces so a finding is always one line.
pub(super) fn line(d: &Located<'_>) -> String {
    tailpolicy_workspace::text::concise_line(d.file, d.diagnostic)
}
