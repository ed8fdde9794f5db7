//! One `fail` and one `pass` example per checker rule and lint: the code must be
//! reported for the first and not for the second.
#![expect(clippy::unwrap_used, reason = "tests")]

use tailpolicy_policy::{CheckOptions, Dialect, analyse};

fn codes(src: &str) -> Vec<&'static str> {
    analyse(src, &CheckOptions::default())
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

#[track_caller]
fn case(code: &str, fail: &str, pass: &str) {
    let f = codes(fail);
    assert!(f.contains(&code), "{code} not reported for {fail}: {f:?}");
    let p = codes(pass);
    assert!(!p.contains(&code), "{code} reported for {pass}: {p:?}");
}

#[test]
fn structure_rules() {
    case(
        "TP0101",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dts": ["*:*"]}]}"#,
        r##"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "#note": "x"}]}"##,
    );
    case("TP0102", r#"{"acls": {"x": 1}}"#, r#"{"acls": []}"#);
    case("TP0104", r#"{"acls": [], "ACLs": []}"#, r#"{"acls": []}"#);
    case("TP0105", r#"{"Groups": {}}"#, r#"{"groups": {}}"#);
    case("TP0106", r#"[1]"#, r#"{}"#);
}

#[test]
fn reference_rules() {
    case(
        "TP0201",
        r#"{"acls": [{"action": "accept", "src": ["tag:x"], "dst": ["*:*"]}]}"#,
        r#"{"tagOwners": {"tag:x": []}, "acls": [{"action": "accept", "src": ["tag:x"], "dst": ["*:*"]}]}"#,
    );
    case(
        "TP0202",
        r#"{"acls": [{"action": "accept", "src": ["group:x"], "dst": ["*:*"]}]}"#,
        r#"{"groups": {"group:x": []}, "acls": [{"action": "accept", "src": ["group:x"], "dst": ["*:*"]}]}"#,
    );
    case(
        "TP0203",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["db:22"]}]}"#,
        r#"{"hosts": {"db": "10.0.0.1"}, "acls": [{"action": "accept", "src": ["*"], "dst": ["db:22"]}]}"#,
    );
    case(
        "TP0207",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:x:ssh"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}]}"#,
    );
    case(
        "TP0208",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "*"}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "TCP"}]}"#,
    );
    case(
        "TP0209",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"], "proto": "icmp"}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "icmp"}]}"#,
    );
    case(
        "TP0213",
        r#"{"groups": {"group:a": ["group:b"], "group:b": []}}"#,
        r#"{"groups": {"group:a": ["a@b.c"]}}"#,
    );
}

#[test]
fn semantic_rules() {
    case(
        "TP0301",
        r#"{"acls": [{"action": "deny", "src": ["*"], "dst": ["*:*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#,
    );
    case(
        "TP0302",
        r#"{"acls": [{"action": "accept", "src": ["autogroup:self"], "dst": ["*:*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}]}"#,
    );
    case(
        "TP0303",
        r#"{"grants": [{"src": ["*"], "dst": ["autogroup:self"], "ip": ["*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]}]}"#,
    );
    case(
        "TP0306",
        r#"{"grants": [{"src": ["*"], "dst": ["0.0.0.0/0"], "ip": ["*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["0.0.0.0/0:*"]}]}"#,
    );
    case(
        "TP0307",
        r#"{"grants": [{"src": ["*"], "dst": ["*"]}]}"#,
        r#"{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"]}]}"#,
    );
    case(
        "TP0310",
        r#"{"ssh": [{"action": "Accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]}]}"#,
        r#"{"ssh": [{"action": " accept ", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]}]}"#,
    );
    case(
        "TP0311",
        r#"{"ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"]}]}"#,
        r#"{"ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["x"]}]}"#,
    );
    case(
        "TP0315",
        r#"{"tagOwners": {"tag:a": []}, "ssh": [{"action": "accept", "src": ["tag:a"], "dst": ["a@b.c"], "users": ["x"]}]}"#,
        r#"{"tagOwners": {"tag:a": []}, "ssh": [{"action": "accept", "src": ["tag:a"], "dst": ["tag:a"], "users": ["x"]}]}"#,
    );
    case(
        "TP0221",
        r#"{"ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["x"], "checkPeriod": "169h"}]}"#,
        r#"{"ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["x"], "checkPeriod": "1h30m"}]}"#,
    );
    case(
        "TP0402",
        r#"{"tests": [{"src": "a@b.c", "accept": ["tag:x"]}]}"#,
        r#"{"tests": [{"src": "a@b.c", "accept": ["100.64.0.1:22"]}]}"#,
    );
}

