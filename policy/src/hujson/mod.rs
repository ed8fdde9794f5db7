//! HuJSON (JWCC): JSON plus `//` and `/* */` comments and trailing commas, nothing more.
//!
//! [`tree`] holds the lossless tree; the parser turns text into it and reports syntax
//! errors as diagnostics (`TP00xx`).

pub mod tree;

pub use tree::{Array, Document, Extra, Member, Object, Value, ValueKind};
