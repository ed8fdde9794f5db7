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
    /// `char_marks[k]`: the number of characters in the first `k * CHAR_MARK_STRIDE`
    /// bytes, so a column costs at most one stride of counting however long the line.
    char_marks: Vec<u32>,
}

/// Bytes between two entries of [`SourceFile`]'s character-count index.
const CHAR_MARK_STRIDE: usize = 4096;

/// Whether `b` starts a character (is not a UTF-8 continuation byte).
const fn starts_char(b: u8) -> bool {
    b & 0xC0 != 0x80
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
        line_starts.extend(
            memchr::memchr_iter(b'\n', text.as_bytes())
                .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        let mut char_marks = vec![0u32];
        let mut chars = 0u32;
        for chunk in text.as_bytes().chunks(CHAR_MARK_STRIDE) {
            let n = chunk.iter().filter(|&&b| starts_char(b)).count();
            chars = chars.saturating_add(u32::try_from(n).unwrap_or(u32::MAX));
            char_marks.push(chars);
        }
        Self {
            name: name.into(),
            text,
            line_starts,
            char_marks,
        }
    }

    /// The number of characters before byte `offset` (at most the text's length).
    fn chars_before(&self, offset: usize) -> usize {
        let stride = offset / CHAR_MARK_STRIDE;
        let base = self.char_marks.get(stride).copied().unwrap_or(0) as usize;
        let from = stride * CHAR_MARK_STRIDE;
        let tail = self
            .text
            .as_bytes()
            .get(from..offset)
            .map_or(0, |b| b.iter().filter(|&&b| starts_char(b)).count());
        base + tail
    }

    /// The 1-based line of byte `offset` (clamped to the end of the file): a binary
    /// search, cheaper than [`Self::line_col`] when the column is not needed.
    pub fn line(&self, offset: u32) -> u32 {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line_index = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        u32::try_from(line_index + 1).unwrap_or(u32::MAX)
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
        // Characters, not bytes; counted through the index, so that many positions on
        // one long line (a minified file) cost linear time in all.
        let prefix = self
            .chars_before(offset as usize)
            .saturating_sub(self.chars_before(line_start as usize));
        LineCol {
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(prefix + 1).unwrap_or(u32::MAX),
        }
    }

    /// The text of 1-based line `line`, without its line break; `None` past the end.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        let index = usize::try_from(line).ok()?.checked_sub(1)?;
        let start = *self.line_starts.get(index)? as usize;
        let end = self
            .line_starts
            .get(index + 1)
            .map_or(self.text.len(), |&e| e as usize);
        let text = self.text.get(start..end)?;
        let text = text.strip_suffix('\n').unwrap_or(text);
        Some(text.strip_suffix('\r').unwrap_or(text))
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

    #[test]
    #[expect(clippy::unwrap_used, reason = "test offsets are in range")]
    fn columns_on_a_long_line_cross_index_strides() {
        let line = "é".repeat(3 * CHAR_MARK_STRIDE);
        let text = format!("x\n{line}y");
        let f = SourceFile::new("p.hujson", text.clone());
        for chars in [0, 1, 2047, 2048, 2049, 5000, 3 * CHAR_MARK_STRIDE] {
            let offset = u32::try_from(2 + 2 * chars).unwrap();
            let want = text[2..offset as usize].chars().count() + 1;
            assert_eq!(f.line_col(offset).column as usize, want);
            assert_eq!(f.line(offset), 2);
        }
    }
}
