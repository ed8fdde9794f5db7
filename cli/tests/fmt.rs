//! `tailpolicy fmt` end to end: modes, exit codes, in-place writes, syntax errors.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

const MESSY: &str = "{\"b\":1,\n\"a\" : [1,2,],}";
const FORMATTED: &str = "{\n\t\"b\": 1,\n\t\"a\": [1, 2],\n}\n";

fn tailpolicy(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pipe = child.stdin.take().unwrap();
    pipe.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(pipe);
    child.wait_with_output().unwrap()
}

/// A fresh file with `contents` in a per-test directory.
fn file(test: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tailpolicy-fmt-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("policy.hujson");
    std::fs::write(&path, contents).unwrap();
    path
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn stdin_to_stdout() {
    let out = tailpolicy(&["fmt", "-"], Some(MESSY));
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), FORMATTED);
}

#[test]
fn single_file_prints_and_leaves_the_file_alone() {
    let path = file("print", MESSY.as_bytes());
    let out = tailpolicy(&["fmt", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), FORMATTED);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), MESSY);
}

#[test]
fn check_lists_files_that_would_change() {
    let path = file("check", MESSY.as_bytes());
    let p = path.to_str().unwrap();
    let out = tailpolicy(&["fmt", "--check", p], None);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), format!("{p}\n"));
    let clean = file("check-clean", FORMATTED.as_bytes());
    let out = tailpolicy(&["fmt", "--check", clean.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
}

#[test]
fn diff_prints_a_unified_diff() {
    let path = file("diff", MESSY.as_bytes());
    let out = tailpolicy(&["fmt", "--diff", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let diff = text(&out.stdout);
    assert!(diff.contains("@@ -1,2 +1,4 @@"), "{diff}");
    assert!(diff.contains("-\"a\" : [1,2,],}\n"), "{diff}");
    assert!(diff.contains("+\t\"a\": [1, 2],\n"), "{diff}");
}

#[test]
fn write_rewrites_in_place_and_keeps_permissions() {
    let path = file("write", MESSY.as_bytes());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    }
    let out = tailpolicy(&["fmt", "--write", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&path).unwrap(), FORMATTED);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    let leftovers = std::fs::read_dir(path.parent().unwrap()).unwrap().count();
    assert_eq!(leftovers, 1, "no temporary file left behind");
    let again = tailpolicy(&["fmt", "--check", path.to_str().unwrap()], None);
    assert_eq!(again.status.code(), Some(0), "idempotent");
}

#[test]
fn syntax_errors_are_reported_and_the_file_is_untouched() {
    let broken = "{\n\t\"acls\": [\n\t\t\"a\"\n\t\t\"b\",\n\t],\n}\n";
    let path = file("syntax", broken.as_bytes());
    let out = tailpolicy(&["fmt", "--write", path.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("TP0001") && stderr.contains("missing `,`"),
        "{stderr}"
    );
    assert!(stderr.contains(":4:3"), "position in {stderr}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), broken);
}

#[test]
fn bad_input_gets_a_diagnostic_not_a_panic() {
    for (name, bytes) in [
        ("binary", &b"\x7fELF\x02\x01\x01\x00\x00"[..]),
        ("latin1", &b"{\"a\": \"caf\xe9\"}"[..]),
        ("empty", &b""[..]),
        ("deep", "[".repeat(100_000).as_bytes()),
    ] {
        let path = file(name, bytes);
        let out = tailpolicy(&["fmt", path.to_str().unwrap()], None);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", text(&out.stderr));
        assert!(
            text(&out.stderr).contains("TP00"),
            "{name}: {}",
            text(&out.stderr)
        );
    }
}

#[test]
fn unreadable_files_exit_2() {
    let out = tailpolicy(&["fmt", "/nonexistent/policy.hujson"], None);
    assert_eq!(out.status.code(), Some(2));
}
