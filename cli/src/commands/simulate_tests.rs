#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::*;

fn run_lines(
    rules: &str,
    local: Option<&[&str]>,
    lines: &str,
    format: SimulateFormat,
) -> (Exit, String, String) {
    let rules: Vec<FilterRule> = serde_json::from_str(rules).unwrap();
    let config = FilterConfig {
        local_nets: local.map(|l| parse_addr_list(l).unwrap()),
        node_caps: Vec::new(),
        merge_budget: None,
    };
    let mut out = Vec::new();
    let mut err = Vec::new();
    let exit = simulate_rules(
        &rules,
        config,
        format,
        &mut lines.as_bytes(),
        &mut out,
        &mut err,
    );
    (
        exit,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

const RULES: &str = r#"[{"SrcIPs":["5.6.7.8"],"DstPorts":[{"IP":"1.2.3.4","Ports":{"First":89,"Last":90}}],"IPProto":[6,17]},
                        {"SrcIPs":["8.8.8.8/24"],"DstPorts":[{"IP":"1.2.3.4","Ports":{"First":1,"Last":1}}]}]"#;

#[test]
fn outbound_creates_flow_state_for_later_replies() {
    let input = r#"{"dir":"in","proto":"udp","src":"5.6.7.8","dst":"1.2.3.4","sport":53,"dport":33333}
{"dir":"out","proto":17,"src":"1.2.3.4","dst":"5.6.7.8","sport":33333,"dport":53}

{"dir":"in","proto":"udp","src":"5.6.7.8","dst":"1.2.3.4","sport":53,"dport":33333}
{"dir":"in","proto":"tcp","src":"5.6.7.8","dst":"1.2.3.4","sport":1000,"dport":89,"tcp_flags":["SYN"]}
{"dir":"in","proto":"tcp","src":"5.6.7.8","dst":"9.9.9.9","sport":1000,"dport":89,"tcp_flags":["SYN"]}
{"dir":"in","raw_hex":"4578"}
"#;
    let (exit, out, err) = run_lines(RULES, Some(&["1.2.0.0/16"]), input, SimulateFormat::Json);
    assert_eq!(exit, Exit::Clean);
    assert_eq!(
        out,
        r#"{"verdict":"drop","reason":"no-rule","rule":null}
{"verdict":"accept","reason":"outbound","rule":null}
{"verdict":"accept","reason":"flow","rule":null}
{"verdict":"accept","reason":"rule","rule":0}
{"verdict":"drop","reason":"not-local","rule":null}
{"verdict":"drop","reason":"short-packet","rule":null}
"#
    );
    assert_eq!(
        err,
        "warning: rule 1: `SrcIPs[0]` `8.8.8.8/24`: prefix has host bits set (not canonical); entry skipped\n"
    );
}

#[test]
fn full_format_shows_the_packet_and_the_rule() {
    let input = r#"{"proto":"tcp","src":"5.6.7.8","dst":"1.2.3.4","sport":1000,"dport":90,"tcp_flags":["SYN"]}"#;
    let (_, out, _) = run_lines(RULES, None, input, SimulateFormat::Full);
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["rule"], 0);
    assert_eq!(v["packet"]["dport"], 90);
    assert_eq!(v["packet"]["decoded"], "ip");
    assert_eq!(v["matched_rule"]["SrcIPs"][0], "5.6.7.8");
}

#[test]
fn bad_lines_are_reported_and_fail_the_run() {
    let input = "{\"proto\":\"tcp\",\"src\":\"5.6.7.8\"}\nnot json\n";
    let (exit, out, _) = run_lines(RULES, None, input, SimulateFormat::Json);
    assert_eq!(exit, Exit::Failure);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2);
    assert!(lines[0].contains("line 1: missing `dst`"));
    assert!(lines[1].contains("line 2: not a packet step"));
}

#[test]
fn policy_mode_compiles_the_node_filter() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/example");
    let args = SimulateArgs {
        policy: Some(format!("{root}/policy.hujson")),
        rules: None,
        local: None,
        nodes: Some(format!("{root}/nodes.json").into()),
        config: None,
        node: Some("vpc-router".into()),
        format: SimulateFormat::Json,
        dialect: crate::dialect_arg::DialectArgs::default(),
    };
    let input = load_input(&args).unwrap();
    // carol (100.64.0.3) may reach postgres through the router, not the Kubernetes API.
    let mut out = Vec::new();
    let mut err = Vec::new();
    let lines = concat!(
        r#"{"dir":"in","proto":"tcp","src":"100.64.0.3","dst":"10.0.2.20","sport":4000,"dport":5432,"tcp_flags":["SYN"]}"#,
        "\n",
        r#"{"dir":"in","proto":"tcp","src":"100.64.0.3","dst":"10.0.1.10","sport":4000,"dport":443,"tcp_flags":["SYN"]}"#,
        "\n",
        r#"{"dir":"in","proto":"tcp","src":"100.64.0.3","dst":"100.64.0.21","sport":4000,"dport":22,"tcp_flags":["SYN"]}"#,
    );
    let exit = simulate_rules(
        &input.rules,
        input.config,
        SimulateFormat::Json,
        &mut lines.as_bytes(),
        &mut out,
        &mut err,
    );
    assert_eq!(exit, Exit::Clean);
    let out = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains(r#""verdict":"accept""#), "{out}");
    assert!(lines[1].contains(r#""reason":"no-rule""#), "{out}");
    assert!(lines[2].contains(r#""reason":"not-local""#), "{out}");
}

#[test]
fn policy_mode_refuses_an_unreadable_policy() {
    let args = SimulateArgs {
        policy: Some("does-not-exist.hujson".into()),
        rules: None,
        local: None,
        nodes: Some("n.json".into()),
        config: None,
        node: Some("a".into()),
        format: SimulateFormat::Json,
        dialect: crate::dialect_arg::DialectArgs::default(),
    };
    assert_eq!(load_input(&args).err(), Some(Exit::Failure));
}
