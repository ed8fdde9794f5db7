//! Every file of `../shared/realworld-policies/` gets the verdict `INDEX.md` gives it:
//! valid files no error, FLAG files at least one error, the SYNTAX ERROR file a syntax
//! error at line 1.

mod common;
use common::shared;
use tailpolicy_policy::{CheckOptions, Dialect, SourceFile, analyse};

/// Verdicts from INDEX.md: (file number, expected).
fn verdicts(index: &str) -> Vec<(String, String)> {
    index
        .lines()
        .filter(|l| l.starts_with("| 0"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            let file = cols.get(2)?.trim_matches('`').to_owned();
            let verdict = (*cols.get(8)?).to_owned();
            Some((file, verdict))
        })
        .collect()
}

#[test]
fn realworld_verdicts_agree_with_index() {
    let Some(dir) = shared("realworld-policies") else {
        return;
    };
    let index = std::fs::read_to_string(dir.join("INDEX.md")).unwrap_or_default();
    let rows = verdicts(&index);
    assert!(rows.len() >= 40, "INDEX.md rows: {}", rows.len());
    let mut failures = Vec::new();
    for (file, verdict) in &rows {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let analysis = analyse(&text, &CheckOptions::default());
        let src = SourceFile::new(file.clone(), text.clone());
        let errors: Vec<String> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| {
                let lc = src.line_col(d.span.start);
                format!("{}:{}: {} {}", lc.line, lc.column, d.code, d.message)
            })
            .collect();
        let ok = if verdict.contains("FLAG") {
            !errors.is_empty()
        } else if verdict.contains("SYNTAX") {
            errors
                .iter()
                .any(|e| e.starts_with("1:") && e.contains("TP00"))
        } else {
            errors.is_empty()
        };
        if !ok {
            failures.push(format!("{file} ({verdict}): {errors:?}"));
        }
    }
    println!(
        "realworld: {}/{} verdicts agree with INDEX.md",
        rows.len() - failures.len(),
        rows.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The corpus's headscale policies (a `headscale` path in INDEX.md's source column),
/// judged in headscale mode: what headscale 0.29 would do with each. The verdict for
/// headscale is INDEX.md's, except that headscale's rules are what decide.
#[test]
fn realworld_headscale_policies_in_headscale_mode() {
    let Some(dir) = shared("realworld-policies") else {
        return;
    };
    let index = std::fs::read_to_string(dir.join("INDEX.md")).unwrap_or_default();
    let rows: Vec<(String, String)> = index
        .lines()
        .filter(|l| l.starts_with("| 0") && l.to_ascii_lowercase().contains("headscale"))
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            Some((
                cols.get(2)?.trim_matches('`').to_owned(),
                (*cols.get(8)?).to_owned(),
            ))
        })
        .collect();
    assert!(
        rows.len() >= 3,
        "headscale rows in INDEX.md: {}",
        rows.len()
    );
    let options = CheckOptions {
        dialect: Dialect::Headscale,
        ..CheckOptions::default()
    };
    let mut failures = Vec::new();
    for (file, verdict) in &rows {
        let text = std::fs::read_to_string(dir.join(file)).unwrap_or_default();
        let analysis = analyse(&text, &options);
        let errors: Vec<String> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        let ok = if verdict.contains("FLAG") {
            !errors.is_empty()
        } else if verdict.contains("SYNTAX") {
            errors.iter().any(|e| e.starts_with("TP00"))
        } else {
            errors.is_empty()
        };
        println!("  {file} ({verdict}): {} errors {errors:?}", errors.len());
        if !ok {
            failures.push(format!("{file} ({verdict}): {errors:?}"));
        }
    }
    println!(
        "realworld headscale policies, headscale mode: {}/{} judged as headscale would",
        rows.len() - failures.len(),
        rows.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
