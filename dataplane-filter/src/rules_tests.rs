#![expect(clippy::unwrap_used, reason = "tests")]

use super::*;

fn rules(json: &str) -> Vec<FilterRule> {
    serde_json::from_str(json).unwrap()
}

#[test]
fn default_and_explicit_protocols() {
    let set = ProtoSet::from_wire(&[]);
    for p in [1, 6, 17, 58] {
        assert!(set.contains(p));
    }
    assert!(!set.contains(132));
    let set = ProtoSet::from_wire(&[132, -1, 256, 255]);
    assert!(set.contains(132) && set.contains(255));
    assert!(!set.contains(6));
    assert!(
        !ProtoSet::from_wire(&[300]).contains(6),
        "all-invalid means no protocol"
    );
}

#[test]
fn malformed_entries_are_skipped_and_reported() {
    let input = rules(
        r#"[{"SrcIPs":["8.8.8.8/24","1.2.3.4","cap:x"],"DstPorts":[{"IP":"bad","Ports":{"First":1,"Last":2}},{"IP":"*","Ports":{"First":3,"Last":4}}]},
            {"SrcIPs":["*"],"CapGrant":[{"Dsts":["nope","10.0.0.0/8"],"CapMap":{"c":[1]}}]}]"#,
    );
    let (parsed, errors) = parse_rules(&input);
    assert_eq!(parsed.len(), 2);
    let first = parsed.first().unwrap();
    assert_eq!(first.srcs.v4.len(), 1);
    assert_eq!(first.src_caps, vec!["x".to_owned()]);
    assert_eq!(first.dsts_v4.len(), 1);
    assert_eq!(first.dsts_v6.len(), 1);
    assert_eq!(errors.len(), 3);
    assert_eq!(
        errors.first().unwrap().to_string(),
        "rule 0: `SrcIPs[0]` `8.8.8.8/24`: prefix has host bits set (not canonical)"
    );
    assert_eq!(errors.get(1).unwrap().field, RuleField::DstPorts(0));
    assert_eq!(errors.get(2).unwrap().field, RuleField::CapGrantDsts(0, 0));
    let grant = parsed.get(1).unwrap().cap_grants.first().unwrap();
    assert_eq!(grant.dsts.v4.len(), 1);
    assert_eq!(grant.caps.len(), 1);
}
