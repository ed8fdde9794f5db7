//! Reading objects field by field: case-insensitive names, unknown and duplicate
//! fields, and typed accessors that report wrong types.

use super::codes;
use crate::check::codes as check_codes;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::hujson::{Member, Object, Value, ValueKind};
use crate::span::Spanned;
use crate::suggest::did_you_mean;

/// Collects diagnostics while lowering.
pub struct Ctx<'s> {
    /// The source text (for snippets in messages).
    pub source: &'s str,
    /// What was found.
    pub diags: Diagnostics,
}

/// The fields of one kind of object (an `acls` entry, an `ssh` entry, …) as an enum:
/// each variant is a field, [`FieldSet::NAMES`] their canonical spellings in the same
/// order, so a lookup names its field and reordering the declaration cannot change what
/// a lookup means. Declared with `field_set!`.
pub trait FieldSet: Copy {
    /// Canonical spellings, in declaration order.
    const NAMES: &'static [&'static str];
    /// The variant's position in [`FieldSet::NAMES`].
    fn index(self) -> usize;
}

/// Declares a [`FieldSet`] enum: `field_set!(AclField { Action = "action", … })`.
macro_rules! field_set {
    ($(#[$meta:meta])* $vis:vis $name:ident { $($(#[$vmeta:meta])* $variant:ident = $key:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        $vis enum $name {
            $($(#[$vmeta])* $variant,)*
        }
        impl $crate::lower::fields::FieldSet for $name {
            const NAMES: &'static [&'static str] = &[$($key,)*];
            fn index(self) -> usize {
                self as usize
            }
        }
    };
}
pub(crate) use field_set;

/// The members of an object matched against the fields of `F`.
pub struct Fields<'a, F> {
    found: Vec<Option<&'a Member>>,
    kind: std::marker::PhantomData<F>,
}

impl<'a, F: FieldSet> Fields<'a, F> {
    /// The member given for `field`, if present.
    pub fn get(&self, field: F) -> Option<&'a Member> {
        self.found.get(field.index()).copied().flatten()
    }
}

