//! Device posture (policy-spec §2.7): a device's posture attributes, the typed posture
//! condition (`attribute operator value`), its parser, and its evaluation.
//!
//! Semantics (Tailscale's device-posture documentation):
//! - attribute values are strings, numbers or booleans;
//! - operators are `==`, `!=`, `IN [...]`, `NOT IN [...]`, `IS SET`, `NOT SET`, and for
//!   numbers and versions `<`, `<=`, `>`, `>=` (keywords in any case);
//! - an attribute the device does not have fails every condition except `NOT SET`;
//! - `node:osVersion` and `node:tsVersion` compare as versions ([`compare_versions`]).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// One posture attribute value.
#[derive(Clone, Debug)]
pub enum AttrValue {
    /// A string (`'macos'`, a version `'1.62.0'`).
    String(String),
    /// A number.
    Number(f64),
    /// A boolean.
    Bool(bool),
}

impl PartialEq for AttrValue {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (AttrValue::String(a), AttrValue::String(b)) => a == b,
            (AttrValue::Number(a), AttrValue::Number(b)) => a.total_cmp(b) == Ordering::Equal,
            (AttrValue::Bool(a), AttrValue::Bool(b)) => a == b,
            _ => false,
        }
    }
}
impl Eq for AttrValue {}

impl fmt::Display for AttrValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrValue::String(s) => write!(f, "'{s}'"),
            AttrValue::Number(n) => write!(f, "{n}"),
            AttrValue::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl AttrValue {
    /// The value of a JSON scalar; `None` for `null`, arrays and objects.
    pub fn from_json(v: &serde_json::Value) -> Option<AttrValue> {
        match v {
            serde_json::Value::String(s) => Some(AttrValue::String(s.clone())),
            serde_json::Value::Number(n) => n.as_f64().map(AttrValue::Number),
            serde_json::Value::Bool(b) => Some(AttrValue::Bool(*b)),
            _ => None,
        }
    }

    /// The value as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            AttrValue::String(s) => serde_json::Value::String(s.clone()),
            AttrValue::Number(n) => serde_json::Number::from_f64(*n)
                .map_or(serde_json::Value::Null, serde_json::Value::Number),
            AttrValue::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

/// A device's posture attributes by key (`node:os`, `custom:tier`, …).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostureAttrs(BTreeMap<String, AttrValue>);

impl PostureAttrs {
    /// No attributes.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `value`.
    pub fn insert(&mut self, key: impl Into<String>, value: AttrValue) {
        self.0.insert(key.into(), value);
    }

    /// The value of `key`.
    pub fn get(&self, key: &str) -> Option<&AttrValue> {
        self.0.get(key)
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Every attribute, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
}

impl FromIterator<(String, AttrValue)> for PostureAttrs {
    fn from_iter<I: IntoIterator<Item = (String, AttrValue)>>(iter: I) -> Self {
        PostureAttrs(iter.into_iter().collect())
    }
}

/// Whether `key` is a namespaced attribute key: `namespace:name`, the namespace ASCII
/// letters and digits starting with a letter, the name non-empty without whitespace,
/// quotes, brackets or operator characters.
pub fn is_attribute_key(key: &str) -> bool {
    let Some((ns, name)) = key.split_once(':') else {
        return false;
    };
    ns.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && ns.chars().all(|c| c.is_ascii_alphanumeric())
        && !name.is_empty()
        && name.chars().all(|c| !c.is_whitespace() && !is_special(c))
}

fn is_special(c: char) -> bool {
    matches!(
        c,
        '=' | '!' | '<' | '>' | '[' | ']' | '\'' | '"' | ',' | '(' | ')' | ':'
    )
}

/// The type Tailscale documents for a built-in attribute.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AttrType {
    /// A string from a fixed or open set.
    String,
    /// A version string, compared with [`compare_versions`].
    Version,
    /// `true` or `false`.
    Bool,
}

/// The documented type of a built-in attribute; `None` for custom and integration
/// attributes, whose type is whatever was set.
pub fn known_type(attribute: &str) -> Option<AttrType> {
    match attribute {
        "node:os" | "node:tsReleaseTrack" | "ip:country" => Some(AttrType::String),
        "node:osVersion" | "node:tsVersion" => Some(AttrType::Version),
        "node:tsAutoUpdate" | "node:tsStateEncrypted" => Some(AttrType::Bool),
        _ => None,
    }
}

/// Whether the attribute's values are versions.
pub fn is_version_attribute(attribute: &str) -> bool {
    known_type(attribute) == Some(AttrType::Version)
}

/// Compares two versions as Tailscale's `cmpver` documents it: a version is a sequence
/// of alternating non-numeric and numeric fields, compared pairwise (non-numeric
/// fields byte-wise, numeric ones as numbers); the first unequal pair decides, and a
/// version that is a prefix of the other is the smaller (`12` < `12.0`).
pub fn compare_versions(a: &str, b: &str) -> Ordering {
    let (fa, fb) = (version_fields(a), version_fields(b));
    for (x, y) in fa.iter().zip(&fb) {
        let o = match (x, y) {
            (Field::Num(x), Field::Num(y)) => compare_digits(x, y),
            (Field::Text(x), Field::Text(y)) => x.cmp(y),
            // A number sorts before text at the same position.
            (Field::Num(_), Field::Text(_)) => Ordering::Less,
            (Field::Text(_), Field::Num(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    fa.len().cmp(&fb.len())
}

enum Field<'s> {
    Num(&'s str),
    Text(&'s str),
}

fn version_fields(s: &str) -> Vec<Field<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(c) = rest.chars().next() {
        let digit = c.is_ascii_digit();
        let end = rest
            .find(|ch: char| ch.is_ascii_digit() != digit)
            .unwrap_or(rest.len());
        let (field, tail) = rest.split_at(end);
        out.push(if digit {
            Field::Num(field)
        } else {
            Field::Text(field)
        });
        rest = tail;
    }
    out
}

/// Compares two digit strings as numbers of any size.
fn compare_digits(a: &str, b: &str) -> Ordering {
    let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// A condition operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operator {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN [...]`.
    In,
    /// `NOT IN [...]`.
    NotIn,
    /// `IS SET`.
    IsSet,
    /// `NOT SET`.
    NotSet,
}

impl Operator {
    /// The operator as written canonically.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operator::Eq => "==",
            Operator::Ne => "!=",
            Operator::Lt => "<",
            Operator::Le => "<=",
            Operator::Gt => ">",
            Operator::Ge => ">=",
            Operator::In => "IN",
            Operator::NotIn => "NOT IN",
            Operator::IsSet => "IS SET",
            Operator::NotSet => "NOT SET",
        }
    }

    /// Whether it orders values (`<`, `<=`, `>`, `>=`).
    pub const fn is_ordering(self) -> bool {
        matches!(
            self,
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge
        )
    }
}

/// What a condition compares the attribute with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Operand {
    /// Nothing (`IS SET`, `NOT SET`).
    None,
    /// One value.
    Value(AttrValue),
    /// A list (`IN`, `NOT IN`).
    List(Vec<AttrValue>),
}

/// One posture condition: `attribute operator operand`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Condition {
    /// The attribute key (`node:os`).
    pub attribute: String,
    /// The operator.
    pub op: Operator,
    /// The operand.
    pub operand: Operand,
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.attribute, self.op.as_str())?;
        match &self.operand {
            Operand::None => Ok(()),
            Operand::Value(v) => write!(f, " {v}"),
            Operand::List(vs) => {
                let items: Vec<String> = vs.iter().map(ToString::to_string).collect();
                write!(f, " [{}]", items.join(", "))
            }
        }
    }
}

