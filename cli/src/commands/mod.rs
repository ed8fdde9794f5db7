//! One module per subcommand.

pub mod compile;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod lint;
pub mod lsp;
pub mod matrix;
pub mod merge;
pub mod node;
pub mod reach;
pub mod schema;
pub mod simulate;
pub mod test;
