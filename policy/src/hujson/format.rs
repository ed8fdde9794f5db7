//! The canonical HuJSON layout, byte-identical to `hujsonfmt` (the `Format` function
//! of `tailscale/hujson`).
//!
//! [`format()`] is pure: tree in, text out. The layout rules, as `hujsonfmt` applies them:
//!
//! 1. **Normalise.** Strings containing a backslash are re-encoded (only `"`, `\` and
//!    control characters escaped, short escapes where they exist). Empty objects and
//!    arrays without comments become `{}` / `[]`. Whitespace-only runs between a name and
//!    its colon, or a value and its comma, are removed (this also drops every trailing
//!    comma that has no comment before it; step 3 adds them back where they belong).
//! 2. **Decide expansion.** Each object or array is either on one line or fully expanded
//!    (one member or element per line). It is expanded if a newline follows its opening
//!    bracket or any comma, or precedes its closing bracket, or if it would not fit in
//!    80 columns (the "punch card" width, estimated with comments counted).
//! 3. **Re-indent.** Tabs, one per level. Comments are kept; line comments verbatim,
//!    multi-line block comments re-indented by their common prefix. At most one blank
//!    line in a row; none after an opening or before a closing bracket. Expanded
//!    composites get a trailing comma (unless the input was standard JSON, which stays
//!    standard); single-line ones lose theirs.
//! 4. **Align.** Values of consecutive single-line members in an object are aligned to
//!    the same column; a blank line or a comment line starts a new block.
//! 5. The file starts with no whitespace and ends with exactly one newline. Carriage
//!    returns are removed.
//!
//! Widths are counted in bytes, as `hujsonfmt` does.

use super::decode::decode_string;
use super::tree::{Document, Value, ValueKind};

/// Formats a parsed document in the canonical layout.
///
/// Idempotent: formatting the output again gives the same text. The value is unchanged
/// (comments and all); callers that write files should still re-parse and compare.
pub fn format(document: &Document) -> String {
    let source = document.source.as_str();
    let standard = is_standard(source, &document.root);
    let mut root = FValue::from_tree(
        source,
        &document.root,
        Some(document.root.after.text(source)),
    );
    format_extra(&mut root.before, 0, Options::default());
    let leading = root.before.len() - root.before.trim_start_matches(is_json_space).len();
    root.before.drain(..leading);
    root.normalize();
    root.expand_composites();
    root.format_whitespace(0, standard);
    root.align_object_values();
    let mut after = root.after.take().unwrap_or_default();
    format_extra(&mut after, 0, Options::default());
    let mut after = after.trim_end().to_owned();
    after.push('\n');
    root.after = Some(after);
    let mut out = String::with_capacity(source.len() + source.len() / 8);
    root.pack(&mut out);
    out
}

fn is_json_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

/// Whether the text has no comments and no trailing commas.
fn is_standard(source: &str, value: &Value) -> bool {
    if value.before.has_comment(source) || value.after.has_comment(source) {
        return false;
    }
    match &value.kind {
        ValueKind::Object(o) => {
            !o.trailing_comma
                && !o.after_last.has_comment(source)
                && o.members
                    .iter()
                    .all(|m| is_standard(source, &m.name) && is_standard(source, &m.value))
        }
        ValueKind::Array(a) => {
            !a.trailing_comma
                && !a.after_last.has_comment(source)
                && a.elements.iter().all(|e| is_standard(source, e))
        }
        _ => true,
    }
}

/// A mutable copy of the tree with owned extras, the form the layout steps rewrite.
struct FValue {
    before: String,
    kind: FKind,
    /// `None` where hujson has a nil extra: for the last member or element that means
    /// "no trailing comma".
    after: Option<String>,
}

enum FKind {
    Literal(String),
    Object(FComposite<(FValue, FValue)>),
    Array(FComposite<FValue>),
}