#[test]
fn lints() {
    case(
        "TP1001",
        r#"{"groups": {"group:a": []}, "acls": []}"#,
        r#"{"groups": {"group:a": []}, "acls": [{"action": "accept", "src": ["group:a"], "dst": ["*:22"]}]}"#,
    );
    case(
        "TP1002",
        r#"{"hosts": {"h": "10.0.0.1"}}"#,
        r#"{"hosts": {"h": "10.0.0.1"}, "acls": [{"action": "accept", "src": ["*"], "dst": ["h:22"]}]}"#,
    );
    case(
        "TP1005",
        r#"{"groups": {"group:a": []}, "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}, {"action": "accept", "src": ["group:a"], "dst": ["*:22"]}]}"#,
        r#"{"groups": {"group:a": []}, "acls": [{"action": "accept", "src": ["group:a"], "dst": ["*:22"]}, {"action": "accept", "src": ["*"], "dst": ["*:80"]}]}"#,
    );
    case(
        "TP1006",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}, {"action": "accept", "src": ["*"], "dst": ["*:22"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}, {"action": "accept", "src": ["*"], "dst": ["*:22"], "proto": "udp"}]}"#,
    );
    case(
        "TP1007",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}]}"#,
    );
    case("TP1008", r#"{"acls": []}"#, r#"{}"#);
    case(
        "TP1009",
        r#"{"tests": [{"src": "a@b.c", "accept": []}]}"#,
        r#"{"tests": [{"src": "a@b.c", "accept": ["100.64.0.1:22"]}]}"#,
    );
    case(
        "TP1010",
        r#"{"acls": [{"action": "accept", "users": ["*"], "ports": ["*:22"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}]}"#,
    );
    case(
        "TP1011",
        r#"{"acls": [{"action": "accept", "src": ["autogroup:members"], "dst": ["*:22"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["*:22"]}]}"#,
    );
    case(
        "TP1012",
        r#"{"ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["x"], "checkPeriod": "1h"}]}"#,
        r#"{"ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["x"], "checkPeriod": "1h"}]}"#,
    );
    case(
        "TP1013",
        r#"{"hosts": {"h": "10.0.0.1/24"}}"#,
        r#"{"hosts": {"h": "10.0.0.0/24"}}"#,
    );
}

#[test]
fn example_policy_has_no_errors() {
    let src = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../testdata/example/policy.hujson"
    ))
    .unwrap();
    let a = analyse(&src, &CheckOptions::default());
    let msgs: Vec<String> = a
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d.message))
        .collect();
    assert!(msgs.is_empty(), "{msgs:?}");
}

/// Codes and severities reported for `src` in `dialect`.
fn dialect_codes(src: &str, dialect: Dialect) -> Vec<(&'static str, bool)> {
    let options = CheckOptions {
        dialect,
        ..CheckOptions::default()
    };
    analyse(src, &options)
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.is_error()))
        .collect()
}

/// `code` is an error for `src` in `errs_in` and not reported as an error in the other
/// dialect.
#[track_caller]
fn dialect_case(code: &str, errs_in: Dialect, src: &str) {
    let here = dialect_codes(src, errs_in);
    assert!(
        here.contains(&(code, true)),
        "{code} not an error in {errs_in} for {src}: {here:?}"
    );
    let there = dialect_codes(src, errs_in.other());
    assert!(
        !there.contains(&(code, true)),
        "{code} an error in {} for {src}: {there:?}",
        errs_in.other()
    );
}

