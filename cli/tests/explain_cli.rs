//! `tailpolicy explain` end to end.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::process::Command;
use tailpolicy_policy::rules::ALL_RULES;

fn run(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn explains_a_code_by_code_or_name() {
    let (code, stdout, _) = run(&["explain", "tp0601"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with(
        "# TP0601\n\n**invalid-suppression-comment** · suspicious · default severity: warning\n"
    ));
    let (code, by_name, _) = run(&["explain", "invalid-suppression-comment"]);
    assert_eq!((code, by_name), (0, stdout));
}

#[test]
fn unknown_code_exits_two() {
    let (code, stdout, stderr) = run(&["explain", "TP9999"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        "error: unknown code `TP9999`; run `tailpolicy explain --list` to see every code\n"
    );
    assert_eq!(run(&["explain"]).0, 2);
    assert_eq!(run(&["explain", "--list", "TP0601"]).0, 2);
}

#[test]
fn list_has_every_code_with_its_severity() {
    let (code, stdout, _) = run(&["explain", "--list"]);
    assert_eq!(code, 0);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), ALL_RULES.len());
    for (line, rule) in lines.iter().zip(ALL_RULES) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            fields.get(..3).unwrap(),
            [rule.code, rule.severity.as_str(), rule.name]
        );
    }
}
