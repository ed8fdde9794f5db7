//! Reference-evaluator speed on the M tailnet (1,000 nodes, 500 rules): the full
//! matrix, a single reach query, everything one source reaches, and a diff of two
//! policies. Each is compared with `compile` of the same policy and tailnet, measured
//! in the same run, as the baseline.
//!
//! The diffs (`eval::matrix::diff`, which works from the rules that differ):
//! - `diff_m`, `diff_l`: the policy against the same generator shifted by three rules
//!   (three rules removed at the top, three added at the end, every other rule
//!   renumbered), on M and on L (5,000 nodes, 2,000 rules);
//! - `diff_l_edit`: L against itself with a typical review's change: two rules
//!   removed, one rule's ports and one rule's sources edited, two rules added (rules
//!   renumbered after the removals);
//! - `diff_synth_l_edit`: the same edit on issue 3's L tailnet (`synth`, 2,000 nodes,
//!   15,000 rules, 150 subnet routers), against `baseline_compile_synth_l`;
//! - `diff_full_m`: the straightforward diff (`diff_full`, every class pair under
//!   every rule) of `diff_m`'s policies, for the ratio fast/full.
//!
//! Run: `cargo bench -p tailpolicy-compiler --bench eval`.
#![expect(clippy::unwrap_used, clippy::expect_used, reason = "benchmark setup")]

use ipnet::IpNet;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::diff::{diff, diff_full};
use tailpolicy_compiler::eval::matrix::matrix;
use tailpolicy_compiler::eval::reach::reachable_from;
use tailpolicy_compiler::eval::{Dst, Evaluator, Src, Tailnet};
use tailpolicy_compiler::inventory::{Inventory, Node, Role, User};
use tailpolicy_compiler::{CompileOptions, compile, synth};
use tailpolicy_policy::model::{Policy, Proto};
use tailpolicy_policy::{CheckOptions, Span, analyse};

fn main() {
    divan::main();
}

/// A tailnet of `nodes` nodes: a tenth owned by users, the rest tagged (one or two of
/// `tags` tags), every 50th a subnet router, two exit nodes.
fn inventory(nodes: usize, users: usize, tags: usize) -> Inventory {
    let mut out = Inventory {
        tailnet_owner: Some("u0@example.com".into()),
        ..Inventory::default()
    };
    for u in 0..users {
        out.users.push(User {
            login: format!("u{u}@example.com"),
            role: if u == 0 { Role::Owner } else { Role::Member },
            span: Span::default(),
        });
    }
    for i in 0..nodes {
        let n = u32::try_from(i).unwrap() + 1;
        let (user, tags) = if i % 10 == 0 {
            (Some(format!("u{}@example.com", (i / 10) % users)), vec![])
        } else if i % 7 == 0 {
            (
                None,
                vec![
                    format!("tag:t{}", i % tags),
                    format!("tag:t{}", (i / 7) % tags),
                ],
            )
        } else {
            (None, vec![format!("tag:t{}", i % tags)])
        };
        let routes: Vec<IpNet> = if i % 50 == 1 {
            vec![format!("10.{}.0.0/16", i / 50).parse().unwrap()]
        } else if i == 3 || i == 5 {
            vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()]
        } else {
            vec![]
        };
        out.nodes.push(Node {
            name: format!("n{i}"),
            user,
            tags,
            ipv4: Some(Ipv4Addr::from(0x6440_0000 + n)),
            ipv6: Some(Ipv6Addr::new(
                0xfd7a,
                0x115c,
                0xa1e0,
                0,
                0,
                0,
                (n >> 16) as u16,
                (n & 0xffff) as u16,
            )),
            advertised_routes: routes.clone(),
            approved_routes: routes,
            posture: Default::default(),
            span: Span::default(),
        });
    }
    out
}

/// A policy of `rules` ACLs over `users` users, `groups` groups and `tags` tags.
fn policy_text(rules: usize, users: usize, groups: usize, tags: usize, salt: usize) -> String {
    let mut s = String::from("{\"groups\": {");
    for g in 0..groups {
        let members: Vec<String> = (0..users)
            .filter(|u| u % groups == g || u % 7 == g % 7)
            .map(|u| format!("\"u{u}@example.com\""))
            .collect();
        s.push_str(&format!(
            "{}\"group:g{g}\": [{}]",
            if g == 0 { "" } else { "," },
            members.join(",")
        ));
    }
    s.push_str("}, \"tagOwners\": {");
    for t in 0..tags {
        s.push_str(&format!(
            "{}\"tag:t{t}\": [\"group:g0\"]",
            if t == 0 { "" } else { "," }
        ));
    }
    s.push_str("}, \"acls\": [");
    for r in 0..rules {
        let k = r + salt;
        let (src, dst) = match k % 8 {
            0 => (
                format!("group:g{}", k % groups),
                format!("tag:t{}:22,443", k % tags),
            ),
            1 => (
                format!("tag:t{}", k % tags),
                format!("tag:t{}:{}", (k * 7) % tags, 1000 + k % 5000),
            ),
            2 => (
                format!("u{}@example.com", k % users),
                format!("tag:t{}:*", (k * 3) % tags),
            ),
            3 => ("*".to_owned(), format!("tag:t{}:443", k % tags)),
            4 => ("autogroup:member".to_owned(), "autogroup:self:*".to_owned()),
            5 => (
                format!("group:g{}", k % groups),
                format!("10.{}.0.0/16:*", k % 20),
            ),
            6 => (
                format!("group:g{}", k % groups),
                "autogroup:internet:443".to_owned(),
            ),
            _ => (
                format!("tag:t{}", k % tags),
                format!("100.64.{}.{}:5432", (k / 250) % 4, k % 250 + 1),
            ),
        };
        let proto = if k.is_multiple_of(5) {
            ", \"proto\": \"tcp\""
        } else {
            ""
        };
        s.push_str(&format!(
            "{}{{\"action\": \"accept\", \"src\": [\"{src}\"], \"dst\": [\"{dst}\"]{proto}}}",
            if r == 0 { "" } else { "," }
        ));
    }
    s.push_str("]}");
    s
}

