//! Command output on stdout.
//!
//! `print!` panics when stdout is a pipe whose reader has gone (`tailpolicy … | head -1`,
//! `| grep -q`). Commands write through [`print_out`] instead: a closed pipe is the reader's
//! choice, not an error of ours, so most callers ignore the result.

use std::io::Write as _;

/// Writes `text` to stdout and flushes it.
pub fn print_out(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}
