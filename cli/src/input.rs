//! Reading input files: policy files (or standard input as `-`) and the node inventory.
//!
//! IO problems are [`InputError`]s, which commands report and turn into exit code 2.
//! What the bytes mean (including invalid UTF-8) is the parser's business.

use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// The name standing for standard input on the command line.
pub const STDIN_ARG: &str = "-";

/// The display name given to standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// The contents of one input file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Input {
    /// The path as the user gave it, or [`STDIN_NAME`].
    pub name: String,
    /// The path to resolve configuration from (`None` for standard input).
    pub path: Option<PathBuf>,
    /// The raw bytes.
    pub bytes: Vec<u8>,
}

/// A file could not be read.
#[derive(Debug)]
pub struct InputError {
    /// The path as given.
    pub name: String,
    /// Why.
    pub reason: String,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot read `{}`: {}", self.name, self.reason)
    }
}

/// The largest file accepted: spans are `u32` byte offsets.
const MAX_LEN: u64 = u32::MAX as u64;

/// Reads `arg` (a path, or `-` for standard input).
pub fn read(arg: &str) -> Result<Input, InputError> {
    let error = |reason: String| InputError {
        name: arg.to_owned(),
        reason,
    };
    if arg == STDIN_ARG {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(e.to_string()))?;
        check_len(bytes.len()).map_err(error)?;
        return Ok(Input {
            name: STDIN_NAME.to_owned(),
            path: None,
            bytes,
        });
    }
    let path = Path::new(arg);
    let metadata = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
    if metadata.is_dir() {
        return Err(error("it is a directory".to_owned()));
    }
    if metadata.len() > MAX_LEN {
        return Err(error("it is larger than 4 GiB".to_owned()));
    }
    let bytes = std::fs::read(path).map_err(|e| error(io_reason(&e)))?;
    check_len(bytes.len()).map_err(error)?;
    Ok(Input {
        name: arg.to_owned(),
        path: Some(path.to_owned()),
        bytes,
    })
}

fn check_len(len: usize) -> Result<(), String> {
    if u64::try_from(len).unwrap_or(u64::MAX) > MAX_LEN {
        Err("it is larger than 4 GiB".to_owned())
    } else {
        Ok(())
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}
