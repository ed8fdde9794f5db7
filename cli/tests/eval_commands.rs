//! `tailpolicy test` and `tailpolicy reach` end to end: exit codes and documented JSON.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

const POLICY: &str = r#"{
  // Developers reach the database; everyone reaches the web server.
  "groups": {"group:dev": ["alice@example.com"]},
  "tagOwners": {"tag:db": [], "tag:web": []},
  "acls": [
    {"action": "accept", "src": ["*"], "dst": ["tag:web:443"]},
    {"action": "accept", "src": ["group:dev"], "dst": ["tag:db:5432"]},
  ],
  "ssh": [{"action": "check", "src": ["group:dev"], "dst": ["tag:db"], "users": ["root"]}],
  "tests": [
    {"src": "alice@example.com", "accept": ["tag:db:5432", "tag:web:443"]},
    {"src": "bob@example.com", "deny": ["tag:db:5432"]},
  ],
  "sshTests": [{"src": "alice@example.com", "dst": ["tag:db"], "check": ["root"], "deny": ["ubuntu"]}],
}"#;

const NODES: &str = r#"{
  "users": [{"login": "alice@example.com"}, {"login": "bob@example.com"}],
  "nodes": [
    {"name": "alice-mac", "user": "alice@example.com", "addresses": ["100.64.0.1"]},
    {"name": "bob-pc", "user": "bob@example.com", "addresses": ["100.64.0.2"]},
    {"name": "db1", "tags": ["tag:db"], "addresses": ["100.64.0.3"]},
    {"name": "web1", "tags": ["tag:web"], "addresses": ["100.64.0.4"]},
  ],
}"#;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tailpolicy-eval-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn files(name: &str, policy: &str) -> (PathBuf, PathBuf) {
    let d = dir(name);
    let p = d.join("policy.hujson");
    let n = d.join("nodes.hujson");
    std::fs::write(&p, policy).unwrap();
    std::fs::write(&n, NODES).unwrap();
    (p, n)
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_tailpolicy"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn test_command_passes_and_fails() {
    let (p, n) = files("pass", POLICY);
    let (code, out) = run(&[
        "test",
        p.to_str().unwrap(),
        "--nodes",
        n.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["passed"], true);
    assert_eq!(doc["tests"].as_array().unwrap().len(), 3);
    let first = &doc["tests"][0]["assertions"][0];
    assert_eq!(first["rules"][0]["section"], "acls");
    assert_eq!(first["rules"][0]["index"], 1);
    assert_eq!(first["rules"][0]["line"], 7);

    let broken = POLICY.replace(
        "\"src\": [\"group:dev\"], \"dst\": [\"tag:db:5432\"]",
        "\"src\": [\"*\"], \"dst\": [\"tag:db:5432\"]",
    );
    let (p, n) = files("fail", &broken);
    let (code, out) = run(&[
        "test",
        p.to_str().unwrap(),
        "--nodes",
        n.to_str().unwrap(),
        "--format",
        "junit",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("<testsuites name=\"tailpolicy\" tests=\"3\" failures=\"1\">"),
        "{out}"
    );
    assert!(
        out.contains("test(s) failed: `bob@example.com` can access `tag:db:5432`"),
        "{out}"
    );
    let (code, out) = run(&["test", p.to_str().unwrap(), "--nodes", n.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(out.contains("FAIL"), "{out}");
    assert!(out.contains("TP0401"), "{out}");
}

#[test]
fn reach_answers_the_three_questions() {
    let (p, n) = files("reach", POLICY);
    let (p, n) = (p.to_str().unwrap(), n.to_str().unwrap());
    let (code, out) = run(&[
        "reach",
        p,
        "--nodes",
        n,
        "--from",
        "alice@example.com",
        "--to",
        "tag:db:5432",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["allowed"], true);
    assert_eq!(doc["rules"][0]["index"], 1);
    assert_eq!(doc["rules"][0]["column"], 5);

    let (_, out) = run(&[
        "reach", p, "--nodes", n, "--from", "bob-pc", "--to", "db1:5432", "--format", "json",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["allowed"], false);

    let (_, out) = run(&[
        "reach", p, "--nodes", n, "--to", "tag:db", "--format", "json",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let from: Vec<&str> = doc["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["from"].as_str().unwrap())
        .collect();
    assert_eq!(from, ["alice@example.com"]);
    let (_, out) = run(&[
        "reach", p, "--nodes", n, "--to", "tag:db", "--format", "json", "--expand",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["access"][0]["from"], "alice-mac", "{doc}");

    let doc = reach_json(p, n, &["--from", "bob@example.com"]);
    let to: Vec<(&str, &str)> = doc["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["to"].as_str().unwrap(), a["access"].as_str().unwrap()))
        .collect();
    assert_eq!(to, [("tag:web", "443")]);
    let doc = reach_json(p, n, &["--from", "bob@example.com", "--expand"]);
    assert_eq!(doc["access"][0]["to"], "web1", "{doc}");

    let (code, _) = run(&[
        "reach",
        p,
        "--nodes",
        n,
        "--from",
        "nobody@example.com",
        "--to",
        "db1",
    ]);
    assert_eq!(code, 2);
}

#[test]
fn diff_reports_changes_and_exit_codes() {
    let (old, n) = files("diff-old", POLICY);
    let reordered = POLICY.replace(
        "    {\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:web:443\"]},\n    {\"action\": \"accept\", \"src\": [\"group:dev\"], \"dst\": [\"tag:db:5432\"]},",
        "    // reordered\n    {\"action\": \"accept\", \"src\": [\"alice@example.com\"], \"dst\": [\"tag:db:5432\"]},\n    {\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:web:443\"]},",
    );
    assert_ne!(reordered, POLICY);
    let (same, _) = files("diff-same", &reordered);
    let (o, n, s) = (
        old.to_str().unwrap(),
        n.to_str().unwrap(),
        same.to_str().unwrap(),
    );
    let (code, out) = run(&["diff", o, s, "--nodes", n]);
    assert_eq!(code, 0, "{out}");
    let wider = POLICY.replace("[\"tag:web:443\"]", "[\"tag:web:443\", \"tag:db:22\"]");
    let (new, _) = files("diff-new", &wider);
    let (code, out) = run(&[
        "diff",
        o,
        new.to_str().unwrap(),
        "--nodes",
        n,
        "--format",
        "json",
    ]);
    assert_eq!(code, 1);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["changed"], true);
    let changes = doc["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .all(|c| c["change"] == "gained" && c["dst"] == "tag:db"),
        "{changes:?}"
    );
    let (ports, icmp): (Vec<&Value>, Vec<&Value>) =
        changes.iter().partition(|c| c["ports"] == "22");
    let srcs: Vec<&str> = ports.iter().map(|c| c["src"].as_str().unwrap()).collect();
    assert_eq!(srcs, ["alice@example.com", "bob@example.com", "tag:web"]);
    assert_eq!(ports[0]["rules"][0]["index"], 0);
    // Whoever could not reach the database at all may now ping it too (any rule
    // allows ICMP); alice already could.
    let pingers: Vec<&str> = icmp.iter().map(|c| c["src"].as_str().unwrap()).collect();
    assert_eq!(pingers, ["bob@example.com", "tag:web"], "{icmp:?}");
    assert!(
        icmp.iter()
            .all(|c| c["protos"] == serde_json::json!(["icmp", "ipv6-icmp"])),
        "{icmp:?}"
    );
    let (code, out) = run(&[
        "diff",
        o,
        new.to_str().unwrap(),
        "--nodes",
        n,
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 1);
    assert!(out.starts_with("### Access changes"), "{out}");
    let (code, _) = run(&["diff", o, "/nonexistent.hujson", "--nodes", n]);
    assert_eq!(code, 2);
}

#[test]
fn matrix_in_every_format() {
    let (p, n) = files("matrix", POLICY);
    let (p, n) = (p.to_str().unwrap(), n.to_str().unwrap());
    let (code, out) = run(&["matrix", p, "--nodes", n, "--format", "json"]);
    assert_eq!(code, 0);
    let doc: Value = serde_json::from_str(&out).unwrap();
    let cells: Vec<(String, String, String)> = doc["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["src"].as_str().unwrap().to_owned(),
                c["dst"].as_str().unwrap().to_owned(),
                c["access"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    // Folded: ports as the ACLs spell them (the default protocols on a port).
    assert!(
        cells.contains(&("alice@example.com".into(), "tag:db".into(), "5432".into())),
        "{cells:?}"
    );
    assert!(
        cells.contains(&("bob@example.com".into(), "tag:web".into(), "443".into())),
        "{cells:?}"
    );
    assert!(
        !cells
            .iter()
            .any(|c| c.0 == "bob@example.com" && c.1 == "tag:db")
    );
    // web1 reaching itself needs no rule: no cell.
    assert!(!cells.iter().any(|c| c.0 == "tag:web"), "{cells:?}");
    let columns = doc["columns"].as_array().unwrap();
    let db = columns.iter().find(|c| c["name"] == "tag:db").unwrap();
    assert_eq!(db["kind"], "tag");
    assert_eq!(db["members"][0], "db1 (100.64.0.3)");
    assert_eq!(doc["rows"][0]["groups"][0], "group:dev");
    let (_, out) = run(&["matrix", p, "--nodes", n, "--format", "csv"]);
    assert!(out.starts_with("src,dst,access,rules\n"));
    assert!(
        out.contains("alice@example.com,tag:db,5432,acls[1]@7:5"),
        "{out}"
    );
    let (_, out) = run(&["matrix", p, "--nodes", n, "--format", "dot"]);
    assert!(out.contains("\"alice@example.com\" -> \"tag:db\""), "{out}");
    let (_, out) = run(&["matrix", p, "--nodes", n, "--format", "html"]);
    assert!(
        out.contains("<table id=\"m\">") && !out.contains("http"),
        "self-contained page"
    );
    // `--expand`: the address-level matrix and JSON of before.
    let (_, out) = run(&["matrix", p, "--nodes", n, "--format", "json", "--expand"]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["principals"]["tag:db"][0], "db1 (100.64.0.3)");
    let (_, out) = run(&["matrix", p, "--nodes", n, "--format", "csv", "--expand"]);
    assert!(
        out.contains("alice@example.com,tag:db,tcp,5432,acls[1]@7:5"),
        "{out}"
    );
    let (_, out) = run(&["matrix", p, "--nodes", n]);
    assert!(out.contains("tag:web"), "{out}");
}

const INTERNET_POLICY: &str = r#"{
  "groups": {"group:dev": ["alice@example.com"]},
  "tagOwners": {"tag:exit-eu": [], "tag:exit-us": []},
  "grants": [
    // Developers browse anything, through the EU exit node only.
    {"src": ["group:dev"], "dst": ["autogroup:internet"], "ip": ["*"], "via": ["tag:exit-eu"]},
    // Everyone reaches the web through any exit node.
    {"src": ["autogroup:member"], "dst": ["autogroup:internet"], "ip": ["tcp:443"]},
  ],
}"#;

const INTERNET_NODES: &str = r#"{
  "users": [{"login": "alice@example.com"}, {"login": "bob@example.com"}],
  "nodes": [
    {"name": "alice-mac", "user": "alice@example.com", "addresses": ["100.64.0.1"]},
    {"name": "bob-pc", "user": "bob@example.com", "addresses": ["100.64.0.2"]},
    {"name": "exit-eu", "tags": ["tag:exit-eu"], "addresses": ["100.64.0.3"],
     "advertisedRoutes": ["0.0.0.0/0", "::/0"], "approvedRoutes": ["0.0.0.0/0", "::/0"]},
    {"name": "exit-us", "tags": ["tag:exit-us"], "addresses": ["100.64.0.4"],
     "advertisedRoutes": ["0.0.0.0/0", "::/0"], "approvedRoutes": ["0.0.0.0/0", "::/0"]},
  ],
}"#;

/// `(to, allowed)` of every pair of a `reach --from --to` answer.
/// `tailpolicy reach POLICY --nodes NODES ARGS... --format json`, parsed.
fn reach_json(policy: &str, nodes: &str, args: &[&str]) -> Value {
    let mut all = vec!["reach", policy, "--nodes", nodes];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--format", "json"]);
    let (_, out) = run(&all);
    serde_json::from_str(&out).unwrap()
}

fn pairs_of(doc: &Value) -> Vec<(String, bool)> {
    doc["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["to"].as_str().unwrap().to_owned(),
                x["allowed"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn access_of(doc: &Value) -> Vec<(String, String, String)> {
    doc["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["from"].as_str().unwrap().to_owned(),
                a["to"].as_str().unwrap().to_owned(),
                // Folded answers spell the access; `--expand` and internet ones
                // give the ports.
                a.get("access")
                    .unwrap_or(&a["ports"])
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect()
}

#[test]
fn reach_answers_for_the_internet() {
    let (p, _) = files("internet", INTERNET_POLICY);
    let n = p.with_file_name("internet-nodes.hujson");
    std::fs::write(&n, INTERNET_NODES).unwrap();
    let (p, n) = (p.to_str().unwrap(), n.to_str().unwrap());

    // Who reaches the internet, through which exit node, by which rule.
    let (code, out) = run(&[
        "reach",
        p,
        "--nodes",
        n,
        "--to",
        "autogroup:internet",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{out}");
    let doc: Value = serde_json::from_str(&out).unwrap();
    let acc = access_of(&doc);
    let via_eu = "autogroup:internet via exit-eu".to_owned();
    let via_us = "autogroup:internet via exit-us".to_owned();
    assert!(
        acc.contains(&("alice-mac".into(), via_eu.clone(), "*".into())),
        "{acc:?}"
    );
    assert!(
        !acc.contains(&("alice-mac".into(), via_us.clone(), "*".into())),
        "{acc:?}"
    );
    assert!(
        !acc.iter().any(|a| a.0 == "bob-pc" && a.2 == "*"),
        "{acc:?}"
    );
    for who in ["alice-mac", "bob-pc"] {
        for via in [&via_eu, &via_us] {
            assert!(
                acc.contains(&(who.into(), via.clone(), "443".into())),
                "{acc:?}"
            );
        }
    }
    let rule = doc["access"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ports"] == "*")
        .unwrap();
    assert_eq!(rule["rules"][0]["section"], "grants");
    assert_eq!(rule["rules"][0]["index"], 0);

    // Port 80: alice through the EU exit node only; bob not at all.
    let doc = reach_json(
        p,
        n,
        &[
            "--from",
            "alice@example.com",
            "--to",
            "autogroup:internet:80",
        ],
    );
    assert_eq!(doc["allowed"], true, "{doc}");
    let pairs = pairs_of(&doc);
    assert_eq!(pairs, [(via_eu.clone(), true), (via_us.clone(), false)]);
    // A single internet address: one answer per exit node that could carry it.
    let doc = reach_json(p, n, &["--from", "alice-mac", "--to", "8.8.8.8:80"]);
    let pairs = pairs_of(&doc);
    assert_eq!(
        pairs,
        [
            ("8.8.8.8/32 via exit-eu".to_owned(), true),
            ("8.8.8.8/32 via exit-us".to_owned(), false)
        ],
        "{doc}"
    );
    assert_eq!(
        doc["allowed"], true,
        "reached through some exit node: {doc}"
    );
    let doc = reach_json(
        p,
        n,
        &["--from", "bob@example.com", "--to", "autogroup:internet:80"],
    );
    assert_eq!(doc["allowed"], false, "{doc}");

    // Everything a source reaches lists the internet per exit node, folded by the
    // policy's names.
    let doc = reach_json(p, n, &["--from", "bob@example.com"]);
    let acc = access_of(&doc);
    let bob = "bob@example.com".to_owned();
    assert_eq!(
        acc,
        [
            (
                bob.clone(),
                "autogroup:internet (via exit-eu)".to_owned(),
                "tcp:443".to_owned()
            ),
            (
                bob.clone(),
                "autogroup:internet (via exit-us)".to_owned(),
                "tcp:443".to_owned()
            )
        ]
    );
    assert_eq!(doc["access"][0]["kind"], "internet");
    let (_, out) = run(&["reach", p, "--nodes", n, "--from", "alice-mac"]);
    assert!(
        out.contains("alice@example.com -> autogroup:internet (via exit-eu) * by grants[0]"),
        "{out}"
    );
    // `--expand`: per device and internet range, as before folding.
    let (_, out) = run(&["reach", p, "--nodes", n, "--from", "alice-mac", "--expand"]);
    assert!(
        out.contains("alice-mac -> autogroup:internet via exit-eu tcp,udp,icmp *"),
        "{out}"
    );
}

#[test]
fn reach_icmp_follows_the_filter() {
    // A TCP-only rule also lets ping through (the client filter ignores the protocol
    // and ports of rules for ICMP echo requests).
    let (p, n) = files("icmp", POLICY);
    let (p, n) = (p.to_str().unwrap(), n.to_str().unwrap());
    let doc = reach_json(
        p,
        n,
        &["--from", "alice-mac", "--to", "db1", "--proto", "icmp"],
    );
    assert_eq!(doc["allowed"], true, "{doc}");
    let (_, out) = run(&[
        "reach", p, "--nodes", n, "--from", "bob-pc", "--to", "db1", "--proto", "icmp", "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["allowed"], false, "{doc}");
    let doc = reach_json(
        p,
        n,
        &["--from", "alice-mac", "--to", "db1", "--proto", "gre"],
    );
    assert_eq!(doc["allowed"], false, "{doc}");
}
