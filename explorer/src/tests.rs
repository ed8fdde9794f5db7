//! Tests of every endpoint: the pure functions on the bundled example and on its
//! multi-file split (`testdata/multifile/good`), then the router end to end.

#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use crate::{SharedSource, checks, fragments, grid, router, views, whatif};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use std::path::PathBuf;
use tailpolicy_workspace::fs::{LoadRequest, load};
use tailpolicy_workspace::{Config, FileInput, Workspace};
use tower::ServiceExt;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled example, named `policy.hujson` as when run from its directory.
fn example() -> Workspace {
    let dir = root().join("testdata/example");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let mut ws = Workspace::new(Config::default());
    ws.set_fragments(vec![FileInput::text(
        "policy.hujson",
        read("policy.hujson"),
    )]);
    ws.set_inventory(Some(FileInput::text("nodes.json", read("nodes.json"))));
    ws
}

/// The example split into three fragments.
fn multifile() -> Workspace {
    let dir = root().join("testdata/multifile/good");
    load(&LoadRequest {
        config: Some(dir.join("tailpolicy.toml")),
        cwd: dir,
        ..LoadRequest::default()
    })
    .unwrap()
    .workspace
}

/// Rules as (fragment, line).
type Lines = Vec<(String, u64)>;

/// The grid's cells as (row, column, ports, rules).
fn cells(g: &Value) -> Vec<(String, String, String, Lines)> {
    g["cells"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let rules = c[3]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| {
                    let r = &g["rules"][i.as_u64().unwrap() as usize];
                    (
                        r["fragment"].as_str().unwrap().to_owned(),
                        r["line"].as_u64().unwrap(),
                    )
                })
                .collect();
            (
                g["rows"][c[0].as_u64().unwrap() as usize]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                g["cols"][c[1].as_u64().unwrap() as usize]["name"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                c[2].as_str().unwrap().to_owned(),
                rules,
            )
        })
        .collect()
}

/// One cell's ports and rules.
fn cell(g: &Value, row: &str, col: &str) -> Option<(String, Lines)> {
    cells(g)
        .into_iter()
        .find(|(r, c, _, _)| r == row && c == col)
        .map(|(_, _, p, rules)| (p, rules))
}

