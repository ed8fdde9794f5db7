//! The lossless HuJSON tree.
//!
//! Every byte of the input belongs to exactly one place in the tree: a value's literal
//! text (its [`Value::span`]), or an [`Extra`] run of whitespace and comments. Printing
//! the tree back with [`Document::to_source`] reproduces the input byte for byte, which
//! is what `fmt` and autofixes build on.
//!
//! Where extras go (the same placement as `tailscale/hujson`):
//! - `Value::before`: between the previous token (`{`, `[`, `,`, `:` or the start of the
//!   file) and the value (for an object member's name: between `{`/`,` and the name);
//! - `Value::after`: between the value and the next `,` or `:` (for a member name,
//!   between the name and the colon), or, for the root, to the end of the file;
//! - [`Object::after_last`] / [`Array::after_last`]: after the last member or element
//!   (and after its trailing comma, if any) up to the closing bracket; for an empty
//!   composite, everything between the brackets.
//!
//! Hence the last member's value keeps its `after` empty unless a trailing comma follows.

use crate::span::Span;
pub use smol_str::SmolStr;

/// A parsed HuJSON file: the root value and the text it came from.
#[derive(Clone, Debug)]
pub struct Document {
    /// The source text.
    pub source: String,
    /// The single top-level value, with leading and trailing extras.
    pub root: Value,
}

/// A run of whitespace and comments, as a span into the source.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extra {
    /// The bytes covered (possibly empty).
    pub span: Span,
}

impl Extra {
    /// The raw text.
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        self.span.text(source)
    }

    /// Whether it contains a `//` or `/* */` comment.
    pub fn has_comment(&self, source: &str) -> bool {
        let t = self.text(source);
        t.contains("//") || t.contains("/*")
    }
}

/// A value with the extras around it.
#[derive(Clone, Debug)]
pub struct Value {
    /// Whitespace and comments before the value.
    pub before: Extra,
    /// What the value is.
    pub kind: ValueKind,
    /// The value's own text: the literal, or the composite from its opening to its
    /// closing bracket inclusive.
    pub span: Span,
    /// Whitespace and comments after the value (see the module docs).
    pub after: Extra,
}

/// The kinds of JSON value.
#[derive(Clone, Debug)]
pub enum ValueKind {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as `serde_json` would read it (integers that fit `i64`/`u64` stay
    /// exact, everything else is the nearest `f64`); the exact text is the value's span.
    Number(serde_json::Number),
    /// A string, decoded (escapes resolved); the raw text is the value's span. Strings of
    /// up to 23 bytes, most of a policy's, are stored inline without an allocation.
    String(SmolStr),
    /// An object.
    Object(Object),
    /// An array.
    Array(Array),
}

/// An object's members in source order (duplicates kept; the checker reports them).
#[derive(Clone, Debug, Default)]
pub struct Object {
    /// The members.
    pub members: Vec<Member>,
    /// Whether the last member is followed by a comma.
    pub trailing_comma: bool,
    /// Extras after the last member (and its comma) up to `}`.
    pub after_last: Extra,
}

/// One `"name": value` pair.
#[derive(Clone, Debug)]
pub struct Member {
    /// The name, always a [`ValueKind::String`].
    pub name: Value,
    /// The value.
    pub value: Value,
}

/// An array's elements in source order.
#[derive(Clone, Debug, Default)]
pub struct Array {
    /// The elements.
    pub elements: Vec<Value>,
    /// Whether the last element is followed by a comma.
    pub trailing_comma: bool,
    /// Extras after the last element (and its comma) up to `]`.
    pub after_last: Extra,
}

impl Member {
    /// The decoded member name (empty if the name is somehow not a string).
    pub fn key(&self) -> &str {
        match &self.name.kind {
            ValueKind::String(s) => s,
            _ => "",
        }
    }
}

impl Value {
    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&Object> {
        match &self.kind {
            ValueKind::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&Array> {
        match &self.kind {
            ValueKind::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The decoded string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            ValueKind::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match &self.kind {
            ValueKind::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is one.
    pub fn as_number(&self) -> Option<&serde_json::Number> {
        match &self.kind {
            ValueKind::Number(n) => Some(n),
            _ => None,
        }
    }

    /// The number as an `f64`, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().and_then(serde_json::Number::as_f64)
    }

    /// The number as an `i64`, if this is an integer that fits.
    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(serde_json::Number::as_i64)
    }

    /// The number as a `u64`, if this is a non-negative integer that fits.
    pub fn as_u64(&self) -> Option<u64> {
        self.as_number().and_then(serde_json::Number::as_u64)
    }

    /// The value's own text as written (for a composite, from its opening to its
    /// closing bracket).
    pub fn text<'a>(&self, source: &'a str) -> &'a str {
        self.span.text(source)
    }

    /// The span from the start of `before` to the end of `after`.
    pub fn full_span(&self) -> Span {
        self.before.span.to(self.span).to(self.after.span)
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.kind, ValueKind::Null)
    }