impl<'s> Ctx<'s> {
    /// Pushes a diagnostic.
    pub fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Matches `obj`'s members against the fields of `F`; see [`Ctx::members`].
    pub fn fields<'a, F: FieldSet>(&mut self, obj: &'a Object, context: &str) -> Fields<'a, F> {
        Fields {
            found: self.members(obj, F::NAMES, context),
            kind: std::marker::PhantomData,
        }
    }

    /// Matches `obj`'s members against `known` (canonical spellings): per known name,
    /// the member given for it. Keys starting with `#` are comments and skipped. Unknown
    /// keys warn (with a suggestion), keys in non-canonical case and duplicates are
    /// errors. `context` names the object in messages, e.g. `acls[3]`.
    pub fn members<'a>(
        &mut self,
        obj: &'a Object,
        known: &[&str],
        context: &str,
    ) -> Vec<Option<&'a Member>> {
        let mut found: Vec<Option<&'a Member>> = vec![None; known.len()];
        for m in &obj.members {
            let key = m.key();
            if key.starts_with('#') {
                continue;
            }
            let Some(i) = known.iter().position(|k| k.eq_ignore_ascii_case(key)) else {
                let mut d = Diagnostic::new(
                    codes::UNKNOWN_FIELD.as_code(),
                    m.name.span,
                    format!("unknown field: \"{key}\" in {context}"),
                )
                .with_primary_label("not a known field here");
                if let Some(s) = did_you_mean(key, known.iter().copied()) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                } else {
                    d = d.with_help(format!("known fields here: {}", known.join(", ")));
                }
                self.push(d);
                continue;
            };
            let canonical = known.get(i).copied().unwrap_or(key);
            if let Some(Some(first)) = found.get(i) {
                if first.key() == key {
                    // Exact duplicates are reported by the parser (TP0006).
                    continue;
                }
                self.push(
                    Diagnostic::new(
                        codes::DUPLICATE_FIELD.as_code(),
                        m.name.span,
                        format!("field `{canonical}` is given more than once in {context}"),
                    )
                    .with_primary_label("given again here")
                    .with_label(first.name.span, "first given here")
                    .with_help("field names are matched ignoring case; keep one of them"),
                );
                continue;
            }
            if key != canonical {
                self.push(
                    Diagnostic::new(
                        codes::NON_CANONICAL_CASE.as_code(),
                        m.name.span,
                        format!("field `{key}` should be spelt `{canonical}`"),
                    )
                    .with_primary_label("non-canonical letter case")
                    .with_help(format!(
                        "Tailscale matches field names ignoring case, but other tools do not: rename it to `{canonical}`"
                    )),
                );
            }
            if let Some(slot) = found.get_mut(i) {
                *slot = Some(m);
            }
        }
        found
    }

    /// Reports that `value` should have been `expected`.
    pub fn wrong_type(&mut self, value: &Value, expected: &str, context: &str) {
        self.push(
            Diagnostic::new(
                codes::WRONG_TYPE.as_code(),
                value.span,
                format!("{context} must be {expected}, found {}", value.type_name()),
            )
            .with_primary_label(format!(
                "this is {} {}",
                article(value.type_name()),
                value.type_name()
            )),
        );
    }

    /// Reads an object, reporting other types.
    pub fn object<'a>(&mut self, value: &'a Value, context: &str) -> Option<&'a Object> {
        match &value.kind {
            ValueKind::Object(o) => Some(o),
            _ => {
                self.wrong_type(value, "an object", context);
                None
            }
        }
    }

    /// Reads an array of values (`null` counts as empty).
    pub fn array<'a>(&mut self, value: &'a Value, context: &str) -> Option<&'a [Value]> {
        match &value.kind {
            ValueKind::Array(a) => Some(&a.elements),
            ValueKind::Null => Some(&[]),
            _ => {
                self.wrong_type(value, "an array", context);
                None
            }
        }
    }

    /// Reads a string.
    pub fn string(&mut self, value: &Value, context: &str) -> Option<Spanned<String>> {
        match &value.kind {
            ValueKind::String(s) => Some(Spanned::new(s.to_string(), value.span)),
            _ => {
                self.wrong_type(value, "a string", context);
                None
            }
        }
    }

    /// Reads a boolean.
    pub fn boolean(&mut self, value: &Value, context: &str) -> Option<bool> {
        match &value.kind {
            ValueKind::Bool(b) => Some(*b),
            _ => {
                self.wrong_type(value, "a boolean", context);
                None
            }
        }
    }

    /// Reads an array of strings; elements of other types are reported and skipped.
    pub fn strings(&mut self, value: &Value, context: &str) -> Vec<Spanned<String>> {
        let Some(items) = self.array(value, context) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            if let Some(s) = self.string(item, &format!("{context}[{i}]")) {
                out.push(s);
            }
        }
        out
    }

    /// Reads an array of selectors, parsing each; bad ones are reported and skipped.
    pub fn aliases(&mut self, value: &Value, context: &str) -> Vec<Spanned<crate::model::Alias>> {
        self.strings(value, context)
            .into_iter()
            .filter_map(|s| self.alias(&s, context))
            .collect()
    }

    /// Parses one selector, reporting a bad one.
    pub fn alias(
        &mut self,
        s: &Spanned<String>,
        context: &str,
    ) -> Option<Spanned<crate::model::Alias>> {
        match crate::model::Alias::parse(&s.value, false) {
            Ok(a) => Some(Spanned::new(a, s.span)),
            Err(e) => {
                self.push(check_codes::alias_error(&e, s.span, context));
                None
            }
        }
    }
}

/// `a` or `an` for a type name.
fn article(type_name: &str) -> &'static str {
    match type_name.as_bytes().first() {
        Some(b'a' | b'o') => "an",
        _ => "a",
    }
}