#[test]
fn grid_folds_the_example_onto_the_policys_names() {
    let g = grid::grid_json(&example()).unwrap();
    let names = |k: &str| -> Vec<String> {
        g[k].as_array()
            .unwrap()
            .iter()
            .map(|a| {
                format!(
                    "{} {}",
                    a["kind"].as_str().unwrap(),
                    a["name"].as_str().unwrap()
                )
            })
            .collect()
    };
    // Users, groups (their member users' rows), tags, then the rest: the subnet behind
    // the router, a source of its own.
    assert_eq!(
        names("rows"),
        [
            "user alice@example.com",
            "user bob@example.com",
            "user carol@example.com",
            "group group:data",
            "group group:platform",
            "tag tag:db",
            "tag tag:exit",
            "tag tag:k8s",
            "tag tag:vpc-router",
            "subnet 10.0.0.0/16",
        ]
    );
    // Tags, hosts, subnet routes, the internet, then users' own devices; named as
    // `tailpolicy matrix` names them.
    assert_eq!(
        names("cols"),
        [
            "tag tag:db",
            "tag tag:exit",
            "tag tag:k8s",
            "tag tag:vpc-router",
            "host k8s-api (via vpc-router)",
            "host postgres (via vpc-router)",
            "subnet 10.0.0.0/16 (via vpc-router)",
            "internet autogroup:internet (via exit-1)",
            "user alice@example.com",
            "user bob@example.com",
            "user carol@example.com",
        ]
    );
    let p = "policy.hujson".to_owned();
    let (k8s, pg, internet) = (
        "k8s-api (via vpc-router)",
        "postgres (via vpc-router)",
        "autogroup:internet (via exit-1)",
    );
    assert_eq!(
        cell(&g, "group:platform", k8s),
        Some(("tcp:443".to_owned(), vec![(p.clone(), 34)]))
    );
    assert_eq!(
        cell(&g, "group:data", pg),
        Some(("tcp:5432".to_owned(), vec![(p.clone(), 38)]))
    );
    assert_eq!(
        cell(&g, "carol@example.com", internet),
        Some(("*".to_owned(), vec![(p.clone(), 44)]))
    );
    assert_eq!(
        cell(&g, "tag:k8s", "tag:db"),
        Some(("tcp:5432".to_owned(), vec![(p.clone(), 41)]))
    );
    assert_eq!(cell(&g, "group:data", k8s), None);
    // A group's row is the union of its members' rows, with every rule (in order).
    assert_eq!(
        cell(&g, "group:platform", "tag:db"),
        Some(("tcp:22".to_owned(), vec![(p.clone(), 35)]))
    );
    assert_eq!(
        cell(&g, "group:platform", pg),
        Some(("tcp:5432".to_owned(), vec![(p, 38)]))
    );
    // Every cell of a group row is the same as its members' cells, and the other way
    // round: alice and bob are the platform team.
    let row = |r: &str| -> Vec<(String, String)> {
        cells(&g)
            .into_iter()
            .filter(|(x, _, _, _)| x == r)
            .map(|(_, c, p, _)| (c, p))
            .collect()
    };
    assert_eq!(row("group:platform"), row("alice@example.com"));
    assert_eq!(row("group:platform"), row("bob@example.com"));
    assert_eq!(row("group:data"), row("carol@example.com"));
    // 13 cells of the fold (`tailpolicy matrix`) and 7 of the two groups: a screen, not
    // the address-level 150.
    assert_eq!(g["cells"].as_array().unwrap().len(), 20);
    // Headers carry what they hold: a user's groups and devices, a group's users, a
    // host's range with its router; `select` is the name the views take.
    let axis = |k: &str, name: &str| -> Value {
        g[k].as_array()
            .unwrap()
            .iter()
            .find(|a| a["name"] == name)
            .unwrap()
            .clone()
    };
    let alice = axis("rows", "alice@example.com");
    assert_eq!(alice["groups"], json!(["group:platform"]));
    assert_eq!(
        alice["members"],
        json!([
            "alice-laptop (100.64.0.1)",
            "alice-laptop (fd7a:115c:a1e0::1)"
        ])
    );
    assert_eq!(
        axis("rows", "group:platform")["members"],
        json!(["alice@example.com", "bob@example.com"])
    );
    let host = axis("cols", k8s);
    assert_eq!(
        (host["select"].clone(), host["members"].clone()),
        (json!("k8s-api"), json!(["10.0.1.10/32 via vpc-router"]))
    );
    // The internet's ranges are many: the first few and the count.
    let net = axis("cols", internet);
    assert_eq!(
        net["members"].as_array().unwrap().len(),
        grid::MEMBERS_SHOWN
    );
    assert!(net["memberCount"].as_u64().unwrap() > grid::MEMBERS_SHOWN as u64);
}

#[test]
fn grid_rules_point_into_their_fragments() {
    let g = grid::grid_json(&multifile()).unwrap();
    let (ports, rules) = cell(&g, "group:platform", "k8s-api (via vpc-router)").unwrap();
    assert_eq!(ports, "tcp:443");
    assert_eq!(rules, [("base.hujson".to_owned(), 27)]);
    let (_, rules) = cell(&g, "group:data", "postgres (via vpc-router)").unwrap();
    assert_eq!(rules, [("teams/data.hujson".to_owned(), 5)]);
    let (_, rules) = cell(&g, "alice@example.com", "autogroup:internet (via exit-1)").unwrap();
    assert_eq!(rules, [("teams/people.hujson".to_owned(), 5)]);
    // The same access as the one-file example.
    let one = grid::grid_json(&example()).unwrap();
    let strip = |v: &Value| -> Vec<(String, String, String)> {
        cells(v).into_iter().map(|(r, c, p, _)| (r, c, p)).collect()
    };
    assert_eq!(strip(&g), strip(&one));
}

