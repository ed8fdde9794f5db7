#![expect(clippy::unwrap_used, reason = "tests")]
#![expect(clippy::indexing_slicing, reason = "tests")]

use super::*;

const RULE: &str = r#"{"SrcIPs":["10.100.0.2"],"DstPorts":[{"IP":"10.100.0.1","Ports":{"First":22,"Last":22}}],"IPProto":[6]}"#;

#[test]
fn accepts_a_plain_array() {
    let rules = rules_from_json(&format!("[{RULE}]"), None).unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].src_ips, ["10.100.0.2"]);
    assert_eq!(rules[0].ip_proto, [6]);
}

#[test]
fn accepts_compile_output_with_a_node() {
    let text =
        format!(r#"{{"nodes":{{"a":{{"packetFilter":[{RULE}]}},"b":{{"packetFilter":[]}}}}}}"#);
    assert_eq!(rules_from_json(&text, Some("a")).unwrap().len(), 1);
    assert_eq!(rules_from_json(&text, Some("b")).unwrap().len(), 0);
    let e = rules_from_json(&text, None).unwrap_err();
    assert!(e.contains("--node NAME"), "{e}");
    let e = rules_from_json(&text, Some("c")).unwrap_err();
    assert_eq!(e, "no node `c` in `nodes` (known: a, b)");
    let one = format!(r#"{{"nodes":{{"a":{{"packetFilter":[{RULE}]}}}}}}"#);
    assert_eq!(rules_from_json(&one, None).unwrap().len(), 1);
    let pf = format!(r#"{{"packetFilter":[{RULE}]}}"#);
    assert_eq!(rules_from_json(&pf, None).unwrap().len(), 1);
}

#[test]
fn rejects_malformed_input() {
    assert!(
        rules_from_json("[", None)
            .unwrap_err()
            .starts_with("invalid JSON")
    );
    assert!(rules_from_json("42", None).is_err());
    assert!(rules_from_json(r#"{"x":1}"#, None).is_err());
    assert!(
        rules_from_json(r#"[{"SrcIPs":5}]"#, None)
            .unwrap_err()
            .starts_with("invalid FilterRule list")
    );
}

#[test]
fn load_rules_reads_files_and_reports_paths() {
    let dir = std::env::temp_dir().join(format!("tp-node-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("rules.json");
    std::fs::write(&path, format!("[{RULE}]")).unwrap();
    let src = RulesSource::Rules {
        path: path.clone(),
        node: None,
    };
    assert_eq!(load_rules(&src).unwrap().len(), 1);
    assert_eq!(mtimes(&src).len(), 1);
    assert!(mtimes(&src)[0].1.is_some());
    std::fs::write(&path, "[oops").unwrap();
    let e = load_rules(&src).unwrap_err();
    assert!(e.to_string().contains("rules.json`: invalid JSON"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
    let missing = RulesSource::Rules {
        path: dir.join("nope.json"),
        node: None,
    };
    assert!(
        load_rules(&missing)
            .unwrap_err()
            .to_string()
            .starts_with("cannot read")
    );
    assert!(load_rules(&RulesSource::Disabled).unwrap().is_empty());
}

#[test]
fn policy_mode_compiles_the_node_filter() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/example");
    let src = RulesSource::Policy {
        policy: root.join("policy.hujson"),
        nodes: root.join("nodes.json"),
        node: "k8s-api".to_owned(),
    };
    let rules = load_rules(&src).unwrap();
    assert!(!rules.is_empty());
    assert!(
        rules
            .iter()
            .flat_map(|r| r.dst_ports.iter())
            .any(|d| d.ip.starts_with("100.64.0.20")),
        "{rules:?}"
    );
    assert_eq!(src.watched_files().len(), 2);
    let unknown = RulesSource::Policy {
        policy: root.join("policy.hujson"),
        nodes: root.join("nodes.json"),
        node: "nope".to_owned(),
    };
    let e = load_rules(&unknown).unwrap_err().to_string();
    assert!(e.starts_with("no node called `nope`"), "{e}");
}

#[test]
fn policy_mode_watches_the_configuration_and_every_fragment() {
    let good = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/multifile/good");
    let nodes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/example/nodes.json");
    let dir = std::env::temp_dir().join(format!("tp-node-watch-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("teams")).unwrap();
    for f in ["base.hujson", "teams/data.hujson", "teams/people.hujson"] {
        std::fs::copy(good.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(
        dir.join("tailpolicy.toml"),
        "[policy]\nfiles = [\"base.hujson\", \"teams/*.hujson\"]\n",
    )
    .unwrap();
    let src = RulesSource::Policy {
        policy: dir.join("base.hujson"),
        nodes: nodes.clone(),
        node: "k8s-api".to_owned(),
    };
    assert!(!load_rules(&src).unwrap().is_empty());
    let watched = src.watched_files();
    for f in [
        "tailpolicy.toml",
        "base.hujson",
        "teams/data.hujson",
        "teams/people.hujson",
    ] {
        assert!(watched.contains(&dir.join(f)), "{f} not in {watched:?}");
    }
    assert!(watched.contains(&nodes), "{watched:?}");
    assert_eq!(watched.len(), 5, "each file once: {watched:?}");
    // A fragment created after the start is watched, and changes the stamps.
    let before = mtimes(&src);
    std::fs::write(dir.join("teams/new.hujson"), "{}\n").unwrap();
    assert!(src.watched_files().contains(&dir.join("teams/new.hujson")));
    assert_ne!(mtimes(&src), before);
    std::fs::remove_dir_all(&dir).unwrap();
}
