//! The folded matrix: the example reads as the policy does, and folding is exact (every
//! pair of endpoints under a cell has exactly the cell's access in the unfolded
//! matrix, and every access of the unfolded matrix is under some cell).
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::collections::BTreeMap;
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_compiler::eval::fold::{FoldedMatrix, folded_matrix};
use tailpolicy_compiler::eval::label::Kind;
use tailpolicy_compiler::eval::matrix::{Ports, matrix, ports_of};
use tailpolicy_compiler::synth::{Shape, tailnet};
use tailpolicy_policy::model::Policy;
use tailpolicy_policy::{CheckOptions, analyse};

fn policy(text: &str) -> Policy {
    let a = analyse(text, &CheckOptions::default());
    assert!(!a.diagnostics.has_errors(), "{:?}", a.diagnostics);
    a.policy.unwrap()
}

fn example() -> (Policy, Tailnet) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/example/");
    let p = policy(&std::fs::read_to_string(format!("{root}policy.hujson")).unwrap());
    let text = std::fs::read_to_string(format!("{root}nodes.json")).unwrap();
    let (inv, diags) = tailpolicy_compiler::inventory::load(&text);
    assert!(!diags.has_errors(), "{diags:?}");
    let t = Tailnet::from_inventory(&p, &inv.unwrap(), ResolveOptions::default());
    (p, t)
}

/// `source -> destination: ports` for every cell.
fn lines(m: &FoldedMatrix) -> Vec<String> {
    m.cells
        .iter()
        .map(|c| {
            format!(
                "{} -> {}: {}",
                m.rows[c.row].name,
                m.columns[c.column].name,
                c.ports.text()
            )
        })
        .collect()
}

#[test]
fn the_example_reads_like_the_policy() {
    let (p, t) = example();
    let m = folded_matrix(&p, &t);
    assert_eq!(
        lines(&m),
        [
            "alice@example.com -> tag:db: tcp:22",
            "alice@example.com -> tag:k8s: tcp:22",
            "alice@example.com -> k8s-api (via vpc-router): tcp:443",
            "alice@example.com -> postgres (via vpc-router): tcp:5432",
            "alice@example.com -> autogroup:internet (via exit-1): *",
            "bob@example.com -> tag:db: tcp:22",
            "bob@example.com -> tag:k8s: tcp:22",
            "bob@example.com -> k8s-api (via vpc-router): tcp:443",
            "bob@example.com -> postgres (via vpc-router): tcp:5432",
            "bob@example.com -> autogroup:internet (via exit-1): *",
            "carol@example.com -> postgres (via vpc-router): tcp:5432",
            "carol@example.com -> autogroup:internet (via exit-1): *",
            "tag:k8s -> tag:db: tcp:5432",
        ]
    );
    let internet = m
        .columns
        .iter()
        .find(|c| c.label.kind == Kind::Internet)
        .unwrap();
    assert_eq!(internet.label.via.as_deref(), Some("exit-1"));
    assert!(
        internet.members.len() > 40,
        "every internet range under one name"
    );
    let k8s = m
        .columns
        .iter()
        .find(|c| c.name.starts_with("k8s-api"))
        .unwrap();
    assert_eq!(k8s.label.kind, Kind::Host);
    let alice = &m.rows[0];
    assert_eq!(alice.groups, ["group:platform"]);
    let cell = &m.cells[2];
    let rules: Vec<_> = m.origins(cell).collect();
    assert_eq!(rules.len(), 1);
    assert_eq!((rules[0].section.key(), rules[0].index), ("grants", 0));
}

/// Access per (source endpoint, destination endpoint) name, per protocol.
type PairAccess = BTreeMap<(String, String), BTreeMap<u8, Ports>>;

/// The unfolded matrix per endpoint pair (a node's address to itself left out).
fn unfolded(p: &Policy, t: &Tailnet) -> PairAccess {
    let m = matrix(p, t);
    let c = &m.classes;
    let mut out = PairAccess::new();
    for (sc, dc, a) in &m.cells {
        for s in &c.src_classes[*sc] {
            for d in &c.dst_classes[*dc] {
                let (s, d) = (&c.srcs[*s], &c.dsts[*d]);
                if s.src.node.is_some() && s.src.node == d.dst.node && d.region.is_none() {
                    continue;
                }
                let ports = a.keys().map(|p| (*p, ports_of(a, *p))).collect();
                out.insert((s.name.clone(), d.name.clone()), ports);
            }
        }
    }
    out
}