struct FComposite<T> {
    items: Vec<T>,
    /// Between the last item (and its comma) and the closing bracket.
    after: String,
    expand: bool,
}

/// What [`format_extra`] may do besides re-indenting.
#[derive(Clone, Copy, Default)]
struct Options {
    ensure_leading_newline: bool,
    ensure_trailing_newline: bool,
    remove_leading_empty_lines: bool,
    remove_trailing_empty_lines: bool,
    unindent_last_line: bool,
    append_space_if_empty: bool,
}

/// Line-length statistics of a stretch of output: the length of its first and last
/// line, and whether it spans lines.
#[derive(Clone, Copy, Default)]
struct LineStats {
    first: usize,
    last: usize,
    multiline: bool,
}

fn has_comment(extra: &str) -> bool {
    extra.contains("//") || extra.contains("/*")
}

fn has_newline(extra: &str) -> bool {
    extra.contains('\n')
}

fn opt_has_newline(extra: Option<&String>) -> bool {
    extra.is_some_and(|e| has_newline(e))
}

impl FValue {
    fn from_tree(source: &str, value: &Value, after: Option<&str>) -> FValue {
        let kind = match &value.kind {
            ValueKind::Object(o) => {
                let last = o.members.len().saturating_sub(1);
                FKind::Object(FComposite {
                    items: o
                        .members
                        .iter()
                        .enumerate()
                        .map(|(i, m)| {
                            let value_after =
                                (i < last || o.trailing_comma).then(|| m.value.after.text(source));
                            (
                                FValue::from_tree(source, &m.name, Some(m.name.after.text(source))),
                                FValue::from_tree(source, &m.value, value_after),
                            )
                        })
                        .collect(),
                    after: o.after_last.text(source).to_owned(),
                    expand: false,
                })
            }
            ValueKind::Array(a) => {
                let last = a.elements.len().saturating_sub(1);
                FKind::Array(FComposite {
                    items: a
                        .elements
                        .iter()
                        .enumerate()
                        .map(|(i, e)| {
                            let after =
                                (i < last || a.trailing_comma).then(|| e.after.text(source));
                            FValue::from_tree(source, e, after)
                        })
                        .collect(),
                    after: a.after_last.text(source).to_owned(),
                    expand: false,
                })
            }
            _ => FKind::Literal(value.span.text(source).to_owned()),
        };
        FValue {
            before: value.before.text(source).to_owned(),
            kind,
            after: after.map(str::to_owned),
        }
    }

    /// Every direct child: for an object, each name then its value.
    fn children_mut(&mut self) -> Vec<&mut FValue> {
        match &mut self.kind {
            FKind::Literal(_) => Vec::new(),
            FKind::Object(o) => o.items.iter_mut().flat_map(|(n, v)| [n, v]).collect(),
            FKind::Array(a) => a.items.iter_mut().collect(),
        }
    }

    fn children(&self) -> Vec<&FValue> {
        match &self.kind {
            FKind::Literal(_) => Vec::new(),
            FKind::Object(o) => o.items.iter().flat_map(|(n, v)| [n, v]).collect(),
            FKind::Array(a) => a.items.iter().collect(),
        }
    }

    /// Step 1.
    fn normalize(&mut self) {
        match &mut self.kind {
            FKind::Literal(text) => {
                if text.starts_with('"') && text.contains('\\') {
                    *text = encode_string(&decode_string(text, &mut Vec::new()));
                }
                return;
            }
            FKind::Object(FComposite { items, after, .. }) if items.is_empty() => {
                if !has_comment(after) {
                    after.clear();
                }
                return;
            }
            FKind::Array(FComposite { items, after, .. }) if items.is_empty() => {
                if !has_comment(after) {
                    after.clear();
                }
                return;
            }
            _ => {}
        }
        for child in self.children_mut() {
            if !child.after.as_deref().is_some_and(has_comment) {
                child.after = None;
            }
        }
        for child in self.children_mut() {
            child.normalize();
        }
    }