#[test]
fn dialect_rules() {
    use Dialect::{Headscale, Tailscale};
    // Unknown fields: an error for headscale, a warning for Tailscale.
    dialect_case(
        "TP0101",
        Headscale,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "proto": "tcp", "x": 1}]}"#,
    );
    dialect_case(
        "TP0101",
        Headscale,
        r#"{"ipsets": {"ipset:a": ["10.0.0.0/8"]}}"#,
    );
    dialect_case(
        "TP0101",
        Headscale,
        r#"{"postures": {"posture:a": ["node:os == 'linux'"]}, "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "srcPosture": ["posture:a"]}]}"#,
    );
    // `#` keys inside ACL entries are metadata for both.
    assert!(
        !dialect_codes(
            r##"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"], "#ticket": "X-1"}]}"##,
            Headscale
        )
        .iter()
        .any(|(_, e)| *e)
    );
    // Role autogroups and autogroup:shared: headscale's own unknown-autogroup message.
    dialect_case(
        "TP0210",
        Headscale,
        r#"{"tagOwners": {"tag:a": ["autogroup:admin"]}}"#,
    );
    dialect_case(
        "TP0320",
        Headscale,
        r#"{"acls": [{"action": "accept", "src": ["user:*@example.com"], "dst": ["*:*"]}]}"#,
    );
    dialect_case(
        "TP0320",
        Headscale,
        r#"{"nodeAttrs": [{"target": ["*"], "attr": ["funnel"]}]}"#,
    );
    dialect_case(
        "TP0320",
        Headscale,
        r#"{"grants": [{"src": ["*"], "dst": ["svc:web"], "ip": ["443"]}]}"#,
    );
    // Tailscale: autogroup:member as an SSH destination, and as a test source.
    dialect_case(
        "TP0313",
        Tailscale,
        r#"{"ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:member"], "users": ["root"]}]}"#,
    );
    dialect_case(
        "TP0402",
        Tailscale,
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}], "tests": [{"src": "autogroup:member", "accept": ["100.64.0.1:22"]}]}"#,
    );
    dialect_case(
        "TP0404",
        Tailscale,
        r#"{"tagOwners": {"tag:s": []}, "sshTests": [{"src": "autogroup:member", "dst": ["tag:s"], "accept": ["root"]}]}"#,
    );
    // headscale does not evaluate ICMP tests.
    dialect_case(
        "TP0402",
        Headscale,
        r#"{"acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["*:*"]}], "tests": [{"src": "alice@example.com", "proto": "icmp", "accept": ["100.64.0.1:0"]}]}"#,
    );
}

/// Codes reported for `src` with the security audit on.
fn audit_codes(src: &str) -> Vec<&'static str> {
    let options = CheckOptions {
        audit: true,
        ..CheckOptions::default()
    };
    analyse(src, &options)
        .diagnostics
        .iter()
        .map(|d| d.code.as_str())
        .collect()
}

#[track_caller]
fn audit_case(code: &str, fail: &str, pass: &str) {
    let f = audit_codes(fail);
    assert!(f.contains(&code), "{code} not reported for {fail}: {f:?}");
    let p = audit_codes(pass);
    assert!(!p.contains(&code), "{code} reported for {pass}: {p:?}");
    assert!(
        !codes(fail).contains(&code),
        "{code} reported without the audit"
    );
}

