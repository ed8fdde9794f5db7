//! The `tests`/`sshTests` runner and the reference evaluator on small hand-made
//! tailnets.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

mod common;
use common::node;
use ipnet::IpNet;
use std::net::IpAddr;
use tailpolicy_compiler::eval::{Dst, Evaluator, Src, Tailnet, TestOutcome, run_policy_tests};
use tailpolicy_policy::model::{Policy, Proto, Section};
use tailpolicy_policy::{CheckOptions, analyse};

fn policy(text: &str) -> Policy {
    analyse(text, &CheckOptions::default()).policy.unwrap()
}

fn tailnet() -> Tailnet {
    Tailnet {
        nodes: vec![
            node(
                "alice-laptop",
                Some("alice@example.com"),
                &[],
                "100.64.0.1",
                &[],
            ),
            node(
                "bob-laptop",
                Some("bob@example.com"),
                &[],
                "100.64.0.2",
                &[],
            ),
            node(
                "db",
                Some("alice@example.com"),
                &["tag:db"],
                "100.64.0.3",
                &[],
            ),
            node(
                "router",
                None,
                &["tag:router"],
                "100.64.0.4",
                &["10.1.0.0/16"],
            ),
            node(
                "exit",
                None,
                &["tag:exit"],
                "100.64.0.5",
                &["0.0.0.0/0", "::/0"],
            ),
            node(
                "alice-phone",
                Some("alice@example.com"),
                &[],
                "100.64.0.6",
                &[],
            ),
        ],
        users: vec![
            "alice@example.com".into(),
            "bob@example.com".into(),
            "carol@example.com".into(),
        ],
        ..Tailnet::default()
    }
}

const BASE: &str = r#"
  "groups": {"group:dev": ["alice@example.com", "carol@example.com"]},
  "tagOwners": {"tag:db": [], "tag:router": [], "tag:exit": [], "tag:empty": []},
  "hosts": {"dbhost": "100.64.0.3", "lan": "10.1.0.0/16"},
"#;

fn run(body: &str) -> Vec<TestOutcome> {
    let p = policy(&format!("{{{BASE}{body}}}"));
    run_policy_tests(&p, &tailnet())
}

#[test]
fn accept_passes_with_the_deciding_rule() {
    let out = run(r#""acls": [
        {"action": "accept", "src": ["bob@example.com"], "dst": ["tag:router:80"]},
        {"action": "accept", "src": ["group:dev"], "dst": ["tag:db:5432"]}],
      "tests": [{"src": "alice@example.com", "accept": ["tag:db:5432", "dbhost:5432"], "deny": ["tag:db:22"]}]"#);
    assert_eq!(out.len(), 1);
    assert!(out[0].passed, "{:?}", out[0]);
    let a = &out[0].assertions[0];
    assert_eq!(a.rules.len(), 1);
    assert_eq!((a.rules[0].section, a.rules[0].index), (Section::Acls, 1));
    assert!(out[0].diagnostic.is_none());
}

#[test]
fn deny_fails_and_names_the_rule() {
    let out = run(
        r#""acls": [{"action": "accept", "src": ["*"], "dst": ["tag:db:*"]}],
      "tests": [{"src": "bob@example.com", "deny": ["tag:db:5432"]}]"#,
    );
    assert!(!out[0].passed);
    let d = out[0].diagnostic.as_ref().unwrap();
    assert_eq!(d.code.to_string(), "TP0401");
    assert!(d.message.starts_with("test(s) failed: "), "{}", d.message);
    assert!(d.message.contains("acls[0]"), "{}", d.message);
    assert_eq!(out[0].assertions[0].rules[0].index, 0);
}

#[test]
fn every_source_device_must_be_allowed() {
    // Only alice's laptop (by address) may reach the db: alice's phone may not.
    let out = run(
        r#""acls": [{"action": "accept", "src": ["100.64.0.1"], "dst": ["tag:db:22"]}],
      "tests": [{"src": "alice@example.com", "accept": ["tag:db:22"]},
                {"src": "100.64.0.1", "accept": ["tag:db:22"]}]"#,
    );
    assert!(!out[0].passed);
    assert!(
        out[0].assertions[0]
            .failure
            .as_ref()
            .unwrap()
            .contains("alice-phone"),
        "{:?}",
        out[0].assertions[0].failure
    );
    assert!(out[1].passed, "{:?}", out[1]);
}

