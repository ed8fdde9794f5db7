//! The pest-generated HuJSON parser (grammar in `hujson.pest`).
//!
//! Kept in its own private module so that the generated, undocumented `Rule` enum does not
//! leak into the public API; any lint exception the generated code needs belongs here.

/// The parser generated from `hujson.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "hujson/hujson.pest"]
pub(crate) struct HujsonParser;
