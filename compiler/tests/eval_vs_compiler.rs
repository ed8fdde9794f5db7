//! Property: the reference evaluator and the compiled packet filter of the receiving
//! node agree on every packet, over random policies, tailnets and packets (subnet
//! routes, exit nodes, `autogroup:self`, and device posture (random node attributes,
//! `srcPosture`, `defaultSrcPosture`, a shared-in user) included); and the SSH verdict
//! agrees with the destination's compiled SSH policy.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use ipnet::IpNet;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::{Dst, Evaluator, Src, Tailnet};
use tailpolicy_compiler::inventory::{Inventory, Node, Role, User};
use tailpolicy_compiler::{CompileOptions, compile};
use tailpolicy_dataplane_filter::rules::{ParsedRule, parse_rules};
use tailpolicy_policy::model::{AttrValue, PostureAttrs, Proto};
use tailpolicy_policy::{CheckOptions, Span, analyse};

const SRCS: &[&str] = &[
    "*",
    "alice@example.com",
    "bob@example.com",
    "group:g",
    "tag:a",
    "tag:b",
    "autogroup:member",
    "autogroup:tagged",
    "100.64.0.1",
    "10.1.0.0/16",
    "host1",
];
const DSTS: &[&str] = &[
    "*:*",
    "tag:a:22",
    "tag:b:80-90",
    "alice@example.com:*",
    "autogroup:self:22",
    "autogroup:self:*",
    "host1:443",
    "10.1.0.0/16:*",
    "10.1.2.3:22",
    "10.0.0.0/8:443",
    "autogroup:internet:443",
    "autogroup:member:22",
    "autogroup:tagged:*",
    "100.64.0.2:*",
    "group:g:80,443",
];
const PROTOS: &[Option<&str>] = &[None, Some("tcp"), Some("udp")];
/// `srcPosture` choices for rules (and `defaultSrcPosture`).
const POSTURE_LISTS: &[&str] = &[
    "",
    r#""posture:mac""#,
    r#""posture:recent""#,
    r#""posture:mac", "posture:custom""#,
];
const POSTURES: &str = r#""postures": {
    "posture:mac": ["node:os == 'macos'", "node:osVersion >= '13.4'"],
    "posture:recent": ["node:tsVersion >= '1.60'", "node:tsAutoUpdate != false"],
    "posture:custom": ["custom:tier IN ['prod', 'dev']", "custom:score > 50", "custom:x NOT SET"]
},"#;

#[derive(Clone, Debug)]
struct Case {
    nodes: Vec<(u8, u8, u8)>, // (owner kind 0..4, route kind 0..3, attribute kind 0..5)
    acls: Vec<(Vec<usize>, Vec<usize>, usize, usize)>,
    /// 0: no grant; 1: a plain grant; 2, 3: grants with `via` (subnet and internet).
    grant: u8,
    grant_posture: usize,
    default_posture: usize,
    bob_shared: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (
        prop::collection::vec((0u8..5, 0u8..4, 0u8..6), 2..7),
        prop::collection::vec(
            (
                prop::collection::vec(0..SRCS.len(), 1..3),
                prop::collection::vec(0..DSTS.len(), 1..3),
                0..PROTOS.len(),
                prop_oneof![3 => Just(0usize), 1 => 1..POSTURE_LISTS.len()],
            ),
            1..5,
        ),
        0u8..4,
        0..POSTURE_LISTS.len(),
        prop_oneof![2 => Just(0usize), 1 => 1..POSTURE_LISTS.len()],
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(nodes, acls, grant, grant_posture, default_posture, bob_shared)| Case {
                nodes,
                acls,
                grant,
                grant_posture,
                default_posture,
                bob_shared,
            },
        )
}

