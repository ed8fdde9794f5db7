//! `tailpolicy compile` end to end: the bundled example, `--node`, and exit codes for
//! policy and inventory errors.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "test")]

use std::path::PathBuf;
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn compiles_the_example_tailnet() {
    let (code, stdout, stderr) = run(&[
        "compile",
        "testdata/example/policy.hujson",
        "--nodes",
        "testdata/example/nodes.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let nodes = v["nodes"].as_object().unwrap();
    assert_eq!(nodes.len(), 7);
    // The subnet router is approved by autoApprovers and receives the VPC rules.
    assert_eq!(
        v["nodes"]["vpc-router"]["approvedRoutes"],
        serde_json::json!(["10.0.0.0/16"])
    );
    let router = v["nodes"]["vpc-router"]["packetFilter"].as_array().unwrap();
    let ips: Vec<&str> = router
        .iter()
        .flat_map(|r| r["DstPorts"].as_array().unwrap())
        .map(|d| d["IP"].as_str().unwrap())
        .collect();
    assert!(
        ips.contains(&"10.0.1.10") && ips.contains(&"10.0.2.20"),
        "{ips:?}"
    );
    // Carol (group:data) reaches postgres but not the Kubernetes API.
    let carol_v4 = "100.64.0.3";
    let k8s_rule = router
        .iter()
        .find(|r| r["DstPorts"][0]["IP"] == "10.0.1.10")
        .unwrap();
    assert!(
        !k8s_rule["SrcIPs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == carol_v4)
    );
    // The exit node gets the internet ranges; laptops get only their self rule.
    assert_eq!(
        v["nodes"]["exit-1"]["approvedRoutes"],
        serde_json::json!(["0.0.0.0/0", "::/0"])
    );
    assert_eq!(
        v["nodes"]["bob-laptop"]["packetFilter"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // SSH: the check rule on a laptop delegates to the control plane.
    let ssh = &v["nodes"]["alice-laptop"]["sshPolicy"]["rules"][0];
    assert!(
        ssh["action"]["holdAndDelegate"]
            .as_str()
            .unwrap()
            .contains("/machine/ssh/action/")
    );
    assert_eq!(ssh["sshUsers"], serde_json::json!({"*": "=", "root": ""}));
}

#[test]
fn node_filter_limits_output() {
    let (code, stdout, _) = run(&[
        "compile",
        "testdata/example/policy.hujson",
        "--nodes",
        "testdata/example/nodes.json",
        "--node",
        "db-proxy",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let names: Vec<&String> = v["nodes"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["db-proxy"]);
    let (code, _, stderr) = run(&[
        "compile",
        "testdata/example/policy.hujson",
        "--nodes",
        "testdata/example/nodes.json",
        "--node",
        "nope",
    ]);
    assert_eq!(code, 1);
    assert!(stderr.contains("`nope`"), "{stderr}");
}

#[test]
fn inventory_errors_exit_1_with_positions() {
    let (code, stdout, stderr) = run(&[
        "compile",
        "testdata/example/policy.hujson",
        "--nodes",
        "testdata/inventory/errors.hujson",
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("TP0502"), "{stderr}");
    assert!(stderr.contains("errors.hujson:"), "{stderr}");
}

#[test]
fn unreadable_files_exit_2() {
    let (code, _, _) = run(&[
        "compile",
        "testdata/example/policy.hujson",
        "--nodes",
        "missing.json",
    ]);
    assert_eq!(code, 2);
}
