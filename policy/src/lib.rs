//! # tailpolicy-policy
//!
//! The front end of tailpolicy: HuJSON tailnet policy files (Tailscale and Headscale)
//! parsed into a lossless tree with byte spans ([`hujson`]), lowered into a typed model
//! of every section, and checked against Tailscale's validation rules plus our own
//! lints. Problems are collected as [`Diagnostic`]s with stable codes ([`rules`]).
//!
//! **Invariant:** this crate knows nothing about nodes, inventories or packets, does no
//! IO, and never panics on any input.

// The public API is what this file re-exports, plus three namespaces that are API in
// their own right: `hujson` (the lossless tree, parser and formatter), `model` (the typed
// policy) and `rules` (the registry of diagnostic codes). Everything else is private.
mod check;
mod diagnostic;
mod dialect;
pub mod hujson;
mod lower;
pub mod model;
pub mod rules;
mod schema;
mod source;
mod span;
mod suggest;
mod suppress;

pub use check::{
    CheckOptions, GRANTABLE_TAILSCALE_CAPS, RuleLints, audit, check, lint, lint_all_but_rules,
    lint_rules, template_placeholder_in, template_placeholders,
};
pub use diagnostic::{Diagnostic, Diagnostics, Label, Related, Severity};
pub use dialect::{Dialect, UnknownDialect};
pub use lower::{TOP_LEVEL_KEYS, lower, lower_with, relower_section};
pub use model::Policy;
pub use rules::{Category, Code, Rule};
pub use schema::{SCHEMA_ID, json_schema, try_json_schema};
pub use source::{LineCol, SourceFile};
pub use span::{Span, Spanned};
pub use suggest::{did_you_mean, levenshtein};
pub use suppress::{
    DIRECTIVE, Scanned, Suppression, apply_suppressions, apply_suppressions_with, is_syntax_code,
    scan as scan_suppressions,
};

/// The diagnostic codes, by the stage that reports them: each constant is a
/// [`Code`] registered in [`rules`].
pub mod codes {
    pub use crate::check::audit_codes as audit;
    pub use crate::check::codes as check;
    pub use crate::check::lint_codes as lint;
    pub use crate::lower::codes as lower;
    pub mod fragment;
    pub mod inventory;
    /// The codes of `tailpolicy:ignore` comments themselves.
    pub mod suppression {
        pub use crate::suppress::{INVALID_SUPPRESSION, UNUSED_SUPPRESSION};
    }
}

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