    /// Step 2: sets `expand` on every composite; returns this value's line statistics.
    fn expand_composites(&mut self) -> LineStats {
        let (is_object, comp_after, len) = match &self.kind {
            FKind::Literal(text) => {
                return LineStats {
                    first: text.len(),
                    last: text.len(),
                    multiline: false,
                };
            }
            FKind::Object(o) => (true, o.after.clone(), o.items.len()),
            FKind::Array(a) => (false, a.after.clone(), a.items.len()),
        };
        let mut expand = false;
        let mut line = 1usize; // `{` or `[`
        let mut lines: Vec<usize> = Vec::new();
        let mut update = |line: &mut usize, s: LineStats| {
            *line += s.first;
            if s.multiline {
                lines.push(*line);
                *line = s.last;
            }
        };
        let mut last_after_newline = false;
        let mut first_before = String::new();
        match &mut self.kind {
            FKind::Object(o) => {
                for (i, (name, value)) in o.items.iter_mut().enumerate() {
                    if i == 0 {
                        first_before.clone_from(&name.before);
                    }
                    expand |= has_newline(&name.before);
                    update(&mut line, extra_line_stats(&name.before));
                    update(&mut line, name.expand_composites());
                    update(
                        &mut line,
                        extra_line_stats(name.after.as_deref().unwrap_or("")),
                    );
                    line += 2; // ": "
                    update(&mut line, extra_line_stats(&value.before));
                    update(&mut line, value.expand_composites());
                    update(
                        &mut line,
                        extra_line_stats(value.after.as_deref().unwrap_or("")),
                    );
                    line += 2; // ", "
                    last_after_newline = opt_has_newline(value.after.as_ref());
                }
            }
            FKind::Array(a) => {
                for (i, value) in a.items.iter_mut().enumerate() {
                    if i == 0 {
                        first_before.clone_from(&value.before);
                    }
                    expand |= has_newline(&value.before);
                    update(&mut line, extra_line_stats(&value.before));
                    update(&mut line, value.expand_composites());
                    update(
                        &mut line,
                        extra_line_stats(value.after.as_deref().unwrap_or("")),
                    );
                    line += 2;
                    last_after_newline = opt_has_newline(value.after.as_ref());
                }
            }
            FKind::Literal(_) => {}
        }
        let _ = is_object;
        line += 1; // `}` or `]`
        expand |= last_after_newline;
        expand |= has_newline(&comp_after);
        lines.push(line);
        let mut stats = LineStats {
            first: lines.first().copied().unwrap_or(0),
            last: lines.last().copied().unwrap_or(0),
            multiline: lines.len() > 1,
        };
        expand = expand || lines.iter().any(|&l| l > PUNCH_CARD_WIDTH);
        if expand {
            let first_extra = if len == 0 { &comp_after } else { &first_before };
            stats = LineStats {
                first: 1 + extra_line_stats(first_extra).first,
                last: 1,
                multiline: true,
            };
        }
        match &mut self.kind {
            FKind::Object(o) => o.expand = expand,
            FKind::Array(a) => a.expand = expand,
            FKind::Literal(_) => {}
        }
        stats
    }