/// The folded matrix unfolded onto its members.
fn refolded(m: &FoldedMatrix) -> PairAccess {
    let mut out = PairAccess::new();
    for c in &m.cells {
        let (r, k) = (&m.rows[c.row], &m.columns[c.column]);
        for s in &r.members {
            for d in &k.members {
                let device = |m: &str| m.split_once(" (").map(|(n, _)| n.to_owned());
                if device(s).is_some() && device(s) == device(d) {
                    // A device reaching itself (documented: needs no rule).
                    continue;
                }
                let prev = out.insert((s.clone(), d.clone()), c.ports.protos.clone());
                assert!(prev.is_none(), "{s} -> {d} under two cells");
            }
        }
    }
    out
}

#[test]
fn folding_is_exact() {
    for seed in 0..4 {
        let (text, mut inv) = tailnet(Shape {
            nodes: 40,
            users: 8,
            groups: 5,
            rules: 60,
            routers: 3,
            tags: 4,
            seed,
        });
        let text = text.replacen(
            "\"grants\": [\n  ",
            "\"grants\": [\n  {\"src\": [\"group:g1\"], \"dst\": [\"autogroup:internet\"], \"ip\": [\"tcp:443\"]},\n  ",
            1,
        );
        for n in inv.nodes.iter_mut().skip(3).take(1) {
            n.approved_routes = vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()];
            n.advertised_routes = n.approved_routes.clone();
        }
        let p = policy(&text);
        let t = Tailnet::from_inventory(&p, &inv, ResolveOptions::default());
        let m = folded_matrix(&p, &t);
        let (want, got) = (unfolded(&p, &t), refolded(&m));
        for (k, v) in &want {
            assert_eq!(got.get(k), Some(v), "seed {seed}: {k:?}");
        }
        assert_eq!(want.len(), got.len(), "seed {seed}");
    }
}

/// A tag set as the folded answers name it (`tag:a+tag:b`) is accepted back as a source
/// and a destination: the devices carrying exactly those tags, in any order.
#[test]
fn a_tag_set_name_selects_the_devices_with_exactly_those_tags() {
    use tailpolicy_compiler::eval::Evaluator;
    use tailpolicy_compiler::eval::reach::{resolve_destinations, resolve_sources};
    let p = policy(
        r#"{"tagOwners": {"tag:a": [], "tag:b": []},
            "acls": [{"action": "accept", "src": ["tag:a"], "dst": ["tag:b:443"]}]}"#,
    );
    let (inv, diags) = tailpolicy_compiler::inventory::load(
        r#"{"tailnet": {"owner": "admin@example.com"}, "users": [], "nodes": [
            {"name": "both", "tags": ["tag:b", "tag:a"], "addresses": ["100.64.0.1"]},
            {"name": "only-a", "tags": ["tag:a"], "addresses": ["100.64.0.2"]},
            {"name": "only-b", "tags": ["tag:b"], "addresses": ["100.64.0.3"]}]}"#,
    );
    assert!(!diags.has_errors(), "{diags:?}");
    let t = Tailnet::from_inventory(&p, &inv.unwrap(), ResolveOptions::default());
    let m = folded_matrix(&p, &t);
    let both = m
        .rows
        .iter()
        .find(|r| r.name.contains('+'))
        .map(|r| r.label.name.clone())
        .unwrap();
    let ev = Evaluator::new(&p, &t);
    for sel in [both.as_str(), "tag:a+tag:b", "tag:b + tag:a"] {
        let srcs = resolve_sources(&ev, sel).unwrap();
        assert_eq!(srcs.len(), 1, "{sel}");
        assert_eq!(srcs[0].node, Some(0), "{sel}");
        let dsts = resolve_destinations(&ev, sel).unwrap();
        assert_eq!(
            dsts.iter().map(|d| d.node).collect::<Vec<_>>(),
            [Some(0)],
            "{sel}"
        );
    }
    let err = resolve_sources(&ev, "tag:a+tag:c").unwrap_err();
    assert_eq!(err, "no node carries exactly the tags `tag:a+tag:c`");
}
