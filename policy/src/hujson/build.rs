//! Builds the lossless tree in one pass over pest's flat token stream.
//!
//! The fast grammar (`fast.pest`) emits pairs only for values, member names, comments
//! (ignored here) and EOI;
//! every gap between two of them is whitespace and comments, plus at most one `,` or `:`
//! (the grammar has validated that). The builder finds that punctuation by scanning the
//! gap, and the whitespace and comments on either side of it become [`Extra`]s. When the
//! source holds a control character other than tab, line feed and carriage return
//! anywhere (rare: one quick vectorised pass tells), the scan reads every byte of every
//! gap, to reject the ones the fast grammar's whitespace range lets through.
//! It keeps an explicit stack of open composites (no recursion), and a cursor: the
//! offset just after the last token consumed, where the next extra starts.

use super::codes::{DUPLICATE_KEY, INVALID_STRING, SYNTAX_ERROR};
use super::decode::{ControlChar, decode_number, decode_string};
use super::grammar::fast::Rule;
use super::tree::{Array, Extra, Member, Object, SmolStr, Value, ValueKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::rules::Code;
use crate::span::Span;
use pest::Token;
use std::collections::HashMap;

/// An open object or array.
enum Frame {
    Object {
        start: u32,
        before: Extra,
        members: Vec<Member>,
        /// A member name waiting for its value.
        name: Option<Value>,
        /// The last thing consumed was a `,`.
        after_comma: bool,
        after_last: Extra,
    },
    Array {
        start: u32,
        before: Extra,
        elements: Vec<Value>,
        after_comma: bool,
        after_last: Extra,
    },
}

/// Why [`build`] produced no tree.
pub(crate) enum Rejected {
    /// The input is in the fast grammar's superset of HuJSON but not HuJSON: a string
    /// holds a raw line break, or a control character other than tab, line feed and
    /// carriage return stands between two tokens (see `fast.pest`).
    Superset,
    /// The token stream does not have the shape the grammar guarantees: a bug, reported
    /// as an internal-error diagnostic.
    Internal,
}

/// Builds the root value from the tokens of a successful fast parse of `source`.
///
/// Duplicate keys, out-of-range numbers and control characters in strings are reported
/// to `diagnostics` and leave a tree.
pub(crate) fn build<'i>(
    source: &'i str,
    tokens: impl Iterator<Item = Token<'i, Rule>>,
    diagnostics: &mut Diagnostics,
) -> Result<Value, Rejected> {
    let mut builder = Builder {
        source,
        cursor: 0,
        stack: Vec::new(),
        root: None,
        scalar_start: 0,
        control: Vec::new(),
        diagnostics,
        ok: true,
        superset: false,
        whole_gaps: has_stray_control(source.as_bytes()),
    };
    for token in tokens {
        match token {
            Token::Start { rule, pos } => builder.start(rule, offset(pos.pos())),
            Token::End { rule, pos } => builder.end(rule, offset(pos.pos())),
        }
        if !builder.ok {
            break;
        }
    }
    let len = offset(source.len());
    let Builder {
        root,
        ok,
        cursor,
        superset,
        ..
    } = builder;
    let tail = scan_gap(source, cursor, len, true);
    match root {
        _ if superset || matches!(tail, Gap::Invalid) => Err(Rejected::Superset),
        Some(mut root) if ok && matches!(tail, Gap::Blank) => {
            root.after = extra(cursor, len);
            Ok(root)
        }
        _ => {
            diagnostics.push(internal_error(len));
            Err(Rejected::Internal)
        }
    }
}

struct Builder<'i, 'd> {
    source: &'i str,
    cursor: u32,
    stack: Vec<Frame>,
    root: Option<Value>,
    scalar_start: u32,
    control: Vec<ControlChar>,
    diagnostics: &'d mut Diagnostics,
    ok: bool,
    /// The input turned out not to be HuJSON (see [`Rejected::Superset`]).
    superset: bool,
    /// Whether gaps must be read to their end (see [`scan_gap`]).
    whole_gaps: bool,
}

fn offset(pos: usize) -> u32 {
    u32::try_from(pos).unwrap_or(u32::MAX)
}

fn extra(start: u32, end: u32) -> Extra {
    Extra {
        span: Span::new(start, end.max(start)),
    }
}

pub(crate) fn internal_error(at: u32) -> Diagnostic {
    Diagnostic::new(
        Code(&SYNTAX_ERROR),
        Span::empty(at),
        "internal error: the parser produced an unexpected token stream",
    )
    .with_help("this is a bug in tailpolicy; please report it with the input file")
}

