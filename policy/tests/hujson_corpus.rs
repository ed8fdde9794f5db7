//! The real-world policy corpus (`../shared/realworld-policies`): every file parses and
//! prints back byte for byte, except `039-*`, which must fail at line 1.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

mod common;
use common::shared;
use tailpolicy_policy::SourceFile;
use tailpolicy_policy::hujson::parse;

#[test]
fn realworld_policies_parse_except_039() {
    let Some(dir) = shared("realworld-policies") else {
        return;
    };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "hujson"))
        .collect();
    files.sort();
    assert!(files.len() >= 40, "only {} files", files.len());
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).unwrap();
        let (doc, diags) = parse(&text);
        if name.starts_with("039-") {
            assert!(doc.is_none(), "{name} must not parse");
            let d = diags.iter().next().expect("a diagnostic");
            let pos = SourceFile::new(&name, text.clone()).line_col(d.span.start);
            assert_eq!(pos.line, 1, "{name}: {d:?}");
            assert_eq!(d.code.as_str(), "TP0003", "{name}: {d:?}");
            continue;
        }
        let doc = doc.unwrap_or_else(|| panic!("{name}: {diags:?}"));
        assert!(diags.is_empty(), "{name}: {diags:?}");
        assert_eq!(doc.to_source(), text, "{name}: lossless print");
        assert!(doc.root.as_object().is_some(), "{name}: root is an object");
    }
    println!("{} real-world policies checked", files.len());
}
