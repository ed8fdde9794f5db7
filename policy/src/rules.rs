//! The rule registry: every diagnostic code, its metadata and its documentation.
//!
//! Each rule is a `static` [`Rule`] declared next to the code that reports it (the
//! parser's in `hujson`, the checker's in `check`, …) with its full explanation, and
//! listed once in [`ALL_RULES`]. `tailpolicy explain`, `docs/rules.md`, SARIF rule
//! metadata and configuration all read this table.
//!
//! Code ranges:
//! - `TP00xx` syntax (HuJSON)
//! - `TP01xx` structure: sections, field names and types
//! - `TP02xx` references and selectors: undefined names, bad selectors, ports, protocols
//! - `TP03xx` rule semantics Tailscale rejects (autogroup placement, SSH constraints, …)
//! - `TP04xx` `tests` and `sshTests`
//! - `TP05xx` node inventory
//! - `TP06xx` configuration
//! - `TP07xx` multi-file policies (fragments)
//! - `TP1xxx` lints beyond Tailscale (warnings)

use crate::diagnostic::Severity;
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

/// What kind of problem a rule finds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Category {
    /// Tailscale rejects the policy.
    Correctness,
    /// Accepted, but almost certainly a mistake.
    Suspicious,
    /// Accepted and harmless, but could be clearer.
    Style,
}

impl Category {
    /// Lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Correctness => "correctness",
            Category::Suspicious => "suspicious",
            Category::Style => "style",
        }
    }
}

/// Metadata and documentation of one diagnostic code.
#[derive(Debug)]
pub struct Rule {
    /// Stable code, e.g. `TP0201`. Never reused.
    pub code: &'static str,
    /// Kebab-case name of the bad pattern, e.g. `undefined-tag`.
    pub name: &'static str,
    /// Category.
    pub category: Category,
    /// Severity unless configuration overrides it.
    pub severity: Severity,
    /// One-line summary.
    pub summary: &'static str,
    /// Markdown: what it checks, why it matters, an example, the fix.
    pub explanation: &'static str,
}

impl Rule {
    /// This rule as a [`Code`] for diagnostics.
    pub const fn as_code(&'static self) -> Code {
        Code(self)
    }
}

/// Declares a `pub static` [`Rule`] with its documentation in four parts, under the
/// headings every rule's page has: what it does, why it is bad, an example (a `jsonc`
/// block, or `example_text` for an example that is not policy text), and what to use
/// instead. Every rule is declared with it, next to the code that reports it.
///
/// ```ignore
/// declare_rule!(UNDEFINED_TAG, "TP0201", "undefined-tag", Correctness, Error,
///     "summary", what = "…", why = "…", example = "…", fix = "…");
/// ```
#[macro_export]
macro_rules! declare_rule {
    ($ident:ident, $code:literal, $name:literal, $cat:ident, $sev:ident, $summary:literal,
     what = $what:literal, why = $why:literal, example_text = $example:literal, fix = $fix:literal $(,)?) => {
        #[doc = concat!("`", $code, "` ", $name, ": ", $summary, ".")]
        pub static $ident: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            name: $name,
            category: $crate::rules::Category::$cat,
            severity: $crate::diagnostic::Severity::$sev,
            summary: $summary,
            explanation: concat!(
                "## What it does\n",
                $what,
                "\n\n## Why is this bad?\n",
                $why,
                "\n\n## Example\n",
                $example,
                "\n\n## Use instead\n",
                $fix
            ),
        };
    };
    ($ident:ident, $code:literal, $name:literal, $cat:ident, $sev:ident, $summary:literal,
     what = $what:literal, why = $why:literal, example = $example:literal, fix = $fix:literal $(,)?) => {
        #[doc = concat!("`", $code, "` ", $name, ": ", $summary, ".")]
        pub static $ident: $crate::rules::Rule = $crate::rules::Rule {
            code: $code,
            name: $name,
            category: $crate::rules::Category::$cat,
            severity: $crate::diagnostic::Severity::$sev,
            summary: $summary,
            explanation: concat!(
                "## What it does\n",
                $what,
                "\n\n## Why is this bad?\n",
                $why,
                "\n\n## Example\n```jsonc\n",
                $example,
                "\n```\n\n## Use instead\n",
                $fix
            ),
        };
    };
}