impl Builder<'_, '_> {
    fn start(&mut self, rule: Rule, pos: u32) {
        match rule {
            Rule::object | Rule::array => {
                self.gap(pos);
                let before = extra(self.cursor, pos);
                self.stack.push(if rule == Rule::object {
                    Frame::Object {
                        start: pos,
                        before,
                        members: Vec::new(),
                        name: None,
                        after_comma: false,
                        after_last: Extra::default(),
                    }
                } else {
                    Frame::Array {
                        start: pos,
                        before,
                        elements: Vec::new(),
                        after_comma: false,
                        after_last: Extra::default(),
                    }
                });
                self.cursor = pos + 1;
            }
            Rule::name | Rule::string | Rule::number | Rule::literal => {
                self.gap(pos);
                self.scalar_start = pos;
            }
            // `document` and EOI carry nothing; silent rules never appear.
            _ => {}
        }
    }

    /// Handles the `,` or `:` in the gap from the cursor to `end`, if there is one.
    fn gap(&mut self, end: u32) {
        let at = match scan_gap(self.source, self.cursor, end, self.whole_gaps) {
            Gap::Blank => return,
            Gap::Punctuation(at) => at,
            Gap::Invalid => {
                self.superset = true;
                self.ok = false;
                return;
            }
        };
        let separated = extra(self.cursor, at);
        match (
            self.source.as_bytes().get(at as usize),
            self.stack.last_mut(),
        ) {
            (
                Some(b','),
                Some(Frame::Object {
                    members,
                    after_comma,
                    ..
                }),
            ) => {
                if let Some(last) = members.last_mut() {
                    last.value.after = separated;
                }
                *after_comma = true;
            }
            (
                Some(b','),
                Some(Frame::Array {
                    elements,
                    after_comma,
                    ..
                }),
            ) => {
                if let Some(last) = elements.last_mut() {
                    last.after = separated;
                }
                *after_comma = true;
            }
            (
                Some(b':'),
                Some(Frame::Object {
                    name: Some(name), ..
                }),
            ) => name.after = separated,
            _ => self.ok = false,
        }
        self.cursor = at + 1;
    }

    fn end(&mut self, rule: Rule, pos: u32) {
        let span = Span::new(self.scalar_start, pos);
        let kind = match rule {
            Rule::name => {
                let before = extra(self.cursor, self.scalar_start);
                let name = Value {
                    before,
                    kind: ValueKind::String(self.string(span)),
                    span,
                    after: Extra::default(),
                };
                self.cursor = pos;
                match self.stack.last_mut() {
                    Some(Frame::Object {
                        name: slot,
                        after_comma,
                        ..
                    }) => {
                        *slot = Some(name);
                        *after_comma = false;
                    }
                    _ => self.ok = false,
                }
                return;
            }
            Rule::string => ValueKind::String(self.string(span)),
            Rule::number => match decode_number(span.text(self.source)) {
                Some(n) => ValueKind::Number(n),
                None => {
                    self.diagnostics.push(
                        Diagnostic::new(
                            Code(&SYNTAX_ERROR),
                            span,
                            format!("number `{}` is out of range", span.text(self.source)),
                        )
                        .with_help("numbers must fit a 64-bit floating-point value"),
                    );
                    ValueKind::Null
                }
            },
            Rule::literal => match self.source.as_bytes().get(self.scalar_start as usize) {
                Some(b't') => ValueKind::Bool(true),
                Some(b'f') => ValueKind::Bool(false),
                _ => ValueKind::Null,
            },
            Rule::object | Rule::array => {
                // The closing bracket is the last byte; a trailing comma may precede it.
                let close = pos.saturating_sub(1);
                self.gap(close);
                let rest = extra(self.cursor, close);
                match self.stack.last_mut() {
                    Some(Frame::Object { after_last, .. } | Frame::Array { after_last, .. }) => {
                        *after_last = rest;
                    }
                    None => self.ok = false,
                }
                self.close(pos);
                return;
            }
            _ => return,
        };
        let value = Value {
            before: extra(self.cursor, self.scalar_start),
            kind,
            span,
            after: Extra::default(),
        };
        self.cursor = pos;
        self.push_value(value);
    }

    fn string(&mut self, span: Span) -> SmolStr {
        let text = span.text(self.source);
        let decoded = decode_string(text, &mut self.control);
        if self.control.is_empty() {
            return decoded;
        }
        if self.control.iter().any(|c| c.byte == b'\n') {
            self.superset = true;
            self.ok = false;
            self.control.clear();
            return decoded;
        }
        for c in std::mem::take(&mut self.control) {
            let at = span.start + offset(c.offset);
            self.diagnostics.push(
                Diagnostic::new(
                    Code(&INVALID_STRING),
                    Span::new(at, at + 1),
                    format!("control character U+{:04X} in string", c.byte),
                )
                .with_primary_label("must be escaped")
                .with_help(match c.byte {
                    b'\t' => "write a tab as `\\t`".to_owned(),
                    b'\r' => "write a carriage return as `\\r`".to_owned(),
                    b => format!("write it as `\\u{b:04x}`"),
                }),
            );
        }
        decoded
    }

