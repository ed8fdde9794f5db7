//! Byte-offset spans and the [`Spanned`] wrapper whose equality ignores them.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Range;

/// A half-open byte range `start..end` into one source file.
///
/// Offsets are `u32`: policy files larger than 4 GiB are rejected before parsing.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Span {
    /// First byte covered.
    pub start: u32,
    /// One past the last byte covered.
    pub end: u32,
}

impl Span {
    /// A span covering `start..end`.
    pub const fn new(start: u32, end: u32) -> Self {
        Self { start, end }
    }

    /// An empty span at `offset`.
    pub const fn empty(offset: u32) -> Self {
        Self {
            start: offset,
            end: offset,
        }
    }

    /// Number of bytes covered.
    pub const fn len(self) -> u32 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no bytes.
    pub const fn is_empty(self) -> bool {
        self.end <= self.start
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The span as a `usize` range, for slicing the source.
    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }

    /// The covered text of `source`, or `""` when the span is out of range.
    pub fn text(self, source: &str) -> &str {
        source.get(self.range()).unwrap_or("")
    }
}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

/// A value together with the span it was read from.
///
/// `PartialEq`, `Eq` and `Hash` look at the value only: two policies that differ only
/// in layout compare equal.
#[derive(Clone, Copy, Default)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was read from.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Wraps `value` read from `span`.
    pub const fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// Maps the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned {
            value: f(self.value),
            span: self.span,
        }
    }

    /// Borrows the value, keeping the span.
    pub fn as_ref(&self) -> Spanned<&T> {
        Spanned {
            value: &self.value,
            span: self.span,
        }
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: Hash> Hash for Spanned<T> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?} @ {:?}", self.value, self.span)
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// How offsets move after an edit: every offset at or after `at` moves by `by` bytes
/// (clamped to `u32`). Shared by the tree's in-place edit and the model's span shift.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Move {
    /// The first offset that moves.
    pub(crate) at: u32,
    /// How far it moves.
    pub(crate) by: i64,
}

impl Move {
    /// Where offset `x` ends up.
    pub(crate) fn offset(self, x: u32) -> u32 {
        if x < self.at {
            return x;
        }
        let moved = (i64::from(x) + self.by).clamp(0, i64::from(u32::MAX));
        u32::try_from(moved).unwrap_or(u32::MAX)
    }

    /// Moves both ends of `s`.
    pub(crate) fn span(self, s: &mut Span) {
        s.start = self.offset(s.start);
        s.end = self.offset(s.end);
    }
}
