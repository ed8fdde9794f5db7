//! Diagnostics as data: a stable code, a severity, a primary span, labels and help.
//!
//! Every phase (parse, check, test evaluation, inventory loading) reports problems by
//! pushing [`Diagnostic`]s into a [`Diagnostics`] collection instead of returning at
//! the first one. Rendering (rustc-style, JSON, SARIF, GitHub annotations) happens in
//! the CLI, which pairs each diagnostic with its [`crate::SourceFile`].

use crate::rules::Code;
use crate::source::LineCol;
use crate::span::Span;
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// The policy is invalid: Tailscale would reject it.
    Error,
    /// Valid, but probably not what the author meant.
    Warning,
    /// Worth knowing; never fails a run.
    Info,
}

impl Severity {
    /// `"error"`, `"warning"` or `"info"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary location with its own message, e.g. "first defined here".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say there.
    pub message: String,
}

/// A location in another file that explains a diagnostic (the earlier definition of a
/// name defined twice across the fragments of a multi-file policy), resolved to positions
/// by whoever knows both files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Related {
    /// The other file's display name.
    pub file: String,
    /// The bytes it points at, in that file.
    pub span: Span,
    /// Start position (1-based).
    pub start: LineCol,
    /// End position (1-based).
    pub end: LineCol,
    /// What to say there.
    pub message: String,
}

/// One finding about one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Stable code, e.g. `TP0201`.
    pub code: Code,
    /// Severity (the rule's default unless configuration changed it).
    pub severity: Severity,
    /// One line, lower case, no final period. Where Tailscale has wording for the same
    /// problem, the message contains it verbatim.
    pub message: String,
    /// The primary location.
    pub span: Span,
    /// Message shown at the primary location (may be empty).
    pub primary_label: String,
    /// Secondary locations.
    pub labels: Vec<Label>,
    /// How to fix it, if there is something useful to say.
    pub help: Option<String>,
    /// Locations in other files (see [`Related`]).
    pub related: Vec<Related>,
}

impl Diagnostic {
    /// A diagnostic with the code's default severity.
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            primary_label: String::new(),
            labels: Vec::new(),
            help: None,
            related: Vec::new(),
        }
    }

    /// Sets the message shown under the primary span.
    #[must_use]
    pub fn with_primary_label(mut self, label: impl Into<String>) -> Self {
        self.primary_label = label.into();
        self
    }

    /// Adds a secondary label.
    #[must_use]
    pub fn with_label(mut self, span: Span, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help text.
    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Overrides the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Whether this is an error.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// An ordered collection of diagnostics for one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diagnostics {
    items: Vec<Diagnostic>,
}

impl Diagnostics {
    /// An empty collection.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one.
    pub fn push(&mut self, diagnostic: Diagnostic) {
        self.items.push(diagnostic);
    }

    /// Adds all of `other`.
    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.items.extend(other);
    }

    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(Diagnostic::is_error)
    }

    /// Number of diagnostics.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Iterates in insertion order.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.items.iter()
    }

    /// Sorts by position, then code, so output is stable.
    pub fn sort(&mut self) {
        self.items
            .sort_by_key(|d| (d.span.start, d.span.end, d.code));
    }

    /// Takes the diagnostics out.
    pub fn into_vec(self) -> Vec<Diagnostic> {
        self.items
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.iter()
    }
}

impl FromIterator<Diagnostic> for Diagnostics {
    fn from_iter<I: IntoIterator<Item = Diagnostic>>(iter: I) -> Self {
        Self {
            items: iter.into_iter().collect(),
        }
    }
}