    /// Closes the innermost composite, which ends at `end`.
    fn close(&mut self, end: u32) {
        let Some(frame) = self.stack.pop() else {
            self.ok = false;
            return;
        };
        let value = match frame {
            Frame::Object {
                start,
                before,
                members,
                after_comma,
                after_last,
                ..
            } => {
                report_duplicates(&members, self.diagnostics);
                Value {
                    before,
                    span: Span::new(start, end),
                    kind: ValueKind::Object(Object {
                        trailing_comma: after_comma && !members.is_empty(),
                        members,
                        after_last,
                    }),
                    after: Extra::default(),
                }
            }
            Frame::Array {
                start,
                before,
                elements,
                after_comma,
                after_last,
            } => Value {
                before,
                span: Span::new(start, end),
                kind: ValueKind::Array(Array {
                    trailing_comma: after_comma && !elements.is_empty(),
                    elements,
                    after_last,
                }),
                after: Extra::default(),
            },
        };
        self.cursor = end;
        self.push_value(value);
    }

    fn push_value(&mut self, value: Value) {
        match self.stack.last_mut() {
            Some(Frame::Object {
                members,
                name,
                after_comma,
                ..
            }) => match name.take() {
                Some(name) => {
                    members.push(Member { name, value });
                    *after_comma = false;
                }
                None => self.ok = false,
            },
            Some(Frame::Array {
                elements,
                after_comma,
                ..
            }) => {
                elements.push(value);
                *after_comma = false;
            }
            None if self.root.is_none() => self.root = Some(value),
            None => self.ok = false,
        }
    }
}

/// What lies between two tokens.
enum Gap {
    /// Only whitespace and comments.
    Blank,
    /// Whitespace and comments around one `,` or `:`, at this offset.
    Punctuation(u32),
    /// A byte HuJSON does not allow there (a control character the fast grammar's
    /// whitespace range accepts), or a second punctuation mark.
    Invalid,
}

/// Reads the gap `start..end` of `source`, which the fast grammar accepted: to its end
/// when `whole`, else only up to its punctuation, if any (enough when the source has no
/// control character the grammar's whitespace range would let through).
fn scan_gap(source: &str, start: u32, end: u32, whole: bool) -> Gap {
    let Some(bytes) = source
        .as_bytes()
        .get(start as usize..end.max(start) as usize)
    else {
        return Gap::Invalid;
    };
    let mut punctuation = None;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b' ' | b'\t' | b'\n' | b'\r' => i += 1,
            b'/' => {
                let rest = bytes.get(i + 2..).unwrap_or_default();
                i += 2 + if bytes.get(i + 1) == Some(&b'/') {
                    memchr::memchr(b'\n', rest).map_or(rest.len(), |n| n + 1)
                } else {
                    memchr::memmem::find(rest, b"*/").map_or(rest.len(), |n| n + 2)
                };
            }
            b',' | b':' if punctuation.is_none() => {
                let at = start + offset(i);
                if !whole {
                    return Gap::Punctuation(at);
                }
                punctuation = Some(at);
                i += 1;
            }
            _ => return Gap::Invalid,
        }
    }
    punctuation.map_or(Gap::Blank, Gap::Punctuation)
}

/// Whether `bytes` holds a control character other than tab, line feed and carriage
/// return. Written without early exit, per 64-byte block, so that it vectorises.
fn has_stray_control(bytes: &[u8]) -> bool {
    bytes.chunks(64).any(|block| {
        block.iter().fold(false, |found, &b| {
            found | ((b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r'))
        })
    })
}

/// Members above this count are checked with a hash map, below it pairwise.
const LINEAR_DUPLICATE_CHECK: usize = 16;

/// Reports every member whose name exactly equals an earlier member's name.
fn report_duplicates(members: &[Member], diagnostics: &mut Diagnostics) {
    let mut report = |first: &Member, again: &Member| {
        diagnostics.push(
            Diagnostic::new(
                Code(&DUPLICATE_KEY),
                again.name.span,
                format!("duplicate key `{}`", again.key()),
            )
            .with_primary_label("defined again here")
            .with_label(first.name.span, "first defined here")
            .with_help("remove one of the members or merge their values; Tailscale keeps only the last one"),
        );
    };
    if members.len() <= LINEAR_DUPLICATE_CHECK {
        for (i, member) in members.iter().enumerate() {
            let earlier = members.get(..i).unwrap_or_default();
            if let Some(first) = earlier.iter().find(|m| m.key() == member.key()) {
                report(first, member);
            }
        }
    } else {
        let mut seen: HashMap<&str, &Member> = HashMap::with_capacity(members.len());
        for member in members {
            if let Some(first) = seen.get(member.key()) {
                report(first, member);
            } else {
                seen.insert(member.key(), member);
            }
        }
    }
}
