//! Source files and the mapping from byte offsets to 1-based line and column.

use crate::span::Span;

/// One input file: its display name, its text and an index of line starts.
///
/// Diagnostics hold only [`Span`]s; a `SourceFile` turns them into positions when
/// they are rendered.
#[derive(Clone, Debug)]
pub struct SourceFile {
    name: String,
    text: String,
    line_starts: Vec<u32>,
}

/// A 1-based line and column. The column counts Unicode scalar values, as editors
/// and GitHub annotations do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LineCol {
    /// 1-based line number.
    pub line: u32,
    /// 1-based column, in characters.
    pub column: u32,
}

impl SourceFile {
    /// Wraps `text` read from the file called `name` (a path as the user gave it).
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> Self {
        let text = text.into();
        let mut line_starts = vec![0u32];
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                line_starts.push(u32::try_from(i + 1).unwrap_or(u32::MAX));
            }
        }
        Self {
            name: name.into(),
            text,
            line_starts,
        }
    }

    /// The file's display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's full text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The line and column of byte `offset` (clamped to the end of the file).
    pub fn line_col(&self, offset: u32) -> LineCol {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let prefix = self
            .text
            .get(line_start as usize..offset as usize)
            .map_or(0, |s| s.chars().count());
        LineCol {
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(prefix + 1).unwrap_or(u32::MAX),
        }
    }

    /// Start and end positions of `span`.
    pub fn span_line_cols(&self, span: Span) -> (LineCol, LineCol) {
        (self.line_col(span.start), self.line_col(span.end))
    }

    /// The text covered by `span`.
    pub fn snippet(&self, span: Span) -> &str {
        span.text(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_characters_from_one() {
        let f = SourceFile::new("p.hujson", "{\n  \"é\": 1\n}");
        assert_eq!(f.line_col(0), LineCol { line: 1, column: 1 });
        assert_eq!(f.line_col(2), LineCol { line: 2, column: 1 });
        // after `"é"` (4 bytes on the line before the colon: 2 spaces, quote, é=2 bytes, quote)
        assert_eq!(f.line_col(8), LineCol { line: 2, column: 6 });
        assert_eq!(f.line_col(1000), LineCol { line: 3, column: 2 });
    }
}