/// Posture attributes of each attribute kind.
fn attributes(kind: u8) -> PostureAttrs {
    let s = |x: &str| AttrValue::String(x.to_owned());
    let pairs: Vec<(&str, AttrValue)> = match kind {
        1 => vec![
            ("node:os", s("macos")),
            ("node:osVersion", s("14.1")),
            ("node:tsVersion", s("1.62.0")),
            ("node:tsAutoUpdate", AttrValue::Bool(true)),
        ],
        2 => vec![
            ("node:os", s("linux")),
            ("node:osVersion", s("6.1.0")),
            ("node:tsVersion", s("1.58.2")),
            ("node:tsAutoUpdate", AttrValue::Bool(false)),
        ],
        3 => vec![
            ("node:os", s("macos")),
            ("node:osVersion", s("13.3.1")),
            ("node:tsVersion", s("1.70.0")),
            ("custom:tier", s("prod")),
            ("custom:score", AttrValue::Number(80.0)),
        ],
        4 => vec![
            ("node:os", s("windows")),
            ("custom:tier", s("dev")),
            ("custom:score", AttrValue::Number(51.0)),
            ("custom:x", AttrValue::Bool(true)),
        ],
        _ => vec![],
    };
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

fn inventory(c: &Case) -> Inventory {
    let nodes = c
        .nodes
        .iter()
        .enumerate()
        .map(|(i, (owner, route, attrs))| {
            let i = u8::try_from(i).unwrap();
            let (user, tags): (Option<&str>, Vec<&str>) = match owner {
                0 => (Some("alice@example.com"), vec![]),
                1 => (Some("bob@example.com"), vec![]),
                2 => (None, vec!["tag:a"]),
                3 => (None, vec!["tag:b"]),
                _ => (None, vec!["tag:a", "tag:b"]),
            };
            let routes: Vec<IpNet> = match route {
                1 => vec!["10.1.0.0/16".parse().unwrap()],
                2 => vec!["0.0.0.0/0".parse().unwrap(), "::/0".parse().unwrap()],
                _ => vec![],
            };
            Node {
                name: format!("n{i}"),
                user: user.map(Into::into),
                tags: tags.into_iter().map(Into::into).collect(),
                ipv4: Some(Ipv4Addr::new(100, 64, 0, i + 1)),
                ipv6: Some(Ipv6Addr::new(
                    0xfd7a,
                    0x115c,
                    0xa1e0,
                    0,
                    0,
                    0,
                    0,
                    u16::from(i) + 1,
                )),
                advertised_routes: routes.clone(),
                approved_routes: routes,
                posture: attributes(*attrs),
                span: Span::default(),
            }
        })
        .collect();
    let users = ["alice@example.com", "bob@example.com", "carol@example.com"]
        .iter()
        .map(|l| User {
            login: (*l).into(),
            role: if c.bob_shared && l.starts_with("bob") {
                Role::Shared
            } else {
                Role::Member
            },
            span: Span::default(),
        })
        .collect();
    Inventory {
        tailnet_owner: Some("alice@example.com".into()),
        users,
        nodes,
        ..Inventory::default()
    }
}

fn policy_text(c: &Case) -> String {
    policy_text_with(c, r#""bob@example.com", "carol@example.com""#)
}

fn policy_text_with(c: &Case, group_members: &str) -> String {
    let list = |ix: &[usize], pool: &[&str]| {
        ix.iter()
            .map(|i| format!("{:?}", pool[*i]))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let acls: Vec<String> = c
        .acls
        .iter()
        .map(|(s, d, p, posture)| {
            let proto = PROTOS[*p].map_or(String::new(), |p| format!(", \"proto\": {p:?}"));
            format!(
                "{{\"action\": \"accept\", \"src\": [{}], \"dst\": [{}]{proto}, \"srcPosture\": [{}]}}",
                list(s, SRCS),
                list(d, DSTS),
                POSTURE_LISTS[*posture]
            )
        })
        .collect();
    let posture = POSTURE_LISTS[c.grant_posture];
    let grants = match c.grant {
        1 => format!(
            r#""grants": [{{"src": ["tag:a", "*"], "dst": ["tag:b", "10.1.2.0/24"], "ip": ["tcp:1000-2000", "udp:53"], "srcPosture": [{posture}]}}],"#
        ),
        2 => format!(
            r#""grants": [{{"src": ["autogroup:member"], "dst": ["10.1.0.0/16", "tag:b"], "ip": ["tcp:22", "udp:53"], "via": ["tag:a"], "srcPosture": [{posture}]}}],"#
        ),
        3 => format!(
            r#""grants": [{{"src": ["*"], "dst": ["autogroup:internet", "10.1.2.0/24"], "ip": ["tcp:80-90"], "via": ["tag:b"]}},
                          {{"src": ["tag:a"], "dst": ["*"], "ip": ["tcp:1500"], "via": ["tag:b"], "srcPosture": [{posture}]}}],"#
        ),
        _ => String::new(),
    };
    format!(
        r#"{{"groups": {{"group:g": [{group_members}]}},
            "tagOwners": {{"tag:a": [], "tag:b": []}},
            "hosts": {{"host1": "100.64.0.3"}},
            {POSTURES}
            "defaultSrcPosture": [{}],
            {grants}
            "acls": [{}]}}"#,
        POSTURE_LISTS[c.default_posture],
        acls.join(",\n")
    )
}

