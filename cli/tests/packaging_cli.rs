//! What packagers ship next to the binary, end to end: `--version`, `completions`,
//! `manpage`.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

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

/// The newest `source.captured_at` date in the conformance corpus.
fn newest_capture() -> String {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance");
    let mut newest = String::new();
    let mut dirs = vec![corpus];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                let case: serde_json::Value =
                    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
                if let Some(at) = case.pointer("/source/captured_at").and_then(|v| v.as_str()) {
                    let date = at.get(..10).expect("an RFC 3339 time");
                    if date > newest.as_str() {
                        newest = date.to_owned();
                    }
                }
            }
        }
    }
    assert_eq!(newest.len(), 10, "no capture date in the corpus");
    newest
}

/// The subcommands listed by `tailpolicy --help`, `help` included.
fn subcommands() -> Vec<String> {
    let (code, help, _) = run(&["--help"]);
    assert_eq!(code, 0);
    let list = help.split("Commands:\n").nth(1).unwrap();
    let names: Vec<String> = list
        .lines()
        .take_while(|l| l.starts_with("  "))
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect();
    assert!(names.len() > 10, "{names:?}");
    names
}

#[test]
fn version_names_the_newest_conformance_capture() {
    let want = format!(
        "tailpolicy {} (verified against Tailscale's control plane as captured up to {})\n",
        env!("CARGO_PKG_VERSION"),
        newest_capture()
    );
    assert_eq!(run(&["--version"]), (0, want.clone(), String::new()));
    assert_eq!(run(&["-V"]), (0, want, String::new()));
}

#[test]
fn completions_for_every_shell_name_every_subcommand() {
    let heads = [
        ("bash", "_tailpolicy() {"),
        ("zsh", "#compdef tailpolicy"),
        (
            "fish",
            "# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.",
        ),
        ("powershell", "using namespace System.Management.Automation"),
        ("elvish", "use builtin;"),
    ];
    for (shell, head) in heads {
        let (code, script, stderr) = run(&["completions", shell]);
        assert_eq!((code, stderr.as_str()), (0, ""), "{shell}");
        let first = script.lines().find(|l| !l.is_empty());
        assert_eq!(first, Some(head), "{shell}");
        for sub in subcommands() {
            assert!(script.contains(&sub), "{shell} completions lack `{sub}`");
        }
    }
    let (code, _, stderr) = run(&["completions", "tcsh"]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: invalid value 'tcsh' for '<SHELL>'\n"),
        "{stderr}"
    );
}

#[test]
fn bash_completes_subcommands_and_options() {
    let (_, script, _) = run(&["completions", "bash"]);
    let complete = |words: &str| {
        let program = format!(
            "{script}\nCOMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
             _tailpolicy tailpolicy \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\""
        );
        let out = Command::new("bash")
            .args(["-c", &program])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("tailpolicy com"), "compile\ncompletions\n");
    assert_eq!(complete("tailpolicy completions z"), "zsh\n");
    assert_eq!(complete("tailpolicy lint --deny"), "--deny-warnings\n");
}

#[test]
fn manpage_prints_the_main_page() {
    let (code, page, stderr) = run(&["manpage"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    let th = format!(
        ".TH tailpolicy 1  \"tailpolicy {} (verified against Tailscale's control plane as \
         captured up to {})\" ",
        env!("CARGO_PKG_VERSION"),
        newest_capture()
    );
    assert!(page.lines().any(|l| l == th), "no `{th}` in:\n{page}");
    for sub in subcommands() {
        assert!(
            page.contains(&format!("tailpolicy\\-{sub}(1)")),
            "{sub}:\n{page}"
        );
    }
}

#[test]
fn manpage_writes_one_page_per_command() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("manpages");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, stdout, stderr) = run(&["manpage", "--out-dir", dir.to_str().unwrap()]);
    assert_eq!((code, stdout.as_str(), stderr.as_str()), (0, "", ""));
    let written: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    let mut want: BTreeSet<String> = subcommands()
        .iter()
        .filter(|s| *s != "help")
        .map(|s| format!("tailpolicy-{s}.1"))
        .collect();
    want.insert("tailpolicy.1".to_owned());
    assert_eq!(written, want);
    let lint = std::fs::read_to_string(dir.join("tailpolicy-lint.1")).unwrap();
    assert!(lint.contains("\\-\\-deny\\-warnings"), "{lint}");
}
