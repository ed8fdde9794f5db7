//! Snapshot tests of the parser's syntax diagnostics for every fixture in
//! `testdata/hujson/invalid/`, rendered as `file:line:col: severity[CODE] message` with
//! labels and help below. Review changes with `cargo insta review`.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::fmt::Write as _;
use std::path::Path;
use tailpolicy_policy::SourceFile;
use tailpolicy_policy::hujson::parse_bytes;

fn render(name: &str, bytes: &[u8]) -> String {
    let (_, diagnostics) = parse_bytes(bytes);
    let file = SourceFile::new(name, String::from_utf8_lossy(bytes).into_owned());
    let mut out = String::new();
    for d in &diagnostics {
        let at = file.line_col(d.span.start);
        let _ = writeln!(
            out,
            "{name}:{}:{}: {}[{}] {}",
            at.line, at.column, d.severity, d.code, d.message
        );
        if !d.primary_label.is_empty() {
            let _ = writeln!(out, "    label: {}", d.primary_label);
        }
        for l in &d.labels {
            let lc = file.line_col(l.span.start);
            let _ = writeln!(out, "    {}:{}: {}", lc.line, lc.column, l.message);
        }
        if let Some(h) = &d.help {
            let _ = writeln!(out, "    help: {h}");
        }
    }
    out
}

#[test]
fn syntax_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/hujson/invalid");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hujson"))
        .collect();
    files.sort();
    assert!(files.len() >= 30, "{} fixtures", files.len());
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(&path).unwrap();
        let out = render(&name, &bytes);
        assert!(!out.is_empty(), "{name} must give a diagnostic");
        assert_eq!(
            out.matches(": error[").count(),
            1,
            "{name}: exactly one error:\n{out}"
        );
        insta::assert_snapshot!(
            format!("hujson-invalid-{}", name.trim_end_matches(".hujson")),
            out
        );
    }
}
