//! The files a workspace reads and the one offset space their spans share.
//!
//! Each policy fragment is parsed and lowered on its own, with spans local to its text.
//! To check the merged policy as one, every fragment is placed at a *base* offset
//! ([`SourceMap`]): fragment `i` occupies `base[i] .. base[i] + len[i]`, with a one-byte
//! gap after it so that an empty span at a fragment's end never touches the next one.
//! A span of the merged policy maps back to exactly one fragment and a local span.

use std::path::PathBuf;
use tailpolicy_policy::{SourceFile, Span};

/// What a file holds: text (from an editor, or read as UTF-8) or raw bytes (read from
/// disk, possibly not UTF-8; the parser then reports the encoding problem).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Text.
    Text(String),
    /// Bytes as read.
    Bytes(Vec<u8>),
}

impl Contents {
    /// The contents as text (invalid UTF-8 replaced).
    pub fn to_text(&self) -> String {
        match self {
            Contents::Text(t) => t.clone(),
            Contents::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
        }
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            Contents::Text(t) => t.as_bytes(),
            Contents::Bytes(b) => b,
        }
    }
}

/// One input file of a workspace (a policy fragment or the inventory).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileInput {
    /// Display name: the path as the user gave it, or `<stdin>`; diagnostics name it.
    pub name: String,
    /// The path relative to the configuration's directory, `/`-separated: what
    /// `per-file-ignores` and owners' `files` globs match. Empty when unknown.
    pub relative: String,
    /// The path on disk, when it is a file (for callers that watch or re-read it).
    pub path: Option<PathBuf>,
    /// The contents.
    pub contents: Contents,
    /// The editor's version of the text (0 when read from disk).
    pub version: i32,
}

impl FileInput {
    /// A file with the given display name and text, as an editor or a test gives it.
    pub fn text(name: impl Into<String>, text: impl Into<String>) -> Self {
        let name = name.into();
        Self {
            relative: name.clone(),
            name,
            path: None,
            contents: Contents::Text(text.into()),
            version: 0,
        }
    }
}

/// Identifies a policy fragment of a workspace: its position in fragment order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileId(pub usize);

/// Where each fragment sits in the merged policy's offset space.
#[derive(Clone, Debug, Default)]
pub struct SourceMap {
    /// Per fragment: its base offset and its file.
    entries: Vec<(u32, SourceFile)>,
}

/// A position in one file: its name, local span and 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    /// The fragment.
    pub file: FileId,
    /// Its display name.
    pub name: String,
    /// The span in that file.
    pub span: Span,
    /// 1-based line of the span's start.
    pub line: u32,
    /// 1-based column (in characters) of the span's start.
    pub column: u32,
}

impl SourceMap {
    /// Lays out `files` one after the other. Returns `None` when they do not fit the
    /// 4 GiB offset space together.
    pub fn new(files: Vec<SourceFile>) -> Option<Self> {
        let mut entries = Vec::with_capacity(files.len());
        let mut next: u32 = 0;
        for file in files {
            let len = u32::try_from(file.text().len()).ok()?;
            entries.push((next, file));
            next = next.checked_add(len)?.checked_add(1)?;
        }
        Some(Self { entries })
    }

    /// The base offset of fragment `id`.
    pub fn base(&self, id: FileId) -> u32 {
        self.entries.get(id.0).map_or(0, |(b, _)| *b)
    }

    /// The file of fragment `id`.
    pub fn file(&self, id: FileId) -> Option<&SourceFile> {
        self.entries.get(id.0).map(|(_, f)| f)
    }

    /// Every fragment's file, in order.
    pub fn files(&self) -> impl Iterator<Item = (FileId, &SourceFile)> {
        self.entries
            .iter()
            .enumerate()
            .map(|(i, (_, f))| (FileId(i), f))
    }

