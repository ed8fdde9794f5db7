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
