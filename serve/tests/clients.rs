//! The server driven exactly the way each client drives Tailscale's API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests"
)]

mod common;

use base64::Engine as _;
use common::{Setup, local_etag, read, send, start};
use serde_json::json;
use tailpolicy_serve::analysis::DEFAULT_POLICY;

const HUJSON: (&str, &str) = ("Content-Type", "application/hujson");

fn example() -> Setup {
    Setup {
        policy: Some(read("example/policy.hujson")),
        inventory: true,
        ..Setup::default()
    }
}

/// gitops-pusher `test` then `apply`: GET for the ETag (compared with the local
/// hujsonfmt hash), validate the standardized file, POST with `If-Match`, and the 412
/// path when someone changed the policy in between.
#[test]
fn gitops_pusher_test_and_apply() {
    let (addr, _) = start(example());
    let acl = format!("http://{addr}/api/v2/tailnet/example.com/acl");
    let local = read("example/policy.hujson");

    // `test` with the file unchanged: the ETag is the local hash, nothing else to do.
    let got = send("GET", &acl, &[("Accept", "application/hujson")], None);
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("application/hujson"));
    let etag = got.header("etag").unwrap().to_owned();
    assert_eq!(etag, format!("\"{}\"", local_etag(&local)));
    assert_eq!(got.body, local);

    // `test` with a change: validate the standardized file; success is `{}`.
    let changed = local.replace(
        "\"tcp:5432\"]},\n\n\t\t// Everyone",
        "\"tcp:5432\", \"tcp:6432\"]},\n\n\t\t// Everyone",
    );
    assert_ne!(changed, local);
    let standardized = serde_json::to_string(
        &tailpolicy_policy::hujson::parse(&changed)
            .0
            .unwrap()
            .root
            .to_json(),
    )
    .unwrap();
    let v = send(
        "POST",
        &format!("{acl}/validate"),
        &[HUJSON],
        Some(&standardized),
    );
    assert_eq!(v.status, 200);
    assert_eq!(v.json(), json!({}));

    // `apply`: POST the raw file with If-Match: "<controlEtag>".
    let if_match = etag.clone();
    let posted = send(
        "POST",
        &acl,
        &[HUJSON, ("If-Match", &if_match)],
        Some(&changed),
    );
    assert_eq!(posted.status, 200, "{}", posted.body);
    let new_etag = posted.header("etag").unwrap().to_owned();
    assert_eq!(new_etag, format!("\"{}\"", local_etag(&changed)));
    assert_eq!(posted.body, changed);

    // The next `test` sees the new hash.
    let got = send("GET", &acl, &[("Accept", "application/hujson")], None);
    assert_eq!(got.header("etag"), Some(new_etag.as_str()));

    // `apply` from a stale cache: 412 with Tailscale's message, nothing stored.
    let stale = send("POST", &acl, &[HUJSON, ("If-Match", &etag)], Some(&local));
    assert_eq!(stale.status, 412);
    assert_eq!(
        stale.json(),
        json!({"message": "precondition failed, invalid old hash"})
    );
    let got = send("GET", &acl, &[], None);
    assert_eq!(got.header("etag"), Some(new_etag.as_str()));
}

/// gitops-pusher turns `line N, column M: msg` into GitHub annotations.
#[test]
fn unparsable_validate_is_400_with_line_and_column() {
    let (addr, _) = start(example());
    let url = format!("http://{addr}/api/v2/tailnet/-/acl/validate");
    let v = send(
        "POST",
        &url,
        &[HUJSON],
        Some(&read("serve/syntax-error.hujson")),
    );
    assert_eq!(v.status, 400);
    let message = v.json()["message"].as_str().unwrap().to_owned();
    assert!(message.starts_with("line 3, column "), "{message}");
}

