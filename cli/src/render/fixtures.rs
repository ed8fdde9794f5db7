//! Hand-built diagnostics for renderer tests, with test-only rules.

use super::FileDiagnostics;
use tailpolicy_policy::{Category, Code, Diagnostic, Rule, Severity, SourceFile, Span};

pub(crate) static UNDEFINED: Rule = Rule {
    code: "TP0298",
    name: "test-undefined-tag",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "test rule: a tag is used but not defined",
    explanation: "### What it checks\n\nTest rule.\n",
};
pub(crate) static UNUSED: Rule = Rule {
    code: "TP1998",
    name: "test-unused-group",
    category: Category::Suspicious,
    severity: Severity::Warning,
    summary: "test rule: a group | is never used",
    explanation: "Test rule.",
};
pub(crate) static NOTE: Rule = Rule {
    code: "TP1999",
    name: "test-note",
    category: Category::Style,
    severity: Severity::Info,
    summary: "test rule: something worth knowing",
    explanation: "Test rule.",
};

pub(crate) const POLICY: &str = "{\n\t\"groups\": {\n\t\t\"group:eng\": [\"alice@example.com\"],\n\t\t\"group:ops\": [\"bob@example.com\"],\n\t},\n\t\"acls\": [\n\t\t{\"action\": \"accept\", \"src\": [\"group:eng\"], \"dst\": [\"tag:wéb:443\"]},\n\t],\n}\n";

/// The span of the `n`th (0-based) occurrence of `needle` in `text`.
pub(crate) fn find(text: &str, needle: &str, n: usize) -> Span {
    let start = text.match_indices(needle).nth(n).map_or(0, |(i, _)| i);
    let start = u32::try_from(start).unwrap_or(0);
    Span::new(start, start + u32::try_from(needle.len()).unwrap_or(0))
}

/// `policy.hujson` with an error (label + help), a warning with a secondary label, and
/// an info; pushed out of order so renderers must sort.
pub(crate) fn policy() -> (SourceFile, Vec<Diagnostic>) {
    let file = SourceFile::new("policy.hujson", POLICY);
    let diagnostics = vec![
        Diagnostic::new(
            Code(&NOTE),
            find(POLICY, "\"acls\"", 0),
            "the policy has 1 acl rule",
        ),
        Diagnostic::new(
            Code(&UNDEFINED),
            find(POLICY, "tag:wéb", 0),
            "tag `tag:wéb` is not defined",
        )
        .with_primary_label("used here")
        .with_help("add `\"tag:wéb\"` to `tagOwners`"),
        Diagnostic::new(
            Code(&UNUSED),
            find(POLICY, "\"group:ops\"", 0),
            "group `group:ops` is never used",
        )
        .with_primary_label("defined here")
        .with_label(find(POLICY, "\"group:eng\"", 1), "only `group:eng` is used"),
    ];
    (file, diagnostics)
}

/// A file whose name and message need escaping in GitHub workflow commands.
pub(crate) fn awkward() -> (SourceFile, Vec<Diagnostic>) {
    let text = "{\"a\": 1}\r\n";
    let file = SourceFile::new("dir/a,b:c%.hujson", text);
    let diagnostics = vec![
        Diagnostic::new(
            Code(&UNUSED),
            find(text, "\"a\"", 0),
            "100% odd: key `a`, line one\r\nline two",
        )
        .with_help("a, b: c"),
    ];
    (file, diagnostics)
}

/// One file with 12 errors, 11 warnings and 1 info, for the annotation caps.
pub(crate) fn many() -> (SourceFile, Vec<Diagnostic>) {
    let mut text = String::from("[\n");
    for i in 0..24 {
        text.push_str(&format!("\t\"k{i:02}\",\n"));
    }
    text.push_str("]\n");
    let mut diagnostics = Vec::new();
    for i in 0..24usize {
        let span = find(&text, &format!("\"k{i:02}\""), 0);
        let (rule, what) = match i {
            0..12 => (&UNDEFINED, "error"),
            12..23 => (&UNUSED, "warning"),
            _ => (&NOTE, "info"),
        };
        diagnostics.push(Diagnostic::new(
            Code(rule),
            span,
            format!("finding {i} ({what}) | piped"),
        ));
    }
    (SourceFile::new("many.hujson", text), diagnostics)
}

/// Borrows owned fixtures as renderer input.
pub(crate) fn borrow(fixtures: &[(SourceFile, Vec<Diagnostic>)]) -> Vec<FileDiagnostics<'_>> {
    fixtures
        .iter()
        .map(|(file, diagnostics)| FileDiagnostics { file, diagnostics })
        .collect()
}
