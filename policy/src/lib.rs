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
pub mod dialect;
pub mod fragment_codes;
pub mod hujson;
pub mod inventory_codes;
pub mod rules;
pub mod schema;
pub mod source;
pub mod span;
pub mod suppress;

pub use diagnostic::{Diagnostic, Diagnostics, Label, Related, Severity};
pub use dialect::Dialect;
pub use rules::{Category, Code, Rule};
pub use source::{LineCol, SourceFile};
pub use span::{Span, Spanned};
pub mod check;
pub mod lower;
pub mod model;
pub mod suggest;

pub use check::{CheckOptions, check};
pub use lower::lower;
pub use model::Policy;

/// The result of analysing one policy file: the typed policy (when the file parsed)
/// and every diagnostic, sorted by position.
#[derive(Clone, Debug)]
pub struct Analysis {
    /// The lowered policy, if the file parsed as HuJSON. It may still have errors:
    /// check [`Diagnostics::has_errors`] before compiling it.
    pub policy: Option<Policy>,
    /// Everything found: syntax, structure, references, rule semantics.
    pub diagnostics: Diagnostics,
}

/// Parses, lowers and checks policy text: the whole front end in one call.
pub fn analyse(source: &str, options: &CheckOptions) -> Analysis {
    let (doc, mut diagnostics) = hujson::parse(source);
    let policy = doc.map(|doc| {
        let (policy, lowered) = lower::lower_with(&doc, options.dialect);
        diagnostics.extend(check::template_placeholders(&doc));
        diagnostics.extend(lowered);
        diagnostics.extend(check(&policy, options));
        diagnostics.extend(check::lint(&policy, source));
        if options.audit {
            diagnostics.extend(check::audit(&policy));
        }
        policy
    });
    diagnostics.sort();
    Analysis {
        policy,
        diagnostics,
    }
}
