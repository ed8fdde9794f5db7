//! `hujsonfmt` golden files (`../shared/fmt-golden`): our formatter must reproduce every
//! `.out` file byte for byte from its input, and leave every `.out` file unchanged.
#![expect(clippy::unwrap_used, reason = "tests")]

mod common;
use common::shared;
use std::path::{Path, PathBuf};
use tailpolicy_policy::hujson::{format, parse};

fn format_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    match parse(&text) {
        (Some(doc), _) => Ok(format(&doc)),
        (None, diags) => Err(format!("does not parse: {diags:?}")),
    }
}

/// The first differing line, for the failure message.
fn first_difference(ours: &str, golden: &str) -> String {
    for (i, (a, b)) in ours.lines().zip(golden.lines()).enumerate() {
        if a != b {
            return format!("line {}:\n  ours:   {a:?}\n  golden: {b:?}", i + 1);
        }
    }
    format!(
        "lengths differ: ours {} lines, golden {} lines",
        ours.lines().count(),
        golden.lines().count()
    )
}

#[test]
fn formatter_matches_hujsonfmt_golden_files() {
    let Some(golden) = shared("fmt-golden") else {
        return;
    };
    let Some(realworld) = shared("realworld-policies") else {
        return;
    };
    let mut outs: Vec<PathBuf> = std::fs::read_dir(&golden)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".out.hujson"))
        .collect();
    outs.sort();
    assert!(outs.len() >= 100, "only {} golden files", outs.len());
    let mut failures = Vec::new();
    let mut passed = 0;
    for out in &outs {
        let name = out.file_name().unwrap().to_string_lossy().into_owned();
        let expected = std::fs::read_to_string(out).unwrap();
        let input = if let Some(stem) = name.strip_suffix(".orig.out.hujson") {
            realworld.join(format!("{stem}.hujson"))
        } else {
            golden.join(name.replace(".out.hujson", ".in.hujson"))
        };
        let mut ok = true;
        match format_file(&input) {
            Ok(ours) if ours == expected => {}
            Ok(ours) => {
                ok = false;
                failures.push(format!("{name}: {}", first_difference(&ours, &expected)));
            }
            Err(e) => {
                ok = false;
                failures.push(format!("{name}: input {e}"));
            }
        }
        match format_file(out) {
            Ok(again) if again == expected => {}
            Ok(again) => {
                ok = false;
                failures.push(format!(
                    "{name} (idempotence): {}",
                    first_difference(&again, &expected)
                ));
            }
            Err(e) => {
                ok = false;
                failures.push(format!("{name} (idempotence): {e}"));
            }
        }
        passed += usize::from(ok);
    }
    println!(
        "fmt golden: {passed}/{} files match byte for byte and are stable",
        outs.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
