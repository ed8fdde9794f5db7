//! One module per subcommand.

pub mod audit;
pub mod compile;
pub mod diff;
pub mod explain;
pub mod fmt;
pub mod lint;
pub mod lsp;
pub mod matrix;
pub mod merge;
#[cfg(target_os = "linux")]
pub mod node;
// Elsewhere `tailpolicy node` only says that it needs Linux (compiled on Linux for its test).
#[cfg(any(not(target_os = "linux"), test))]
#[cfg_attr(
    all(target_os = "linux", test),
    expect(dead_code, reason = "wired in as `node` on other platforms only")
)]
pub mod node_unsupported;
#[cfg(not(target_os = "linux"))]
pub use node_unsupported as node;
pub mod reach;
pub mod schema;
pub mod serve;
pub mod simulate;
pub mod test;