    /// Number of fragments.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fragment holding global `offset` and the offset within it.
    pub fn resolve_offset(&self, offset: u32) -> Option<(FileId, u32)> {
        let index = match self.entries.binary_search_by_key(&offset, |(b, _)| *b) {
            Ok(i) => i,
            Err(i) => i.checked_sub(1)?,
        };
        let (base, _) = self.entries.get(index)?;
        Some((FileId(index), offset - base))
    }

    /// A global span as a fragment and local span (an end past the fragment is
    /// clamped to it).
    pub fn resolve(&self, span: Span) -> Option<(FileId, Span)> {
        let (id, start) = self.resolve_offset(span.start)?;
        let len = self
            .file(id)
            .map_or(0, |f| u32::try_from(f.text().len()).unwrap_or(u32::MAX));
        let end = span.end.saturating_sub(self.base(id)).min(len).max(start);
        Some((id, Span::new(start, end)))
    }

    /// A global span as a located position.
    pub fn locate(&self, span: Span) -> Option<Location> {
        let (file, local) = self.resolve(span)?;
        let source = self.file(file)?;
        let at = source.line_col(local.start);
        Some(Location {
            file,
            name: source.name().to_owned(),
            span: local,
            line: at.line,
            column: at.column,
        })
    }

    /// `file:line:col` of a global span's start (`?` when it is outside every file).
    pub fn position(&self, span: Span) -> String {
        self.locate(span).map_or_else(
            || "?".to_owned(),
            |l| format!("{}:{}:{}", l.name, l.line, l.column),
        )
    }

    /// The line and column of global `offset` in its fragment (1:1 when outside).
    pub fn line_col(&self, offset: u32) -> tailpolicy_policy::LineCol {
        self.resolve_offset(offset)
            .and_then(|(id, local)| self.file(id).map(|f| f.line_col(local)))
            .unwrap_or(tailpolicy_policy::LineCol { line: 1, column: 1 })
    }

    /// The display name of the fragment holding global `offset`.
    pub fn file_name(&self, offset: u32) -> &str {
        self.resolve_offset(offset)
            .and_then(|(id, _)| self.file(id))
            .map_or("", SourceFile::name)
    }

    /// The policy's name for titles: its file's name, or the first fragment's followed
    /// by how many more there are.
    pub fn name(&self) -> String {
        match self.entries.as_slice() {
            [] => String::new(),
            [(_, one)] => one.name().to_owned(),
            [(_, first), rest @ ..] => format!("{} (+{} fragments)", first.name(), rest.len()),
        }
    }

    /// The merged text: every fragment at its base, gaps filled with newlines. Lints
    /// that read spellings the model normalises slice it with global spans.
    pub fn merged_text(&self) -> String {
        let mut out = String::new();
        for (base, file) in &self.entries {
            while out.len() < *base as usize {
                out.push('\n');
            }
            out.push_str(file.text());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_map_back_to_their_fragment() {
        let map = SourceMap::new(vec![
            SourceFile::new("a", "{}\n"),
            SourceFile::new("b", ""),
            SourceFile::new("c", "{\n\"x\": 1}"),
        ]);
        let Some(map) = map else {
            unreachable!("small files fit")
        };
        assert_eq!(map.base(FileId(0)), 0);
        assert_eq!(map.base(FileId(1)), 4);
        assert_eq!(map.base(FileId(2)), 5);
        assert_eq!(
            map.resolve(Span::new(1, 2)),
            Some((FileId(0), Span::new(1, 2)))
        );
        // The empty fragment's only position.
        assert_eq!(
            map.resolve(Span::empty(4)),
            Some((FileId(1), Span::empty(0)))
        );
        // A span at the end of the first fragment stays in it.
        assert_eq!(
            map.resolve(Span::empty(3)),
            Some((FileId(0), Span::empty(3)))
        );
        let Some(at) = map.locate(Span::new(7, 10)) else {
            unreachable!("in c")
        };
        assert_eq!((at.name.as_str(), at.line, at.column), ("c", 2, 1));
        assert_eq!(map.merged_text(), "{}\n\n\n{\n\"x\": 1}");
        assert_eq!(map.position(Span::new(7, 10)), "c:2:1");
    }
}