/// Why a condition could not be read: a message and where in the condition text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset of the offending part in the condition text.
    pub start: usize,
    /// Byte offset just after it.
    pub end: usize,
    /// What is wrong (lower case, no final period).
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
}

impl Condition {
    /// Parses and type-checks a condition string.
    pub fn parse(text: &str) -> Result<Condition, ConditionError> {
        let c = Parser { text, pos: 0 }.condition()?;
        type_check(&c, text)?;
        Ok(c)
    }

    /// Whether a device with `attrs` meets the condition.
    pub fn holds(&self, attrs: &PostureAttrs) -> bool {
        let Some(v) = attrs.get(&self.attribute) else {
            return self.op == Operator::NotSet;
        };
        let version = is_version_attribute(&self.attribute);
        let one = |f: &dyn Fn(&AttrValue) -> bool| match &self.operand {
            Operand::Value(x) => f(x),
            _ => false,
        };
        match self.op {
            Operator::IsSet => true,
            Operator::NotSet => false,
            Operator::Eq => one(&|x| values_equal(v, x, version)),
            Operator::Ne => one(&|x| !values_equal(v, x, version)),
            Operator::In | Operator::NotIn => {
                let Operand::List(xs) = &self.operand else {
                    return false;
                };
                let found = xs.iter().any(|x| values_equal(v, x, version));
                found == (self.op == Operator::In)
            }
            Operator::Lt | Operator::Le | Operator::Gt | Operator::Ge => one(&|x| {
                order(v, x).is_some_and(|o| match self.op {
                    Operator::Lt => o == Ordering::Less,
                    Operator::Le => o != Ordering::Greater,
                    Operator::Gt => o == Ordering::Greater,
                    _ => o != Ordering::Less,
                })
            }),
        }
    }
}

