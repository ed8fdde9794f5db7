//! One module per subcommand.

pub mod explain;
pub mod fmt;
pub mod lint;
pub mod node;