#[test]
fn users_without_devices_are_judged_by_identity() {
    let out = run(
        r#""acls": [{"action": "accept", "src": ["group:dev"], "dst": ["tag:db:22"]}],
      "tests": [{"src": "carol@example.com", "accept": ["tag:db:22"]},
                {"src": "ghost@example.com", "accept": ["tag:db:22"]}]"#,
    );
    assert!(out[0].passed, "{:?}", out[0]);
    assert!(!out[1].passed);
    let msg = &out[1].diagnostic.as_ref().unwrap().message;
    assert!(msg.contains("ghost@example.com"), "{msg}");
}

#[test]
fn malformed_entries_fail_without_a_second_diagnostic() {
    let out = run(
        r#""acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
      "tests": [{"src": "alice@example.com", "accept": ["tag:db:22-23"]},
                {"src": "alice@example.com", "accept": ["lan:22"]}]"#,
    );
    assert!(
        out.iter()
            .all(|o| !o.passed && o.malformed && o.diagnostic.is_none())
    );
}

#[test]
fn protocols_are_respected() {
    let out = run(
        r#""acls": [{"action": "accept", "src": ["*"], "dst": ["tag:db:53"], "proto": "udp"}],
      "tests": [{"src": "bob@example.com", "proto": "udp", "accept": ["tag:db:53"]},
                {"src": "bob@example.com", "accept": ["tag:db:53"]},
                {"src": "bob@example.com", "proto": "17", "deny": ["tag:db:54"]}]"#,
    );
    assert!(out[0].passed);
    assert!(!out[1].passed, "no proto means tcp");
    assert!(out[2].passed);
}

#[test]
fn ssh_tests_follow_check_accept_and_login_mapping() {
    let out = run(r#""ssh": [
        {"action": "accept", "src": ["group:dev"], "dst": ["tag:db"], "users": ["autogroup:nonroot"]},
        {"action": "check", "src": ["alice@example.com"], "dst": ["tag:db"], "users": ["root"]},
        {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["localpart:*@example.com"]}],
      "sshTests": [
        {"src": "alice@example.com", "dst": ["tag:db"], "accept": ["ubuntu", "root"], "check": ["root"], "deny": []},
        {"src": "alice@example.com", "dst": ["tag:db"], "check": ["ubuntu"]},
        {"src": "bob@example.com", "dst": ["tag:db"], "deny": ["ubuntu", "root"]},
        {"src": "alice@example.com", "dst": ["autogroup:self"], "accept": ["alice"], "deny": ["bob", "root"]},
        {"src": "bob@example.com", "dst": ["alice@example.com"], "deny": ["bob"]},
        {"src": "alice@example.com", "dst": ["tag:empty"], "accept": ["root"]}]"#);
    let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, false, true, true, true, false], "{out:#?}");
    assert_eq!(
        out[1].diagnostic.as_ref().unwrap().code.to_string(),
        "TP0403"
    );
}

fn v4(s: &str) -> IpNet {
    IpNet::from(s.parse::<IpAddr>().unwrap())
}

#[test]
fn evaluator_routes_self_and_internet() {
    let p = policy(&format!(
        r#"{{{BASE} "acls": [
        {{"action": "accept", "src": ["*"], "dst": ["lan:443"]}},
        {{"action": "accept", "src": ["group:dev"], "dst": ["autogroup:internet:*"]}},
        {{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]}},
        {{"action": "accept", "src": ["10.1.2.3"], "dst": ["tag:db:5432"]}}]}}"#
    ));
    let t = tailnet();
    let ev = Evaluator::new(&p, &t);
    let alice = Src::node(&t, 0).unwrap();
    let bob = Src::node(&t, 1).unwrap();
    let tcp = Proto::TCP;
    // Subnet: reached through the router, by anyone in the tailnet.
    let lan = Dst::addr(&t, v4("10.1.9.9"));
    assert_eq!(lan.node, Some(3));
    assert!(ev.allowed(&bob, &lan, tcp, 443));
    assert!(!ev.allowed(&bob, &lan, tcp, 80));
    // Internet through the exit node, for group:dev only.
    let web = Dst::addr(&t, v4("8.8.8.8"));
    assert_eq!(web.node, Some(4));
    assert!(ev.allowed(&alice, &web, tcp, 443));
    assert!(!ev.allowed(&bob, &web, tcp, 443));
    // autogroup:self: alice's own devices only, never a tagged one she created.
    let phone = Dst::node(&t, 5).unwrap();
    assert!(ev.allowed(&alice, &phone, tcp, 22));
    assert!(!ev.allowed(&bob, &phone, tcp, 22));
    let db = Dst::node(&t, 2).unwrap();
    assert!(!ev.allowed(&alice, &db, tcp, 22));
    // A subnet source: by address, and `*` covers approved routes.
    let from_lan = Src::addr(&t, v4("10.1.2.3"));
    assert_eq!(ev.allowing(&from_lan, &db, tcp, 5432).len(), 1);
    assert!(ev.allowed(&from_lan, &lan, tcp, 443));
    let outside = Src::addr(&t, v4("192.0.2.1"));
    assert!(!ev.allowed(&outside, &lan, tcp, 443));
}

