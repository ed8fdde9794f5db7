//! Turning a failed pest parse into one helpful diagnostic.
//!
//! pest reports the furthest offset it reached and the named rules it tried there (its
//! "positives"). The generic message is built from those ("expected `,` or `}`, found
//! `\"`"); before that, the text at the offset is checked for the mistakes people actually
//! make (JSON5/YAML syntax, unterminated strings and comments, missing commas), which get
//! their own message and help.

use super::codes::{
    EMPTY_DOCUMENT, INVALID_COMMENT, INVALID_STRING, NESTING_TOO_DEEP, SYNTAX_ERROR,
    UNSUPPORTED_SYNTAX,
};
use super::grammar::Rule;
use crate::diagnostic::Diagnostic;
use crate::rules::{Code, Rule as RuleMeta};
use crate::span::Span;

/// What the parser would have accepted at the error offset.
#[derive(Default)]
struct Expected {
    value: bool,
    name: bool,
    comma: bool,
    colon: bool,
    close_brace: bool,
    close_bracket: bool,
    end: bool,
}

impl Expected {
    fn from_rules(rules: &[Rule]) -> Self {
        let mut e = Expected::default();
        for rule in rules {
            match rule {
                Rule::object
                | Rule::array
                | Rule::string
                | Rule::number
                | Rule::true_lit
                | Rule::false_lit
                | Rule::null_lit
                // pest names the whole document when it fails at offset 0.
                | Rule::document => e.value = true,
                Rule::name => e.name = true,
                Rule::comma => e.comma = true,
                Rule::colon => e.colon = true,
                Rule::close_brace => e.close_brace = true,
                Rule::close_bracket => e.close_bracket = true,
                Rule::EOI => e.end = true,
                _ => {}
            }
        }
        e
    }

