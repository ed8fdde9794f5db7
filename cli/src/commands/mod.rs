//! One module per subcommand.

pub mod compile;
pub mod diff;
pub mod explain;
pub mod lint;
pub mod matrix;
pub mod reach;
pub mod test;