fn values_equal(v: &AttrValue, x: &AttrValue, version: bool) -> bool {
    match (v, x) {
        (AttrValue::String(a), AttrValue::String(b)) if version => {
            compare_versions(a, b) == Ordering::Equal
        }
        _ => v == x,
    }
}

/// How the device's value `v` orders against the literal `x`: numbers numerically,
/// strings as versions; `None` for other pairs.
fn order(v: &AttrValue, x: &AttrValue) -> Option<Ordering> {
    match (v, x) {
        (AttrValue::Number(a), AttrValue::Number(b)) => a.partial_cmp(b),
        (AttrValue::String(a), AttrValue::String(b)) => Some(compare_versions(a, b)),
        _ => None,
    }
}

fn err(start: usize, end: usize, message: impl Into<String>) -> ConditionError {
    ConditionError {
        start,
        end,
        message: message.into(),
        help: None,
    }
}

fn with_help(mut e: ConditionError, help: impl Into<String>) -> ConditionError {
    e.help = Some(help.into());
    e
}

struct Parser<'t> {
    text: &'t str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        let r = self.rest();
        self.pos += r.len() - r.trim_start().len();
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    /// Reads a run of characters that are not whitespace or special (a word).
    fn word(&mut self) -> (usize, &str) {
        let start = self.pos;
        let r = self.rest();
        let len = r
            .find(|c: char| c.is_whitespace() || (is_special(c) && c != ':'))
            .unwrap_or(r.len());
        self.pos += len;
        (start, self.text.get(start..self.pos).unwrap_or(""))
    }

    fn condition(mut self) -> Result<Condition, ConditionError> {
        self.skip_ws();
        if self.rest().is_empty() {
            return Err(with_help(
                err(0, self.text.len(), "empty posture condition"),
                "a condition is `attribute operator value`, e.g. `node:os == 'macos'`",
            ));
        }
        let (a_start, attribute) = self.word();
        let attribute = attribute.to_owned();
        if attribute.is_empty() || !is_attribute_key(&attribute) {
            let end = if attribute.is_empty() {
                a_start + self.peek().map_or(0, char::len_utf8)
            } else {
                self.pos
            };
            let shown = self.text.get(a_start..end).unwrap_or("");
            return Err(with_help(
                err(
                    a_start,
                    end,
                    format!("`{shown}` is not a posture attribute"),
                ),
                "attributes are namespaced: `node:os`, `node:tsVersion`, `ip:country`, `custom:name`",
            ));
        }
        let a_end = self.pos;
        self.skip_ws();
        let op = self.operator(&attribute, a_start, a_end)?;
        self.skip_ws();
        let operand = match op {
            Operator::IsSet | Operator::NotSet => Operand::None,
            Operator::In | Operator::NotIn => {
                if self.peek() != Some('[') {
                    let (s, e) = self.span_of_next();
                    return Err(with_help(
                        err(s, e, format!("`{}` needs a list", op.as_str())),
                        format!("write `{attribute} {} ['a', 'b']`", op.as_str()),
                    ));
                }
                Operand::List(self.list()?)
            }
            _ => {
                if self.peek() == Some('[') {
                    let (s, e) = self.span_of_next();
                    return Err(with_help(
                        err(
                            s,
                            e,
                            format!("`{}` compares with one value, not a list", op.as_str()),
                        ),
                        "use `IN` or `NOT IN` with a list",
                    ));
                }
                Operand::Value(self.scalar(op)?)
            }
        };
        self.skip_ws();
        if !self.rest().is_empty() {
            let start = self.pos;
            let what = if operand == Operand::None {
                format!("`{}` takes no value", op.as_str())
            } else {
                format!("unexpected `{}` after the value", self.rest().trim_end())
            };
            return Err(err(start, self.text.trim_end().len().max(start), what));
        }
        Ok(Condition {
            attribute,
            op,
            operand,
        })
    }

    /// The span of the next token (for errors).
    fn span_of_next(&self) -> (usize, usize) {
        let r = self.rest();
        let len = r.find(char::is_whitespace).unwrap_or(r.len()).max(
            r.chars().next().map_or(0, char::len_utf8), // at least one character
        );
        if r.is_empty() {
            (self.pos.saturating_sub(1), self.pos)
        } else {
            (self.pos, self.pos + len)
        }
    }

    fn operator(
        &mut self,
        attribute: &str,
        a_start: usize,
        a_end: usize,
    ) -> Result<Operator, ConditionError> {
        let start = self.pos;
        for (sym, op) in [
            ("==", Operator::Eq),
            ("!=", Operator::Ne),
            ("<=", Operator::Le),
            (">=", Operator::Ge),
            ("<", Operator::Lt),
            (">", Operator::Gt),
        ] {
            if self.rest().starts_with(sym) {
                self.pos += sym.len();
                return Ok(op);
            }
        }
        if self.rest().is_empty() {
            let help = if known_type(attribute) == Some(AttrType::Bool) {
                format!("write `{attribute} == true`")
            } else {
                format!("write e.g. `{attribute} IS SET` or `{attribute} == 'value'`")
            };
            return Err(with_help(
                err(
                    a_start,
                    a_end,
                    format!("`{attribute}` has no operator and value"),
                ),
                help,
            ));
        }
        if self.peek() == Some('=') {
            return Err(with_help(
                err(start, start + 1, "unknown operator `=`"),
                "use `==` to compare",
            ));
        }
        let (w_start, first) = self.word();
        let first = first.to_owned();
        let first_up = first.to_ascii_uppercase();
        let unknown = |s: usize, e: usize, text: &str| {
            with_help(
                err(s, e, format!("unknown operator `{text}`")),
                "operators are `==`, `!=`, `<`, `<=`, `>`, `>=`, `IN`, `NOT IN`, `IS SET` and `NOT SET`",
            )
        };
        match first_up.as_str() {
            "IN" => Ok(Operator::In),
            "IS" | "NOT" => {
                self.skip_ws();
                let (_, second) = self.word();
                let second_up = second.to_ascii_uppercase();
                match (first_up.as_str(), second_up.as_str()) {
                    ("IS", "SET") => Ok(Operator::IsSet),
                    ("NOT", "SET") => Ok(Operator::NotSet),
                    ("NOT", "IN") => Ok(Operator::NotIn),
                    _ => {
                        let end = if second.is_empty() {
                            self.span_of_next().1
                        } else {
                            self.pos
                        };
                        let text = self.text.get(w_start..end).unwrap_or("").to_owned();
                        Err(unknown(w_start, end, &text))
                    }
                }
            }
            "" => {
                let (s, e) = self.span_of_next();
                let text = self.text.get(s..e).unwrap_or("").to_owned();
                Err(unknown(s, e, &text))
            }
            _ => Err(unknown(w_start, self.pos, &first)),
        }
    }

    fn scalar(&mut self, op: Operator) -> Result<AttrValue, ConditionError> {
        let start = self.pos;
        match self.peek() {
            None => Err(err(
                start.saturating_sub(1),
                start,
                format!("`{}` needs a value", op.as_str()),
            )),
            Some('\'') => {
                let body = self.rest().get(1..).unwrap_or("");
                match body.find('\'') {
                    Some(end) => {
                        let s = body.get(..end).unwrap_or("").to_owned();
                        self.pos += end + 2;
                        Ok(AttrValue::String(s))
                    }
                    None => Err(with_help(
                        err(start, self.text.len(), "unterminated string"),
                        "close the string with `'`",
                    )),
                }
            }
            Some('"') => {
                let (s, e) = self.span_of_next();
                Err(with_help(
                    err(s, e, "string values are single-quoted"),
                    "write `'value'`",
                ))
            }
            Some('[') => {
                let (s, e) = self.span_of_next();
                Err(err(s, e, "lists cannot be nested"))
            }
            Some(_) => {
                let (s, w) = self.word();
                let w = w.to_owned();
                if w.is_empty() {
                    let (s, e) = self.span_of_next();
                    let text = self.text.get(s..e).unwrap_or("");
                    return Err(err(
                        s,
                        e,
                        format!("unexpected `{text}` where a value belongs"),
                    ));
                }
                match w.as_str() {
                    "true" => return Ok(AttrValue::Bool(true)),
                    "false" => return Ok(AttrValue::Bool(false)),
                    _ => {}
                }
                if looks_numeric(&w)
                    && let Ok(n) = w.parse::<f64>()
                    && n.is_finite()
                {
                    return Ok(AttrValue::Number(n));
                }
                Err(with_help(
                    err(s, self.pos, format!("unquoted string `{w}`")),
                    format!("strings are single-quoted: `'{w}'`; booleans are `true` and `false`"),
                ))
            }
        }
    }

    fn list(&mut self) -> Result<Vec<AttrValue>, ConditionError> {
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.pos += 1;
            return Ok(items);
        }
        loop {
            self.skip_ws();
            match self.peek() {
                None => {
                    return Err(with_help(
                        err(open, self.text.len(), "unterminated list"),
                        "close the list with `]`",
                    ));
                }
                Some(']') => {
                    return Err(err(self.pos, self.pos + 1, "expected a value after `,`"));
                }
                Some(',') => {
                    return Err(err(self.pos, self.pos + 1, "missing value before `,`"));
                }
                Some(_) => items.push(self.scalar(Operator::In)?),
            }
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(']') => {
                    self.pos += 1;
                    return Ok(items);
                }
                None => {
                    return Err(with_help(
                        err(open, self.text.len(), "unterminated list"),
                        "close the list with `]`",
                    ));
                }
                Some(_) => {
                    let (s, e) = self.span_of_next();
                    return Err(with_help(
                        err(s, e, "missing `,` between list values"),
                        "separate values with `,`: `['a', 'b']`",
                    ));
                }
            }
        }
    }
}

