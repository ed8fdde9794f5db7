//! Inline suppression: `// tailpolicy:ignore CODE…` comments that drop diagnostics.
//!
//! A suppression comment is a `//` line comment whose text starts with
//! `tailpolicy:ignore`, followed by one or more codes separated by commas and/or
//! spaces, optionally followed by `--` and a free-text reason:
//!
//! ```text
//! "src": ["tag:legacy"], // tailpolicy:ignore TP1001, TP1003 -- kept for the migration
//! // tailpolicy:ignore TP1005
//! "dst": ["*:*"],
//! ```
//!
//! - A comment that shares its line with code applies to diagnostics that start on
//!   that line.
//! - A comment alone on its line applies to the next line that holds code (blank lines
//!   and other comment-only lines in between are skipped).
//! - Syntax errors (`TP00xx`) cannot be suppressed: a file Tailscale cannot parse is
//!   never acceptable.
//! - A code that is not registered, a syntax code, or a comment naming no code at all
//!   is reported as [`INVALID_SUPPRESSION`] (a warning) at the offending token.
//! - A code that suppressed nothing is reported as [`UNUSED_SUPPRESSION`] (an info,
//!   which never fails a run) so stale comments get noticed.
//!
//! The scanner is lexical (it skips strings and block comments), so it works on files
//! that fail to parse.

use crate::declare_rule;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::rules::{ALL_RULES, Code, Rule};
use crate::source::SourceFile;
use crate::span::Span;
use crate::suggest::did_you_mean;
use std::collections::HashMap;

/// The directive that starts a suppression comment.
pub const DIRECTIVE: &str = "tailpolicy:ignore";

declare_rule!(
    INVALID_SUPPRESSION,
    "TP0601",
    "invalid-suppression-comment",
    Suspicious,
    Warning,
    "a `tailpolicy:ignore` comment names an unknown code, a syntax error code, or no code",
    what = r#"Every `// tailpolicy:ignore` comment: each code it names must be a registered
diagnostic code, must not be a syntax error (`TP00xx`), and the comment must name at
least one code. Text after `--` is a free-form reason and is not checked."#,
    why = r#"A misspelt code suppresses nothing, so the finding the author meant to silence keeps
appearing, or worse, a later edit relies on a suppression that never worked. Syntax
errors cannot be suppressed because Tailscale rejects a file it cannot parse."#,
    example = r#"{
	// tailpolicy:ignore TP10001 -- typo: five digits
	"acls": [],
}"#,
    fix = r#"Name the code exactly as `tailpolicy lint` printed it, e.g.
`// tailpolicy:ignore TP1001`, and put any explanation after `--`. Run
`tailpolicy explain --list` to see every code."#,
);

declare_rule!(
    UNUSED_SUPPRESSION,
    "TP0602",
    "unused-suppression",
    Style,
    Info,
    "a `tailpolicy:ignore` comment names a code that is not reported on its line",
    what = r#"Every code in a `// tailpolicy:ignore` comment: some diagnostic with that code must
start on the line the comment applies to (its own line for a trailing comment, the
next line holding code for a comment on its own line)."#,
    why = r#"A suppression outlives the problem it was written for: once the policy changes, a
stale comment can silently hide a new, unrelated finding with the same code on that
line. This is an info by default, so it never fails a run; raise it with
`[lint.severity] TP0602 = "warning"` in `tailpolicy.toml` to keep suppressions tidy.
Findings that need a node inventory (`TP05xx`) are only reported with `--nodes`, so
their suppressions look unused without one."#,
    example = r#"{
	"groups": {
		// tailpolicy:ignore TP1001 -- but the group is used now
		"group:eng": ["alice@example.com"],
	},
	"acls": [{"action": "accept", "src": ["group:eng"], "dst": ["*:22"]}],
}"#,
    fix = r#"Remove the code from the comment (or the whole comment when it names no other code)."#,
);

/// One parsed suppression comment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Suppression {
    /// The 1-based line whose diagnostics it suppresses.
    pub target_line: u32,
    /// The codes it names that are registered and suppressible, with where each is
    /// written in the comment.
    pub codes: Vec<(&'static str, Span)>,
}

/// Removes diagnostics suppressed by `// tailpolicy:ignore` comments in `file`, and
/// adds an [`INVALID_SUPPRESSION`] warning for every bad code in such a comment and an
/// [`UNUSED_SUPPRESSION`] info for every code that suppressed nothing.
///
/// Codes are resolved against [`ALL_RULES`] plus the codes of `diagnostics`.
pub fn apply_suppressions(file: &SourceFile, diagnostics: Diagnostics) -> Diagnostics {
    apply_suppressions_with(file, diagnostics, ALL_RULES)
}

