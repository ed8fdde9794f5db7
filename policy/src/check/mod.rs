//! The checker: Tailscale's validation rules over a lowered [`Policy`] (references,
//! placements, SSH constraints, capability names, …), and our own lints.
//!
//! Every problem is collected; nothing stops at the first. The entry points are
//! [`check`] for a lowered policy and [`crate::analyse`] for source text.

mod audit;
pub mod audit_codes;
pub mod codes;
pub mod dialect;
pub mod lint_codes;
mod lints;

pub use lints::RuleLints;
mod node_attrs;
mod placeholders;
mod placement;
pub use placement::GRANTABLE_TAILSCALE_CAPS;
mod references;
mod ssh;
mod tests;

use crate::diagnostic::Diagnostics;
use crate::model::Policy;

/// Facts about the tailnet the checker may use when they are known (from an inventory).
#[derive(Clone, Debug, Default)]
pub struct CheckOptions {
    /// The e-mail domains associated with the tailnet (the owner's domain). When
    /// `Some`, `localpart:*@domain` and `user:*@domain` must use one of them.
    pub tailnet_domains: Option<Vec<String>>,
    /// Whose rules to check against: Tailscale's (the default) or headscale's.
    pub dialect: crate::Dialect,
    /// Also run the security audit (`TP11xx`).
    pub audit: bool,
}

/// Reports template placeholders (`${VAR}`, `{{ var }}`, `%VAR%`) left in any key or
/// string of the parsed document (`TP1014`).
pub fn template_placeholders(doc: &crate::hujson::Document) -> Diagnostics {
    let mut diags = Diagnostics::new();
    placeholders::check(doc, &mut diags);
    diags
}

/// The template placeholder diagnostic (`TP1014`) of one string value or key `s`
/// written at `span`, as [`template_placeholders`] reports it.
pub fn template_placeholder_in(s: &str, span: crate::span::Span) -> Diagnostics {
    let mut diags = Diagnostics::new();
    placeholders::report(s, span, &mut diags);
    diags
}

/// Runs the security audit (`TP11xx`) over a lowered policy.
pub fn audit(policy: &Policy) -> Diagnostics {
    let mut diags = Diagnostics::new();
    audit::check(policy, &mut diags);
    diags
}

/// Runs the lints (`TP1xxx`) over a lowered policy; `source` is its text.
pub fn lint(policy: &Policy, source: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    lints::check(policy, source, &mut diags);
    node_attrs::check(policy, &mut diags);
    diags
}

/// The lints of [`lint`] that compare rules with each other (shadowed, duplicate,
/// allow-all rules): they read only the `acls` and `grants` sections, so an edit
/// elsewhere moves their spans and changes nothing else. [`lint`] is
/// [`lint_all_but_rules`] and these.
pub fn lint_rules(policy: &Policy) -> Diagnostics {
    let mut diags = Diagnostics::new();
    lints::check_rules(policy, &mut diags);
    diags
}

/// Every lint of [`lint`] but [`lint_rules`]'.
pub fn lint_all_but_rules(policy: &Policy, source: &str) -> Diagnostics {
    let mut diags = Diagnostics::new();
    lints::check_all_but_rules(policy, source, &mut diags);
    node_attrs::check(policy, &mut diags);
    diags
}

/// Checks a lowered policy against Tailscale's rules and returns what it found.
pub fn check(policy: &Policy, options: &CheckOptions) -> Diagnostics {
    let mut diags = Diagnostics::new();
    references::check(policy, &mut diags);
    placement::check(policy, &mut diags);
    ssh::check(policy, options, &mut diags);
    tests::check(policy, options.dialect, &mut diags);
    dialect::check(policy, options, &mut diags);
    diags
}
