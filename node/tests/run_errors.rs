//! `run` fails cleanly, before touching the network, on bad configuration or rules.
#![expect(clippy::unwrap_used, reason = "tests")]

use std::path::{Path, PathBuf};
use tailpolicy_node::{NodeError, NodeOptions, RulesSource, run};

const PRIV: &str = "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=";
const PUB: &str = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tp-node-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn opts(conf: &Path, source: RulesSource) -> NodeOptions {
    NodeOptions {
        wg_config: conf.to_owned(),
        interface: None,
        source,
        status_socket: Some(conf.with_extension("sock")),
    }
}

#[test]
fn bad_config_is_reported_with_file_and_line() {
    let d = dir("badconf");
    let conf = d.join("wg9.conf");
    std::fs::write(
        &conf,
        "[Interface]\nPrivateKey = short\nAddress = 10.0.0.1/24\n",
    )
    .unwrap();
    let err = run(&opts(&conf, RulesSource::Disabled)).unwrap_err();
    assert!(matches!(err, NodeError::Config { .. }));
    let text = err.to_string();
    assert!(
        text.ends_with("wg9.conf:2: `PrivateKey` is not valid base64"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 1, "{text}");
    let missing = run(&opts(&d.join("absent.conf"), RulesSource::Disabled)).unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("absent.conf: cannot read the file"),
        "{missing}"
    );
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn policy_errors_and_bad_rules_stop_start_up() {
    let d = dir("policy");
    let conf = d.join("wg9.conf");
    std::fs::write(
        &conf,
        format!("[Interface]\nPrivateKey = {PRIV}\nAddress = 10.0.0.1/24\n[Peer]\nPublicKey = {PUB}\nAllowedIPs = 10.0.0.2/32\n"),
    )
    .unwrap();
    std::fs::write(
        d.join("policy.hujson"),
        "{\"acls\": [{\"action\": \"accept\", \"src\": [\"tag:nope\"], \"dst\": [\"*:22\"]}]}",
    )
    .unwrap();
    std::fs::write(
        d.join("nodes.json"),
        r#"{"nodes": [{"name": "a", "addresses": ["100.64.0.1"], "tags": []}]}"#,
    )
    .unwrap();
    let policy = RulesSource::Policy {
        policy: d.join("policy.hujson"),
        nodes: d.join("nodes.json"),
        node: "a".to_owned(),
    };
    let err = run(&opts(&conf, policy)).unwrap_err();
    assert!(matches!(err, NodeError::Rules(_)), "{err:?}");
    let text = err.to_string();
    assert!(text.contains("policy.hujson:1:"), "{text}");
    assert!(text.contains("error[TP"), "{text}");

    let rules = d.join("rules.json");
    std::fs::write(
        &rules,
        r#"[{"SrcIPs":["10.0.0.2/8"],"DstPorts":[{"IP":"*","Ports":{"First":22,"Last":22}}]}]"#,
    )
    .unwrap();
    let err = run(&opts(
        &conf,
        RulesSource::Rules {
            path: rules,
            node: None,
        },
    ))
    .unwrap_err();
    assert!(matches!(err, NodeError::Rules(_)), "{err:?}");
    assert!(
        err.to_string()
            .starts_with("rule 0: `SrcIPs[0]` `10.0.0.2/8`"),
        "{err}"
    );

    let mut bad_name = opts(&conf, RulesSource::Disabled);
    bad_name.interface = Some("no spaces allowed".to_owned());
    assert!(
        run(&bad_name)
            .unwrap_err()
            .to_string()
            .contains("not a valid interface name")
    );
    std::fs::remove_dir_all(&d).unwrap();
}

/// `TAILPOLICY_NODE_OFFLOAD=off` (and its spellings) turns the TUN offloads off; anything
/// else leaves them on.
#[test]
fn offload_environment_variable() {
    use tailpolicy_node::offload_wanted;
    for off in ["off", "0", "false", "no", " off "] {
        let (on, why) = offload_wanted(Some(off));
        assert!(!on, "{off}");
        assert!(why.contains("TAILPOLICY_NODE_OFFLOAD"));
    }
    for on in [None, Some("on"), Some("1"), Some("")] {
        assert!(offload_wanted(on).0, "{on:?}");
    }
}