    /// "`,` or `}`"-style list.
    fn describe(&self) -> String {
        let mut items: Vec<&str> = Vec::new();
        if self.name {
            items.push("a member name");
        }
        if self.value {
            items.push("a value");
        }
        if self.colon {
            items.push("`:`");
        }
        if self.comma {
            items.push("`,`");
        }
        if self.close_brace {
            items.push("`}`");
        }
        if self.close_bracket {
            items.push("`]`");
        }
        if self.end {
            items.push("end of file");
        }
        match items.as_slice() {
            [] => "valid HuJSON".to_owned(),
            [one] => (*one).to_owned(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }
}

/// The diagnostic for a pest failure at byte `pos` with the given positives.
pub(crate) fn syntax_error(source: &str, pos: usize, positives: &[Rule]) -> Diagnostic {
    let expected = Expected::from_rules(positives);
    let rest = source.get(pos..).unwrap_or("");
    let at = offset(pos);
    let Some(c) = rest.chars().next() else {
        return end_of_file(source, pos, &expected);
    };
    let here = Span::new(at, at + offset(c.len_utf8()));
    let found = describe_char(c);
    let diag = |rule: &'static RuleMeta, span: Span, message: String| {
        Diagnostic::new(Code(rule), span, message)
    };

    match c {
        '/' if rest.starts_with("/*") => {
            return diag(
                &INVALID_COMMENT,
                Span::new(at, at + 2),
                "unterminated block comment".to_owned(),
            )
            .with_primary_label("comment starts here and is never closed")
            .with_help("close the comment with `*/`");
        }
        '/' if rest.starts_with("//") => {
            return diag(
                &INVALID_COMMENT,
                Span::new(at, offset(source.len())),
                "line comment at the end of the file has no line break".to_owned(),
            )
            .with_help("end the file with a line break; HuJSON line comments end with one");
        }
        '/' => {
            return diag(&INVALID_COMMENT, here, "unexpected `/`".to_owned()).with_help(
                "comments start with `//` (to the end of the line) or `/*` (up to `*/`)",
            );
        }
        '#' => {
            let line_end = rest.find('\n').map_or(source.len(), |n| pos + n);
            return diag(
                &UNSUPPORTED_SYNTAX,
                Span::new(at, offset(line_end)),
                "`#` comments are not allowed in HuJSON".to_owned(),
            )
            .with_primary_label("comment starts here")
            .with_help("use `//` for line comments or `/* */` for block comments");
        }
        '\'' => {
            return diag(
                &UNSUPPORTED_SYNTAX,
                here,
                "single-quoted strings are not allowed in HuJSON".to_owned(),
            )
            .with_help("use double quotes: `\"...\"`");
        }
        '"' if expected.value || expected.name => {
            if let Some(d) = string_error(source, pos) {
                return d;
            }
        }
        _ => {}
    }

    if (expected.value || expected.name)
        && let Some(d) = bad_value_start(source, pos, c, &expected)
    {
        return d;
    }

    if (expected.comma || expected.colon || expected.end)
        && let Some(d) = bad_number_end(source, pos, c)
    {
        return d;
    }

    if expected.comma && starts_value(c) {
        let what = if expected.close_brace {
            "members"
        } else {
            "elements"
        };
        return diag(&SYNTAX_ERROR, here, format!("missing `,` between {what}"))
            .with_primary_label("expected `,` before this")
            .with_help("separate the members of an object and the elements of an array with `,`");
    }

    if expected.end && !expected.comma {
        let line_end = rest.find('\n').map_or(source.len(), |n| pos + n);
        return diag(
            &SYNTAX_ERROR,
            Span::new(at, offset(line_end.max(pos + c.len_utf8()))),
            format!("unexpected {found} after the top-level value"),
        )
        .with_primary_label("expected end of file")
        .with_help("a HuJSON file holds exactly one value; remove what follows, or check for an extra `}` or `]` earlier");
    }

    let mut d = diag(
        &SYNTAX_ERROR,
        here,
        format!("expected {}, found {found}", expected.describe()),
    );
    if c == ',' && (expected.value || expected.name) {
        d = d.with_help("remove the extra `,`");
    } else if (c == '}' && expected.close_bracket) || (c == ']' && expected.close_brace) {
        if let Some(open) = innermost_open(source, pos) {
            let label = if expected.close_brace {
                "this `{` is not closed"
            } else {
                "this `[` is not closed"
            };
            d = d.with_label(Span::new(offset(open), offset(open) + 1), label);
        }
        d = d.with_help("the closing bracket does not match the opening one");
    } else if expected.colon {
        d = d.with_help("write `\"name\": value`");
    }
    d
}

fn offset(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

fn describe_char(c: char) -> String {
    match c {
        '\n' | '\r' => "end of line".to_owned(),
        '"' => "a string".to_owned(),
        '0'..='9' | '-' => "a number".to_owned(),
        c if c.is_control() => format!("control character U+{:04X}", u32::from(c)),
        c => format!("`{c}`"),
    }
}

fn starts_value(c: char) -> bool {
    matches!(c, '"' | '{' | '[' | '-' | '0'..='9' | 't' | 'f' | 'n')
}

/// The end of the file came too early.
fn end_of_file(source: &str, pos: usize, expected: &Expected) -> Diagnostic {
    let at = offset(pos);
    if expected.value && only_whitespace_and_comments(source) {
        return Diagnostic::new(
            Code(&EMPTY_DOCUMENT),
            Span::empty(at),
            "the file contains no value",
        )
        .with_help("a policy file holds one JSON object; write `{}` for an empty policy");
    }
    let mut d = Diagnostic::new(
        Code(&SYNTAX_ERROR),
        Span::empty(at),
        format!("unexpected end of file, expected {}", expected.describe()),
    );
    if let Some(open) = innermost_open(source, pos) {
        let bracket = source.get(open..=open).unwrap_or("{");
        d = d
            .with_label(
                Span::new(offset(open), offset(open) + 1),
                format!("this `{bracket}` is not closed"),
            )
            .with_help("the file ends before every object and array is closed");
    }
    d
}

fn only_whitespace_and_comments(source: &str) -> bool {
    let mut rest = source;
    loop {
        rest = rest.trim_start_matches([' ', '\t', '\n', '\r']);
        if let Some(r) = rest.strip_prefix("//") {
            rest = r.find('\n').map_or("", |n| r.get(n..).unwrap_or(""));
        } else if let Some(r) = rest.strip_prefix("/*") {
            match r.find("*/") {
                Some(n) => rest = r.get(n + 2..).unwrap_or(""),
                None => return false,
            }
        } else {
            return rest.is_empty();
        }
    }
}

/// Diagnoses the string literal starting at `pos` (at its opening quote), which the
/// grammar rejected.
fn string_error(source: &str, pos: usize) -> Option<Diagnostic> {
    let bytes = source.as_bytes();
    let mut i = pos + 1;
    loop {
        match bytes.get(i) {
            None | Some(b'\n') => {
                let end = if bytes.get(i.saturating_sub(1)) == Some(&b'\r') {
                    i - 1
                } else {
                    i
                };
                return Some(
                    Diagnostic::new(Code(&INVALID_STRING), Span::new(offset(pos), offset(end)), "unterminated string")
                        .with_primary_label("string starts here and is not closed on this line")
                        .with_help("close the string with `\"`; strings cannot span lines (write a line break as `\\n`)"),
                );
            }
            Some(b'"') => return None,
            Some(b'\\') => {
                let esc = source.get(i + 1..).and_then(|s| s.chars().next());
                let ok = match esc {
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => true,
                    Some('u') => {
                        let hex = bytes.get(i + 2..i + 6);
                        if hex.is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit)) {
                            i += 4;
                            true
                        } else {
                            let end = (i + 2..(i + 6).min(bytes.len()))
                                .find(|&j| !bytes.get(j).is_some_and(u8::is_ascii_hexdigit))
                                .unwrap_or((i + 6).min(bytes.len()));
                            return Some(
                                Diagnostic::new(
                                    Code(&INVALID_STRING),
                                    Span::new(offset(i), offset(end)),
                                    "invalid unicode escape",
                                )
                                .with_help("`\\u` must be followed by exactly four hexadecimal digits, e.g. `\\u00e9`"),
                            );
                        }
                    }
                    _ => false,
                };
                if !ok {
                    let len = esc.map_or(0, char::len_utf8);
                    let shown = esc
                        .filter(|c| !c.is_control())
                        .map_or(String::new(), String::from);
                    return Some(
                        Diagnostic::new(
                            Code(&INVALID_STRING),
                            Span::new(offset(i), offset(i + 1 + len)),
                            format!("invalid escape `\\{shown}` in string"),
                        )
                        .with_help("valid escapes are `\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` and `\\uXXXX`; write a backslash as `\\\\`"),
                    );
                }
                i += 2;
            }
            Some(_) => i += 1,
        }
    }
}