/// The Terraform provider: read (raw GET), create with If-Match "ts-default", plan
/// (validate), update without If-Match, destroy with reset (empty body).
#[test]
fn terraform_read_create_validate_reset() {
    let (addr, _) = start(Setup {
        inventory: true,
        ..Setup::default()
    });
    let acl = format!("http://{addr}/api/v2/tailnet/-/acl");
    let mine = read("serve/with-tests.hujson");

    // A fresh tailnet serves the default policy.
    let got = send("GET", &acl, &[("Accept", "application/hujson")], None);
    assert_eq!(got.status, 200);
    assert_eq!(got.body, DEFAULT_POLICY);

    // ModifyPlan: validate the configured policy.
    let v = send("POST", &format!("{acl}/validate"), &[HUJSON], Some(&mine));
    assert_eq!((v.status, v.json()), (200, json!({})));

    // Create: only over the untouched default.
    let created = send(
        "POST",
        &acl,
        &[HUJSON, ("If-Match", "\"ts-default\"")],
        Some(&mine),
    );
    assert_eq!(created.status, 200, "{}", created.body);

    // Creating again is refused: the policy is no longer the default.
    let again = send(
        "POST",
        &acl,
        &[HUJSON, ("If-Match", "\"ts-default\"")],
        Some(&mine),
    );
    assert_eq!(again.status, 412);
    assert!(again.body.ends_with("invalid old hash\"}"));

    // Read back: the body verbatim.
    let got = send("GET", &acl, &[("Accept", "application/hujson")], None);
    assert_eq!(got.body, mine);

    // Update: no If-Match.
    let updated = mine.replace("tag:k8s:22\", \"tag:db:22", "tag:k8s:22\", \"tag:db:2222");
    let u = send("POST", &acl, &[HUJSON], Some(&updated));
    assert_eq!(u.status, 200, "{}", u.body);

    // Destroy with reset_acl_on_destroy: an empty body restores the default.
    let reset = send("POST", &acl, &[HUJSON], Some(""));
    assert_eq!(reset.status, 200);
    let got = send("GET", &acl, &[], None);
    assert_eq!(got.body, DEFAULT_POLICY);
    assert_eq!(
        got.header("etag").unwrap(),
        format!("\"{}\"", local_etag(DEFAULT_POLICY))
    );
}

