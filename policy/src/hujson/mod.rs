//! HuJSON (JWCC): JSON plus `//` and `/* */` comments and trailing commas, nothing more.
//!
//! [`parse`] and [`parse_bytes`] turn text into the lossless [`tree`] and report syntax
//! errors as diagnostics (`TP0001`–`TP0009`, declared in [`codes`]);
//! [`Document::to_source`] prints the tree back byte for byte. The grammar is
//! `hujson.pest`; the pest-generated parser lives alone in a private module.

mod build;
pub mod codes;
mod decode;
mod depth;
mod edit;
mod errors;
pub mod format;
mod grammar;
mod parse;
mod print;
pub mod tree;

pub use depth::MAX_DEPTH;
pub use edit::StringEdit;
pub use format::format;
pub use parse::{parse, parse_bytes};
pub use tree::{Array, Document, Extra, Member, Object, SmolStr, Value, ValueKind};