#[test]
fn without_an_inventory_names_are_judged_by_identity() {
    let p = policy(&format!(
        r#"{{{BASE} "acls": [{{"action": "accept", "src": ["group:dev"], "dst": ["tag:db:22"]}}],
        "ssh": [{{"action": "accept", "src": ["group:dev"], "dst": ["tag:db"], "users": ["root"]}}],
        "tests": [{{"src": "carol@example.com", "accept": ["tag:db:22"]}},
                  {{"src": "dave@example.com", "deny": ["tag:db:22"]}}],
        "sshTests": [{{"src": "carol@example.com", "dst": ["tag:db"], "accept": ["root"]}},
                     {{"src": "dave@example.com", "dst": ["tag:db"], "deny": ["root"]}}]}}"#
    ));
    let open = Tailnet {
        open_users: true,
        ..Tailnet::default()
    };
    let out = run_policy_tests(&p, &open);
    assert!(out.iter().all(|o| o.passed), "{out:#?}");
    assert!(tailpolicy_compiler::eval::test_diagnostics(&p, &open).is_empty());
    // With an inventory, a tag without devices cannot be reached over SSH.
    let none = Tailnet {
        users: vec!["carol@example.com".into(), "dave@example.com".into()],
        ..Tailnet::default()
    };
    let out = run_policy_tests(&p, &none);
    assert!(!out[2].passed);
    assert_eq!(
        tailpolicy_compiler::eval::test_diagnostics(&p, &none).len(),
        1
    );
}

const POSTURES: &str = r#""postures": {
    "posture:mac": ["node:os == 'macos'", "node:tsVersion >= '1.60'"],
    "posture:tier": ["custom:tier IN ['prod']"]
  },"#;

#[test]
fn tests_evaluate_the_source_with_src_posture_attrs() {
    let out = run(&format!(
        r#"{POSTURES}
      "acls": [{{"action": "accept", "src": ["group:dev"], "dst": ["tag:db:5432"],
                 "srcPosture": ["posture:mac", "posture:tier"]}}],
      "tests": [
        {{"src": "alice@example.com", "srcPostureAttrs": {{"node:os": "macos", "node:tsVersion": "1.62.0"}},
          "accept": ["tag:db:5432"]}},
        {{"src": "alice@example.com", "srcPostureAttrs": {{"custom:tier": "prod"}}, "accept": ["tag:db:5432"]}},
        {{"src": "alice@example.com", "srcPostureAttrs": {{"node:os": "macos", "node:tsVersion": "1.58.2"}},
          "deny": ["tag:db:5432"]}},
        {{"src": "alice@example.com", "deny": ["tag:db:5432"]}},
        {{"src": "alice@example.com", "accept": ["tag:db:5432"]}}
      ]"#
    ));
    let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, true, true, true, false], "{out:?}");
}

#[test]
fn default_src_posture_gates_rules_without_their_own() {
    let out = run(&format!(
        r#"{POSTURES}
      "defaultSrcPosture": ["posture:tier"],
      "acls": [
        {{"action": "accept", "src": ["bob@example.com"], "dst": ["tag:db:22"]}},
        {{"action": "accept", "src": ["bob@example.com"], "dst": ["tag:db:80"], "srcPosture": ["posture:mac"]}},
        {{"action": "accept", "src": ["10.1.0.0/16"], "dst": ["tag:db:443"]}}],
      "tests": [
        {{"src": "bob@example.com", "srcPostureAttrs": {{"custom:tier": "prod"}},
          "accept": ["tag:db:22"], "deny": ["tag:db:80"]}},
        {{"src": "bob@example.com", "srcPostureAttrs": {{"node:os": "macos", "node:tsVersion": "1.60"}},
          "accept": ["tag:db:80"], "deny": ["tag:db:22"]}},
        {{"src": "10.1.2.3", "accept": ["tag:db:443"]}}
      ]"#
    ));
    let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, true, true], "{out:?}");
}