/// [`apply_suppressions`] against an explicit rule registry (`rules`), for tests and
/// for callers with extra rules. Codes of the diagnostics themselves are always known.
pub fn apply_suppressions_with(
    file: &SourceFile,
    diagnostics: Diagnostics,
    rules: &[&'static Rule],
) -> Diagnostics {
    let diagnostics = diagnostics.into_vec();
    let mut known: Vec<&'static Rule> = rules.to_vec();
    // One entry per code, not per diagnostic: each suppression token is looked up here.
    let mut extra: Vec<&'static Rule> = diagnostics.iter().map(|d| d.code.rule()).collect();
    extra.sort_unstable_by_key(|r| r.code);
    extra.dedup_by_key(|r| r.code);
    known.extend(
        extra
            .into_iter()
            .filter(|r| !rules.iter().any(|k| k.code == r.code)),
    );
    let scanned = Scanned::new(file, &known);
    scanned.apply(file, diagnostics)
}

/// A file's suppression comments, scanned once against [`ALL_RULES`]: a host that
/// keeps it with the file's parse applies it to each new set of diagnostics without
/// reading the text again.
#[derive(Clone, Debug, Default)]
pub struct Scanned {
    suppressions: Vec<Suppression>,
    warnings: Vec<Diagnostic>,
}

impl Scanned {
    /// Scans `file`'s suppression comments against the registry `rules`.
    pub fn new(file: &SourceFile, rules: &[&'static Rule]) -> Self {
        let (suppressions, warnings) = scan(file, rules);
        Self {
            suppressions,
            warnings: warnings.into_vec(),
        }
    }

    /// Scans `file` against [`ALL_RULES`].
    pub fn registered(file: &SourceFile) -> Self {
        Self::new(file, ALL_RULES)
    }

    /// [`apply_suppressions`] with this scan of `file`: the same result, as long as
    /// every code of `diagnostics` is registered in [`ALL_RULES`] (otherwise `file` is
    /// scanned again with those codes known).
    pub fn apply_to(&self, file: &SourceFile, diagnostics: Diagnostics) -> Diagnostics {
        let all_registered = diagnostics
            .iter()
            .all(|d| ALL_RULES.iter().any(|r| r.code == d.code.as_str()));
        if all_registered {
            self.apply(file, diagnostics.into_vec())
        } else {
            apply_suppressions(file, diagnostics)
        }
    }

    fn apply(&self, file: &SourceFile, diagnostics: Vec<Diagnostic>) -> Diagnostics {
        let suppressions = &self.suppressions;
        let mut out: Diagnostics = self.warnings.iter().cloned().collect();
        let mut used: Vec<Vec<bool>> = suppressions
            .iter()
            .map(|s| vec![false; s.codes.len()])
            .collect();
        // Suppressions by the line they apply to: each diagnostic looks at its own line's.
        let mut by_line: HashMap<u32, Vec<usize>> = HashMap::new();
        for (i, suppression) in suppressions.iter().enumerate() {
            by_line.entry(suppression.target_line).or_default().push(i);
        }
        for diagnostic in diagnostics {
            let line = file.line(diagnostic.span.start);
            let mut suppressed = false;
            if !is_syntax_code(diagnostic.code.as_str()) {
                let on_line = by_line.get(&line).map(Vec::as_slice).unwrap_or_default();
                for &i in on_line {
                    let (Some(suppression), Some(used)) = (suppressions.get(i), used.get_mut(i))
                    else {
                        continue;
                    };
                    for ((code, _), used) in suppression.codes.iter().zip(used.iter_mut()) {
                        if *code == diagnostic.code.as_str() {
                            *used = true;
                            suppressed = true;
                        }
                    }
                }
            }
            if !suppressed {
                out.push(diagnostic);
            }
        }
        for (suppression, used) in suppressions.iter().zip(&used) {
            for ((code, span), used) in suppression.codes.iter().zip(used) {
                if !used {
                    out.push(
                        Diagnostic::new(
                            Code(&UNUSED_SUPPRESSION),
                            *span,
                            format!(
                                "`{code}` is not reported on line {}",
                                suppression.target_line
                            ),
                        )
                        .with_primary_label("suppresses nothing")
                        .with_help(format!("remove `{code}` from the comment")),
                    );
                }
            }
        }
        out
    }
}

/// Parses every suppression comment of `file` against the registry `rules`, returning
/// the suppressions and the [`INVALID_SUPPRESSION`] warnings for bad codes.
pub fn scan(file: &SourceFile, rules: &[&'static Rule]) -> (Vec<Suppression>, Diagnostics) {
    let text = file.text();
    let mut suppressions = Vec::new();
    let mut warnings = Diagnostics::new();
    for comment in line_comments(text) {
        let body_start = comment.start + 2;
        let body = Span::new(body_start, comment.end).text(text);
        let trimmed = body.trim_start();
        let Some(rest) = trimmed.strip_prefix(DIRECTIVE) else {
            continue;
        };
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            continue;
        }
        let rest_start = body_start + len_u32(body.len() - rest.len());
        let codes = parse_codes(rest, rest_start, rules, &mut warnings);
        if codes.is_none() {
            let directive_start = body_start + len_u32(body.len() - trimmed.len());
            let directive = Span::new(directive_start, directive_start + len_u32(DIRECTIVE.len()));
            warnings.push(
                Diagnostic::new(
                    Code(&INVALID_SUPPRESSION),
                    directive,
                    "suppression comment names no code",
                )
                .with_primary_label("no code follows")
                .with_help("name the codes to ignore, e.g. `// tailpolicy:ignore TP1001`"),
            );
        }
        let line = file.line(comment.start);
        let target_line = if is_own_line(text, comment.start) {
            next_code_line(file, line)
        } else {
            line
        };
        suppressions.push(Suppression {
            target_line,
            codes: codes.unwrap_or_default(),
        });
    }
    (suppressions, warnings)
}

/// Whether `code` is a syntax error code (`TP00xx`), which cannot be suppressed or
/// re-levelled.
pub fn is_syntax_code(code: &str) -> bool {
    code.len() == 6
        && code
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("TP00"))
}

/// Parses the code list after the directive. `None` when it names no code at all.
fn parse_codes(
    rest: &str,
    rest_start: u32,
    rules: &[&'static Rule],
    warnings: &mut Diagnostics,
) -> Option<Vec<(&'static str, Span)>> {
    let mut codes: Vec<(&'static str, Span)> = Vec::new();
    let mut named_any = false;
    for (offset, token) in tokens(rest) {
        if token == "--" || token.starts_with("--") {
            break;
        }
        named_any = true;
        let start = rest_start + len_u32(offset);
        let span = Span::new(start, start + len_u32(token.len()));
        if let Some(rule) = rules.iter().find(|r| r.code.eq_ignore_ascii_case(token)) {
            if is_syntax_code(rule.code) {
                warnings.push(
                    Diagnostic::new(
                        Code(&INVALID_SUPPRESSION),
                        span,
                        format!("syntax error `{}` cannot be suppressed", rule.code),
                    )
                    .with_primary_label("syntax error code")
                    .with_help("fix the syntax error; Tailscale rejects a file it cannot parse"),
                );
            } else if !codes.iter().any(|(c, _)| *c == rule.code) {
                codes.push((rule.code, span));
            }
            continue;
        }
        let help = match rules.iter().find(|r| r.name == token) {
            Some(rule) => format!("write the code `{}` instead of the rule name", rule.code),
            None => match did_you_mean(
                token,
                rules.iter().map(|r| r.code).filter(|c| !is_syntax_code(c)),
            ) {
                Some(code) => format!("did you mean `{code}`?"),
                None => "run `tailpolicy explain --list` to see every code".to_owned(),
            },
        };
        warnings.push(
            Diagnostic::new(
                Code(&INVALID_SUPPRESSION),
                span,
                format!("unknown code `{token}` in suppression comment"),
            )
            .with_primary_label("not a registered code")
            .with_help(help),
        );
    }
    named_any.then_some(codes)
}

/// Splits on commas and whitespace, yielding `(byte offset, token)`.
fn tokens(s: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (i, c) in s.char_indices().chain(std::iter::once((s.len(), ' '))) {
        let separator = c == ',' || c.is_whitespace();
        match (separator, start) {
            (true, Some(st)) => {
                if let Some(token) = s.get(st..i) {
                    tokens.push((st, token));
                }
                start = None;
            }
            (false, None) => start = Some(i),
            _ => {}
        }
    }
    tokens.into_iter()
}

/// Spans of every `//` comment (from the slashes to the end of the line, excluding the
/// line break), skipping strings and block comments.
fn line_comments(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let mut comments = Vec::new();
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        match (b, bytes.get(i + 1).copied()) {
            (b'"', _) => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'\\' => i += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                }
            }
            (b'/', Some(b'/')) => {
                let end = bytes
                    .get(i..)
                    .and_then(|rest| rest.iter().position(|&c| c == b'\n'))
                    .map_or(bytes.len(), |p| i + p);
                let end_trimmed = if end > i && bytes.get(end - 1) == Some(&b'\r') {
                    end - 1
                } else {
                    end
                };
                comments.push(Span::new(len_u32(i), len_u32(end_trimmed)));
                i = end;
            }
            (b'/', Some(b'*')) => {
                i += 2;
                while let Some(&c) = bytes.get(i) {
                    if c == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        i += 2;
                        break;
                    }
                    i += 1;
                }
            }
            _ => i += 1,
        }
    }
    comments
}