fn looks_numeric(w: &str) -> bool {
    let digits = w.strip_prefix('-').unwrap_or(w);
    !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.chars().filter(|c| *c == '.').count() <= 1
        && digits.chars().next().is_some_and(|c| c.is_ascii_digit())
}

fn type_name(v: &AttrValue) -> &'static str {
    match v {
        AttrValue::String(_) => "a string",
        AttrValue::Number(_) => "a number",
        AttrValue::Bool(_) => "a boolean",
    }
}

/// Checks that the operand suits the operator and the attribute's documented type.
fn type_check(c: &Condition, text: &str) -> Result<(), ConditionError> {
    let whole = (0, text.trim_end().len());
    let fail = |msg: String, help: &str| Err(with_help(err(whole.0, whole.1, msg), help));
    let values: Vec<&AttrValue> = match &c.operand {
        Operand::None => return Ok(()),
        Operand::Value(v) => vec![v],
        Operand::List(vs) => vs.iter().collect(),
    };
    let ty = known_type(&c.attribute);
    if c.op.is_ordering() {
        let Some(v) = values.first() else {
            return Ok(());
        };
        return match (v, ty) {
            (AttrValue::Bool(_), _) => fail(
                format!("`{}` does not apply to booleans", c.op.as_str()),
                "use `==` or `!=` with `true` or `false`",
            ),
            (AttrValue::String(_), Some(AttrType::Version)) => Ok(()),
            (AttrValue::Number(_), Some(AttrType::Version)) => fail(
                format!(
                    "`{}` holds versions, which are compared quoted",
                    c.attribute
                ),
                "quote the version: `'1.60'` (an unquoted `1.60` would be the number 1.6)",
            ),
            (AttrValue::Number(_), None) => Ok(()),
            (_, Some(AttrType::Bool)) => fail(
                format!(
                    "`{}` does not apply to the boolean `{}`",
                    c.op.as_str(),
                    c.attribute
                ),
                "use `==` or `!=` with `true` or `false`",
            ),
            _ => fail(
                format!(
                    "`{}` compares numbers and versions, and `{}` is not a version attribute",
                    c.op.as_str(),
                    c.attribute
                ),
                "only numbers and `node:osVersion`/`node:tsVersion` can be ordered; use `==`, `!=` or `IN`",
            ),
        };
    }
    for v in values {
        let ok = match ty {
            None => true,
            Some(AttrType::Bool) => matches!(v, AttrValue::Bool(_)),
            Some(AttrType::String | AttrType::Version) => matches!(v, AttrValue::String(_)),
        };
        if !ok {
            let (what, help) = match ty {
                Some(AttrType::Bool) => ("a boolean", "compare it with `true` or `false`"),
                Some(AttrType::Version) => ("a version", "compare it with a quoted version"),
                _ => ("a string", "compare it with a single-quoted string"),
            };
            return fail(
                format!(
                    "`{}` is {what}, but is compared with {}",
                    c.attribute,
                    type_name(v)
                ),
                help,
            );
        }
    }
    Ok(())
}

