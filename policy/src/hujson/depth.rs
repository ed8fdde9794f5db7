//! The nesting-depth bound, checked before pest runs.
//!
//! pest parses recursively: each level of `[` or `{` costs several native stack frames.
//! To make sure no input can overflow the stack, [`find_too_deep`] scans the bytes once
//! (skipping strings and comments) and the parser refuses input that nests deeper than
//! [`MAX_DEPTH`] before pest sees it. Real policies nest about six levels deep.

/// The deepest nesting of objects and arrays accepted: 256 levels, with the top-level
/// value at level 1.
///
/// Go's `encoding/json` allows 10,000, but it scans iteratively; pest recurses, and pest
/// 2.8 has no stack guard of its own. 256 levels of either grammar fit a 1 MiB thread
/// stack even in an unoptimised build (tested), leaving room for callers' own recursion
/// over the tree.
pub const MAX_DEPTH: usize = 256;

/// What [`find_too_deep`] does with a byte.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// Anything that neither nests nor starts a string or comment.
    Plain,
    /// `{` or `[`.
    Open,
    /// `}` or `]`.
    Close,
    /// `"`.
    Quote,
    /// `/`, which may start a comment.
    Slash,
}

/// [`Class`] by byte value: one load per byte instead of a chain of comparisons.
#[expect(
    clippy::indexing_slicing,
    reason = "constant indices below 256 into a 256-entry table, evaluated at compile time"
)]
static CLASS: [Class; 256] = {
    let mut table = [Class::Plain; 256];
    table[b'{' as usize] = Class::Open;
    table[b'[' as usize] = Class::Open;
    table[b'}' as usize] = Class::Close;
    table[b']' as usize] = Class::Close;
    table[b'"' as usize] = Class::Quote;
    table[b'/' as usize] = Class::Slash;
    table
};

/// The byte offset of the first `{` or `[` that opens level `max + 1`, if any.
///
/// Strings and comments are skipped (with `memchr`, which scans a word or vector at a
/// time); an unterminated string or comment ends the scan (the grammar reports it).
pub(crate) fn find_too_deep(source: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = source.get(i) {
        let class = CLASS.get(usize::from(b)).copied().unwrap_or(Class::Plain);
        // Plain bytes first, with a conditional branch that predicts well, instead of a
        // jump-table dispatch per byte.
        if class == Class::Plain {
            i += 1;
            continue;
        }
        match class {
            Class::Plain => i += 1,
            Class::Open => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
                i += 1;
            }
            Class::Close => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            Class::Quote => i = skip_string(source, i + 1)?,
            Class::Slash => match source.get(i + 1) {
                Some(b'/') => i = skip_line(source, i + 2)?,
                Some(b'*') => i = skip_block_comment(source, i + 2)?,
                _ => i += 1,
            },
        }
    }
    None
}

/// The offset after the closing quote of a string whose contents start at `i`.
fn skip_string(source: &[u8], mut i: usize) -> Option<usize> {
    loop {
        i += memchr::memchr3(b'"', b'\\', b'\n', source.get(i..)?)?;
        match source.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => return None,
        }
    }
}

fn skip_line(source: &[u8], i: usize) -> Option<usize> {
    Some(i + memchr::memchr(b'\n', source.get(i..)?)? + 1)
}

fn skip_block_comment(source: &[u8], i: usize) -> Option<usize> {
    Some(i + memchr::memmem::find(source.get(i..)?, b"*/")? + 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_brackets_outside_strings_and_comments() {
        assert_eq!(find_too_deep(b"[[]]", 2), None);
        assert_eq!(find_too_deep(b"[[[]]]", 2), Some(2));
        assert_eq!(find_too_deep(br#"["[[[[", "\"[[["]"#, 1), None);
        assert_eq!(find_too_deep(b"[ // [[[[\n /* [[[ */ ]", 1), None);
        assert_eq!(find_too_deep(b"[{}, {}, [[]]]", 2), Some(10));
    }
}
