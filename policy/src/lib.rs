//! # tailpolicy-policy
//!
//! The front end of tailpolicy: HuJSON tailnet policy files (Tailscale and Headscale)
//! parsed into a lossless tree with byte spans ([`hujson`]), lowered into a typed model
//! of every section, and checked against Tailscale's validation rules plus our own
//! lints. Problems are collected as [`Diagnostic`]s with stable codes ([`rules`]).
//!
//! **Invariant:** this crate knows nothing about nodes, inventories or packets, does no
//! IO, and never panics on any input.

pub mod diagnostic;
pub mod hujson;
pub mod rules;
pub mod source;
pub mod span;
pub mod suppress;

pub use diagnostic::{Diagnostic, Diagnostics, Label, Severity};
pub use rules::{Category, Code, Rule};
pub use source::{LineCol, SourceFile};
pub use span::{Span, Spanned};
