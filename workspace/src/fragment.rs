//! One policy fragment on its own: parsed and lowered with spans local to its text.
//! Depends on the fragment's text only, so an edit to one fragment re-reads that one.

use crate::files::{Contents, FileInput};
use tailpolicy_policy::Scanned;
use tailpolicy_policy::hujson::{self, Document};
use tailpolicy_policy::{Diagnostic, Dialect, Policy, SourceFile, Span};

/// A fragment parsed and lowered.
#[derive(Clone, Debug)]
pub struct Fragment {
    /// The file (name, text, line index).
    pub file: SourceFile,
    /// The path relative to the configuration's directory.
    pub relative: String,
    /// The lowered policy, when the text parsed. Spans are local to [`Fragment::file`].
    pub policy: Option<Policy>,
    /// The top-level keys written, lower-cased, with the span of each key.
    pub keys: Vec<(String, Span)>,
    /// Syntax and structure diagnostics (local spans).
    pub diagnostics: Vec<Diagnostic>,
    /// The `tailpolicy:ignore` comments of the text, scanned once.
    pub suppressions: Scanned,
}

/// Parses and lowers one fragment as `dialect`'s control server reads it.
pub fn analyse(input: &FileInput, dialect: Dialect) -> Fragment {
    let text = input.contents.to_text();
    let parsed = match &input.contents {
        Contents::Bytes(bytes) if plain_text(bytes).is_none() => hujson::parse_bytes(bytes),
        _ => hujson::parse(&text),
    };
    let (doc, diagnostics) = parsed;
    let mut diagnostics = diagnostics.into_vec();
    let (policy, keys) = match doc {
        Some(doc) => {
            let keys = top_level_keys(&doc);
            let (policy, lowered) = tailpolicy_policy::lower_with(&doc, dialect);
            diagnostics.extend(tailpolicy_policy::template_placeholders(&doc));
            diagnostics.extend(lowered);
            (Some(policy), keys)
        }
        None => (None, Vec::new()),
    };
    let file = SourceFile::new(input.name.clone(), text);
    Fragment {
        suppressions: Scanned::registered(&file),
        file,
        relative: input.relative.clone(),
        policy,
        keys,
        diagnostics,
    }
}

/// The bytes as text, unless [`hujson::parse_bytes`] has something to say about the
/// encoding (not UTF-8, a byte order mark, a NUL byte).
fn plain_text(bytes: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(bytes).ok()?;
    (!text.starts_with('\u{feff}') && !text.contains('\0')).then_some(text)
}

fn top_level_keys(doc: &Document) -> Vec<(String, Span)> {
    doc.root
        .as_object()
        .map(|o| {
            o.members
                .iter()
                .map(|m| (m.key().to_ascii_lowercase(), m.name.span))
                .collect()
        })
        .unwrap_or_default()
}