    /// A short name of the value's type for messages: `object`, `array`, `string`,
    /// `number`, `boolean` or `null`.
    pub fn type_name(&self) -> &'static str {
        match self.kind {
            ValueKind::Null => "null",
            ValueKind::Bool(_) => "boolean",
            ValueKind::Number(_) => "number",
            ValueKind::String(_) => "string",
            ValueKind::Object(_) => "object",
            ValueKind::Array(_) => "array",
        }
    }

    /// Whether `self` and `other` hold the same data: same kinds, same decoded strings,
    /// same numbers, same members (duplicates included) in the same order. Layout and
    /// comments are ignored.
    pub fn same_data(&self, other: &Value) -> bool {
        match (&self.kind, &other.kind) {
            (ValueKind::Null, ValueKind::Null) => true,
            (ValueKind::Bool(a), ValueKind::Bool(b)) => a == b,
            (ValueKind::Number(a), ValueKind::Number(b)) => a == b,
            (ValueKind::String(a), ValueKind::String(b)) => a == b,
            (ValueKind::Object(a), ValueKind::Object(b)) => {
                a.members.len() == b.members.len()
                    && a.members
                        .iter()
                        .zip(&b.members)
                        .all(|(x, y)| x.key() == y.key() && x.value.same_data(&y.value))
            }
            (ValueKind::Array(a), ValueKind::Array(b)) => {
                a.elements.len() == b.elements.len()
                    && a.elements
                        .iter()
                        .zip(&b.elements)
                        .all(|(x, y)| x.same_data(y))
            }
            _ => false,
        }
    }

    /// Converts to a `serde_json::Value` (comments dropped; for duplicate keys the last
    /// wins, as Go's `encoding/json` does). Equal to what `serde_json::from_str` gives
    /// for the same document with comments and trailing commas removed.
    pub fn to_json(&self) -> serde_json::Value {
        match &self.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Number(n) => serde_json::Value::Number(n.clone()),
            ValueKind::String(s) => serde_json::Value::String(s.to_string()),
            ValueKind::Array(a) => {
                serde_json::Value::Array(a.elements.iter().map(Value::to_json).collect())
            }
            ValueKind::Object(o) => {
                let mut map = serde_json::Map::new();
                for m in &o.members {
                    map.insert(m.key().to_owned(), m.value.to_json());
                }
                serde_json::Value::Object(map)
            }
        }
    }
}

impl Object {
    /// The first member whose name equals `key` ignoring ASCII case (Tailscale matches
    /// field names case-insensitively).
    pub fn get(&self, key: &str) -> Option<&Member> {
        self.members
            .iter()
            .find(|m| m.key().eq_ignore_ascii_case(key))
    }

    /// The first member whose name is exactly `key`.
    pub fn get_exact(&self, key: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.key() == key)
    }
}