/// The deprecated Go client: `ACLHuJSON()` GETs `?details=1` and decodes `acl` as
/// base64; `ValidateACLJSON` posts legacy `user`/`allow` tests; `ACL()` asks for JSON.
#[test]
fn deprecated_client_details_and_legacy_tests() {
    let (addr, _) = start(example());
    let acl = format!("http://{addr}/api/v2/tailnet/-/acl");
    let details = send(
        "GET",
        &format!("{acl}?details=1"),
        &[("Accept", "application/hujson")],
        None,
    );
    assert_eq!(details.status, 200);
    let body = details.json();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(body["acl"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(decoded).unwrap(),
        read("example/policy.hujson")
    );
    assert!(body["warnings"].is_array());
    assert_eq!(body["errors"], serde_json::Value::Null);
    let t = send("GET", &format!("{acl}?details=true"), &[], None);
    assert_eq!(t.json()["acl"], body["acl"]);

    // ACL(): JSON.
    let j = send("GET", &acl, &[("Accept", "application/json")], None);
    assert_eq!(j.header("content-type"), Some("application/json"));
    assert_eq!(j.json()["hosts"]["k8s-api"], "10.0.1.10");

    // ValidateACLJSON(src, dst): legacy shape against the stored policy.
    let url = format!("{acl}/validate");
    let ct = ("Content-Type", "application/json");
    let ok = send(
        "POST",
        &url,
        &[ct],
        Some(r#"[{"user":"alice@example.com","allow":["k8s-api:443"]}]"#),
    );
    assert_eq!((ok.status, ok.json()), (200, json!({})));
    let failed = send(
        "POST",
        &url,
        &[ct],
        Some(r#"[{"user":"carol@example.com","allow":["k8s-api:443"]}]"#),
    );
    assert_eq!(failed.status, 200);
    assert_eq!(
        failed.json(),
        json!({"message": "test(s) failed", "data": [{"user": "carol@example.com", "errors": ["address \"k8s-api:443\": want: Accept, got: Drop"]}]})
    );
    // The modern shape, with deny.
    let modern = send(
        "POST",
        &url,
        &[ct],
        Some(r#"[{"src":"carol@example.com","accept":["postgres:5432"],"deny":["k8s-api:443"]}]"#),
    );
    assert_eq!((modern.status, modern.json()), (200, json!({})));
}

/// A policy with errors, or whose tests fail, is refused with 400 and nothing stored.
#[test]
fn invalid_and_failing_policies_are_not_stored() {
    let (addr, _) = start(example());
    let acl = format!("http://{addr}/api/v2/tailnet/-/acl");
    let before = send("GET", &acl, &[], None);

    let invalid = send("POST", &acl, &[HUJSON], Some(&read("serve/invalid.hujson")));
    assert_eq!(invalid.status, 400);
    let body = invalid.json();
    let message = body["message"].as_str().unwrap();
    assert!(message.starts_with("line 3, column "), "{message}");
    assert!(message.contains("group:nobody"), "{message}");
    assert!(body["data"][0]["errors"].as_array().is_some());

    let failing = send(
        "POST",
        &acl,
        &[HUJSON],
        Some(&read("serve/failing-tests.hujson")),
    );
    assert_eq!(failing.status, 400);
    assert_eq!(
        failing.json(),
        json!({"message": "test(s) failed", "data": [{"user": "carol@example.com", "errors": ["address \"tag:k8s:22\": want: Accept, got: Drop"]}]})
    );

    // Validate reports the same failure with 200.
    let v = send(
        "POST",
        &format!("{acl}/validate"),
        &[HUJSON],
        Some(&read("serve/failing-tests.hujson")),
    );
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["message"], "test(s) failed");

    let after = send("GET", &acl, &[], None);
    assert_eq!(after.header("etag"), before.header("etag"));
    assert_eq!(after.body, before.body);
}

/// Preview: the rules that apply, with their own aliases and lines; users, groups and
/// tags as `previewFor`; `ipport`.
#[test]
fn preview_user_group_tag_and_ipport() {
    let (addr, _) = start(example());
    let base = format!("http://{addr}/api/v2/tailnet/-/acl/preview");
    let policy = read("example/policy.hujson");
    let user = send(
        "POST",
        &format!("{base}?type=user&previewFor=carol@example.com"),
        &[HUJSON],
        Some(&policy),
    );
    assert_eq!(user.status, 200);
    let body = user.json();
    assert_eq!(body["type"], "user");
    assert_eq!(body["previewFor"], "carol@example.com");
    let matches = body["matches"].as_array().unwrap();
    assert_eq!(
        matches[0],
        json!({"users": ["group:data", "group:platform"], "ports": ["postgres:tcp:5432"], "lineNumber": 38})
    );
    assert!(
        matches
            .iter()
            .all(|m| m["users"] != json!(["group:platform"]))
    );

    let group = send(
        "POST",
        &format!("{base}?type=user&previewFor=group:platform"),
        &[HUJSON],
        Some(&policy),
    );
    assert!(
        group.json()["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["lineNumber"] == 34)
    );

    let tag = send(
        "POST",
        &format!("{base}?type=user&previewFor=tag:k8s"),
        &[HUJSON],
        Some(&policy),
    );
    assert_eq!(
        tag.json()["matches"],
        json!([{"users": ["tag:k8s"], "ports": ["tag:db:tcp:5432"], "lineNumber": 41}])
    );

    let ipport = send(
        "POST",
        &format!("{base}?type=ipport&previewFor=10.0.2.20:5432"),
        &[HUJSON],
        Some(&policy),
    );
    assert_eq!(ipport.status, 200, "{}", ipport.body);
    assert!(
        ipport.json()["matches"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["lineNumber"] == 38)
    );

    let bad = send(
        "POST",
        &format!("{base}?type=nope&previewFor=x"),
        &[HUJSON],
        Some(&policy),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.json()["message"].is_string());
}

/// tscli: `get policy` (JSON), `set policy`, `get policy preview --current`.
#[test]
fn tscli_get_set_preview() {
    let (addr, _) = start(example());
    let acl = format!("http://{addr}/api/v2/tailnet/-/acl");
    let got = send("GET", &acl, &[("Accept", "application/json")], None);
    assert_eq!(got.status, 200);
    let set = send(
        "POST",
        &acl,
        &[("Content-Type", "application/json")],
        Some(&got.body),
    );
    assert_eq!(set.status, 200, "{}", set.body);
    let preview = send(
        "POST",
        &format!("{acl}/preview?type=user&previewFor=alice@example.com"),
        &[("Content-Type", "application/json")],
        Some(""),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(!preview.json()["matches"].as_array().unwrap().is_empty());
}

/// Devices: the inventory in the API's device shape; `{tailnet}` must be `-` or a
/// configured name.
#[test]
fn devices_and_tailnet_names() {
    let (addr, _) = start(Setup {
        tailnets: vec!["example.com".to_owned()],
        ..example()
    });
    let d = send(
        "GET",
        &format!("http://{addr}/api/v2/tailnet/-/devices"),
        &[],
        None,
    );
    assert_eq!(d.status, 200);
    let body = d.json();
    let first = &body["devices"][0];
    assert_eq!(first["hostname"], "alice-laptop");
    assert_eq!(first["name"], "alice-laptop.example.com");
    assert_eq!(
        first["addresses"],
        json!(["100.64.0.1", "fd7a:115c:a1e0::1"])
    );
    assert_eq!(first["user"], "alice@example.com");
    let named = send(
        "GET",
        &format!("http://{addr}/api/v2/tailnet/example.com/devices"),
        &[],
        None,
    );
    assert_eq!(named.status, 200);
    let other = send(
        "GET",
        &format!("http://{addr}/api/v2/tailnet/other.org/acl"),
        &[],
        None,
    );
    assert_eq!(other.status, 404);
    assert!(other.json()["message"].is_string());
}