#[test]
fn ssh_rules_are_gated_by_posture() {
    let out = run(&format!(
        r#"{POSTURES}
      "ssh": [{{"action": "accept", "src": ["alice@example.com"], "dst": ["tag:db"], "users": ["root"],
                "srcPosture": ["posture:tier"]}}],
      "sshTests": [
        {{"src": "alice@example.com", "srcPostureAttrs": {{"custom:tier": "prod"}}, "dst": ["tag:db"], "accept": ["root"]}},
        {{"src": "alice@example.com", "srcPostureAttrs": {{"custom:tier": "dev"}}, "dst": ["tag:db"], "deny": ["root"]}}
      ]"#
    ));
    let passed: Vec<bool> = out.iter().map(|o| o.passed).collect();
    assert_eq!(passed, [true, true], "{out:?}");
}

/// `*` may reach the database on port 22 with the `prod` tier; only bob's laptop has it.
fn tier_gated() -> (Policy, Tailnet) {
    let p = policy(&format!(
        r#"{{{BASE}{POSTURES}
      "acls": [{{"action": "accept", "src": ["*"], "dst": ["tag:db:22"], "srcPosture": ["posture:tier"]}}]}}"#
    ));
    let mut t = tailnet();
    t.nodes[1].posture.insert(
        "custom:tier",
        tailpolicy_policy::model::AttrValue::String("prod".into()),
    );
    (p, t)
}

#[test]
fn devices_are_judged_by_their_own_attributes() {
    let (p, t) = tier_gated();
    let ev = Evaluator::new(&p, &t);
    let db = Dst::node(&t, 2).unwrap();
    let from = |ip: &str| Src::addr(&t, IpNet::from(ip.parse::<IpAddr>().unwrap()));
    assert!(
        ev.allowed(&from("100.64.0.2"), &db, Proto::TCP, 22),
        "bob passes"
    );
    assert!(
        !ev.allowed(&from("100.64.0.1"), &db, Proto::TCP, 22),
        "alice has no tier"
    );
    // Traffic from behind a subnet router is not gated.
    assert!(ev.allowed(&from("10.1.2.3"), &db, Proto::TCP, 22));
}

#[test]
fn reach_answers_respect_posture() {
    use tailpolicy_compiler::eval::reach::{pair_access, reachable_from};
    let (p, t) = tier_gated();
    let ev = Evaluator::new(&p, &t);
    let db = Dst::node(&t, 2).unwrap();
    let (alice, bob) = (Src::node(&t, 0).unwrap(), Src::node(&t, 1).unwrap());
    assert!(!pair_access(&ev, &bob, &db).is_empty(), "bob passes");
    assert!(
        pair_access(&ev, &alice, &db).is_empty(),
        "alice has no tier"
    );
    assert!(!reachable_from(&ev, &bob).is_empty());
    assert!(
        reachable_from(&ev, &alice).is_empty(),
        "alice reaches nothing"
    );
}

#[test]
fn an_address_goes_to_the_router_with_the_most_specific_route() {
    let mut t = tailnet();
    t.nodes.push(node(
        "wide",
        None,
        &["tag:router"],
        "100.64.0.9",
        &["10.0.0.0/8"],
    ));
    let wide = t.nodes.len() - 1;
    let routers = |ip: &str| -> Vec<usize> {
        Dst::routes(&t, IpNet::from(ip.parse::<IpAddr>().unwrap()))
            .iter()
            .filter_map(|d| d.node)
            .collect()
    };
    assert_eq!(routers("10.1.2.3"), [3], "the /16 router, not the /8 one");
    assert_eq!(routers("10.2.0.1"), [wide]);
    let addr = Dst::addr(&t, IpNet::from("10.1.2.3".parse::<IpAddr>().unwrap()));
    assert_eq!(addr.node, Some(3));
}
