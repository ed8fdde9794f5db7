//! `tailpolicy mcp` driven over stdio, and `tailpolicy serve --print-client-env` and
//! `--rollback`, as a user runs them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn example(file: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/example")
        .join(file)
        .display()
        .to_string()
}

fn text(reply: &Value) -> Value {
    let t = reply["result"]["content"][0]["text"].as_str().unwrap();
    serde_json::from_str(t).unwrap_or_else(|_| Value::String(t.to_owned()))
}

#[test]
fn mcp_over_stdio() {
    let state = std::env::temp_dir().join(format!("tailpolicy-mcp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args([
            "mcp",
            &example("policy.hujson"),
            "--nodes",
            &example("nodes.json"),
        ])
        .arg("--state")
        .arg(&state)
        .arg("--allow-write")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut id = 0;
    let mut ask = |method: &str, params: Value| -> Value {
        id += 1;
        let message = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        writeln!(stdin, "{message}").unwrap();
        if method == "initialize" {
            // A notification gets no answer.
            writeln!(
                stdin,
                "{}",
                json!({"jsonrpc": "2.0", "method": "notifications/initialized"})
            )
            .unwrap();
        }
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let reply: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(reply["id"], id, "{reply}");
        reply
    };
    let init = ask(
        "initialize",
        json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}),
    );
    assert_eq!(init["result"]["protocolVersion"], "2025-06-18");
    assert_eq!(init["result"]["serverInfo"]["name"], "tailpolicy");
    assert_eq!(ask("ping", json!({}))["result"], json!({}));

    let tools = ask("tools/list", json!({}));
    let names: Vec<&str> = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "validate",
            "preview",
            "reach",
            "diff",
            "explain",
            "replace_policy"
        ]
    );

    let v = ask("tools/call", json!({"name": "validate", "arguments": {}}));
    assert_eq!(v["result"]["isError"], false);
    let v = ask(
        "tools/call",
        json!({"name": "validate", "arguments": {"tests": [{"src": "carol@example.com", "accept": ["k8s-api:443"]}]}}),
    );
    assert_eq!(v["result"]["isError"], true);
    assert_eq!(text(&v)["data"][0]["user"], "carol@example.com");

    let p = ask(
        "tools/call",
        json!({"name": "preview", "arguments": {"type": "user", "previewFor": "carol@example.com"}}),
    );
    assert_eq!(text(&p)["matches"][0]["lineNumber"], 38);

    let r = ask(
        "tools/call",
        json!({"name": "reach", "arguments": {"from": "carol@example.com", "to": "postgres:5432"}}),
    );
    assert_eq!(text(&r)["allowed"], true, "{r}");
    let r = ask(
        "tools/call",
        json!({"name": "reach", "arguments": {"from": "carol@example.com", "to": "k8s-api:443"}}),
    );
    assert_eq!(text(&r)["allowed"], false, "{r}");

    let policy = std::fs::read_to_string(example("policy.hujson")).unwrap();
    let wider = policy.replace(
        "{\"src\": [\"group:platform\"], \"dst\": [\"k8s-api\"]",
        "{\"src\": [\"group:platform\", \"group:data\"], \"dst\": [\"k8s-api\"]",
    );
    assert_ne!(wider, policy);
    let d = ask(
        "tools/call",
        json!({"name": "diff", "arguments": {"new": wider}}),
    );
    let diff = text(&d);
    assert_eq!(diff["changed"], true, "{d}");
    assert!(
        diff["changes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["change"] == "gained")
    );

    let e = ask(
        "tools/call",
        json!({"name": "explain", "arguments": {"code": "TP0201"}}),
    );
    assert!(text(&e).as_str().unwrap().starts_with("# TP0201"));

    // Its tests now fail: refused, as POST /acl refuses it.
    let w = ask(
        "tools/call",
        json!({"name": "replace_policy", "arguments": {"policy": wider}}),
    );
    assert_eq!(w["result"]["isError"], true, "{w}");
    assert_eq!(text(&w)["message"], "test(s) failed");
    assert!(!state.join("versions/00000001.hujson").exists());
    let wider = wider.replace(
        "\"deny\":   [\"k8s-api:443\", \"tag:k8s:22\"]",
        "\"deny\":   [\"tag:k8s:22\"]",
    );
    let w = ask(
        "tools/call",
        json!({"name": "replace_policy", "arguments": {"policy": wider}}),
    );
    assert_eq!(w["result"]["isError"], false, "{w}");
    assert!(state.join("versions/00000001.hujson").exists());
    let r = ask(
        "tools/call",
        json!({"name": "reach", "arguments": {"from": "carol@example.com", "to": "k8s-api:443"}}),
    );
    assert_eq!(text(&r)["allowed"], true, "{r}");

    let unknown = ask("nope", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[test]
fn mcp_is_read_only_without_allow_write() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(["mcp", &example("policy.hujson")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
    )
    .unwrap();
    writeln!(
        stdin,
        "{}",
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": "replace_policy", "arguments": {"policy": "{}"}}})
    )
    .unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["name"] != "replace_policy")
    );
    assert_eq!(lines[1]["result"]["isError"], true);
}

#[test]
fn serve_print_client_env_and_rollback() {
    let dir = std::env::temp_dir().join(format!("tailpolicy-serve-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:8443",
            "--print-client-env",
            "--tls-self-signed",
        ])
        .arg(dir.join("tls"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let env = String::from_utf8(out.stdout).unwrap();
    assert!(
        env.contains("export TAILSCALE_BASE_URL=https://localhost:8443"),
        "{env}"
    );
    assert!(env.contains(&format!(
        "export SSL_CERT_FILE={}",
        dir.join("tls/cert.pem").display()
    )));
    assert!(dir.join("tls/key.pem").exists());

    // Refuses a public address without auth.
    let out = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(["serve", &example("policy.hujson"), "--listen", "0.0.0.0:0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("refusing to serve"));

    // --rollback N stores version N again as the newest.
    let state = dir.join("state");
    std::fs::create_dir_all(state.join("versions")).unwrap();
    std::fs::write(state.join("versions/00000001.hujson"), "{}\n").unwrap();
    std::fs::write(state.join("versions/00000002.hujson"), "{\"hosts\": {}}\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(["serve", "--rollback", "1", "--state"])
        .arg(&state)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(state.join("versions/00000003.hujson")).unwrap(),
        "{}\n"
    );
}
