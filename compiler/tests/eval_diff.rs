//! Semantic diff and matrix: cosmetic rewrites show no difference, real ones do, with
//! the responsible rules.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

mod common;
use common::node;
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_compiler::eval::diff::diff;
use tailpolicy_compiler::eval::matrix::matrix;
use tailpolicy_policy::model::{Policy, Section};
use tailpolicy_policy::{CheckOptions, analyse};

fn policy(text: &str) -> Policy {
    let a = analyse(text, &CheckOptions::default());
    assert!(!a.diagnostics.has_errors(), "{:?}", a.diagnostics);
    a.policy.unwrap()
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
            node("db", None, &["tag:db"], "100.64.0.3", &[]),
            node(
                "router",
                None,
                &["tag:router"],
                "100.64.0.4",
                &["10.1.0.0/16"],
            ),
        ],
        users: vec!["alice@example.com".into(), "bob@example.com".into()],
        ..Tailnet::default()
    }
}

const OLD: &str = r#"{
  "groups": {"group:dev": ["alice@example.com"]},
  "tagOwners": {"tag:db": [], "tag:router": []},
  "acls": [
    {"action": "accept", "src": ["group:dev"], "dst": ["tag:db:5432", "10.1.0.0/16:443"]},
    {"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self:*"]},
  ],
}"#;

#[test]
fn cosmetic_rewrites_show_no_difference() {
    // Reordered, commented, grants instead of acls, a CIDR split in two, a group
    // replaced by its only member.
    let new = r#"{
      "tagOwners": {"tag:router": [], "tag:db": []},
      "groups": {"group:dev": ["alice@example.com"]},
      // Same access, written differently.
      "grants": [
        {"src": ["autogroup:member"], "dst": ["autogroup:self"], "ip": ["*"]},
        {"src": ["alice@example.com"], "dst": ["10.1.0.0/17", "10.1.128.0/17"], "ip": ["443"]},
        {"src": ["alice@example.com"], "dst": ["tag:db"], "ip": ["5432"]},
      ],
    }"#;
    let d = diff(&policy(OLD), &policy(new), &tailnet());
    assert!(d.changes.is_empty(), "{:#?}", d.changes);
}

#[test]
fn real_changes_are_reported_with_their_rules() {
    let new = OLD.replace(
        "\"group:dev\"], \"dst\": [\"tag:db:5432\"",
        "\"group:dev\", \"bob@example.com\"], \"dst\": [\"tag:db:5430-5432\"",
    );
    let d = diff(&policy(OLD), &policy(&new), &tailnet());
    assert!(!d.changes.is_empty());
    assert!(d.changes.iter().all(|c| c.gained));
    let names = |c: &tailpolicy_compiler::eval::diff::Change| {
        let s = &d.classes.srcs[d.classes.src_classes[c.src_class][0]];
        let t = &d.classes.dsts[d.classes.dst_classes[c.dst_class][0]];
        (s.principal.clone(), t.principal.clone(), c.proto, c.ports)
    };
    let got: Vec<_> = d.changes.iter().map(names).collect();
    assert!(
        got.contains(&("bob@example.com".into(), "tag:db".into(), 6, (5430, 5432))),
        "{got:?}"
    );
    assert!(
        got.contains(&("alice@example.com".into(), "tag:db".into(), 6, (5430, 5431))),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|g| g.0 == "bob@example.com" && g.1 == "10.1.0.0/16"),
        "{got:?}"
    );
    assert!(d.changes.iter().all(|c| {
        c.rules
            .iter()
            .all(|r| (r.section, r.index) == (Section::Acls, 0))
    }));
    let back = diff(&policy(&new), &policy(OLD), &tailnet());
    assert_eq!(back.changes.len(), d.changes.len());
    assert!(back.changes.iter().all(|c| !c.gained));
}

#[test]
fn matrix_covers_nodes_and_subnets() {
    let m = matrix(&policy(OLD), &tailnet());
    let cells: Vec<(String, String)> = m
        .cells
        .iter()
        .flat_map(|(s, d, _)| {
            let s = m.classes.src_classes[*s].clone();
            let d = m.classes.dst_classes[*d].clone();
            let m = &m;
            s.into_iter().flat_map(move |i| {
                d.clone().into_iter().map(move |j| {
                    (
                        m.classes.srcs[i].name.clone(),
                        m.classes.dsts[j].name.clone(),
                    )
                })
            })
        })
        .collect();
    assert!(cells.contains(&("alice-laptop (100.64.0.1)".into(), "db (100.64.0.3)".into())));
    assert!(cells.contains(&(
        "alice-laptop (100.64.0.1)".into(),
        "10.1.0.0/16 via router".into()
    )));
    assert!(
        !cells
            .iter()
            .any(|(s, d)| s.starts_with("bob") && !d.starts_with("bob")),
        "{cells:?}"
    );
}