/// A value or member name was expected, and `c` cannot start one.
fn bad_value_start(source: &str, pos: usize, c: char, expected: &Expected) -> Option<Diagnostic> {
    let at = offset(pos);
    let rest = source.get(pos..).unwrap_or("");
    let unsupported = |span: Span, message: String, help: String| {
        Some(Diagnostic::new(Code(&UNSUPPORTED_SYNTAX), span, message).with_help(help))
    };
    if expected.value && c == '+' {
        return unsupported(
            Span::new(at, at + 1),
            "numbers cannot start with `+`".into(),
            "remove the `+`".into(),
        );
    }
    if expected.value && c == '.' {
        return unsupported(
            Span::new(at, at + 1),
            "numbers cannot start with `.`".into(),
            "write a `0` before the decimal point, e.g. `0.5`".into(),
        );
    }
    if expected.value && c == '-' {
        let after = rest.get(1..).unwrap_or("");
        if after.starts_with("Infinity") {
            return unsupported(
                Span::new(at, at + 9),
                "`-Infinity` is not a JSON number".into(),
                "JSON has no infinities; use a finite number or a string".into(),
            );
        }
    }
    if !(c.is_ascii_alphabetic() || c == '_' || c == '$') {
        return None;
    }
    // Words longer than this are cut short in messages (and not scanned further).
    const MAX_WORD: usize = 40;
    let head_len = rest
        .char_indices()
        .nth(MAX_WORD + 1)
        .map_or(rest.len(), |(i, _)| i);
    let head = rest.get(..head_len).unwrap_or(rest);
    let word_len = head
        .find(|ch: char| !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '$' || ch == '-'))
        .unwrap_or(head.len())
        .min(MAX_WORD);
    let word = rest.get(..word_len).unwrap_or("");
    let span = Span::new(at, at + offset(word_len));
    if expected.name {
        return unsupported(
            span,
            format!("member names must be strings in double quotes, found `{word}`"),
            format!("write `\"{word}\"`"),
        );
    }
    match word {
        "NaN" | "Infinity" => unsupported(
            span,
            format!("`{word}` is not a JSON number"),
            "JSON has no NaN or infinities; use a finite number or a string".into(),
        ),
        w if ["true", "false", "null"]
            .iter()
            .any(|k| k.eq_ignore_ascii_case(w)) =>
        {
            unsupported(
                span,
                format!("`{word}` is not a JSON literal"),
                format!(
                    "JSON literals are lower case: write `{}`",
                    word.to_ascii_lowercase()
                ),
            )
        }
        "None" | "nil" | "undefined" => unsupported(
            span,
            format!("`{word}` is not a JSON literal"),
            "write `null`".into(),
        ),
        "True" | "False" | "yes" | "no" | "on" | "off" => unsupported(
            span,
            format!("`{word}` is not a JSON literal"),
            "write `true` or `false`".into(),
        ),
        _ => unsupported(
            span,
            format!("unquoted string `{word}`"),
            format!("strings must be in double quotes: write `\"{word}\"`"),
        ),
    }
}