    /// Step 3.
    fn format_whitespace(&mut self, depth: usize, standard: bool) {
        let expand = match &mut self.kind {
            FKind::Literal(_) => return,
            FKind::Object(o) => {
                let expand = o.expand;
                for (i, (name, value)) in o.items.iter_mut().enumerate() {
                    format_extra(
                        &mut name.before,
                        depth + 1,
                        Options {
                            ensure_leading_newline: expand,
                            remove_leading_empty_lines: i == 0,
                            append_space_if_empty: i != 0,
                            ..Options::default()
                        },
                    );
                    if let Some(after) = &mut name.after {
                        format_extra(after, depth + 2, Options::trimmed());
                    }
                    format_extra(
                        &mut value.before,
                        depth + 2,
                        Options {
                            append_space_if_empty: true,
                            ..Options::trimmed()
                        },
                    );
                    let mut value_depth = depth + usize::from(expand);
                    if opt_has_newline(name.after.as_ref()) || has_newline(&value.before) {
                        value_depth += 1;
                    }
                    value.format_whitespace(value_depth, standard);
                    if let Some(after) = &mut value.after {
                        format_extra(after, depth + 2, Options::trimmed());
                    }
                }
                expand
            }
            FKind::Array(a) => {
                let expand = a.expand;
                for (i, value) in a.items.iter_mut().enumerate() {
                    format_extra(
                        &mut value.before,
                        depth + 1,
                        Options {
                            ensure_leading_newline: expand,
                            remove_leading_empty_lines: i == 0,
                            append_space_if_empty: i != 0,
                            ..Options::default()
                        },
                    );
                    value.format_whitespace(depth + usize::from(expand), standard);
                    if let Some(after) = &mut value.after {
                        format_extra(after, depth + 2, Options::trimmed());
                    }
                }
                expand
            }
        };
        let (after, last_after, empty) = match &mut self.kind {
            FKind::Object(o) => {
                let empty = o.items.is_empty();
                (
                    &mut o.after,
                    o.items.last_mut().map(|(_, v)| &mut v.after),
                    empty,
                )
            }
            FKind::Array(a) => {
                let empty = a.items.is_empty();
                (
                    &mut a.after,
                    a.items.last_mut().map(|v| &mut v.after),
                    empty,
                )
            }
            FKind::Literal(_) => return,
        };
        format_extra(
            after,
            depth + 1,
            Options {
                ensure_trailing_newline: expand,
                remove_leading_empty_lines: empty,
                remove_trailing_empty_lines: true,
                unindent_last_line: true,
                ..Options::default()
            },
        );
        // Trailing comma: none on a single-line composite (unless a comment sits on both
        // sides of it), always on an expanded one unless the input was standard JSON.
        if let Some(last_after) = last_after {
            let surrounded =
                last_after.as_ref().is_some_and(|a| !a.is_empty()) && !after.is_empty();
            if !expand && !surrounded {
                if let Some(moved) = last_after.take() {
                    after.insert_str(0, &moved);
                }
            } else if expand && !standard && last_after.is_none() {
                *last_after = Some(String::new());
            }
        }
    }

    /// Step 4.
    fn align_object_values(&mut self) {
        if let FKind::Object(o) = &mut self.kind {
            let mut rows: Vec<(usize, usize)> = Vec::new(); // (member index, length)
            let flush = |rows: &mut Vec<(usize, usize)>, items: &mut Vec<(FValue, FValue)>| {
                let max = rows.iter().map(|&(_, l)| l).max().unwrap_or(0);
                for &(i, l) in rows.iter() {
                    if let Some((_, value)) = items.get_mut(i) {
                        value.before.extend(std::iter::repeat_n(' ', max - l));
                    }
                }
                rows.clear();
            };
            for i in 0..o.items.len() {
                let Some((name, value)) = o.items.get(i) else {
                    break;
                };
                let breaks_rows = !has_newline(&name.before)
                    || value.has_newline_inside()
                    || opt_has_newline(name.after.as_ref())
                    || has_newline(&value.before)
                    || opt_has_newline(value.after.as_ref());
                let new_block = name.before.matches('\n').count() > 1;
                let name_len = match &name.kind {
                    FKind::Literal(t) => t.len(),
                    _ => 0,
                };
                let length =
                    name_len + name.after.as_ref().map_or(0, String::len) + 1 + value.before.len();
                if breaks_rows {
                    flush(&mut rows, &mut o.items);
                    continue;
                }
                if new_block {
                    flush(&mut rows, &mut o.items);
                }
                rows.push((i, length));
            }
            flush(&mut rows, &mut o.items);
        }
        for child in self.children_mut() {
            child.align_object_values();
        }
    }

