//! `tailpolicy lint` over `../shared/realworld-policies/` in every format: the formats
//! agree on the findings, the machine formats are valid, and nothing crashes.
//!
//! Skipped with a note when `../shared` is absent; fails then when `CI=true`.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::path::PathBuf;
use std::process::Command;

fn shared() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/realworld-policies");
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "../shared/realworld-policies is missing and CI=true"
    );
    println!("note: ../shared/realworld-policies not found; skipping");
    None
}

fn lint(dir: &PathBuf, files: &[String], format: &str) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .current_dir(dir)
        .args(["lint", "--format", format])
        .args(files)
        .env_remove("GITHUB_STEP_SUMMARY")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn every_format_reports_the_same_findings() {
    let Some(dir) = shared() else { return };
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".hujson") || n.ends_with(".json"))
        .collect();
    files.sort();
    assert!(files.len() > 10, "{files:?}");

    let (code, json) = lint(&dir, &files, "json");
    assert!(code == 0 || code == 1, "exit {code}");
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let diagnostics = json["diagnostics"].as_array().unwrap();
    let has_errors = diagnostics.iter().any(|d| d["severity"] == "error");
    assert_eq!(code, i32::from(has_errors));
    let keys: Vec<(String, u64, u64, String)> = diagnostics
        .iter()
        .map(|d| {
            (
                d["file"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
                d["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(
        keys, sorted,
        "json output is ordered by file, line, column, code"
    );

    let (_, concise) = lint(&dir, &files, "concise");
    let concise_keys: Vec<(String, u64, u64, String)> = concise
        .lines()
        .map(|l| {
            let mut parts = l.splitn(4, ':');
            let file = parts.next().unwrap().to_owned();
            let line = parts.next().unwrap().parse().unwrap();
            let column = parts.next().unwrap().parse().unwrap();
            let code = parts
                .next()
                .unwrap()
                .split(['[', ']'])
                .nth(1)
                .unwrap()
                .to_owned();
            (file, line, column, code)
        })
        .collect();
    assert_eq!(concise_keys, keys);

    let (_, sarif) = lint(&dir, &files, "sarif");
    let sarif: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), keys.len());
    for (result, key) in results.iter().zip(&keys) {
        assert_eq!(result["ruleId"], key.3.as_str());
        let region = &result["locations"][0]["physicalLocation"]["region"];
        assert_eq!(
            (region["startLine"].as_u64(), region["startColumn"].as_u64()),
            (Some(key.1), Some(key.2))
        );
    }

    let (_, full) = lint(&dir, &files, "full");
    for (_, _, _, code) in &keys {
        assert!(
            full.contains(&format!("[{code}]")),
            "{code} missing from full output"
        );
    }

    let (_, github) = lint(&dir, &files, "github");
    let annotations = github.lines().filter(|l| l.starts_with("::")).count();
    let overflow = github
        .lines()
        .filter(|l| l.contains("]") && !l.starts_with("::") && !l.starts_with("tailpolicy:"))
        .count();
    assert_eq!(annotations + overflow, keys.len(), "{github}");
}
