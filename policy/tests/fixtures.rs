//! Snapshot tests of what users see: every policy in `testdata/policies/invalid/` and
//! `testdata/policies/valid/` is analysed (parse, lower, check, lints, suppression
//! comments) and its diagnostics rendered one per line as
//! `line:col: severity[CODE] message` with help and labels indented below.
//! Valid fixtures must have no errors. Review changes with `cargo insta review`.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use tailpolicy_policy::apply_suppressions;
use tailpolicy_policy::{CheckOptions, SourceFile, analyse};

fn render(name: &str, text: &str) -> (String, bool) {
    let file = SourceFile::new(name, text);
    let analysis = analyse(text, &CheckOptions::default());
    let diags = apply_suppressions(&file, analysis.diagnostics);
    let mut out = String::new();
    for d in &diags {
        let at = file.line_col(d.span.start);
        let _ = writeln!(
            out,
            "{}:{}: {}[{}] {}",
            at.line, at.column, d.severity, d.code, d.message
        );
        for l in &d.labels {
            let lc = file.line_col(l.span.start);
            let _ = writeln!(out, "    {}:{}: {}", lc.line, lc.column, l.message);
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "    help: {h}");
        }
    }
    (out, diags.has_errors())
}

fn fixtures(dir: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/policies")
        .join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hujson"))
        .collect();
    files.sort();
    files
}

#[test]
fn invalid_policies() {
    let files = fixtures("invalid");
    assert!(files.len() >= 8);
    for path in files {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (out, has_errors) = render(&name, &text);
        if name != "lints" && name != "suppressed" {
            assert!(has_errors, "{name} should have errors:\n{out}");
        }
        insta::assert_snapshot!(format!("invalid-{name}"), out);
    }
}

#[test]
fn valid_policies() {
    for path in fixtures("valid") {
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        let (out, has_errors) = render(&name, &text);
        assert!(!has_errors, "{name} should have no errors:\n{out}");
        insta::assert_snapshot!(format!("valid-{name}"), out);
    }
}