    /// Whether any extra inside this composite (at any depth) has a newline.
    fn has_newline_inside(&self) -> bool {
        self.children().iter().any(|c| {
            has_newline(&c.before) || opt_has_newline(c.after.as_ref()) || c.has_newline_inside()
        })
    }

    fn pack(&self, out: &mut String) {
        out.push_str(&self.before);
        match &self.kind {
            FKind::Literal(text) => out.push_str(text),
            FKind::Object(o) => {
                out.push('{');
                let last = o.items.len().saturating_sub(1);
                for (i, (name, value)) in o.items.iter().enumerate() {
                    name.pack(out);
                    out.push(':');
                    value.pack(out);
                    if i < last || value.after.is_some() {
                        out.push(',');
                    }
                }
                out.push_str(&o.after);
                out.push('}');
            }
            FKind::Array(a) => {
                out.push('[');
                let last = a.items.len().saturating_sub(1);
                for (i, value) in a.items.iter().enumerate() {
                    value.pack(out);
                    if i < last || value.after.is_some() {
                        out.push(',');
                    }
                }
                out.push_str(&a.after);
                out.push(']');
            }
        }
        if let Some(after) = &self.after {
            out.push_str(after);
        }
    }
}

/// The width beyond which a single-line composite is expanded.
const PUNCH_CARD_WIDTH: usize = 80;

impl Options {
    /// No blank lines at either end (extras around colons and commas).
    fn trimmed() -> Self {
        Options {
            remove_leading_empty_lines: true,
            remove_trailing_empty_lines: true,
            ..Options::default()
        }
    }
}

/// The length of a comment starting at the beginning of `s`: a line comment up to and
/// including its newline, a block comment up to and including `*/`; `None` if `s` does
/// not start a complete comment.
fn comment_len(s: &str) -> Option<usize> {
    if let Some(rest) = s.strip_prefix("//") {
        rest.find('\n').map(|n| n + 3)
    } else if let Some(rest) = s.strip_prefix("/*") {
        rest.find("*/").map(|n| n + 4)
    } else {
        None
    }
}

/// The approximate printed length of the comments in one line of an extra.
fn comments_len(mut s: &str) -> usize {
    let mut n = 0;
    loop {
        s = s.trim_start_matches(is_json_space);
        if s.starts_with("//") {
            return n + 1 + s.len();
        }
        if s.starts_with("/*") {
            match comment_len(s) {
                Some(c) => {
                    n += 1 + c;
                    s = s.get(c..).unwrap_or("");
                }
                None => return n + 1 + s.len(),
            }
            continue;
        }
        if n > 0 {
            n += 1;
        }
        return n;
    }
}

fn extra_line_stats(extra: &str) -> LineStats {
    match (extra.find('\n'), extra.rfind('\n')) {
        (Some(first), Some(last)) => LineStats {
            first: comments_len(extra.get(..first).unwrap_or("")),
            last: comments_len(extra.get(last + 1..).unwrap_or("")),
            multiline: true,
        },
        _ => {
            let n = comments_len(extra);
            LineStats {
                first: n,
                last: n,
                multiline: false,
            }
        }
    }
}

fn push_indent(out: &mut String, depth: usize) {
    out.extend(std::iter::repeat_n('\t', depth));
}