fn parse(text: &str) -> Policy {
    let a = analyse(text, &CheckOptions::default());
    assert!(
        !a.diagnostics.has_errors(),
        "{:?}",
        a.diagnostics.iter().next()
    );
    a.policy.expect("parses")
}

struct Setup {
    policy: Policy,
    other: Policy,
    inventory: Inventory,
    tailnet: Tailnet,
}

fn m_setup() -> Setup {
    let inventory = inventory(1000, 40, 60);
    let policy = parse(&policy_text(500, 40, 12, 60, 0));
    let other = parse(&policy_text(500, 40, 12, 60, 3));
    let tailnet = Tailnet::from_inventory(&policy, &inventory, ResolveOptions::default());
    Setup {
        policy,
        other,
        inventory,
        tailnet,
    }
}

#[divan::bench(sample_count = 10)]
fn baseline_compile_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| {
        compile(
            black_box(&s.policy),
            &s.inventory,
            &CompileOptions::default(),
        )
    });
}

#[divan::bench(sample_count = 10)]
fn matrix_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| matrix(black_box(&s.policy), &s.tailnet).cells.len());
}

#[divan::bench(sample_count = 50)]
fn reach_pair_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| {
        let ev = Evaluator::new(black_box(&s.policy), &s.tailnet);
        let src = Src::node(&s.tailnet, 10).unwrap();
        let dst = Dst::addr(
            &s.tailnet,
            IpNet::from(IpAddr::V4(Ipv4Addr::new(100, 64, 0, 2))),
        );
        ev.allowing(&src, &dst, Proto::TCP, 443).len()
    });
}

#[divan::bench(sample_count = 20)]
fn reach_from_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| {
        let ev = Evaluator::new(black_box(&s.policy), &s.tailnet);
        let src = Src::node(&s.tailnet, 10).unwrap();
        reachable_from(&ev, &src).len()
    });
}

#[divan::bench(sample_count = 5)]
fn diff_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| {
        diff(black_box(&s.policy), &s.other, &s.tailnet)
            .changes
            .len()
    });
}

/// The L tailnet: 5,000 nodes, 2,000 rules.
fn l_setup() -> Setup {
    let inventory = inventory(5000, 200, 250);
    let policy = parse(&policy_text(2000, 200, 40, 250, 0));
    let other = parse(&policy_text(2000, 200, 40, 250, 3));
    let tailnet = Tailnet::from_inventory(&policy, &inventory, ResolveOptions::default());
    Setup {
        policy,
        other,
        inventory,
        tailnet,
    }
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn diff_l(bencher: divan::Bencher) {
    let s = l_setup();
    bencher.bench(|| {
        diff(black_box(&s.policy), &s.other, &s.tailnet)
            .changes
            .len()
    });
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn baseline_compile_l(bencher: divan::Bencher) {
    let s = l_setup();
    bencher.bench(|| {
        compile(
            black_box(&s.policy),
            &s.inventory,
            &CompileOptions::default(),
        )
    });
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn diff_l_edit(bencher: divan::Bencher) {
    let s = l_setup();
    let new = synth::reviewed_edit(&s.policy);
    bencher.bench(|| diff(black_box(&s.policy), &new, &s.tailnet).changes.len());
}

#[divan::bench(sample_count = 3)]
fn diff_full_m(bencher: divan::Bencher) {
    let s = m_setup();
    bencher.bench(|| {
        diff_full(black_box(&s.policy), &s.other, &s.tailnet)
            .changes
            .len()
    });
}

/// Issue 3's L tailnet (`synth`): 2,000 nodes, 15,000 rules, 150 subnet routers.
fn synth_l_setup() -> (Policy, Inventory, Tailnet) {
    use tailpolicy_compiler::synth::{Shape, tailnet};
    let (text, inventory) = tailnet(Shape::L);
    let policy = parse(&text);
    let t = Tailnet::from_inventory(&policy, &inventory, ResolveOptions::default());
    (policy, inventory, t)
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn diff_synth_l_edit(bencher: divan::Bencher) {
    let (policy, _, tailnet) = synth_l_setup();
    let new = synth::reviewed_edit(&policy);
    bencher.bench(|| diff(black_box(&policy), &new, &tailnet).changes.len());
}

#[divan::bench(sample_count = 2, sample_size = 1)]
fn baseline_compile_synth_l(bencher: divan::Bencher) {
    let (policy, inventory, _) = synth_l_setup();
    bencher.bench(|| compile(black_box(&policy), &inventory, &CompileOptions::default()));
}
