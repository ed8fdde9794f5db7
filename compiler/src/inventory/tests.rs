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
