//! The pest-generated HuJSON parsers.
//!
//! Two grammars for the same language: [`fast::FastParser`] (`fast.pest`), which decides
//! validity (the tree builder then reads the validated text), and [`HujsonParser`]
//! (`hujson.pest`), run only on input the fast one rejected, whose named punctuation
//! rules make pest's "expected ..." report precise enough for good messages.
//!
//! pest is pinned to 2.8 (`~2.8` in the workspace manifest): from 2.9.3 on, pest probes the
//! native stack (`stacker::remaining_stack`) on every combinator call, which measured 15%
//! of the whole parse of the benchmark policy in callgrind. The nesting bound checked
//! before pest runs ([`super::depth`]) already keeps the recursion shallow. pest 2.8 has
//! no fast path for skipping to one of three stop strings, hence the two-string skips in
//! `fast.pest`'s strings.
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
