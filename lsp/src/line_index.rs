//! Positions: the protocol counts lines and UTF-16 code units (its default encoding);
//! the analysis host counts bytes. [`LineIndex`] converts between the two for one text.

use lsp_types::{Position, Range};
use tailpolicy_policy::Span;

/// Line starts of one text, for byte offset ↔ LSP position conversion.
#[derive(Clone, Debug)]
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<u32>,
}

impl<'a> LineIndex<'a> {
    /// Indexes `text` (lines end at `\n`; a `\r` before it belongs to the line).
    pub fn new(text: &'a str) -> Self {
        let mut starts = vec![0];
        starts.extend(
            memchr::memchr_iter(b'\n', text.as_bytes())
                .map(|i| u32::try_from(i + 1).unwrap_or(u32::MAX)),
        );
        Self { text, starts }
    }

    /// The position of byte `offset` (clamped to the text; inside a character: its start).
    pub fn position(&self, offset: u32) -> Position {
        let offset = offset.min(u32::try_from(self.text.len()).unwrap_or(u32::MAX));
        let line = self
            .starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0);
        let prefix = self
            .text
            .get(start as usize..offset as usize)
            .or_else(|| {
                // `offset` inside a character: back to its start.
                let mut o = offset as usize;
                while o > start as usize && !self.text.is_char_boundary(o) {
                    o -= 1;
                }
                self.text.get(start as usize..o)
            })
            .unwrap_or("");
        let character: usize = prefix.chars().map(char::len_utf16).sum();
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            character: u32::try_from(character).unwrap_or(u32::MAX),
        }
    }

    /// The range of `span`.
    pub fn range(&self, span: Span) -> Range {
        Range {
            start: self.position(span.start),
            end: self.position(span.end),
        }
    }

    /// The byte offset of `position`: a line past the end gives the text's end, a
    /// character past the line's end gives the line's end (before its `\n`), a position
    /// inside a surrogate pair gives the character's end.
    pub fn offset(&self, position: Position) -> u32 {
        let len = u32::try_from(self.text.len()).unwrap_or(u32::MAX);
        let Some(&start) = self.starts.get(position.line as usize) else {
            return len;
        };
        let end = self
            .starts
            .get(position.line as usize + 1)
            .map_or(len, |&next| next.saturating_sub(1));
        let line = self.text.get(start as usize..end as usize).unwrap_or("");
        let mut units = 0u32;
        for (i, c) in line.char_indices() {
            if units >= position.character {
                return start + u32::try_from(i).unwrap_or(0);
            }
            units += u32::try_from(c.len_utf16()).unwrap_or(1);
        }
        end
    }

    /// The byte span of `range`.
    pub fn span(&self, range: Range) -> Span {
        let start = self.offset(range.start);
        let end = self.offset(range.end).max(start);
        Span::new(start, end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn ascii_round_trip() {
        let text = "{\n  \"a\": 1\n}\n";
        let index = LineIndex::new(text);
        assert_eq!(index.position(0), pos(0, 0));
        assert_eq!(index.position(4), pos(1, 2));
        assert_eq!(index.offset(pos(1, 2)), 4);
        assert_eq!(index.position(13), pos(3, 0));
        assert_eq!(index.offset(pos(9, 0)), 13);
        // Past the line's end: the line's end, before the newline.
        assert_eq!(index.offset(pos(0, 40)), 1);
    }

    #[test]
    fn utf16_counts_surrogate_pairs_and_multibyte() {
        // "é" is 2 bytes and 1 unit; "😀" is 4 bytes and 2 units.
        let text = "\"é😀x\"";
        let index = LineIndex::new(text);
        assert_eq!(index.position(1), pos(0, 1));
        assert_eq!(index.position(3), pos(0, 2));
        assert_eq!(index.position(7), pos(0, 4));
        assert_eq!(index.offset(pos(0, 4)), 7);
        assert_eq!(index.offset(pos(0, 2)), 3);
        // Inside the pair: the character's end.
        assert_eq!(index.offset(pos(0, 3)), 7);
        // A byte offset inside a character maps to its start.
        assert_eq!(index.position(4), pos(0, 2));
    }

    #[test]
    fn crlf_lines() {
        let text = "a\r\nbc";
        let index = LineIndex::new(text);
        assert_eq!(index.position(3), pos(1, 0));
        assert_eq!(index.offset(pos(1, 1)), 4);
        assert_eq!(
            index.span(Range::new(pos(0, 0), pos(1, 2))),
            Span::new(0, 5)
        );
    }
}
