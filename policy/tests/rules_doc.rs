//! `docs/rules.md` is generated from the rule registry; this test fails when it is stale.
//!
//! Regenerate with `UPDATE_RULES_DOC=1 cargo test -p tailpolicy-policy --test rules_doc`.

use std::path::PathBuf;
use tailpolicy_policy::rules::{RULES_DOC_UPDATE_COMMAND, render_markdown};

#[test]
fn rules_doc_is_up_to_date() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/rules.md");
    let expected = render_markdown();
    if std::env::var_os("UPDATE_RULES_DOC").is_some_and(|v| v == "1") {
        std::fs::write(&path, &expected)?;
        return Ok(());
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "docs/rules.md is stale (it must equal `tailpolicy_policy::rules::render_markdown()`).\n\
         Regenerate it with:\n\n    {RULES_DOC_UPDATE_COMMAND}\n"
    );
    Ok(())
}

/// Every rule is declared one way (`declare_rule!`), so every page has the same four
/// headings, in order.
#[test]
fn every_rule_has_the_four_headings() {
    const HEADINGS: [&str; 4] = [
        "## What it does\n",
        "\n\n## Why is this bad?\n",
        "\n\n## Example\n",
        "\n\n## Use instead\n",
    ];
    for rule in tailpolicy_policy::rules::ALL_RULES {
        let mut rest = rule.explanation;
        for heading in HEADINGS {
            let at = rest.find(heading);
            assert!(
                at.is_some(),
                "{}: `{}` missing or out of order",
                rule.code,
                heading.trim()
            );
            rest = rest
                .get(at.unwrap_or(0) + heading.len()..)
                .unwrap_or_default();
        }
        assert_eq!(
            rule.explanation.matches("\n## ").count(),
            3,
            "{}: extra top-level headings",
            rule.code
        );
    }
}
