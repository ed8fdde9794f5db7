#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;

#[test]
fn filter_rule_round_trips_with_omitempty() {
    let json = r#"{"SrcIPs":["100.64.0.0-100.115.91.255","fd7a:115c:a1e0::/48"],"DstPorts":[{"IP":"100.84.146.16","Ports":{"First":22,"Last":22}}],"IPProto":[6]}"#;
    let rule: FilterRule = serde_json::from_str(json).unwrap();
    assert_eq!(rule.ip_proto, vec![6]);
    assert_eq!(serde_json::to_string(&rule).unwrap(), json);

    let bare = FilterRule {
        src_ips: vec!["*".into()],
        ..FilterRule::default()
    };
    assert_eq!(serde_json::to_string(&bare).unwrap(), r#"{"SrcIPs":["*"]}"#);
}

#[test]
fn deprecated_bits_is_accepted_and_dropped() {
    let json = r#"{"SrcIPs":["*"],"DstPorts":[{"IP":"10.0.0.0","Bits":8,"Ports":{"First":0,"Last":65535}}]}"#;
    let rule: FilterRule = serde_json::from_str(json).unwrap();
    assert_eq!(
        serde_json::to_string(&rule).unwrap(),
        r#"{"SrcIPs":["*"],"DstPorts":[{"IP":"10.0.0.0","Ports":{"First":0,"Last":65535}}]}"#
    );
}

#[test]
fn cap_grant_keeps_values_and_old_caps() {
    let json = r#"{"SrcIPs":["*"],"CapGrant":[{"Dsts":["100.64.0.2/32"],"CapMap":{"example.com/cap/x":[{"a":1}]}}]}"#;
    let rule: FilterRule = serde_json::from_str(json).unwrap();
    assert_eq!(serde_json::to_string(&rule).unwrap(), json);
    let old = r#"{"SrcIPs":["*"],"CapGrant":[{"Dsts":["0.0.0.0/0"],"Caps":["is_ipv4"]}]}"#;
    let rule: FilterRule = serde_json::from_str(old).unwrap();
    assert_eq!(serde_json::to_string(&rule).unwrap(), old);
}

#[test]
fn ssh_policy_matches_tailcfg_shape_and_keeps_user_order() {
    let json = r#"{"rules":[{"principals":[{"nodeIP":"100.84.146.16"}],"sshUsers":{"root":"","ubuntu":"ubuntu","*":"="},"action":{"accept":true,"allowAgentForwarding":true,"allowLocalPortForwarding":true,"allowRemotePortForwarding":true},"acceptEnv":["GIT_*"]}]}"#;
    let policy: SshPolicy = serde_json::from_str(json).unwrap();
    let rule = policy.rules.first().unwrap();
    assert_eq!(rule.ssh_users.get("root"), Some(""));
    assert_eq!(rule.ssh_users.get("*"), Some("="));
    assert_eq!(serde_json::to_string(&policy).unwrap(), json);
}

#[test]
fn ssh_action_check_mode_and_empty_policy() {
    let mut users = SshUsers::default();
    users.insert("root", "");
    users.insert("alice", "alice");
    users.insert("root", "root");
    let rule = SshRule {
        principals: vec![SshPrincipal {
            any: true,
            ..SshPrincipal::default()
        }],
        ssh_users: users,
        action: SshAction {
            hold_and_delegate: "https://unused/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID"
                .into(),
            ..SshAction::default()
        },
        ..SshRule::default()
    };
    assert_eq!(
        serde_json::to_string(&rule).unwrap(),
        r#"{"principals":[{"any":true}],"sshUsers":{"root":"root","alice":"alice"},"action":{"holdAndDelegate":"https://unused/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID"}}"#
    );
    assert_eq!(
        serde_json::to_string(&SshPolicy::default()).unwrap(),
        r#"{"rules":[]}"#
    );
}
