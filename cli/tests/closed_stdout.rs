//! Commands whose stdout is a pipe with no reader (`tailpolicy … | head -1` after `head`
//! exits) end quietly with their usual exit code instead of panicking.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::process::{Command, Stdio};

/// Runs the binary with stdout connected to a pipe whose read end is already closed, so
/// its first write fails with a broken pipe. Returns the exit code and stderr.
fn run_into_closed_pipe(args: &[&str]) -> (Option<i32>, String) {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(args)
        .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
        .stdout(Stdio::from(writer))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_is_not_a_crash() {
    for (args, code) in [
        (&["schema"][..], 0),
        (&["explain", "--list"][..], 0),
        (&["explain", "tp0601"][..], 0),
        (
            &[
                "reach",
                "testdata/example/policy.hujson",
                "--nodes",
                "testdata/example/nodes.json",
                "--from",
                "alice@example.com",
            ][..],
            0,
        ),
    ] {
        let (status, stderr) = run_into_closed_pipe(args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(status, Some(code), "{args:?}: {stderr}");
    }
}
