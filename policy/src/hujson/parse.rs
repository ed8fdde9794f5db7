//! The entry points: [`parse`] for text and [`parse_bytes`] for raw file contents.

use super::build::{Rejected, build};
use super::codes::{FILE_TOO_LARGE, INVALID_ENCODING, NESTING_TOO_DEEP};
use super::depth::{MAX_DEPTH, find_too_deep};
use super::errors::{syntax_error, too_deep};
use super::grammar::fast::{self, FastParser};
use super::grammar::{HujsonParser, Rule};
use super::tree::Document;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::rules::Code;
use crate::span::Span;
use pest::Parser as _;
use pest::error::{ErrorVariant, InputLocation};

/// Parses HuJSON text into a lossless [`Document`].
///
/// Returns the document when the text is syntactically valid, and the diagnostics found:
/// for invalid text, one syntax error (`TP0001`–`TP0005`, `TP0007`, `TP0009`) at the
/// first offending position and no document; for valid text, a `TP0006` error for every
/// member whose name exactly repeats an earlier member's in the same object (the
/// document then keeps both). Never panics; input nested deeper than
/// [`MAX_DEPTH`](super::MAX_DEPTH) is refused before the recursive parser runs.
pub fn parse(source: &str) -> (Option<Document>, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    if u32::try_from(source.len()).is_err() {
        diagnostics.push(too_large());
        return (None, diagnostics);
    }
    if let Some(pos) = find_too_deep(source.as_bytes(), MAX_DEPTH) {
        diagnostics.push(too_deep(pos));
        return (None, diagnostics);
    }
    if FastParser::parse(fast::Rule::document, source).is_ok() {
        match build(source, &mut diagnostics) {
            Ok(root) => {
                let document = Document {
                    source: source.to_owned(),
                    root,
                };
                let document = Some(document).filter(|_| !has_syntax_errors(&diagnostics));
                return (document, diagnostics);
            }
            Err(Rejected::Internal) => return (None, diagnostics),
            // Not HuJSON after all: explained below.
            Err(Rejected::Superset) => diagnostics = Diagnostics::new(),
        }
    }
    // The fast grammar says what is wrong only vaguely; the diagnostic grammar, which
    // accepts exactly the same inputs, says precisely what was expected where.
    diagnostics.push(explain_failure(source));
    (None, diagnostics)
}

/// The syntax error in `source`, which the fast grammar rejected, from the diagnostic
/// grammar.
fn explain_failure(source: &str) -> Diagnostic {
    match HujsonParser::parse(Rule::document, source) {
        // The grammars disagree: a bug (the property tests check that they agree).
        Ok(_) => super::build::internal_error(u32::try_from(source.len()).unwrap_or(u32::MAX)),
        Err(error) => {
            let pos = match error.location {
                InputLocation::Pos(p) => p,
                InputLocation::Span((start, _)) => start,
            };
            match &error.variant {
                ErrorVariant::ParsingError { positives, .. } => {
                    syntax_error(source, pos, positives)
                }
                // pest's own resource limits ("stack limit reached"); the depth bound
                // should make this unreachable.
                ErrorVariant::CustomError { message } => Diagnostic::new(
                    Code(&NESTING_TOO_DEEP),
                    Span::empty(u32::try_from(pos).unwrap_or(u32::MAX)),
                    format!("the parser gave up: {message}"),
                ),
            }
        }
    }
}

/// Whether `diagnostics` holds an error that makes the text invalid HuJSON (anything
/// but duplicate keys, which leave a usable tree).
fn has_syntax_errors(diagnostics: &Diagnostics) -> bool {
    diagnostics
        .iter()
        .any(|d| d.is_error() && d.code != Code(&super::codes::DUPLICATE_KEY))
}

/// Parses the raw bytes of a file.
///
/// Like [`parse`], after checking that the bytes are text: a file of 4 GiB or more, a
/// UTF-8 byte order mark, invalid UTF-8 or a NUL byte gives one `TP0008`/`TP0009`
/// diagnostic and no document. Spans in those diagnostics are byte offsets into `bytes`;
/// everything before the reported offset is valid UTF-8, so they render correctly
/// against `String::from_utf8_lossy(bytes)`.
pub fn parse_bytes(bytes: &[u8]) -> (Option<Document>, Diagnostics) {
    let mut diagnostics = Diagnostics::new();
    if u32::try_from(bytes.len()).is_err() {
        diagnostics.push(too_large());
        return (None, diagnostics);
    }
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        diagnostics.push(
            Diagnostic::new(
                Code(&INVALID_ENCODING),
                Span::new(0, 3),
                "the file starts with a UTF-8 byte order mark",
            )
            .with_help("save the file as UTF-8 without a byte order mark (BOM)"),
        );
        return (None, diagnostics);
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => {
            let at = u32::try_from(error.valid_up_to()).unwrap_or(u32::MAX);
            let len = error
                .error_len()
                .map_or(1, |n| u32::try_from(n).unwrap_or(1));
            let hint = if bytes.len() >= 2
                && (bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF"))
            {
                "the file looks like UTF-16; save it as UTF-8"
            } else {
                "save the file as UTF-8"
            };
            diagnostics.push(
                Diagnostic::new(
                    Code(&INVALID_ENCODING),
                    Span::new(at, at + len),
                    "the file is not valid UTF-8",
                )
                .with_primary_label("invalid byte sequence")
                .with_help(hint),
            );
            return (None, diagnostics);
        }
    };
    if let Some(nul) = bytes.iter().position(|&b| b == 0) {
        let at = u32::try_from(nul).unwrap_or(u32::MAX);
        diagnostics.push(
            Diagnostic::new(
                Code(&INVALID_ENCODING),
                Span::new(at, at + 1),
                "the file contains a NUL byte",
            )
            .with_primary_label("NUL byte")
            .with_help("this looks like a binary file, not a HuJSON policy"),
        );
        return (None, diagnostics);
    }
    parse(text)
}