#[cfg(test)]
#[expect(clippy::unwrap_used, reason = "tests")]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, AttrValue)]) -> PostureAttrs {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    fn s(x: &str) -> AttrValue {
        AttrValue::String(x.to_owned())
    }

    #[test]
    fn versions() {
        use Ordering::*;
        assert_eq!(compare_versions("1.62.0", "1.62.0"), Equal);
        assert_eq!(compare_versions("1.9", "1.10"), Less);
        assert_eq!(compare_versions("12", "12.0"), Less);
        assert_eq!(compare_versions("1.40", "1.40.0"), Less);
        assert_eq!(compare_versions("1.62.0-t123", "1.62.0"), Greater);
        assert_eq!(
            compare_versions("10.0.26100.3476", "10.0.26100.999"),
            Greater
        );
        assert_eq!(compare_versions("1.007", "1.7"), Equal);
        assert_eq!(compare_versions("", "0"), Less);
        assert_eq!(
            compare_versions("99999999999999999999999", "99999999999999999999998"),
            Greater
        );
    }

    #[test]
    fn parses_documented_forms() {
        for text in [
            "node:os == 'macos'",
            "node:os IN ['macos', 'linux']",
            "ip:country in ['CA', 'US', 'GB', 'NL']",
            "node:osVersion == '13.4.0'",
            "node:tsAutoUpdate == true",
            "node:tsVersion >= '1.42.2'",
            "custom:attr IS SET",
            "ip:publicAddress is set",
            "custom:x NOT SET",
            "custom:score >= 80",
            "custom:tier != 'prod'",
            "node:os NOT IN []",
            "  node:os   ==   'macos'  ",
        ] {
            assert!(Condition::parse(text).is_ok(), "{text}");
        }
        let c = Condition::parse("node:os not in ['a','b']").unwrap();
        assert_eq!(c.op, Operator::NotIn);
        assert_eq!(c.operand, Operand::List(vec![s("a"), s("b")]));
        assert_eq!(c.to_string(), "node:os NOT IN ['a', 'b']");
    }

    fn error(text: &str) -> ConditionError {
        Condition::parse(text).unwrap_err()
    }

    #[test]
    fn precise_errors() {
        let e = error("node:os = 'macos'");
        assert_eq!(e.message, "unknown operator `=`");
        assert_eq!((e.start, e.end), (8, 9));
        let e = error("node:os == macos");
        assert_eq!(e.message, "unquoted string `macos`");
        assert_eq!(&"node:os == macos"[e.start..e.end], "macos");
        let e = error("node:os IN ['a' 'b']");
        assert_eq!(e.message, "missing `,` between list values");
        assert_eq!(
            error("node:os IN ['a', ]").message,
            "expected a value after `,`"
        );
        assert_eq!(error("node:os IN ['a'").message, "unterminated list");
        assert_eq!(error("node:os IN 'a'").message, "`IN` needs a list");
        assert_eq!(
            error("node:os == ['a']").message,
            "`==` compares with one value, not a list"
        );
        assert_eq!(error("node:os LIKE 'a'").message, "unknown operator `LIKE`");
        assert_eq!(error("node:os IS 'a'").message, "unknown operator `IS 'a'`");
        assert_eq!(
            error("node:os").message,
            "`node:os` has no operator and value"
        );
        assert_eq!(
            error("os == 'macos'").message,
            "`os` is not a posture attribute"
        );
        assert_eq!(error("").message, "empty posture condition");
        assert_eq!(
            error("custom:x IS SET 'a'").message,
            "`IS SET` takes no value"
        );
        assert_eq!(error("node:os == 'macos").message, "unterminated string");
        assert_eq!(
            error("node:os == \"macos\"").message,
            "string values are single-quoted"
        );
        assert_eq!(
            error("node:os >= 'macos'").message,
            "`>=` compares numbers and versions, and `node:os` is not a version attribute"
        );
        assert_eq!(
            error("node:tsAutoUpdate == 'true'").message,
            "`node:tsAutoUpdate` is a boolean, but is compared with a string"
        );
        assert_eq!(
            error("node:tsVersion >= 1.60").message,
            "`node:tsVersion` holds versions, which are compared quoted"
        );
        assert_eq!(
            error("custom:flag < true").message,
            "`<` does not apply to booleans"
        );
        assert_eq!(
            error("node:os == 'a' 'b'").message,
            "unexpected `'b'` after the value"
        );
    }

    #[test]
    fn evaluation() {
        let mac = attrs(&[
            ("node:os", s("macos")),
            ("node:tsVersion", s("1.62.0")),
            ("node:tsAutoUpdate", AttrValue::Bool(true)),
            ("custom:score", AttrValue::Number(80.0)),
        ]);
        let holds = |t: &str| Condition::parse(t).unwrap().holds(&mac);
        assert!(holds("node:os == 'macos'"));
        assert!(!holds("node:os != 'macos'"));
        assert!(holds("node:os IN ['linux', 'macos']"));
        assert!(!holds("node:os NOT IN ['linux', 'macos']"));
        assert!(holds("node:tsVersion >= '1.60'"));
        assert!(holds("node:tsVersion > '1.9'"));
        assert!(!holds("node:tsVersion < '1.62'"));
        assert!(holds("node:tsVersion == '1.62.00'"));
        assert!(holds("node:tsAutoUpdate == true"));
        assert!(holds("custom:score >= 80"));
        assert!(!holds("custom:score > 80"));
        assert!(holds("node:os IS SET"));
        assert!(!holds("node:os NOT SET"));
        // Unset attributes fail everything but NOT SET.
        assert!(!holds("custom:tier != 'prod'"));
        assert!(!holds("custom:tier NOT IN ['prod']"));
        assert!(!holds("custom:tier IS SET"));
        assert!(holds("custom:tier NOT SET"));
        // Mismatched types never match.
        assert!(!holds("custom:score == '80'"));
        let other = attrs(&[("custom:score", s("80"))]);
        assert!(
            !Condition::parse("custom:score >= 80")
                .unwrap()
                .holds(&other)
        );
    }
}
