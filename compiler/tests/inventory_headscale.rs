//! headscale's node listings (`testdata/inventory/headscale/`: `nodes list -o json` of
//! 0.23, 0.26 and 0.28, `-o json-line` of 0.29, REST `GET /api/v1/node`, and the
//! camelCase CLI output of 0.30, written from headscale's documented field lists) are
//! detected, read without errors, and compile to exactly the filters of the equivalent
//! tailpolicy inventory once users are matched to the policy's tokens as headscale
//! resolves them.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "tests")]

use std::collections::BTreeMap;
use std::path::PathBuf;
use tailpolicy_compiler::inventory::{self, Inventory};
use tailpolicy_compiler::{CompileOptions, compile};
use tailpolicy_policy::{CheckOptions, Dialect, Policy, analyse};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/inventory/headscale")
}

fn read(name: &str) -> String {
    std::fs::read_to_string(dir().join(name)).unwrap()
}

fn policy() -> Policy {
    let options = CheckOptions {
        dialect: Dialect::Headscale,
        ..CheckOptions::default()
    };
    let analysis = analyse(&read("policy.hujson"), &options);
    assert!(
        !analysis.diagnostics.has_errors(),
        "{:?}",
        analysis.diagnostics
    );
    analysis.policy.unwrap()
}

fn load(name: &str, policy: &Policy) -> Inventory {
    let (inv, diags) = inventory::load(&read(name));
    assert!(!diags.has_errors(), "{name}: {diags:?}");
    let mut inv = inv.expect("parses");
    inv.adopt_policy_users(policy);
    inv
}

/// Per node name: its packet filter as JSON.
fn filters(policy: &Policy, inv: &Inventory) -> BTreeMap<String, String> {
    compile(policy, inv, &CompileOptions::default())
        .into_iter()
        .map(|n| {
            let rules: Vec<_> = n.packet_filter.iter().map(|r| &r.rule).collect();
            (n.name, serde_json::to_string(&rules).unwrap())
        })
        .collect()
}

#[test]
fn every_headscale_shape_compiles_like_the_equivalent_inventory() {
    let policy = policy();
    let with_routes = filters(&policy, &load("equivalent.json", &policy));
    let without_routes = filters(&policy, &load("equivalent-no-routes.json", &policy));
    assert_ne!(with_routes, without_routes, "the router's route matters");
    for (name, want) in [
        ("nodes-0.23.json", &without_routes),
        ("nodes-0.26.json", &with_routes),
        ("nodes-0.28.json", &with_routes),
        ("nodes-0.29.jsonl", &with_routes),
        ("api-v1-node.json", &with_routes),
        ("nodes-0.30.json", &with_routes),
    ] {
        let inv = load(name, &policy);
        assert_eq!(inv.nodes.len(), 5, "{name}");
        assert_eq!(&filters(&policy, &inv), want, "{name}");
    }
}

#[test]
fn identity_is_tags_else_the_user_resolved_as_headscale_does() {
    let policy = policy();
    let inv = load("nodes-0.26.json", &policy);
    let user = |n: &str| inv.node(n).and_then(|n| n.owner().map(str::to_owned));
    // `alice@`: a user with only a name.
    assert_eq!(user("alice-laptop").as_deref(), Some("alice@"));
    // `bob@example.com`: matched by e-mail.
    assert_eq!(user("bob-laptop").as_deref(), Some("bob@example.com"));
    // `carol@`: matched by name although carol has an e-mail.
    assert_eq!(user("carol-phone").as_deref(), Some("carol@"));
    // Tagged nodes have no user; before 0.28 forced and valid tags count, invalid ones not.
    assert_eq!(user("web"), None);
    let router = inv.node("router").unwrap();
    assert_eq!(router.tags, vec!["tag:router".to_owned()]);
    // Served routes: subnet_routes (approved ∩ available), not every available one.
    assert_eq!(router.approved_routes.len(), 1);
}

#[test]
fn approved_and_available_without_subnet_routes_intersect() {
    let text = r#"[{"id": 1, "given_name": "r", "ip_addresses": ["100.64.0.9"],
        "tags": ["tag:router"], "approved_routes": ["10.1.0.0/16", "10.2.0.0/16"],
        "available_routes": ["10.2.0.0/16", "10.3.0.0/16"]}]"#;
    let (inv, diags) = inventory::load(text);
    assert!(!diags.has_errors(), "{diags:?}");
    let inv = inv.unwrap();
    let r = inv.node("r").unwrap();
    assert_eq!(r.approved_routes, vec!["10.2.0.0/16".parse().unwrap()]);
}

#[test]
fn without_acls_or_grants_headscale_allows_the_literal_wildcard() {
    let policy = analyse("{}", &CheckOptions::default()).policy.unwrap();
    let inv = load("equivalent.json", &policy);
    let srcs = |dialect| {
        let options = CompileOptions {
            dialect,
            ..CompileOptions::default()
        };
        let out = compile(&policy, &inv, &options);
        let web = out.iter().find(|n| n.name == "web").unwrap();
        web.packet_filter
            .first()
            .map(|r| r.rule.src_ips.clone())
            .unwrap_or_default()
    };
    assert_eq!(srcs(Dialect::Headscale), vec!["*".to_owned()]);
    let tailscale = srcs(Dialect::Tailscale);
    assert!(
        tailscale.iter().any(|s| s.starts_with("100.64.0.0")),
        "{tailscale:?}"
    );
}