/// Re-lays out one run of whitespace and comments for a position at `depth`.
fn format_extra(extra: &mut String, depth: usize, opts: Options) {
    if extra.contains('\r') {
        *extra = extra
            .replace("\r\n", "\n")
            .replace("\n\r", "\n")
            .replace('\r', " ");
    }
    let mut input = extra.as_str();
    let mut out = String::with_capacity(input.len() + depth + 2);
    if opts.ensure_leading_newline && !has_newline(input) {
        out.push('\n');
    }
    while !input.is_empty() {
        let ws = input.len() - input.trim_start_matches(is_json_space).len();
        if ws > 0 {
            let newlines = input.get(..ws).unwrap_or("").matches('\n').count().min(2);
            out.extend(std::iter::repeat_n('\n', newlines));
            input = input.get(ws..).unwrap_or("");
            continue;
        }
        let Some(mut n) = comment_len(input) else {
            return; // not a comment: leave the extra as it was
        };
        if out.ends_with('\n') {
            push_indent(&mut out, depth);
        } else {
            out.push(' ');
        }
        let comment = input.get(..n).unwrap_or("");
        let is_line = comment.starts_with("//");
        if is_line || !has_newline(comment) {
            out.push_str(comment.trim_end());
            if is_line {
                n -= 1; // the newline is whitespace for the next round
            }
            input = input.get(n..).unwrap_or("");
            continue;
        }
        format_block_comment(comment, depth, &mut out);
        input = input.get(n..).unwrap_or("");
    }
    if opts.ensure_trailing_newline && !out.ends_with('\n') {
        out.push('\n');
    }
    if opts.remove_leading_empty_lines {
        while out.starts_with("\n\n") {
            out.remove(0);
        }
    }
    if opts.remove_trailing_empty_lines {
        while out.ends_with("\n\n") {
            out.pop();
        }
    }
    if out.ends_with('\n') {
        let depth = if opts.unindent_last_line {
            depth.saturating_sub(1)
        } else {
            depth
        };
        push_indent(&mut out, depth);
    } else if !out.is_empty() {
        out.push(' ');
    }
    if opts.append_space_if_empty && out.is_empty() {
        out.push(' ');
    }
    *extra = out;
}

/// A multi-line `/* */` comment: lines after the first are re-indented to `depth`,
/// keeping their indentation relative to the common prefix, with ` *` columns aligned.
fn format_block_comment(comment: &str, depth: usize, out: &mut String) {
    let mut lines: Vec<String> = comment
        .split('\n')
        .map(|l| l.trim_end().to_owned())
        .collect();
    let has_empty_line = lines.iter().any(String::is_empty);
    let mut prefix: String = lines
        .iter()
        .skip(1)
        .find(|l| !l.is_empty())
        .cloned()
        .unwrap_or_default();
    for i in 1..lines.len() {
        let Some(line) = lines.get(i) else { break };
        if line.is_empty() {
            continue;
        }
        let line_ws = line.len() - line.trim_start_matches(is_json_space).len();
        if line.ends_with("*/") && line_ws + 2 == line.len() {
            // A closing line of only `*/`: indent it like the prefix.
            let prefix_ws = prefix.len() - prefix.trim_start_matches(is_json_space).len();
            let replacement = format!("{}*/", prefix.get(..prefix_ws).unwrap_or(""));
            if let Some(slot) = lines.get_mut(i) {
                *slot = replacement;
            }
            break;
        }
        let common = line
            .bytes()
            .zip(prefix.bytes())
            .take_while(|(a, b)| a == b)
            .count();
        prefix.truncate(floor_char_boundary(&prefix, common));
    }
    let prefix_ws = prefix.len() - prefix.trim_start_matches(is_json_space).len();
    let star_aligned = !has_empty_line && prefix.as_bytes().get(prefix_ws) == Some(&b'*');
    let mut body = String::new();
    body.push_str(lines.first().map_or("", String::as_str));
    body.push('\n');
    for line in lines.iter().skip(1) {
        if !line.is_empty() {
            push_indent(&mut body, depth);
            if star_aligned {
                body.push(' ');
            }
            body.push_str(line.get(prefix_ws..).unwrap_or(""));
        }
        body.push('\n');
    }
    out.push_str(&body);
    while out.ends_with('\n') {
        out.pop();
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// A JSON string literal for `s` as `hujsonfmt` writes it: `"`, `\` and control
/// characters escaped (`\b`, `\t`, `\n`, `\f`, `\r`, else `\u00xx`), all else verbatim.
fn encode_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
