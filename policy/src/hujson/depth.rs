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

/// The byte offset of the first `{` or `[` that opens level `max + 1`, if any.
///
/// Strings and comments are skipped; an unterminated string or comment ends the scan
/// (the grammar reports it).
pub(crate) fn find_too_deep(source: &[u8], max: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = 0usize;
    while let Some(&b) = source.get(i) {
        match b {
            b'{' | b'[' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
                i += 1;
            }
            b'}' | b']' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'"' => i = skip_string(source, i + 1)?,
            b'/' => match source.get(i + 1) {
                Some(b'/') => i = skip_line(source, i + 2)?,
                Some(b'*') => i = skip_block_comment(source, i + 2)?,
                _ => i += 1,
            },
            _ => i += 1,
        }
    }
    None
}

/// The offset after the closing quote of a string whose contents start at `i`.
fn skip_string(source: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let rest = source.get(i..)?;
        let n = rest
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c == b'\n')?;
        i += n;
        match source.get(i)? {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            _ => return None,
        }
    }
}

fn skip_line(source: &[u8], i: usize) -> Option<usize> {
    let rest = source.get(i..)?;
    Some(i + rest.iter().position(|&c| c == b'\n')? + 1)
}

fn skip_block_comment(source: &[u8], i: usize) -> Option<usize> {
    let rest = source.get(i..)?;
    Some(i + rest.windows(2).position(|w| w == b"*/")? + 2)
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