/// A reference to a registered [`Rule`]; compares and orders by code.
#[derive(Clone, Copy)]
pub struct Code(pub &'static Rule);

impl Code {
    /// The code string, e.g. `TP0201`.
    pub const fn as_str(self) -> &'static str {
        self.0.code
    }

    /// The rule's metadata.
    pub const fn rule(self) -> &'static Rule {
        self.0
    }

    /// The rule's default severity.
    pub const fn default_severity(self) -> Severity {
        self.0.severity
    }
}

impl PartialEq for Code {
    fn eq(&self, other: &Self) -> bool {
        self.0.code == other.0.code
    }
}
impl Eq for Code {}
impl PartialOrd for Code {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Code {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.code.cmp(other.0.code)
    }
}
impl Hash for Code {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.code.hash(state);
    }
}
impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.code)
    }
}
impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.code)
    }
}

/// Every registered rule, sorted by code. A test checks codes are unique and sorted.
pub static ALL_RULES: &[&Rule] = &[
    // TP00xx syntax
    &crate::hujson::codes::SYNTAX_ERROR,
    &crate::hujson::codes::EMPTY_DOCUMENT,
    &crate::hujson::codes::UNSUPPORTED_SYNTAX,
    &crate::hujson::codes::INVALID_STRING,
    &crate::hujson::codes::INVALID_COMMENT,
    &crate::hujson::codes::DUPLICATE_KEY,
    &crate::hujson::codes::NESTING_TOO_DEEP,
    &crate::hujson::codes::INVALID_ENCODING,
    &crate::hujson::codes::FILE_TOO_LARGE,
    // TP01xx structure, TP02xx references and selectors, TP03xx rule semantics, TP04xx tests
    &crate::lower::codes::UNKNOWN_FIELD,
    &crate::lower::codes::WRONG_TYPE,
    &crate::lower::codes::MISSING_FIELD,
    &crate::lower::codes::DUPLICATE_FIELD,
    &crate::lower::codes::NON_CANONICAL_CASE,
    &crate::lower::codes::ROOT_NOT_OBJECT,
    &crate::check::codes::UNDEFINED_TAG,
    &crate::check::codes::UNDEFINED_GROUP,
    &crate::check::codes::UNDEFINED_HOST,
    &crate::check::codes::UNDEFINED_IPSET,
    &crate::check::codes::UNDEFINED_POSTURE,
    &crate::check::codes::INVALID_SELECTOR,
    &crate::check::codes::INVALID_PORT,
    &crate::check::codes::INVALID_PROTOCOL,
    &crate::check::codes::PORTS_ON_PORTLESS_PROTOCOL,
    &crate::check::codes::UNKNOWN_AUTOGROUP,
    &crate::check::codes::INVALID_TAG_NAME,
    &crate::check::codes::INVALID_GROUP_NAME,
    &crate::check::codes::INVALID_GROUP_MEMBER,
    &crate::check::codes::INVALID_HOST,
    &crate::check::codes::INVALID_BRACKETS,
    &crate::check::codes::INVALID_CAPABILITY_NAME,
    &crate::check::codes::INVALID_IPSET,
    &crate::check::codes::INVALID_POSTURE,
    &crate::check::codes::INVALID_AUTO_APPROVER,
    &crate::check::codes::INVALID_IP_POOL,
    &crate::check::codes::INVALID_CHECK_PERIOD,
    &crate::check::codes::INVALID_NODE_ATTR_TARGET,
    &crate::check::codes::ACL_ACTION_NOT_ACCEPT,
    &crate::check::codes::AUTOGROUP_SELF_AS_SOURCE,
    &crate::check::codes::AUTOGROUP_SELF_INVALID_SOURCE,
    &crate::check::codes::AUTOGROUP_INTERNET_MISPLACED,
    &crate::check::codes::DANGER_ALL_AS_DESTINATION,
    &crate::check::codes::ALL_ADDRESSES_GRANT_DESTINATION,
    &crate::check::codes::GRANT_WITHOUT_CAPABILITIES,
    &crate::check::codes::APP_GRANT_TO_INTERNET,
    &crate::check::codes::VIA_NOT_A_TAG,
    &crate::check::codes::INVALID_SSH_ACTION,
    &crate::check::codes::SSH_USERS_MISSING,
    &crate::check::codes::INVALID_SSH_USER,
    &crate::check::codes::INVALID_SSH_DESTINATION,
    &crate::check::codes::INVALID_SSH_SOURCE,
    &crate::check::codes::SSH_TAG_TO_USER_DEVICE,
    &crate::check::codes::SSH_USER_DESTINATION_OTHER_SOURCE,
    &crate::check::codes::SSH_ACCEPT_ENV_EMPTY,
    &crate::check::codes::DOMAIN_NOT_IN_TAILNET,
    &crate::check::codes::SELECTOR_NOT_ALLOWED_HERE,
    &crate::check::codes::UNSUPPORTED_IN_DIALECT,
    &crate::check::codes::TEST_FAILED,
    &crate::check::codes::MALFORMED_TEST,
    &crate::check::codes::SSH_TEST_FAILED,
    &crate::check::codes::MALFORMED_SSH_TEST,
    // TP05xx inventory
    &crate::codes::inventory::INVENTORY_FORMAT,
    &crate::codes::inventory::INVENTORY_UNKNOWN_USER,
    &crate::codes::inventory::INVENTORY_INVALID_ADDRESS,
    &crate::codes::inventory::INVENTORY_DUPLICATE_NODE,
    &crate::codes::inventory::INVENTORY_INVALID_TAG,
    &crate::codes::inventory::INVENTORY_UNADVERTISED_APPROVAL,
    &crate::codes::inventory::INVENTORY_TAGGED_NODE_WITH_USER,
    &crate::codes::inventory::INVENTORY_UNKNOWN_ROLE,
    // TP06xx configuration
    &crate::suppress::INVALID_SUPPRESSION,
    &crate::suppress::UNUSED_SUPPRESSION,
    // TP07xx multi-file policies
    &crate::codes::fragment::DUPLICATE_DEFINITION,
    &crate::codes::fragment::DUPLICATE_SETTING,
    &crate::codes::fragment::OWNERSHIP_VIOLATION,
    // TP1xxx lints
    &crate::check::lint_codes::UNUSED_GROUP,
    &crate::check::lint_codes::UNUSED_HOST,
    &crate::check::lint_codes::UNUSED_TAG,
    &crate::check::lint_codes::UNUSED_IPSET,
    &crate::check::lint_codes::SHADOWED_RULE,
    &crate::check::lint_codes::DUPLICATE_RULE,
    &crate::check::lint_codes::ALLOW_ALL_RULE,
    &crate::check::lint_codes::EMPTY_RULES_DENY_ALL,
    &crate::check::lint_codes::TEST_CANNOT_FAIL,
    &crate::check::lint_codes::LEGACY_FIELD_NAMES,
    &crate::check::lint_codes::LEGACY_AUTOGROUP_MEMBERS,
    &crate::check::lint_codes::CHECK_PERIOD_ON_ACCEPT,
    &crate::check::lint_codes::HOST_BITS_SET,
    &crate::check::lint_codes::TEMPLATE_PLACEHOLDER,
    &crate::check::lint_codes::UNKNOWN_NODE_ATTRIBUTE,
    // TP11xx security audit
    &crate::check::audit_codes::AUDIT_DEFAULT_ALLOW_ALL,
    &crate::check::audit_codes::AUDIT_SSH_ACCEPT_USER_DEVICES,
    &crate::check::audit_codes::AUDIT_SSH_ROOT_BROAD,
    &crate::check::audit_codes::AUDIT_NO_TESTS,
    &crate::check::audit_codes::AUDIT_MEMBER_SOURCE,
    &crate::check::audit_codes::AUDIT_BROAD_AUTO_APPROVER,
    &crate::check::audit_codes::AUDIT_MEMBER_OWNS_TAG,
    &crate::check::audit_codes::AUDIT_DANGER_ALL,
    &crate::check::audit_codes::AUDIT_EXIT_NODE_OPEN,
];