fn too_large() -> Diagnostic {
    Diagnostic::new(
        Code(&FILE_TOO_LARGE),
        Span::empty(0),
        "the file is 4 GiB or larger",
    )
    .with_help("policy files are at most a few megabytes; check that this is the right file")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Whether the fast path (the fast grammar, then the builder's checks for what the
    /// grammar lets through) accepts `source`.
    fn fast_path_accepts(source: &str) -> bool {
        FastParser::parse(fast::Rule::document, source).is_ok()
            && build(source, &mut Diagnostics::new()).is_ok()
    }

    fn reference_accepts(source: &str) -> bool {
        HujsonParser::parse(Rule::document, source).is_ok()
    }

    /// Pieces of HuJSON and of the mistakes people make, glued at random.
    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ",",
        ":",
        " ",
        "\n",
        "\t",
        "\r",
        "\u{b}",
        "\u{c}",
        "\u{1f}",
        "\u{1}",
        "\"a\"",
        "\"a:b\"",
        "\"\\n\\\"\"",
        "\"\\u00e9\"",
        "\"\\u00g\"",
        "\"\\x\"",
        "\"x\ny\"",
        "\"\t\"",
        "\"",
        "\\",
        "1",
        "-0.5e3",
        "01",
        "1.",
        "-",
        "true",
        "false",
        "null",
        "nul",
        "// c\n",
        "// c",
        "/* c */",
        "/* c",
        "/",
        "*/",
        "'a'",
        "a",
    ];

    /// A valid HuJSON value nested up to `depth` levels, from `choices`.
    fn valid(choices: &[u8], depth: usize, out: &mut String, next: &mut usize) {
        let mut choose = |n: u8| {
            let c = choices
                .get(*next % choices.len().max(1))
                .copied()
                .unwrap_or(0);
            *next += 1;
            c % n
        };
        let gap = |c: u8| match c {
            0 => "",
            1 => " ",
            2 => "\n\t",
            3 => "/* c */",
            4 => "\r\n",
            _ => " // c\n",
        };
        let kind = if depth == 0 { choose(3) } else { choose(5) };
        let count = choose(4);
        let trailing = choose(2) == 0;
        let (gap_a, gap_b) = (gap(choose(6)), gap(choose(6)));
        match kind {
            0 => out.push_str("\"s\""),
            1 => out.push_str("-12.5"),
            2 => out.push_str("null"),
            3 => {
                out.push('[');
                for i in 0..count {
                    out.push_str(gap_a);
                    valid(choices, depth - 1, out, next);
                    out.push_str(gap_b);
                    if i + 1 < count || trailing {
                        out.push(',');
                    }
                }
                out.push_str(gap_a);
                out.push(']');
            }
            _ => {
                out.push('{');
                for i in 0..count {
                    out.push_str(gap_a);
                    out.push_str("\"k\"");
                    out.push_str(gap_b);
                    out.push(':');
                    out.push_str(gap_a);
                    valid(choices, depth - 1, out, next);
                    out.push_str(gap_b);
                    if i + 1 < count || trailing {
                        out.push(',');
                    }
                }
                out.push_str(gap_b);
                out.push('}');
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]

        #[test]
        fn grammars_agree_on_pieces(pieces in prop::collection::vec(prop::sample::select(PIECES), 0..16)) {
            let source = pieces.concat();
            prop_assert_eq!(fast_path_accepts(&source), reference_accepts(&source), "{:?}", source);
        }

        #[test]
        fn grammars_agree_near_valid_documents(
            choices in prop::collection::vec(any::<u8>(), 1..64),
            edit in prop::option::of((any::<prop::sample::Index>(), prop::sample::select(PIECES), any::<bool>())),
        ) {
            let mut source = String::new();
            valid(&choices, 3, &mut source, &mut 0);
            prop_assert!(fast_path_accepts(&source), "{:?}", source);
            if let Some((at, piece, replace)) = edit {
                let mut at = at.index(source.len() + 1);
                while !source.is_char_boundary(at) {
                    at -= 1;
                }
                if replace && at < source.len() {
                    let end = source[at..].chars().next().map_or(at, |c| at + c.len_utf8());
                    source.replace_range(at..end, piece);
                } else {
                    source.insert_str(at, piece);
                }
            }
            prop_assert_eq!(fast_path_accepts(&source), reference_accepts(&source), "{:?}", source);
        }
    }
}
