//! `tailpolicy lint` end to end: exit codes, formats, suppression, configuration.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A policy with exactly one finding: `TP1001` (unused group) at 3:3, a warning.
const WARNS: &str = "{\n\t\"groups\": {\n\t\t\"group:a\": [\"a@example.com\"],\n\t},\n\t\"acls\": [\n\t\t{\"action\": \"accept\", \"src\": [\"a@example.com\"], \"dst\": [\"a@example.com:22\"]},\n\t],\n}\n";
/// A policy with no findings.
const CLEAN: &str = "{\n\t\"acls\": [\n\t\t{\"action\": \"accept\", \"src\": [\"a@example.com\"], \"dst\": [\"a@example.com:22\"]},\n\t],\n}\n";
/// Invalid HuJSON.
const BROKEN: &str = "{\"acls\": [,]}\n";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// A fresh directory for one test (under the system temp dir, so no `tailpolicy.toml`
/// of the repository is discovered).
fn dir(name: &str) -> PathBuf {
    let dir =
        std::env::temp_dir().join(format!("tailpolicy-lint-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn write(dir: &Path, name: &str, contents: impl AsRef<[u8]>) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, contents).unwrap();
}

fn run_with(dir: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &Path)]) -> Out {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tailpolicy"));
    command
        .current_dir(dir)
        .args(args)
        .env_remove("GITHUB_STEP_SUMMARY")
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    Out {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn run(dir: &Path, args: &[&str]) -> Out {
    run_with(dir, args, b"", &[])
}

#[test]
fn clean_file_exits_zero() {
    let d = dir("clean");
    write(&d, "p.hujson", CLEAN);
    let out = run(&d, &["lint", "p.hujson"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""));
    assert_eq!(out.stderr, "no problems found in 1 file\n");
}

#[test]
fn warnings_exit_zero_unless_denied() {
    let d = dir("warnings");
    write(&d, "p.hujson", WARNS);
    let out = run(&d, &["lint", "--format", "concise", "p.hujson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "p.hujson:3:3: warning[TP1001] group `group:a` is defined but never used\n"
    );
    assert_eq!(out.stderr, "found 1 warning in 1 file\n");
    assert_eq!(run(&d, &["lint", "--deny-warnings", "p.hujson"]).code, 1);
}

#[test]
fn parse_failures_and_binary_files_are_findings() {
    let d = dir("broken");
    write(&d, "b.hujson", BROKEN);
    write(&d, "bin.hujson", b"{\"a\": \xff}");
    let out = run(
        &d,
        &["lint", "--format", "concise", "b.hujson", "bin.hujson"],
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let codes: Vec<&str> = out
        .stdout
        .lines()
        .map(|l| l.split(['[', ']']).nth(1).unwrap())
        .collect();
    assert_eq!(codes, ["TP0001", "TP0008"], "{}", out.stdout);
}

#[test]
fn unreadable_inputs_exit_two_before_any_report() {
    let d = dir("missing");
    write(&d, "p.hujson", BROKEN);
    let out = run(&d, &["lint", "p.hujson", "nope.hujson", "also-nope.hujson"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: cannot read `nope.hujson`: no such file\nerror: cannot read `also-nope.hujson`: no such file\n"
    );
    let out = run(&d, &["lint", "."]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "error: cannot read `.`: it is a directory\n")
    );
    let out = run(&d, &["lint", "--nodes", "inventory.json", "p.hujson"]);
    assert_eq!(
        (out.code, out.stderr.as_str()),
        (2, "error: cannot read `inventory.json`: no such file\n")
    );
}

#[test]
fn bad_arguments_exit_two() {
    let d = dir("args");
    assert_eq!(run(&d, &["lint"]).code, 2);
    assert_eq!(run(&d, &["lint", "--format", "xml", "p.hujson"]).code, 2);
}

#[test]
fn standard_input() {
    let d = dir("stdin");
    let out = run_with(
        &d,
        &["lint", "--format", "concise", "-"],
        WARNS.as_bytes(),
        &[],
    );
    assert_eq!(out.code, 0);
    assert!(
        out.stdout.starts_with("<stdin>:3:3: warning[TP1001]"),
        "{}",
        out.stdout
    );
}

#[test]
fn suppression_comments() {
    let d = dir("suppress");
    let suppressed = WARNS.replace(
        "\t\t\"group:a\": [\"a@example.com\"],\n",
        "\t\t// tailpolicy:ignore TP1001 -- kept for the next migration\n\t\t\"group:a\": [\"a@example.com\"],\n",
    );
    write(&d, "ok.hujson", &suppressed);
    let out = run(&d, &["lint", "--deny-warnings", "ok.hujson"]);
    assert_eq!((out.code, out.stdout.as_str()), (0, ""), "{}", out.stdout);

    write(
        &d,
        "typo.hujson",
        WARNS.replace("\"acls\": [", "\"acls\": [ // tailpolicy:ignore TP1O01"),
    );
    let out = run(&d, &["lint", "--format", "concise", "typo.hujson"]);
    assert_eq!(
        out.stdout,
        "typo.hujson:3:3: warning[TP1001] group `group:a` is defined but never used\n\
         typo.hujson:5:33: warning[TP0601] unknown code `TP1O01` in suppression comment\n"
    );
}

#[test]
fn config_is_discovered_and_applied() {
    let d = dir("config");
    write(
        &d,
        "tailpolicy.toml",
        "[lint.severity]\nTP1001 = \"error\"\n",
    );
    write(&d, "sub/p.hujson", WARNS);
    let out = run(&d.join("sub"), &["lint", "--format", "concise", "p.hujson"]);
    assert_eq!(out.code, 1);
    assert_eq!(
        out.stdout,
        "p.hujson:3:3: error[TP1001] group `group:a` is defined but never used\n"
    );

    write(&d, "tailpolicy.toml", "[lint]\nignore = [\"TP1001\"]\n");
    assert_eq!(
        run(&d, &["lint", "--deny-warnings", "sub/p.hujson"]).code,
        0
    );

    write(
        &d,
        "tailpolicy.toml",
        "[lint.per-file-ignores]\n\"sub/*.hujson\" = [\"TP10\"]\n",
    );
    write(&d, "other/p.hujson", WARNS);
    let out = run(
        &d,
        &[
            "lint",
            "--format",
            "concise",
            "sub/p.hujson",
            "other/p.hujson",
        ],
    );
    assert_eq!(
        out.stdout,
        "other/p.hujson:3:3: warning[TP1001] group `group:a` is defined but never used\n"
    );
}

#[test]
fn explicit_config_and_its_errors() {
    let d = dir("config-explicit");
    write(&d, "p.hujson", WARNS);
    write(
        &d,
        "conf/strict.toml",
        "[lint.severity]\nTP1001 = \"error\"\n",
    );
    assert_eq!(
        run(&d, &["lint", "--config", "conf/strict.toml", "p.hujson"]).code,
        1
    );

    write(
        &d,
        "conf/bad.toml",
        "[lint]\nignore = [\"TP1001\", \"TP9999\"]\n",
    );
    let out = run(&d, &["lint", "--config", "conf/bad.toml", "p.hujson"]);
    assert_eq!(out.code, 2);
    assert_eq!(out.stdout, "");
    assert_eq!(
        out.stderr,
        "error: invalid configuration: conf/bad.toml:2:21: unknown code `TP9999` in `ignore`\n"
    );

    write(&d, "tailpolicy.toml", "[lint]\nselekt = []\n");
    let out = run(&d, &["lint", "p.hujson"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("tailpolicy.toml:2:1: unknown field `selekt`"),
        "{}",
        out.stderr
    );
}

#[test]
fn config_nodes_must_be_readable() {
    let d = dir("config-nodes");
    write(&d, "tailpolicy.toml", "nodes = \"inventory.json\"\n");
    write(&d, "p.hujson", CLEAN);
    let out = run(&d, &["lint", "p.hujson"]);
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("inventory.json`: no such file"),
        "{}",
        out.stderr
    );
    write(&d, "inventory.json", r#"{"users": [], "nodes": []}"#);
    assert_eq!(run(&d, &["lint", "p.hujson"]).code, 0);
}

#[test]
fn json_format() {
    let d = dir("json");
    write(&d, "p.hujson", WARNS);
    write(&d, "b.hujson", BROKEN);
    let out = run(&d, &["lint", "--format", "json", "p.hujson", "b.hujson"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.stderr, "", "machine formats keep stderr quiet");
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let first = &value["diagnostics"][0];
    assert_eq!(first["file"], "b.hujson");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["line"], 1);
    let second = &value["diagnostics"][1];
    assert_eq!(
        (
            &second["code"],
            &second["line"],
            &second["column"],
            &second["endLine"],
            &second["endColumn"]
        ),
        (
            &"TP1001".into(),
            &3.into(),
            &3.into(),
            &3.into(),
            &12.into()
        )
    );
}

#[test]
fn github_format_overflows_into_the_step_summary() {
    let d = dir("github");
    let mut policy = String::from("{\n\t\"groups\": {\n");
    for i in 0..12 {
        policy.push_str(&format!("\t\t\"group:g{i:02}\": [\"a@example.com\"],\n"));
    }
    policy.push_str("\t},\n}\n");
    write(&d, "p.hujson", &policy);
    let summary = d.join("summary.md");
    std::fs::write(&summary, "earlier step\n").unwrap();
    let out = run_with(
        &d,
        &["lint", "--format", "github", "p.hujson"],
        b"",
        &[("GITHUB_STEP_SUMMARY", &summary)],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(
        out.stdout
            .lines()
            .filter(|l| l.starts_with("::warning file=p.hujson,"))
            .count(),
        10
    );
    let written = std::fs::read_to_string(&summary).unwrap();
    assert!(
        written.starts_with("earlier step\n### tailpolicy: "),
        "{written}"
    );
    assert!(
        written.contains(
            "| `p.hujson:14:3` | warning | TP1001 | group `group:g11` is defined but never used |"
        ),
        "{written}"
    );
}

#[test]
fn sarif_format() {
    let d = dir("sarif");
    write(&d, "policies/p.hujson", WARNS);
    let absolute = d.join("policies/p.hujson");
    let out = run(
        &d,
        &["lint", "--format", "sarif", absolute.to_str().unwrap()],
    );
    assert_eq!(out.code, 0);
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let run = &value["runs"][0];
    assert_eq!(run["tool"]["driver"]["rules"][0]["id"], "TP1001");
    let location = &run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"];
    assert_eq!(location["uri"], "policies/p.hujson");
    assert_eq!(location["uriBaseId"], "%SRCROOT%");
}

#[test]
fn full_format_is_ascii_without_a_terminal() {
    let d = dir("full");
    write(&d, "p.hujson", WARNS);
    let out = run(&d, &["lint", "p.hujson"]);
    assert!(
        out.stdout.is_ascii() && !out.stdout.contains('\u{1b}'),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.starts_with("warning[TP1001]\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout.contains(",-[p.hujson:3:3]"), "{}", out.stdout);
}

#[test]
fn select_flag_runs_the_security_audit_and_dialect_flag_switches_verdicts() {
    let d = dir("audit-dialect");
    write(&d, "p.hujson", CLEAN);
    // Without selecting it, the audit is not run.
    let out = run(&d, &["lint", "--format", "concise", "p.hujson"]);
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(!out.stdout.contains("TP11"), "{}", out.stdout);
    let out = run(
        &d,
        &[
            "lint", "--select", "TP11", "--format", "concise", "p.hujson",
        ],
    );
    assert!(out.stdout.contains("TP1104"), "{}", out.stdout);
    assert!(!out.stdout.contains("TP1001"), "{}", out.stdout);
    // An unknown field: a warning for Tailscale, an error for headscale.
    write(&d, "u.hujson", "{\"acls\": [], \"bogus\": 1}\n");
    let out = run(&d, &["lint", "--format", "concise", "u.hujson"]);
    assert_eq!(out.code, 0, "{}", out.stdout);
    let out = run(
        &d,
        &[
            "lint",
            "--dialect",
            "headscale",
            "--format",
            "concise",
            "u.hujson",
        ],
    );
    assert_eq!(out.code, 1, "{}", out.stdout);
    assert!(out.stdout.contains("unknown field"), "{}", out.stdout);
    // The configuration key does the same.
    write(&d, "tailpolicy.toml", "dialect = \"headscale\"\n");
    let out = run(&d, &["lint", "--format", "concise", "u.hujson"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let out = run(
        &d,
        &[
            "lint",
            "--dialect",
            "tailscale",
            "--format",
            "concise",
            "u.hujson",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
}