/// What the client filter decides for a new flow (policy-spec §5.12): ICMP echo
/// requests need any rule matching source and destination, whatever its protocols and
/// ports; TCP and UDP need the protocol and port.
fn compiled_allows(rules: &[ParsedRule], src: IpAddr, dst: IpAddr, proto: u8, port: u16) -> bool {
    let icmp = proto == 1 || proto == 58;
    rules.iter().any(|r| {
        (icmp || r.protos.contains(proto))
            && r.srcs.contains(src)
            && match dst {
                IpAddr::V4(d) => r
                    .dsts_v4
                    .iter()
                    .any(|e| e.addrs.contains(u32::from(d)) && (icmp || e.ports.contains(port))),
                IpAddr::V6(d) => r
                    .dsts_v6
                    .iter()
                    .any(|e| e.addrs.contains(u128::from(d)) && (icmp || e.ports.contains(port))),
            }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn evaluator_agrees_with_compiled_filters(c in case()) {
        let text = policy_text(&c);
        let analysis = analyse(&text, &CheckOptions::default());
        prop_assume!(!analysis.diagnostics.has_errors());
        let policy = analysis.policy.unwrap();
        let inv = inventory(&c);
        let compiled = compile(&policy, &inv, &CompileOptions { auto_approve: false, ..CompileOptions::default() });
        let tailnet = Tailnet::from_inventory(&policy, &inv, ResolveOptions { auto_approve: false });
        let ev = Evaluator::new(&policy, &tailnet);
        let mut srcs: Vec<IpAddr> = inv.nodes.iter().flat_map(|n| n.addresses()).collect();
        srcs.extend(["10.1.2.3", "192.0.2.7"].iter().map(|s| s.parse::<IpAddr>().unwrap()));
        let mut dsts = srcs.clone();
        dsts.extend(["10.1.9.9", "10.1.2.5", "8.8.8.8", "2001:db8::1"].iter().map(|s| s.parse::<IpAddr>().unwrap()));
        // Every node that could carry the packet: with `via` only some routers may.
        for (d, dst) in dsts.iter().flat_map(|d| Dst::routes(&tailnet, IpNet::from(*d)).into_iter().map(move |x| (*d, x))) {
            let Some(receiver) = dst.node else { continue };
            let name = &tailnet.nodes[receiver].name;
            let node = compiled.iter().find(|n| &n.name == name).unwrap();
            let wire: Vec<_> = node.packet_filter.iter().map(|r| r.rule.clone()).collect();
            let (rules, errors) = parse_rules(&wire);
            prop_assert!(errors.is_empty(), "{errors:?}");
            for &s in &srcs {
                if s.is_ipv4() != d.is_ipv4() {
                    continue;
                }
                let src = Src::addr(&tailnet, IpNet::from(s));
                let icmp = if d.is_ipv4() { Proto::ICMP } else { Proto::ICMPV6 };
                for proto in [Proto::TCP, Proto::UDP, icmp] {
                    for port in [22u16, 53, 80, 85, 443, 1500] {
                        let want = compiled_allows(&rules, s, d, proto.0, port);
                        let got = ev.allowed(&src, &dst, proto, port);
                        prop_assert_eq!(
                            got, want,
                            "{} -> {} ({}) {}/{}\npolicy: {}\nfilter of {}: {}",
                            s, d, name, proto, port, text, name,
                            serde_json::to_string(&wire).unwrap()
                        );
                    }
                }
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]
    /// The matrix (computed per class of endpoints) says for every pair of endpoints
    /// what the evaluator says pair by pair; a policy's diff with itself is empty.
    #[test]
    fn matrix_agrees_with_pairwise_evaluation(c in case()) {
        use tailpolicy_compiler::eval::diff::diff;
        use tailpolicy_compiler::eval::matrix::{matrix, ports_of};
        let text = policy_text(&c);
        let analysis = analyse(&text, &CheckOptions::default());
        prop_assume!(!analysis.diagnostics.has_errors());
        let policy = analysis.policy.unwrap();
        let tailnet = Tailnet::from_inventory(&policy, &inventory(&c), ResolveOptions { auto_approve: false });
        let ev = Evaluator::new(&policy, &tailnet);
        let m = matrix(&policy, &tailnet);
        let cl = &m.classes;
        for (sc, srcs) in cl.src_classes.iter().enumerate() {
            for (dc, dsts) in cl.dst_classes.iter().enumerate() {
                let cell = m.cells.iter().find(|(a, b, _)| *a == sc && *b == dc).map(|x| &x.2);
                for &si in srcs {
                    for &di in dsts {
                        let (s, d) = (&cl.srcs[si], &cl.dsts[di]);
                        if cl.same_node_only(sc, dc) {
                            continue;
                        }
                        for port in [22u16, 53, 80, 85, 443, 1500] {
                            let want = ev.allowed(&s.src, &d.dst, Proto::TCP, port);
                            let got = cell.is_some_and(|a| ports_of(a, 6).iter().any(|(x, y)| *x <= port && port <= *y));
                            prop_assert_eq!(got, want, "{} -> {} tcp/{}\n{}", s.name, d.name, port, text);
                        }
                    }
                }
            }
        }
        prop_assert!(diff(&policy, &policy, &tailnet).changes.is_empty());
        // The shared-identity signer equals the direct signatures.
        use tailpolicy_compiler::eval::classes::{Signer, dst_signature, src_signature};
        let evs = [&ev];
        let mut signer = Signer::new(&evs);
        for p in &cl.srcs {
            prop_assert_eq!(signer.src(&p.src), src_signature(&evs, &p.src));
        }
        for p in &cl.dsts {
            prop_assert_eq!(signer.dst(&p.dst), dst_signature(&evs, &p.dst));
        }
    }
}

const SSH_SRCS: &[&str] = &[
    "alice@example.com",
    "bob@example.com",
    "group:g",
    "autogroup:member",
];
const SSH_DSTS: &[&str] = &["tag:a", "tag:b"];
const SSH_USERS: &[&str] = &["root", "ubuntu", "autogroup:nonroot"];

/// What a node's compiled SSH policy does with a connection (policy-spec §5.11): the
/// first rule whose principals hold the source address and whose `sshUsers` map the
/// login decides.
fn compiled_ssh(rules: &[tailpolicy_compiler::CompiledSshRule], src: &str, login: &str) -> u8 {
    for r in rules {
        if !r.rule.principals.iter().any(|p| p.node_ip == src) {
            continue;
        }
        let users = serde_json::to_value(&r.rule.ssh_users).unwrap();
        let mapped = users
            .get(login)
            .or_else(|| users.get("*"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        let ok = match mapped {
            "" => false,
            "=" => login != "root",
            _ => true,
        };
        if ok {
            return if r.rule.action.hold_and_delegate.is_empty() {
                1
            } else {
                2
            };
        }
    }
    0
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The evaluator's SSH verdict equals what the destination's compiled SSH policy
    /// does, with random `srcPosture`/`defaultSrcPosture` and node attributes.
    #[test]
    fn ssh_verdicts_agree_with_compiled_ssh_policies(
        c in case(),
        rules in prop::collection::vec(
            (0..SSH_SRCS.len(), 0..SSH_DSTS.len(), 0..SSH_USERS.len(), any::<bool>(), 0..POSTURE_LISTS.len()),
            1..4,
        ),
    ) {
        use tailpolicy_compiler::eval::ssh::{SshVerdict, ssh_verdict};
        let ssh: Vec<String> = rules
            .iter()
            .map(|(s, d, u, check, p)| {
                format!(
                    r#"{{"action": "{}", "src": ["{}"], "dst": ["{}"], "users": ["{}"], "srcPosture": [{}]}}"#,
                    if *check { "check" } else { "accept" },
                    SSH_SRCS[*s], SSH_DSTS[*d], SSH_USERS[*u], POSTURE_LISTS[*p]
                )
            })
            .collect();
        let text = policy_text(&c);
        let text = format!("{}, \"ssh\": [{}]}}", text.trim_end().trim_end_matches('}'), ssh.join(","));
        let analysis = analyse(&text, &CheckOptions::default());
        prop_assume!(!analysis.diagnostics.has_errors());
        let policy = analysis.policy.unwrap();
        let inv = inventory(&c);
        let compiled = compile(&policy, &inv, &CompileOptions { auto_approve: false, ..CompileOptions::default() });
        let tailnet = Tailnet::from_inventory(&policy, &inv, ResolveOptions { auto_approve: false });
        let m = tailpolicy_compiler::eval::select::Matcher::new(&policy, &tailnet);
        let policy_rules = policy.ssh.as_deref().unwrap_or_default();
        for (di, dn) in inv.nodes.iter().enumerate() {
            let out = compiled.iter().find(|n| n.name == dn.name).unwrap();
            let node_rules = out.ssh_policy.as_deref().unwrap_or_default();
            let dst = Dst::node(&tailnet, di).unwrap();
            for si in 0..inv.nodes.len() {
                let src = Src::node(&tailnet, si).unwrap();
                let ip = inv.nodes[si].ipv4.unwrap().to_string();
                for login in ["root", "ubuntu"] {
                    let want = compiled_ssh(node_rules, &ip, login);
                    let got = match ssh_verdict(&m, policy_rules, &src, &dst, login) {
                        SshVerdict::Deny => 0,
                        SshVerdict::Accept(_) => 1,
                        SshVerdict::Check(_) => 2,
                    };
                    prop_assert_eq!(got, want, "n{} -> {} as {}\n{}", si, dn.name, login, text);
                }
            }
        }
    }
}

/// An edit of a case's policy: rules dropped, added, reordered, the grants swapped, the
/// group redefined.
#[derive(Clone, Debug)]
struct Edit {
    drop: Vec<bool>,
    extra: Vec<(Vec<usize>, Vec<usize>, usize, usize)>,
    reverse: bool,
    grant: Option<u8>,
    regroup: bool,
}

fn edit() -> impl Strategy<Value = Edit> {
    (
        prop::collection::vec(any::<bool>(), 0..5),
        prop::collection::vec(
            (
                prop::collection::vec(0..SRCS.len(), 1..3),
                prop::collection::vec(0..DSTS.len(), 1..3),
                0..PROTOS.len(),
                prop_oneof![3 => Just(0usize), 1 => 1..POSTURE_LISTS.len()],
            ),
            0..3,
        ),
        any::<bool>(),
        prop::option::of(0u8..4),
        any::<bool>(),
    )
        .prop_map(|(drop, extra, reverse, grant, regroup)| Edit {
            drop,
            extra,
            reverse,
            grant,
            regroup,
        })
}

/// Every change of a diff, one per pair of endpoints (independent of how endpoints were
/// grouped into classes).
/// One change between two named endpoints.
type PairChange = (
    String,
    String,
    u8,
    (u16, u16),
    bool,
    Vec<tailpolicy_policy::model::Origin>,
);

fn expanded(d: &tailpolicy_compiler::eval::diff::Diff) -> std::collections::BTreeSet<PairChange> {
    let c = &d.classes;
    let mut out = std::collections::BTreeSet::new();
    for ch in &d.changes {
        for &si in &c.src_classes[ch.src_class] {
            for &di in &c.dst_classes[ch.dst_class] {
                out.insert((
                    c.srcs[si].name.clone(),
                    c.dsts[di].name.clone(),
                    ch.proto,
                    ch.ports,
                    ch.gained,
                    ch.rules.clone(),
                ));
            }
        }
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// The diff computed from the rules that differ equals the straightforward diff over
    /// every pair of endpoint classes.
    #[test]
    fn fast_diff_equals_full_diff(c in case(), e in edit()) {
        use tailpolicy_compiler::eval::diff::{diff, diff_full};
        let mut n = c.clone();
        n.acls = c
            .acls
            .iter()
            .enumerate()
            .filter(|(i, _)| !e.drop.get(*i).copied().unwrap_or(false))
            .map(|(_, a)| a.clone())
            .chain(e.extra.iter().cloned())
            .collect();
        if n.acls.is_empty() {
            n.acls = e.extra.clone();
        }
        prop_assume!(!n.acls.is_empty());
        if e.reverse {
            n.acls.reverse();
        }
        if let Some(g) = e.grant {
            n.grant = g;
        }
        let old_text = policy_text(&c);
        let new_text = if e.regroup {
            policy_text_with(&n, r#""alice@example.com""#)
        } else {
            policy_text(&n)
        };
        let (a, b) = (
            analyse(&old_text, &CheckOptions::default()),
            analyse(&new_text, &CheckOptions::default()),
        );
        prop_assume!(!a.diagnostics.has_errors() && !b.diagnostics.has_errors());
        let (old, new) = (a.policy.unwrap(), b.policy.unwrap());
        let tailnet = Tailnet::from_inventory(&old, &inventory(&c), ResolveOptions { auto_approve: false });
        let fast = expanded(&diff(&old, &new, &tailnet));
        let full = expanded(&diff_full(&old, &new, &tailnet));
        prop_assert_eq!(fast, full, "\nold: {}\nnew: {}", old_text, new_text);
    }
}