/// Whether only whitespace precedes byte `offset` on its line.
fn is_own_line(text: &str, offset: u32) -> bool {
    let before = text.get(..offset as usize).unwrap_or("");
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    before
        .get(line_start..)
        .is_some_and(|s| s.trim().is_empty())
}

/// The first line after `line` holding something other than whitespace or a `//`
/// comment; `line + 1` when there is none.
fn next_code_line(file: &SourceFile, line: u32) -> u32 {
    let mut candidate = line.saturating_add(1);
    // Line by line through the index of line starts: cost proportional to the lines
    // skipped, not to the file before them.
    while let Some(text) = file.line_text(candidate) {
        let trimmed = text.trim();
        if !trimmed.is_empty() && !trimmed.starts_with("//") {
            return candidate;
        }
        candidate = candidate.saturating_add(1);
    }
    line + 1
}

fn len_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Severity;
    use crate::rules::Category;

    static LINT_A: Rule = Rule {
        code: "TP1901",
        name: "test-lint-a",
        category: Category::Style,
        severity: Severity::Warning,
        summary: "a",
        explanation: "a",
    };
    static LINT_B: Rule = Rule {
        code: "TP1902",
        name: "test-lint-b",
        category: Category::Style,
        severity: Severity::Warning,
        summary: "b",
        explanation: "b",
    };
    static SYNTAX: Rule = Rule {
        code: "TP0099",
        name: "test-syntax",
        category: Category::Correctness,
        severity: Severity::Error,
        summary: "s",
        explanation: "s",
    };
    static RULES: &[&Rule] = &[&SYNTAX, &LINT_A, &LINT_B];

    /// A diagnostic of `rule` at the first occurrence of `needle` in `text`.
    fn at(rule: &'static Rule, text: &str, needle: &str) -> Diagnostic {
        let start = text.find(needle).map_or(0, |p| p as u32);
        Diagnostic::new(
            Code(rule),
            Span::new(start, start + needle.len() as u32),
            "x",
        )
    }

    fn run(text: &str, diags: Vec<Diagnostic>) -> Vec<(String, String)> {
        let file = SourceFile::new("p.hujson", text);
        apply_suppressions_with(&file, diags.into_iter().collect(), RULES)
            .iter()
            .map(|d| (d.code.to_string(), file.snippet(d.span).to_owned()))
            .collect()
    }

    #[test]
    fn trailing_comment_suppresses_its_own_line_only() {
        let text = "{\n\"a\": 1, // tailpolicy:ignore TP1901\n\"b\": 2,\n}";
        let out = run(
            text,
            vec![at(&LINT_A, text, "\"a\""), at(&LINT_A, text, "\"b\"")],
        );
        assert_eq!(out, vec![("TP1901".into(), "\"b\"".into())]);
    }

    #[test]
    fn comment_above_skips_blank_and_comment_lines() {
        let text = "{\n  // tailpolicy:ignore TP1901\n\n  // why\n  \"a\": 1,\n  \"b\": 2,\n}";
        let out = run(
            text,
            vec![at(&LINT_A, text, "\"a\""), at(&LINT_A, text, "\"b\"")],
        );
        assert_eq!(out, vec![("TP1901".into(), "\"b\"".into())]);
    }

    #[test]
    fn several_codes_with_commas_spaces_and_a_reason() {
        let text = "{\n\"a\": 1, // tailpolicy:ignore tp1901,TP1902 , -- because TP9999\n}";
        let out = run(
            text,
            vec![at(&LINT_A, text, "\"a\""), at(&LINT_B, text, "1")],
        );
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn other_codes_are_kept_and_unused_codes_reported() {
        let text = "{\n\"a\": 1, // tailpolicy:ignore TP1902\n}";
        let out = run(text, vec![at(&LINT_A, text, "\"a\"")]);
        assert_eq!(
            out,
            vec![
                ("TP1901".into(), "\"a\"".into()),
                ("TP0602".into(), "TP1902".into())
            ]
        );
    }

    #[test]
    fn unused_suppression_is_an_info_per_unused_code() {
        let text = "{\n// tailpolicy:ignore TP1901, TP1902\n\"a\": 1,\n\"b\": 2, // tailpolicy:ignore TP1901\n}";
        let file = SourceFile::new("p.hujson", text);
        let out = apply_suppressions_with(
            &file,
            [at(&LINT_B, text, "\"a\"")].into_iter().collect(),
            RULES,
        );
        let got: Vec<_> = out
            .iter()
            .map(|d| {
                (
                    d.code.as_str(),
                    d.severity,
                    file.line_col(d.span.start).line,
                    d.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "TP0602",
                    Severity::Info,
                    2,
                    "`TP1901` is not reported on line 3"
                ),
                (
                    "TP0602",
                    Severity::Info,
                    4,
                    "`TP1901` is not reported on line 4"
                ),
            ]
        );
    }

    #[test]
    fn unknown_code_and_rule_name_are_warnings_at_the_token() {
        let text = "{\n\"a\": 1, // tailpolicy:ignore TP1901 TP9999 test-lint-b\n}";
        let file = SourceFile::new("p.hujson", text);
        let out = apply_suppressions_with(
            &file,
            [at(&LINT_A, text, "\"a\"")].into_iter().collect(),
            RULES,
        );
        let got: Vec<_> = out
            .iter()
            .map(|d| {
                (
                    d.code.as_str(),
                    d.severity,
                    file.snippet(d.span),
                    d.message.as_str(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "TP0601",
                    Severity::Warning,
                    "TP9999",
                    "unknown code `TP9999` in suppression comment"
                ),
                (
                    "TP0601",
                    Severity::Warning,
                    "test-lint-b",
                    "unknown code `test-lint-b` in suppression comment"
                ),
            ]
        );
        assert_eq!(
            out.iter().nth(1).and_then(|d| d.help.clone()).as_deref(),
            Some("write the code `TP1902` instead of the rule name")
        );
        let typo = "{\n\"a\": 1, // tailpolicy:ignore TP1O01\n}";
        let out = apply_suppressions_with(&SourceFile::new("p", typo), Diagnostics::new(), RULES);
        let help: Vec<_> = out.iter().map(|d| d.help.as_deref()).collect();
        assert_eq!(help, vec![Some("did you mean `TP1901`?")]);
    }

    #[test]
    fn syntax_errors_are_never_suppressed() {
        let text = "{\n\"a\": 1, // tailpolicy:ignore TP0099\n}";
        let file = SourceFile::new("p.hujson", text);
        let out =
            apply_suppressions_with(&file, [at(&SYNTAX, text, "1")].into_iter().collect(), RULES);
        let codes: Vec<_> = out.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["TP0601", "TP0099"]);
    }

    #[test]
    fn empty_directive_is_a_warning() {
        let text = "{ // tailpolicy:ignore\n}";
        let file = SourceFile::new("p.hujson", text);
        let out = apply_suppressions_with(&file, Diagnostics::new(), RULES);
        let got: Vec<_> = out
            .iter()
            .map(|d| (file.snippet(d.span), d.message.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![("tailpolicy:ignore", "suppression comment names no code")]
        );
    }

    #[test]
    fn directives_in_strings_and_block_comments_and_lookalikes_are_ignored() {
        let text = "{\n\"a // tailpolicy:ignore TP1901\": 1, /* // tailpolicy:ignore TP1901 */\n\
                    \"b\": 2, // tailpolicy:ignored TP1901\n\"c\": \"\\\"//\", // tailpolicy:ignore TP1901\n}";
        let out = run(
            text,
            vec![
                at(&LINT_A, text, "\"a"),
                at(&LINT_A, text, "\"b\""),
                at(&LINT_A, text, "\"c\""),
            ],
        );
        let kept: Vec<_> = out.iter().map(|(_, s)| s.as_str()).collect();
        assert_eq!(kept, vec!["\"a", "\"b\""]);
    }

    #[test]
    fn crlf_line_endings() {
        let text = "{\r\n  // tailpolicy:ignore TP1901\r\n  \"a\": 1,\r\n}";
        let out = run(text, vec![at(&LINT_A, text, "\"a\"")]);
        assert!(out.is_empty(), "{out:?}");
    }

    #[test]
    fn registered_rule_is_documented_and_listed() {
        assert!(crate::rules::find_rule("TP0601").is_some());
        assert!(!is_syntax_code("TP0601"));
        assert!(is_syntax_code("tp0001"));
    }
}