/// Looks a rule up by code (case-insensitive) or by name.
pub fn find_rule(code_or_name: &str) -> Option<&'static Rule> {
    ALL_RULES
        .iter()
        .copied()
        .find(|r| r.code.eq_ignore_ascii_case(code_or_name) || r.name == code_or_name)
}

/// The command that regenerates `docs/rules.md` from [`render_markdown`].
pub const RULES_DOC_UPDATE_COMMAND: &str =
    "UPDATE_RULES_DOC=1 cargo test -p tailpolicy-policy --test rules_doc";

/// The rules page (`docs/rules.md`): an index table, then every rule's documentation.
///
/// A pure function of [`ALL_RULES`]; a test compares it with the committed page.
pub fn render_markdown() -> String {
    render_markdown_for(ALL_RULES)
}

/// [`render_markdown`] for an explicit list of rules.
pub fn render_markdown_for(rules: &[&Rule]) -> String {
    let mut out = String::new();
    out.push_str("# Rules\n\n");
    out.push_str("<!-- Generated from the rule registry (`policy/src/rules.rs`); do not edit.\n");
    out.push_str("     Regenerate with: ");
    out.push_str(RULES_DOC_UPDATE_COMMAND);
    out.push_str(" -->\n\n");
    out.push_str(
        "Every diagnostic tailpolicy reports has a stable code. `tailpolicy explain CODE` \
         prints the same text, and `tailpolicy explain --list` lists every code.\n\n",
    );
    out.push_str("| Code | Name | Category | Default severity | Summary |\n");
    out.push_str("|---|---|---|---|---|\n");
    for rule in rules {
        out.push_str(&format!(
            "| [{code}](#{anchor}) | `{name}` | {category} | {severity} | {summary} |\n",
            code = rule.code,
            anchor = rule.code.to_ascii_lowercase(),
            name = rule.name,
            category = rule.category.as_str(),
            severity = rule.severity.as_str(),
            summary = rule.summary.replace('|', "\\|"),
        ));
    }
    for rule in rules {
        out.push_str(&format!("\n## {}\n\n", rule.code));
        out.push_str(&render_rule_markdown(rule, 3));
    }
    out
}

