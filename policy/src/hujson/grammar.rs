//! The pest-generated HuJSON parsers.
//!
//! Two grammars for the same language: [`fast::FastParser`] (`fast.pest`), which decides
//! validity and yields the pairs the tree is built from, and [`HujsonParser`]
//! (`hujson.pest`), run only on input the fast one rejected, whose named punctuation
//! rules make pest's "expected ..." report precise enough for good messages.
//!
//! Kept in their own private module so that the generated, undocumented `Rule` enums do
//! not leak into the public API; any lint exception the generated code needs belongs here.

/// The diagnostic parser generated from `hujson.pest`.
#[derive(pest_derive::Parser)]
#[grammar = "hujson/hujson.pest"]
pub(crate) struct HujsonParser;

/// The fast grammar, in a module of its own for its own `Rule` enum.
pub(crate) mod fast {
    /// The fast-path parser generated from `fast.pest`.
    #[derive(pest_derive::Parser)]
    #[grammar = "hujson/fast.pest"]
    pub(crate) struct FastParser;
}
