//! Builds the lossless tree in one pass over text the fast grammar has validated.
//!
//! `fast.pest` only decides whether the text is (a little more than) HuJSON; it is atomic
//! throughout and emits no pairs for values, so pest's token queue stays empty (with a
//! pair per string it grew to about 20 MB on a large policy, written and read back once).
//! The builder then reads the text once ([`Builder::lex`]): brackets, `,` and `:`,
//! member names and scalars, with whitespace and comments becoming [`Extra`]s. It relies
//! on the grammar for the structure (a `:` only after a name, a value after it, and so
//! on) and gives up with an internal error if that ever fails to hold. It keeps an
//! explicit stack of open composites (no recursion), and a cursor: the offset just after
//! the last token consumed, where the next extra starts.
//!
//! The fast grammar accepts a little more than HuJSON (see [`Rejected::Superset`]); the
//! builder notices the difference as it reads and gives up, and `parse` then asks the
//! diagnostic grammar for the error.

use super::codes::{DUPLICATE_KEY, INVALID_STRING, SYNTAX_ERROR};
use super::decode::{ControlChar, decode_number, decode_string};
use super::tree::{Array, Extra, Member, Object, SmolStr, Value, ValueKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::rules::Code;
use crate::span::Span;
use std::collections::HashMap;

/// An open object or array. Its members or elements so far are the tail of the
/// builder's shared [`Builder::members`] or [`Builder::elements`] from index `first`:
/// closing it moves them into a vector of exactly their number, so no vector of the tree
/// grows by doubling or keeps spare capacity.
enum Frame {
    Object {
        start: u32,
        before: Extra,
        first: usize,
        /// A member name waiting for its value.
        name: Option<Value>,
        /// The last thing consumed was a `,`.
        after_comma: bool,
        after_last: Extra,
    },
    Array {
        start: u32,
        before: Extra,
        first: usize,
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

/// Builds the root value of `source`, which the fast grammar accepted.
///
/// Duplicate keys, out-of-range numbers and control characters in strings are reported
/// to `diagnostics` and leave a tree.
pub(crate) fn build(source: &str, diagnostics: &mut Diagnostics) -> Result<Value, Rejected> {
    let len = offset(source.len());
    let mut builder = Builder {
        source,
        cursor: 0,
        stack: Vec::new(),
        members: Vec::new(),
        elements: Vec::new(),
        root: None,
        control: Vec::new(),
        diagnostics,
        ok: true,
        superset: false,
    };
    builder.lex(len);
    let Builder {
        root,
        ok,
        cursor,
        superset,
        stack,
        ..
    } = builder;
    match root {
        _ if superset => Err(Rejected::Superset),
        Some(mut root) if ok && stack.is_empty() => {
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
    /// The members of every open object, innermost last (see [`Frame`]).
    members: Vec<Member>,
    /// The elements of every open array, innermost last (see [`Frame`]).
    elements: Vec<Value>,
    root: Option<Value>,
    control: Vec<ControlChar>,
    diagnostics: &'d mut Diagnostics,
    ok: bool,
    /// The input turned out not to be HuJSON (see [`Rejected::Superset`]).
    superset: bool,
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
    /// A `{` (`object`) or `[` at `pos`.
    fn open(&mut self, pos: u32, object: bool) {
        let before = extra(self.cursor, pos);
        self.stack.push(if object {
            Frame::Object {
                start: pos,
                before,
                first: self.members.len(),
                name: None,
                after_comma: false,
                after_last: Extra::default(),
            }
        } else {
            Frame::Array {
                start: pos,
                before,
                first: self.elements.len(),
                after_comma: false,
                after_last: Extra::default(),
            }
        });
        self.cursor = pos + 1;
    }

    /// A `}` or `]` at `pos`.
    fn close_bracket(&mut self, pos: u32) {
        let rest = extra(self.cursor, pos);
        match self.stack.last_mut() {
            Some(Frame::Object { after_last, .. } | Frame::Array { after_last, .. }) => {
                *after_last = rest;
            }
            None => self.ok = false,
        }
        self.close(pos + 1);
    }

    /// Reads the text from the cursor to `end`.
    fn lex(&mut self, end: u32) {
        let bytes = self.source.as_bytes();
        let mut i = self.cursor as usize;
        let end = end as usize;
        while i < end && self.ok {
            // Blanks first, in a loop of their own: a conditional branch per byte that
            // predicts well, instead of a jump-table dispatch per byte.
            while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                i += 1;
            }
            if i >= end {
                break;
            }
            let Some(&b) = bytes.get(i) else {
                self.ok = false;
                return;
            };
            match b {
                b'/' => i = comment_end(bytes, i),
                b'{' | b'[' => {
                    if self.expects_name() {
                        self.ok = false;
                        return;
                    }
                    self.open(offset(i), b == b'{');
                    i += 1;
                }
                b'}' | b']' => {
                    self.close_bracket(offset(i));
                    i += 1;
                }
                b',' => {
                    self.comma(offset(i));
                    i += 1;
                }
                b':' => {
                    self.colon(offset(i));
                    i += 1;
                }
                b'"' => {
                    let close = string_end(bytes, i);
                    self.scalar(offset(i), offset(close), Scalar::String);
                    i = close;
                }
                b'-' | b'0'..=b'9' => {
                    let close = i + bytes
                        .get(i..end)
                        .unwrap_or_default()
                        .iter()
                        .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
                        .unwrap_or(end - i);
                    self.scalar(offset(i), offset(close), Scalar::Number);
                    i = close;
                }
                b't' | b'f' | b'n' => {
                    let (word, kind): (&[u8], _) = match b {
                        b't' => (b"true", ValueKind::Bool(true)),
                        b'f' => (b"false", ValueKind::Bool(false)),
                        _ => (b"null", ValueKind::Null),
                    };
                    let close = i + word.len();
                    if bytes.get(i..close) != Some(word) {
                        self.ok = false;
                        return;
                    }
                    self.scalar(offset(i), offset(close), Scalar::Literal(kind));
                    i = close;
                }
                // A control character the grammar's whitespace range lets through.
                _ => {
                    self.superset = true;
                    self.ok = false;
                }
            }
        }
    }

    /// Whether the innermost composite is an object waiting for a member name.
    fn expects_name(&self) -> bool {
        matches!(self.stack.last(), Some(Frame::Object { name: None, .. }))
    }

    /// A `,` at `at`: ends the last member or element.
    fn comma(&mut self, at: u32) {
        let separated = extra(self.cursor, at);
        match self.stack.last_mut() {
            Some(Frame::Object {
                first,
                after_comma,
                name: None,
                ..
            }) => {
                if let Some(last) = self.members.get_mut(*first..).and_then(<[_]>::last_mut) {
                    last.value.after = separated;
                }
                *after_comma = true;
            }
            Some(Frame::Array {
                first, after_comma, ..
            }) => {
                if let Some(last) = self.elements.get_mut(*first..).and_then(<[_]>::last_mut) {
                    last.after = separated;
                }
                *after_comma = true;
            }
            _ => self.ok = false,
        }
        self.cursor = at + 1;
    }

    /// A `:` at `at`: ends a member name.
    fn colon(&mut self, at: u32) {
        let separated = extra(self.cursor, at);
        match self.stack.last_mut() {
            Some(Frame::Object {
                name: Some(name), ..
            }) => name.after = separated,
            _ => self.ok = false,
        }
        self.cursor = at + 1;
    }

    /// A string, number or literal spanning `start..end`: a member name when an object
    /// waits for one, else a value.
    fn scalar(&mut self, start: u32, end: u32, scalar: Scalar) {
        let span = Span::new(start, end);
        let before = extra(self.cursor, start);
        self.cursor = end;
        if self.expects_name() {
            if !matches!(scalar, Scalar::String) {
                self.ok = false;
                return;
            }
            let name = Value {
                before,
                kind: ValueKind::String(self.string(span)),
                span,
                after: Extra::default(),
            };
            if let Some(Frame::Object {
                name: slot,
                after_comma,
                ..
            }) = self.stack.last_mut()
            {
                *slot = Some(name);
                *after_comma = false;
            }
            return;
        }
        let kind = match scalar {
            Scalar::String => ValueKind::String(self.string(span)),
            Scalar::Literal(kind) => kind,
            Scalar::Number => match decode_number(span.text(self.source)) {
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
        };
        self.push_value(Value {
            before,
            kind,
            span,
            after: Extra::default(),
        });
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
                first,
                after_comma,
                after_last,
                ..
            } => {
                let members = split_off(&mut self.members, first);
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
                first,
                after_comma,
                after_last,
            } => {
                let elements = split_off(&mut self.elements, first);
                Value {
                    before,
                    span: Span::new(start, end),
                    kind: ValueKind::Array(Array {
                        trailing_comma: after_comma && !elements.is_empty(),
                        elements,
                        after_last,
                    }),
                    after: Extra::default(),
                }
            }
        };
        self.cursor = end;
        self.push_value(value);
    }

    fn push_value(&mut self, value: Value) {
        match self.stack.last_mut() {
            Some(Frame::Object {
                name, after_comma, ..
            }) => match name.take() {
                Some(name) => {
                    self.members.push(Member { name, value });
                    *after_comma = false;
                }
                None => self.ok = false,
            },
            Some(Frame::Array { after_comma, .. }) => {
                self.elements.push(value);
                *after_comma = false;
            }
            None if self.root.is_none() => self.root = Some(value),
            None => self.ok = false,
        }
    }
}

/// Moves `all[first..]` into a vector of exactly that length (none for no items).
/// (`Vec::split_off(0)` would hand over the scratch buffer, spare capacity and all.)
fn split_off<T>(all: &mut Vec<T>, first: usize) -> Vec<T> {
    if first >= all.len() {
        return Vec::new();
    }
    all.drain(first..).collect()
}

/// The kinds of scalar [`Builder::lex`] reads.
enum Scalar {
    String,
    Number,
    /// `true`, `false` or `null`, already decoded.
    Literal(ValueKind),
}

/// The offset just after the string whose opening quote is at `open` (the grammar has
/// checked that it ends), or the end of `bytes`.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    while let Some(n) = bytes
        .get(i..)
        .and_then(|rest| memchr::memchr2(b'"', b'\\', rest))
    {
        i += n;
        if bytes.get(i) == Some(&b'"') {
            return i + 1;
        }
        i += 2;
    }
    bytes.len()
}

/// The offset just after the comment starting at `slash` (a `/` the grammar has checked
/// starts one). A line comment ends after its line break or at the end of the text.
fn comment_end(bytes: &[u8], slash: usize) -> usize {
    let rest = bytes.get(slash + 2..).unwrap_or_default();
    slash
        + 2
        + if bytes.get(slash + 1) == Some(&b'/') {
            memchr::memchr(b'\n', rest).map_or(rest.len(), |n| n + 1)
        } else {
            memchr::memmem::find(rest, b"*/").map_or(rest.len(), |n| n + 2)
        }
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