/// One rule's documentation as markdown (without the code heading): name, category,
/// default severity, summary and explanation. `tailpolicy explain` prints this.
///
/// Headings inside the explanation are shifted so the highest is at level
/// `heading_level` (e.g. 3 under a `## TP0201` heading), whatever level they were
/// written at.
pub fn render_rule_markdown(rule: &Rule, heading_level: usize) -> String {
    format!(
        "**{name}** · {category} · default severity: {severity}\n\n{summary}\n\n{explanation}",
        name = rule.name,
        category = rule.category.as_str(),
        severity = rule.severity.as_str(),
        summary = rule.summary,
        explanation = ensure_trailing_newline(&shift_headings(
            rule.explanation.trim_start(),
            heading_level
        )),
    )
}

/// Shifts ATX headings (outside code fences) so the highest one is at `level`.
fn shift_headings(markdown: &str, level: usize) -> String {
    let heading_level = |line: &str| {
        let hashes = line.len() - line.trim_start_matches('#').len();
        (hashes > 0 && line.get(hashes..).is_some_and(|rest| rest.starts_with(' ')))
            .then_some(hashes)
    };
    let mut in_fence = false;
    let mut levels = Vec::new();
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        } else if !in_fence {
            levels.extend(heading_level(line));
        }
    }
    let Some(highest) = levels.into_iter().min() else {
        return markdown.to_owned();
    };
    let mut out = String::new();
    in_fence = false;
    for line in markdown.lines() {
        if line.trim_start().starts_with("```") {
            in_fence = !in_fence;
        }
        match heading_level(line).filter(|_| !in_fence) {
            Some(current) => {
                let new_level = (current + level).saturating_sub(highest).clamp(1, 6);
                out.push_str(&"#".repeat(new_level));
                out.push_str(line.get(current..).unwrap_or(""));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn ensure_trailing_newline(s: &str) -> String {
    let mut s = s.trim_end().to_owned();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_shifted_outside_code_fences() {
        let md = "## What\ntext\n```\n## not a heading\n```\n### Deeper\n#hashtag\n";
        assert_eq!(
            shift_headings(md, 3),
            "### What\ntext\n```\n## not a heading\n```\n#### Deeper\n#hashtag\n"
        );
        assert_eq!(shift_headings("no headings", 3), "no headings");
    }

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for pair in ALL_RULES.windows(2) {
            if let [a, b] = pair {
                assert!(a.code < b.code, "{} must sort before {}", a.code, b.code);
            }
        }
        for r in ALL_RULES {
            assert!(r.code.starts_with("TP") && r.code.len() == 6, "{}", r.code);
            assert!(
                !r.summary.is_empty() && !r.explanation.is_empty(),
                "{}",
                r.code
            );
            assert!(!r.name.contains(' '), "{}", r.name);
        }
    }
}
