#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use super::*;

fn codes(d: &policy::Diagnostics) -> Vec<&'static str> {
    d.iter().map(|x| x.code.as_str()).collect()
}

#[test]
fn example_inventory_loads_cleanly() {
    let (inv, diags) = load(include_str!("../../../testdata/example/nodes.json"));
    assert!(diags.is_empty(), "{diags:?}");
    let inv = inv.unwrap();
    assert_eq!(inv.tailnet_domain(), Some("example.com"));
    assert_eq!(inv.nodes.len(), 7);
    let exit = inv.node("exit-1").unwrap();
    assert!(exit.user.is_none());
    assert_eq!(exit.advertised_routes.len(), 2);
    let alice = inv.node("alice-laptop").unwrap();
    assert_eq!(alice.owner(), Some("alice@example.com"));
    assert_eq!(alice.addresses().count(), 2);
    assert_eq!(inv.user("alice@example.com").unwrap().role, Role::Owner);
}

#[test]
fn inventory_errors_have_codes_and_spans() {
    let text = include_str!("../../../testdata/inventory/errors.hujson");
    let (inv, diags) = load(text);
    let inv = inv.unwrap();
    let got = codes(&diags);
    for want in ["TP0502", "TP0503", "TP0504", "TP0505", "TP0506", "TP0508"] {
        assert!(got.contains(&want), "missing {want} in {got:?}");
    }
    // The duplicate name and the address clash drop the later nodes.
    let names: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["bulbasaur", "ivysaur", "router"]);
    let unknown = diags.iter().find(|d| d.code.as_str() == "TP0502").unwrap();
    assert_eq!(unknown.span.text(text), "\"loki@example.com\"");
    let bad_addr = diags
        .iter()
        .find(|d| d.code.as_str() == "TP0503" && d.message.contains("100.64.0`"))
        .unwrap();
    assert_eq!(bad_addr.span.text(text), "\"100.64.0\"");
}

#[test]
fn tailscale_status_json_is_detected() {
    let (inv, diags) = load(include_str!(
        "../../../testdata/inventory/tailscale-status.json"
    ));
    assert!(diags.is_empty(), "{diags:?}");
    let inv = inv.unwrap();
    let names: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["odin-mac", "router", "thor-pc"]);
    assert_eq!(inv.nodes[0].owner(), Some("odin@example.com"));
    assert_eq!(inv.nodes[1].owner(), None);
    assert_eq!(inv.nodes[1].approved_routes.len(), 3);
    assert_eq!(inv.nodes[2].owner(), Some("thor@example.org"));
}

#[test]
fn api_device_list_is_detected() {
    let (inv, diags) = load(include_str!("../../../testdata/inventory/api-devices.json"));
    assert!(diags.is_empty(), "{diags:?}");
    let inv = inv.unwrap();
    assert_eq!(inv.nodes.len(), 2);
    let r = inv.node("router").unwrap();
    assert_eq!(r.owner(), None, "tagged devices lose their creator");
    assert_eq!(r.advertised_routes.len(), 3);
    assert_eq!(r.approved_routes.len(), 1);
    assert_eq!(inv.users.len(), 1);
}

#[test]
fn unknown_format_is_reported() {
    let (inv, diags) = load("[1, 2]");
    assert!(inv.unwrap().nodes.is_empty());
    assert_eq!(codes(&diags), ["TP0501"]);
    let (inv, diags) = load("{ nope");
    assert!(inv.is_none());
    assert!(diags.has_errors());
}

#[test]
fn posture_attributes_are_read_and_derived() {
    use policy::model::AttrValue;
    let s = |x: &str| Some(AttrValue::String(x.to_owned()));
    let (inv, _) = load(include_str!("../../../testdata/inventory/api-devices.json"));
    let inv = inv.unwrap();
    let laptop = inv.node("odin-laptop").unwrap();
    assert_eq!(laptop.posture.get("node:os").cloned(), s("linux"));
    assert_eq!(laptop.posture.get("node:tsVersion").cloned(), s("1.62.0"));
    let (inv, _) = load(include_str!(
        "../../../testdata/inventory/tailscale-status.json"
    ));
    let inv = inv.unwrap();
    let mac = inv.node("odin-mac").unwrap();
    assert_eq!(mac.posture.get("node:os").cloned(), s("macos"));

    let text = r#"{"users": [{"login": "a@example.com"}], "nodes": [
      {"name": "a", "user": "a@example.com", "addresses": ["100.64.0.1"],
       "postureAttributes": {"node:os": "macos", "custom:score": 80, "node:tsAutoUpdate": true,
                             "tier": "x", "custom:list": [1], "node:tsAutoUpdate2": null,
                             "node:tsStateEncrypted": "yes"}},
      {"name": "b", "user": "a@example.com", "addresses": ["100.64.0.2"], "postureAttributes": []}]}"#;
    let (inv, diags) = load(text);
    let inv = inv.unwrap();
    let a = inv.node("a").unwrap();
    assert_eq!(a.posture.get("node:os").cloned(), s("macos"));
    assert_eq!(
        a.posture.get("custom:score").cloned(),
        Some(AttrValue::Number(80.0))
    );
    assert_eq!(
        a.posture.get("node:tsAutoUpdate").cloned(),
        Some(AttrValue::Bool(true))
    );
    assert_eq!(
        a.posture.iter().count(),
        3,
        "malformed entries are left out"
    );
    let spans: Vec<(&str, &str)> = diags
        .iter()
        .map(|d| (d.code.as_str(), d.span.text(text)))
        .collect();
    assert_eq!(
        spans,
        [
            ("TP0501", "\"tier\""),
            ("TP0501", "[1]"),
            ("TP0501", "null"),
            ("TP0501", "\"yes\""),
            ("TP0501", "[]"),
        ],
        "{diags:?}"
    );
}