#[test]
fn audit_rules() {
    audit_case(
        "TP1101",
        r#"{"groups": {"group:dev": ["alice@example.com"]}}"#,
        r#"{"acls": []}"#,
    );
    audit_case(
        "TP1102",
        r#"{"ssh": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["autogroup:nonroot"]}]}"#,
        r#"{"ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["autogroup:nonroot"]}]}"#,
    );
    audit_case(
        "TP1103",
        r#"{"tagOwners": {"tag:prod": []}, "ssh": [{"action": "check", "src": ["autogroup:member"], "dst": ["tag:prod"], "users": ["root"]}]}"#,
        r#"{"tagOwners": {"tag:prod": []}, "groups": {"group:sre": ["alice@example.com"]}, "ssh": [{"action": "check", "src": ["group:sre"], "dst": ["tag:prod"], "users": ["root"]}]}"#,
    );
    audit_case(
        "TP1104",
        r#"{"acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["*:22"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["alice@example.com"], "dst": ["*:22"]}], "tests": [{"src": "alice@example.com", "accept": ["100.64.0.1:22"]}]}"#,
    );
    audit_case(
        "TP1105",
        r#"{"tagOwners": {"tag:db": []}, "acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["tag:db:5432"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}]}"#,
    );
    audit_case(
        "TP1106",
        r#"{"autoApprovers": {"routes": {"10.0.0.0/8": ["autogroup:member"]}}}"#,
        r#"{"tagOwners": {"tag:router": []}, "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"]}}}"#,
    );
    audit_case(
        "TP1106",
        r#"{"tagOwners": {"tag:router": []}, "autoApprovers": {"routes": {"0.0.0.0/0": ["tag:router"]}}}"#,
        r#"{"tagOwners": {"tag:router": []}, "autoApprovers": {"exitNode": ["tag:router"]}}"#,
    );
    audit_case(
        "TP1107",
        r#"{"tagOwners": {"tag:ci": ["autogroup:member"], "tag:prod": []}, "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:prod:22"]}]}"#,
        r#"{"groups": {"group:p": ["alice@example.com"]}, "tagOwners": {"tag:ci": ["group:p"], "tag:prod": []}, "acls": [{"action": "accept", "src": ["tag:ci"], "dst": ["tag:prod:22"]}]}"#,
    );
    audit_case(
        "TP1108",
        r#"{"tagOwners": {"tag:web": []}, "grants": [{"src": ["autogroup:danger-all"], "dst": ["tag:web"], "ip": ["443"]}]}"#,
        r#"{"tagOwners": {"tag:web": []}, "grants": [{"src": ["*"], "dst": ["tag:web"], "ip": ["443"]}]}"#,
    );
    audit_case(
        "TP1109",
        r#"{"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:internet:*"]}]}"#,
        r#"{"groups": {"group:t": ["alice@example.com"]}, "acls": [{"action": "accept", "src": ["group:t"], "dst": ["autogroup:internet:*"]}]}"#,
    );
}

#[test]
fn template_placeholder_rule() {
    case(
        "TP1014",
        r#"{"acls": [{"action": "accept", "src": ["${ADMIN_EMAIL}"], "dst": ["*:*"]}]}"#,
        r#"{"acls": [{"action": "accept", "src": ["admin@example.com"], "dst": ["*:*"]}]}"#,
    );
    case(
        "TP1014",
        r#"{"groups": {"group:{{ team }}": ["alice@example.com"]}}"#,
        r#"{"groups": {"group:team": ["alice@example.com"]}}"#,
    );
    case(
        "TP1014",
        r#"{"hosts": {"db": "%DB_ADDR%"}}"#,
        r#"{"hosts": {"db": "10.0.0.5"}}"#,
    );
}

#[test]
fn unknown_node_attribute_rule() {
    case(
        "TP1015",
        r#"{"nodeAttrs": [{"target": ["*"], "attr": ["funel"]}]}"#,
        r#"{"nodeAttrs": [{"target": ["*"], "attr": ["funnel", "nextdns:abc123", "example.com/cap/x"]}]}"#,
    );
    let help = analyse(
        r#"{"nodeAttrs": [{"target": ["*"], "attr": ["funel"]}]}"#,
        &CheckOptions::default(),
    )
    .diagnostics
    .iter()
    .find(|d| d.code.as_str() == "TP1015")
    .and_then(|d| d.help.clone());
    assert_eq!(help.as_deref(), Some("did you mean `funnel`?"));
}

#[test]
fn headscale_metadata_keys_only_in_acl_entries() {
    let errors = |src: &str| {
        dialect_codes(src, Dialect::Headscale)
            .into_iter()
            .filter(|(_, e)| *e)
            .count()
    };
    assert_eq!(
        errors(r##"{"acls": [{"#note": "x", "action": "accept", "src": ["*"], "dst": ["*:*"]}]}"##),
        0
    );
    assert_eq!(errors(r##"{"#note": "x", "acls": []}"##), 1);
    assert_eq!(
        dialect_codes(r##"{"#note": "x", "acls": []}"##, Dialect::Tailscale)
            .iter()
            .filter(|(_, e)| *e)
            .count(),
        0
    );
}