#[test]
fn grid_group_rows_merge_their_members_ports() {
    // Two members of one group reaching one tag on different ports: the group's cell
    // merges them, with both rules in policy order; ICMP granted to one shows.
    let policy = r#"{
  "groups": {"group:ops": ["alice@example.com", "bob@example.com"]},
  "tagOwners": {"tag:db": ["alice@example.com"]},
  "grants": [
    {"src": ["alice@example.com"], "dst": ["tag:db"], "ip": ["tcp:22", "tcp:80-90"]},
    {"src": ["bob@example.com"], "dst": ["tag:db"], "ip": ["tcp:23", "icmp:*"]},
  ],
}"#;
    let nodes = r#"{"users": [{"login": "alice@example.com"}, {"login": "bob@example.com"}],
 "nodes": [
  {"name": "a", "user": "alice@example.com", "tags": [], "addresses": ["100.64.0.1"]},
  {"name": "b", "user": "bob@example.com", "tags": [], "addresses": ["100.64.0.2"]},
  {"name": "db", "user": null, "tags": ["tag:db"], "addresses": ["100.64.0.9"]}
]}"#;
    let mut ws = Workspace::new(Config::default());
    ws.set_fragments(vec![FileInput::text("policy.hujson", policy)]);
    ws.set_inventory(Some(FileInput::text("nodes.json", nodes)));
    let g = grid::grid_json(&ws).unwrap();
    let p = "policy.hujson".to_owned();
    assert_eq!(
        cell(&g, "alice@example.com", "tag:db"),
        Some(("tcp:22,80-90".to_owned(), vec![(p.clone(), 5)]))
    );
    assert_eq!(
        cell(&g, "bob@example.com", "tag:db"),
        Some(("tcp:23, icmp".to_owned(), vec![(p.clone(), 6)]))
    );
    assert_eq!(
        cell(&g, "group:ops", "tag:db"),
        Some((
            "tcp:22-23,80-90, icmp".to_owned(),
            vec![(p.clone(), 5), (p, 6)]
        ))
    );
}

#[test]
fn fragments_lists_every_fragment_with_its_text() {
    let f = fragments::fragments_json(&multifile(), "\"x\"");
    assert_eq!(f["etag"], "\"x\"");
    let names: Vec<&str> = f["fragments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["base.hujson", "teams/data.hujson", "teams/people.hujson"]
    );
    assert!(
        f["fragments"][0]["text"]
            .as_str()
            .unwrap()
            .contains("group:platform")
    );
}

