//! # tailpolicy-workspace
//!
//! The analysis host: one owner of a tailnet's policy (a single file or the fragments
//! of a multi-file policy), its node inventory and its `tailpolicy.toml`, answering
//! every question the CLI, the node and the servers ask (diagnostics per file, the
//! merged and checked policy, the evaluator's tailnet, compiled filters, the symbol
//! index) from caches that an input change invalidates only where it matters.
//!
//! ```
//! use tailpolicy_workspace::{Config, FileInput, Workspace};
//!
//! let mut ws = Workspace::new(Config::default());
//! ws.set_fragments(vec![
//!     FileInput::text("base.hujson", r#"{"groups": {"group:eng": ["alice@example.com"]}}"#),
//!     FileInput::text("team.hujson", r#"{"acls": [{"action": "accept", "src": ["group:eng"], "dst": ["*:22"]}]}"#),
//! ]);
//! assert!(!ws.report().has_errors());
//! ```
//!
//! **Invariant:** [`Workspace`] is pure: no IO, no clock, no environment. The [`fs`]
//! module is the IO edge that reads files and feeds it.

pub mod combine;
mod config;
mod files;
mod fragment;
pub mod fs;
mod host;
mod merge;
mod symbols;
pub mod text;

pub use config::{Config, ConfigError, FILE_NAME, Glob, NameGlob, Owner, PolicyConfig, Selector};
pub use files::{Contents, FileId, FileInput, Location, SourceMap};
pub use fragment::Fragment;
pub use host::{
    FileReport, InventoryAnalysis, MergedPolicy, NodeFilter, NodeFilterError, Report, Stats,
    Unavailable, Workspace,
};
pub use symbols::{Occurrence, Symbol, SymbolIndex, SymbolKind};
