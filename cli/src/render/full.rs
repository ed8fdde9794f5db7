//! The `full` format: one miette graphical report per diagnostic.
//!
//! Style (documented in `--help` of `lint` via [`FullStyle`]):
//! - stdout is a terminal and `NO_COLOR` is unset or empty: unicode box drawing, colour,
//!   and the code is a hyperlink to its entry in `docs/rules.md`;
//! - a terminal with `NO_COLOR`: unicode, no colour, no hyperlink;
//! - not a terminal (pipes, files, CI logs): plain ASCII, no colour, no hyperlink, so the
//!   output is stable, greppable and safe in any encoding.

use super::{Located, rule_url, safe_message, safe_source};
use miette::{
    GraphicalReportHandler, GraphicalTheme, LabeledSpan, MietteError, MietteSpanContents,
    SourceCode, SourceSpan, SpanContents,
};
use std::borrow::Cow;
use std::fmt;
use tailpolicy_policy::{Diagnostic, Severity, SourceFile, Span};

/// Glyphs and colour of the `full` format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FullStyle {
    /// Unicode, colour, hyperlinked codes.
    Colour,
    /// Unicode, no colour.
    Unicode,
    /// ASCII, no colour.
    Ascii,
}

impl FullStyle {
    /// The style for a stdout that is (or is not) a terminal, with or without `NO_COLOR`.
    pub fn detect(stdout_is_terminal: bool, no_color: bool) -> Self {
        match (stdout_is_terminal, no_color) {
            (true, false) => FullStyle::Colour,
            (true, true) => FullStyle::Unicode,
            (false, _) => FullStyle::Ascii,
        }
    }

    fn handler(self) -> GraphicalReportHandler {
        let (theme, links) = match self {
            FullStyle::Colour => (GraphicalTheme::unicode(), true),
            FullStyle::Unicode => (GraphicalTheme::unicode_nocolor(), false),
            FullStyle::Ascii => (GraphicalTheme::none(), false),
        };
        GraphicalReportHandler::new_themed(theme)
            .with_links(links)
            .with_urls(links)
            .with_link_display_text("(docs)")
    }
}

pub(super) fn render(diagnostics: &[Located<'_>], style: FullStyle) -> String {
    let handler = style.handler();
    let mut out = String::new();
    // Diagnostics come grouped by file: sanitise each file's text once.
    let mut shown: Option<(&SourceFile, Cow<'_, str>)> = None;
    for located in diagnostics {
        let text = match &shown {
            Some((file, text)) if std::ptr::eq(*file, located.file) => text.clone(),
            _ => {
                let text = safe_source(located.file.text());
                shown = Some((located.file, text.clone()));
                text
            }
        };
        let report = Report::new(located.file.name(), &text, located.diagnostic);
        if handler.render_report(&mut out, &report).is_err() {
            // A `fmt::Write` into a `String` cannot fail; keep the finding visible anyway.
            out.push_str(&format!(
                "{}: {}\n",
                located.diagnostic.code, located.diagnostic.message
            ));
        }
        out.push('\n');
    }
    out
}

/// A [`Diagnostic`] and its file, viewed as a [`miette::Diagnostic`].
struct Report<'a> {
    source: NamedText<'a>,
    diagnostic: &'a Diagnostic,
}

impl<'a> Report<'a> {
    fn new(name: &'a str, text: &'a str, diagnostic: &'a Diagnostic) -> Self {
        Self {
            source: NamedText { name, text },
            diagnostic,
        }
    }

    fn span(&self, span: Span) -> SourceSpan {
        let text = self.source.text;
        let start = floor_char_boundary(text, span.start as usize);
        let end = floor_char_boundary(text, (span.end as usize).max(start));
        SourceSpan::from(start..end)
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.diagnostic, f)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&safe_message(&self.diagnostic.message))
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    /// `error[TP0201]`, rustc-style: miette prints the code as the report's header line
    /// (hyperlinked to the rule's documentation on a colour terminal).
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(format!(
            "{}[{}]",
            self.diagnostic.severity, self.diagnostic.code
        )))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        // Locations in other files (the other definition of a name two fragments
        // define) are notes under the help: a snippet shows one file.
        let related: Vec<String> = self
            .diagnostic
            .related
            .iter()
            .map(|r| {
                format!(
                    "note: {} at {}:{}:{}",
                    safe_message(&r.message),
                    r.file,
                    r.start.line,
                    r.start.column
                )
            })
            .collect();
        match (&self.diagnostic.help, related.is_empty()) {
            (None, true) => None,
            (Some(h), true) => Some(Box::new(safe_message(h)) as Box<dyn fmt::Display + 'b>),
            (help, false) => {
                let mut text = help
                    .as_deref()
                    .map(|h| safe_message(h).into_owned())
                    .unwrap_or_default();
                for line in related {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(&line);
                }
                Some(Box::new(text))
            }
        }
    }

    fn url<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(rule_url(self.diagnostic.code.as_str())))
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary_label = Some(safe_message(&self.diagnostic.primary_label).into_owned())
            .filter(|l| !l.is_empty());
        let primary =
            LabeledSpan::new_primary_with_span(primary_label, self.span(self.diagnostic.span));
        let secondary = self.diagnostic.labels.iter().map(|l| {
            LabeledSpan::new_with_span(
                Some(safe_message(&l.message).into_owned()),
                self.span(l.span),
            )
        });
        Some(Box::new(std::iter::once(primary).chain(secondary)))
    }
}

/// A file's text with its name, so snippets are headed `[name:line:col]`.
struct NamedText<'a> {
    name: &'a str,
    text: &'a str,
}

impl SourceCode for NamedText<'_> {
    fn read_span<'b>(
        &'b self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'b> + 'b>, MietteError> {
        let inner = self
            .text
            .read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            self.name.to_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// The largest char boundary of `text` at or below `offset` (clamped to the length).
fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}
