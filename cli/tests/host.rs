//! The analysis host end to end: every command reads its input the same way (the same
//! broken input prints the same diagnostic lines and exit code everywhere), and
//! multi-file policies (`[policy] files`) behave as one policy whose diagnostics and
//! rule references point into the fragment where the text is.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::null())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The `file:line:col: error[CODE] message` lines of `s`.
fn error_lines(s: &str) -> Vec<String> {
    s.lines()
        .filter(|l| l.contains(": error[TP"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_command_prints_the_same_diagnostics_for_the_same_broken_input() {
    let dir = root();
    let (p, n) = (
        "testdata/broken/policy.hujson",
        "testdata/broken/nodes.json",
    );
    let lint = run_in(&dir, &["lint", p, "--nodes", n, "--format", "concise"]);
    let expected = error_lines(&text(&lint.stdout));
    assert_eq!(
        expected,
        [
            "testdata/broken/nodes.json:5:30: error[TP0502] node `server` is owned by unknown user `mallory@example.com`",
            "testdata/broken/policy.hujson:8:34: error[TP0201] dst=\"tag:missing\": tag not found: \"tag:missing\"",
            "testdata/broken/policy.hujson:9:12: error[TP0202] group not defined in policy: \"group:ops\"",
        ]
    );
    assert_eq!(lint.status.code(), Some(1));
    let commands: &[&[&str]] = &[
        &["test", p, "--nodes", n],
        &["test", p, "--nodes", n, "--format", "json"],
        &["compile", p, "--nodes", n],
        &["reach", p, "--nodes", n, "--from", "alice@example.com"],
        &["reach", p, "--nodes", n, "--to", "server:22"],
        &["matrix", p, "--nodes", n, "--format", "json"],
        &["diff", p, p, "--nodes", n],
        &["simulate", p, "--nodes", n, "--node", "server"],
    ];
    for args in commands {
        let out = run_in(&dir, args);
        assert_eq!(
            error_lines(&text(&out.stderr)),
            expected,
            "tailpolicy {}",
            args.join(" ")
        );
        assert!(
            out.stdout.is_empty(),
            "tailpolicy {}: no answer on errors",
            args.join(" ")
        );
        assert_eq!(out.status.code(), Some(1), "tailpolicy {}", args.join(" "));
    }
}

#[test]
fn every_analysis_command_reads_the_configuration_like_lint() {
    // The multi-file example names its fragments and its inventory in tailpolicy.toml:
    // no command needs a policy path or `--nodes`.
    let dir = root().join("testdata/multifile/good");
    for args in [
        &["lint"][..],
        &["test"],
        &["compile", "--node", "vpc-router"],
        &["reach", "--from", "carol@example.com"],
        &["matrix"],
        &["merge"],
    ] {
        let out = run_in(&dir, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "tailpolicy {}: {}",
            args.join(" "),
            text(&out.stderr)
        );
    }
}

#[test]
fn a_multi_file_policy_reports_each_problem_in_its_fragment() {
    let dir = root().join("testdata/multifile/broken");
    let out = run_in(&dir, &["lint", "--format", "concise"]);
    assert_eq!(
        text(&out.stdout),
        "base.hujson:9:3: info[TP1003] tag `tag:data-etl` is defined but never used\n\
         teams/data/db.hujson:9:35: error[TP0703] `grants[1]` of this fragment grants access to `tag:db`, which it does not own\n\
         teams/web.hujson:5:3: error[TP0701] `group:platform` in `groups` is already defined in another fragment\n\
         teams/web.hujson:15:12: error[TP0201] dst=\"tag:web\": tag not found: \"tag:web\"\n"
    );
    assert_eq!(out.status.code(), Some(1));
    // The duplicate names the first definition; the ownership error the rule.
    let json = run_in(&dir, &["lint", "--format", "json"]);
    let v: Value = serde_json::from_slice(&json.stdout).unwrap();
    let dup = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "TP0701")
        .unwrap();
    assert_eq!(dup["related"][0]["file"], "base.hujson");
    assert_eq!(dup["related"][0]["line"], 3);
    assert_eq!(dup["related"][0]["message"], "first defined here");
    let owner = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "TP0703")
        .unwrap();
    assert!(
        owner["help"]
            .as_str()
            .unwrap()
            .contains("tailpolicy.toml:9:1 owns only `group:data*`, `tag:data-*`, `data-*`"),
        "{owner}"
    );
    // Naming one fragment lints the whole policy it belongs to.
    let one = run_in(&dir, &["lint", "teams/web.hujson", "--format", "concise"]);
    assert_eq!(text(&one.stdout), text(&out.stdout));
}

fn compile_json(dir: &Path, args: &[&str]) -> Value {
    let out = run_in(dir, args);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fragments_and_their_merge_compile_to_the_single_file_filters() {
    let example = compile_json(
        &root(),
        &[
            "compile",
            "testdata/example/policy.hujson",
            "--nodes",
            "testdata/example/nodes.json",
            "--format",
            "json",
        ],
    );
    let dir = root().join("testdata/multifile/good");
    let fragments = compile_json(&dir, &["compile", "--format", "json"]);
    assert_eq!(fragments, example);

    let merged = run_in(&dir, &["merge"]);
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    let merged_text = text(&merged.stdout);
    assert!(
        merged_text.contains("// from teams/data.hujson:5\n"),
        "{merged_text}"
    );
    let scratch = std::env::temp_dir().join(format!("tailpolicy-merge-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let file = scratch.join("policy.hujson");
    std::fs::write(&file, &merged_text).unwrap();
    let nodes = root().join("testdata/example/nodes.json");
    let (file_arg, nodes_arg) = (file.to_str().unwrap(), nodes.to_str().unwrap());
    let lint = run_in(
        &scratch,
        &[
            "lint", file_arg, "--nodes", nodes_arg, "--format", "concise",
        ],
    );
    assert_eq!(text(&lint.stdout), "", "the merged policy lints clean");
    assert_eq!(lint.status.code(), Some(0));
    let fmt = run_in(&scratch, &["fmt", "--check", file_arg]);
    assert_eq!(
        fmt.status.code(),
        Some(0),
        "the merged policy is hujsonfmt-formatted"
    );
    let recompiled = compile_json(
        &scratch,
        &[
            "compile", file_arg, "--nodes", nodes_arg, "--format", "json",
        ],
    );
    assert_eq!(recompiled, example);
    std::fs::remove_dir_all(&scratch).unwrap();
}

#[test]
fn rule_references_name_the_fragment_and_line() {
    let dir = root().join("testdata/multifile/good");
    let out = run_in(
        &dir,
        &[
            "reach",
            "--from",
            "carol@example.com",
            "--to",
            "postgres:5432",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["allowed"], true);
    let rule = &v["rules"][0];
    assert_eq!(rule["file"], "teams/data.hujson");
    assert_eq!(rule["line"], 5);
    assert_eq!(rule["section"], "grants");
    // Indexes are those of the merged policy (two grants come before, in base.hujson).
    assert_eq!(rule["index"], 2);
    let test = run_in(&dir, &["test"]);
    assert!(
        text(&test.stdout).contains("PASS teams/data.hujson:12:3: tests[0] carol@example.com"),
        "{}",
        text(&test.stdout)
    );
}

#[test]
fn merge_groups_unites_members_and_is_an_error_without_it() {
    let dir = root().join("testdata/multifile/merge-groups");
    let test = run_in(&dir, &["test"]);
    assert_eq!(test.status.code(), Some(0), "{}", text(&test.stdout));
    let merged = text(&run_in(&dir, &["merge"]).stdout);
    assert!(
        merged.contains(
            "// from base.hujson:3, team.hujson:3\n\t\t\"group:eng\": [\"alice@example.com\", \"bob@example.com\"],"
        ),
        "{merged}"
    );
    let strict = run_in(
        &dir,
        &["lint", "--config", "strict.toml", "--format", "concise"],
    );
    assert_eq!(
        text(&strict.stdout),
        "team.hujson:3:3: error[TP0701] `group:eng` in `groups` is already defined in another fragment\n"
    );
    assert_eq!(strict.status.code(), Some(1));
    let refused = run_in(&dir, &["merge", "--config", "strict.toml"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(refused.stdout.is_empty());
}