#[test]
fn from_lists_what_a_user_reaches() {
    let v = views::from_json(&example(), "carol@example.com").unwrap();
    let lines: Vec<(String, String)> = v["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["to"].as_str().unwrap().to_owned(),
                a["ports"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        lines.contains(&("postgres".to_owned(), "tcp:5432".to_owned())),
        "{lines:?}"
    );
    assert!(
        lines.contains(&("autogroup:internet via exit-1".to_owned(), "*".to_owned())),
        "{lines:?}"
    );
    assert!(!lines.iter().any(|(to, _)| to == "k8s-api"), "{lines:?}");
    let e = views::from_json(&example(), "group:nobody").unwrap_err();
    assert_eq!(
        (e.status, e.message.as_str()),
        (400, "`group:nobody` names no device")
    );
}

#[test]
fn to_lists_who_reaches_a_host_port() {
    let v = views::to_json(&example(), "k8s-api:443").unwrap();
    assert_eq!(v["port"], 443);
    let from: Vec<&str> = v["access"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["from"].as_str().unwrap())
        .collect();
    assert_eq!(from, ["alice-laptop", "bob-laptop"]);
    assert_eq!(v["access"][0]["ports"], "tcp:443");
    assert_eq!(v["access"][0]["rules"][0]["line"], 34);
    let none = views::to_json(&example(), "k8s-api:22").unwrap();
    assert_eq!(none["access"], json!([]));
    assert_eq!(
        views::to_json(&example(), "k8s-api:99999")
            .unwrap_err()
            .status,
        400
    );
}

#[test]
fn ssh_lists_the_rules_as_written() {
    let v = views::ssh_json(&multifile()).unwrap();
    assert_eq!(
        v["rules"][0],
        json!({"action": "check", "src": ["autogroup:member"], "dst": ["autogroup:self"],
            "users": ["autogroup:nonroot"], "checkPeriod": "12h",
            "rule": {"section": "ssh", "index": 0, "fragment": "teams/people.hujson",
                "line": 13, "column": 3, "endLine": 19},
            "srcDevices": ["alice-laptop", "bob-laptop", "carol-laptop"],
            "dstDevices": ["(each source's own devices)"]})
    );
    assert_eq!(v["rules"][1]["users"], json!(["root", "ubuntu"]));
    assert_eq!(
        v["rules"][1]["srcDevices"],
        json!(["alice-laptop", "bob-laptop"])
    );
    assert_eq!(v["rules"][1]["dstDevices"], json!(["db-proxy", "k8s-api"]));
    assert_eq!(
        v["rules"][0]["dstDevices"],
        json!(["(each source's own devices)"])
    );
}

#[test]
fn tests_run_the_policys_tests() {
    let v = checks::tests_json(&multifile()).unwrap();
    assert_eq!(v["passed"], true);
    let tests = v["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 4);
    assert_eq!(tests[0]["section"], "tests");
    assert_eq!(tests[0]["rule"]["fragment"], "teams/data.hujson");
    assert!(tests.iter().any(|t| t["section"] == "sshTests"));
    assert!(tests.iter().all(|t| t["passed"] == true));
}

#[test]
fn audit_reports_findings_with_their_lines() {
    let v = checks::audit_json(&example()).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert!(!findings.is_empty());
    assert!(
        findings
            .iter()
            .all(|f| f["fragment"] == "policy.hujson" && f["line"].as_u64().unwrap() > 0)
    );
}

#[test]
fn whatif_reports_diagnostics_and_the_access_diff() {
    let ws = example();
    let text = ws.fragment_inputs().next().unwrap().contents.to_text();
    let rule = r#"{"src": ["group:platform"], "dst": ["k8s-api"], "ip": ["tcp:443"]}"#;
    // An undefined group: an error at its line.
    let bad = text.replace(
        rule,
        r#"{"src": ["group:nobody"], "dst": ["k8s-api"], "ip": ["tcp:443"]}"#,
    );
    let v = whatif::whatif_json(&ws, "policy.hujson", &bad).unwrap();
    assert_eq!(v["valid"], false);
    let d = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "TP0202")
        .unwrap();
    assert_eq!(
        (d["line"].as_u64(), d["severity"].as_str()),
        (Some(34), Some("error"))
    );
    // The platform team lost the Kubernetes API (rule in the accepted text): each of
    // its users, with their groups, as `tailpolicy diff` names them; and ping, which
    // any access allowed.
    let changes = v["changes"].as_array().unwrap();
    let lines: Vec<(&str, &str, &str, &str)> = changes
        .iter()
        .map(|c| {
            (
                c["change"].as_str().unwrap(),
                c["src"].as_str().unwrap(),
                c["dst"].as_str().unwrap(),
                c["ports"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        lines,
        [
            (
                "lost",
                "alice@example.com",
                "k8s-api (via vpc-router)",
                "icmp"
            ),
            (
                "lost",
                "alice@example.com",
                "k8s-api (via vpc-router)",
                "tcp:443"
            ),
            (
                "lost",
                "bob@example.com",
                "k8s-api (via vpc-router)",
                "icmp"
            ),
            (
                "lost",
                "bob@example.com",
                "k8s-api (via vpc-router)",
                "tcp:443"
            ),
        ]
    );
    for c in changes {
        assert_eq!(c["groups"], json!(["group:platform"]));
        assert_eq!(c["rules"][0]["line"], 34);
    }
    assert_eq!(
        changes[0]["devices"],
        json!({"src": ["alice-laptop (100.64.0.1)", "alice-laptop (fd7a:115c:a1e0::1)"],
            "dst": ["10.0.1.10/32 via vpc-router"]})
    );

    // A gain, with its rule in the edited text.
    let more = text.replace(
        rule,
        &format!("\n\n{}", rule.replace("tcp:443", "tcp:443\", \"tcp:6443")),
    );
    let v = whatif::whatif_json(&ws, "policy.hujson", &more).unwrap();
    assert_eq!(v["valid"], true);
    let gained: Vec<&Value> = v["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["groups"] == json!(["group:platform"]))
        .collect();
    assert_eq!(gained.len(), 2, "{v}");
    for (c, user) in gained.iter().zip(["alice@example.com", "bob@example.com"]) {
        assert_eq!(c["src"], user);
        assert_eq!(c["dst"], "k8s-api (via vpc-router)");
        assert_eq!(c["change"], "gained");
        assert_eq!(c["ports"], "tcp:6443");
        assert_eq!(c["rules"][0]["line"], 36);
    }
    assert_eq!(v["changes"].as_array().unwrap().len(), 2, "{v}");

    // The same text: nothing changes. A syntax error: no diff.
    let same = whatif::whatif_json(&ws, "policy.hujson", &text).unwrap();
    assert_eq!(
        (same["valid"].clone(), same["changes"].clone()),
        (json!(true), json!([]))
    );
    let broken = whatif::whatif_json(&ws, "policy.hujson", "{").unwrap();
    assert_eq!(broken["changes"], Value::Null);
    assert!(!broken["diagnostics"].as_array().unwrap().is_empty());
    assert_eq!(
        whatif::whatif_json(&ws, "nope.hujson", "{}")
            .unwrap_err()
            .status,
        400
    );
}

#[test]
fn whatif_in_one_fragment_of_many() {
    let ws = multifile();
    let text = ws
        .fragment_inputs()
        .find(|f| f.name == "teams/data.hujson")
        .unwrap()
        .contents
        .to_text();
    let edited = text.replace(r#""tcp:5432"]},"#, r#""tcp:5432", "tcp:22"]},"#);
    let v = whatif::whatif_json(&ws, "teams/data.hujson", &edited).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes.iter().any(|c| c["src"] == "carol@example.com"
            && c["groups"] == json!(["group:data"])
            && c["dst"] == "postgres (via vpc-router)"
            && c["ports"] == "tcp:22"
            && c["rules"][0]["fragment"] == "teams/data.hujson"),
        "{v}"
    );
}

async fn get(app: axum::Router, uri: &str) -> (StatusCode, Option<String>, Vec<u8>) {
    let r = app
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let tag = r
        .headers()
        .get("x-policy-etag")
        .map(|v| v.to_str().unwrap().to_owned());
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    (status, tag, body)
}

fn app() -> axum::Router {
    router(SharedSource::new(example(), "\"etag-1\""))
}

#[tokio::test]
async fn router_serves_the_page_and_its_assets() {
    for (uri, kind, marker) in [
        ("/", "text/html", "tailpolicy explorer"),
        ("/explorer/app.js", "text/javascript", "loadGrid"),
        ("/explorer/app.css", "text/css", "#grid-body"),
    ] {
        let r = app()
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{uri}");
        let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(ct.starts_with(kind), "{uri}: {ct}");
        let body = r.into_body().collect().await.unwrap().to_bytes();
        assert!(String::from_utf8_lossy(&body).contains(marker), "{uri}");
    }
}

#[tokio::test]
async fn router_answers_every_endpoint() {
    for uri in [
        "/explorer/api/grid",
        "/explorer/api/fragments",
        "/explorer/api/from?src=alice%40example.com",
        "/explorer/api/to?dst=tag%3Adb%3A22",
        "/explorer/api/ssh",
        "/explorer/api/tests",
        "/explorer/api/audit",
    ] {
        let (status, tag, body) = get(app(), uri).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{uri}: {}",
            String::from_utf8_lossy(&body)
        );
        assert_eq!(tag.as_deref(), Some("\"etag-1\""), "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v.is_object(), "{uri}");
    }
    let (status, _, body) = get(app(), "/explorer/api/from?src=group%3Anobody").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let v: Value = serde_json::from_slice(&body).unwrap();
    assert!(
        v["message"].as_str().unwrap().contains("group:nobody"),
        "{v}"
    );
}

#[tokio::test]
async fn router_grid_is_cached_per_etag() {
    let source = SharedSource::new(example(), "\"a\"");
    let app = router(source.clone());
    let (_, _, first) = get(app.clone(), "/explorer/api/grid").await;
    let (_, _, again) = get(app.clone(), "/explorer/api/grid").await;
    assert_eq!(first, again);
    // A new accepted policy (new ETag): a new grid.
    {
        let mut guard = source.0.lock().unwrap();
        let ws = &mut guard.0;
        let text = ws.fragment_inputs().next().unwrap().contents.to_text();
        let edited = text.replace(r#""ip": ["tcp:443"]"#, r#""ip": ["tcp:8443"]"#);
        *ws = whatif::edited(ws, "policy.hujson", &edited);
        guard.1 = "\"b\"".to_owned();
    }
    let (_, tag, changed) = get(app, "/explorer/api/grid").await;
    assert_eq!(tag.as_deref(), Some("\"b\""));
    let v: Value = serde_json::from_slice(&changed).unwrap();
    assert_eq!(
        cell(&v, "group:platform", "k8s-api (via vpc-router)")
            .unwrap()
            .0,
        "tcp:8443"
    );
}

#[tokio::test]
async fn router_whatif() {
    let ws = example();
    let text = ws.fragment_inputs().next().unwrap().contents.to_text();
    let body = json!({"fragment": "policy.hujson", "text": text.replace("tcp:5432", "tcp:5433")});
    let r = app()
        .oneshot(
            Request::post("/explorer/api/whatif")
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value =
        serde_json::from_slice(&r.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let changes = v["changes"].as_array().unwrap();
    assert!(
        changes
            .iter()
            .any(|c| c["change"] == "gained" && c["ports"] == "tcp:5433")
    );
    assert!(
        changes
            .iter()
            .any(|c| c["change"] == "lost" && c["ports"] == "tcp:5432")
    );
    let r = app()
        .oneshot(
            Request::post("/explorer/api/whatif")
                .body(Body::from("not json"))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}