/// A number ended before `pos` and `c` continues it in a way JSON does not allow.
fn bad_number_end(source: &str, pos: usize, c: char) -> Option<Diagnostic> {
    let before = source.get(..pos)?;
    if !before.ends_with(|ch: char| ch.is_ascii_digit()) {
        return None;
    }
    let start = before
        .rfind(|ch: char| !(ch.is_ascii_digit() || matches!(ch, '-' | '+' | '.' | 'e' | 'E')))
        .map_or(0, |i| i + 1);
    let number = before.get(start..)?;
    let span = Span::new(offset(start), offset(pos + c.len_utf8()));
    let is_zero = number == "0" || number == "-0";
    let unsupported = |message: &str, help: &str| {
        Some(
            Diagnostic::new(Code(&UNSUPPORTED_SYNTAX), span, message.to_owned())
                .with_help(help.to_owned()),
        )
    };
    match c {
        'x' | 'X' if is_zero => unsupported(
            "hexadecimal numbers are not allowed in HuJSON",
            "write the number in decimal",
        ),
        '0'..='9' if is_zero => unsupported(
            "numbers cannot have leading zeros",
            "remove the leading `0`",
        ),
        '.' => unsupported(
            "a decimal point must be followed by digits",
            "write e.g. `1.0`, or remove the `.`",
        ),
        'e' | 'E' => Some(
            Diagnostic::new(
                Code(&SYNTAX_ERROR),
                span,
                "an exponent must have digits".to_owned(),
            )
            .with_help("write e.g. `1e3`"),
        ),
        _ => None,
    }
}

/// The offset of the innermost `{` or `[` still open at `pos`.
fn innermost_open(source: &str, pos: usize) -> Option<usize> {
    let bytes = source.as_bytes();
    let mut stack = Vec::new();
    let mut i = 0;
    while i < pos {
        match bytes.get(i)? {
            b'{' | b'[' => stack.push(i),
            b'}' | b']' => {
                stack.pop();
            }
            b'"' => {
                i += 1;
                while let Some(&b) = bytes.get(i) {
                    match b {
                        b'"' | b'\n' => break,
                        b'\\' => i += 1,
                        _ => {}
                    }
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while bytes.get(i).is_some_and(|&b| b != b'\n') {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < pos && bytes.get(i..i + 2) != Some(b"*/") {
                    i += 1;
                }
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    stack.pop()
}

/// The diagnostic for input nested deeper than [`super::depth::MAX_DEPTH`].
pub(crate) fn too_deep(pos: usize) -> Diagnostic {
    Diagnostic::new(
        Code(&NESTING_TOO_DEEP),
        Span::new(offset(pos), offset(pos) + 1),
        format!(
            "objects and arrays are nested more than {} levels deep",
            super::depth::MAX_DEPTH
        ),
    )
    .with_primary_label("the limit is exceeded here")
    .with_help("no policy needs this much nesting; check how the file was produced")
}
