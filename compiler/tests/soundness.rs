//! Property tests over random small policies and inventories:
//! - every `DstPorts` entry of every node's compiled filter is justified by a direct
//!   reading of some `acls`/`grants` entry (its sources, destination, ports and
//!   protocol), and is local to the node (its address, an approved route, or the
//!   internet on an approved exit node) — the compiler never grants more than the policy;
//!   Sources respect device posture: no source item holds a device failing the rule's
//!   `srcPosture`/`defaultSrcPosture` (random node attributes and postures);
//! - compilation is deterministic: the same input gives byte-identical JSON.
#![expect(clippy::expect_used, clippy::indexing_slicing, reason = "test")]

use ipnet::IpNet;
use proptest::prelude::*;
use std::net::IpAddr;
use tailpolicy_compiler::OutputJson;
use tailpolicy_compiler::compare::addr_intervals;
use tailpolicy_compiler::inventory::{Inventory, Node, Role, User};
use tailpolicy_compiler::synth::{Rng, node_v4, node_v6};
use tailpolicy_compiler::{CompileOptions, Compiler};
use tailpolicy_policy::CheckOptions;
use tailpolicy_policy::model::{
    AclDst, Alias, AttrValue, Autogroup, PortRange, PostureAttrs, Proto,
};

const USERS: [&str; 3] = ["a@example.com", "b@example.com", "c@example.org"];
const TAGS: [&str; 3] = ["tag:x", "tag:y", "tag:z"];
const ROUTES: [&str; 3] = ["10.1.0.0/16", "10.1.2.0/24", "192.168.0.0/24"];
/// `srcPosture`/`defaultSrcPosture` choices (most rules have none).
const GATES: [&str; 6] = [
    "",
    "",
    "",
    "\"posture:mac\"",
    "\"posture:new\"",
    "\"posture:mac\", \"posture:tier\"",
];

fn random_attrs(rng: &mut Rng) -> PostureAttrs {
    let s = |x: &str| AttrValue::String(x.to_owned());
    let mut a = PostureAttrs::new();
    match rng.below(4) {
        0 => {}
        1 => {
            a.insert("node:os", s("macos"));
            a.insert("node:tsVersion", s("1.62.1"));
        }
        2 => {
            a.insert("node:os", s("linux"));
            a.insert("node:tsVersion", s("1.58.0"));
            a.insert("custom:tier", AttrValue::Number(2.0));
        }
        _ => {
            a.insert("node:os", s("windows"));
            a.insert("custom:tier", AttrValue::Number(1.0));
        }
    }
    a
}

fn pick<'a>(rng: &mut Rng, v: &[&'a str]) -> &'a str {
    v[rng.below(v.len())]
}

fn random_tailnet(seed: u64) -> (String, Inventory) {
    let mut rng = Rng::new(seed);
    let n = 2 + rng.below(7);
    let mut nodes = Vec::new();
    for i in 0..n {
        let tagged = rng.below(3) == 0;
        let mut node = Node {
            name: format!("n{i}"),
            user: None,
            tags: Vec::new(),
            ipv4: Some(node_v4(i)),
            ipv6: if rng.below(5) == 0 {
                None
            } else {
                Some(node_v6(i))
            },
            advertised_routes: Vec::new(),
            approved_routes: Vec::new(),
            posture: random_attrs(&mut rng),
            span: Default::default(),
        };
        if tagged {
            node.tags.push(pick(&mut rng, &TAGS).to_owned());
            if rng.below(2) == 0 {
                let t = pick(&mut rng, &TAGS).to_owned();
                if !node.tags.contains(&t) {
                    node.tags.push(t);
                }
            }
        } else {
            node.user = Some(pick(&mut rng, &USERS).to_owned());
        }
        if rng.below(3) == 0 {
            let r: IpNet = pick(&mut rng, &ROUTES).parse().expect("route");
            node.advertised_routes.push(r);
            if rng.below(2) == 0 {
                node.approved_routes.push(r);
            }
        }
        if rng.below(5) == 0 {
            for r in ["0.0.0.0/0", "::/0"] {
                let r: IpNet = r.parse().expect("route");
                node.advertised_routes.push(r);
                node.approved_routes.push(r);
            }
        }
        nodes.push(node);
    }
    let inv = Inventory {
        tailnet_owner: Some(USERS[0].to_owned()),
        users: USERS
            .iter()
            .map(|u| User {
                login: (*u).to_owned(),
                role: Role::Member,
                span: Default::default(),
            })
            .collect(),
        nodes,
        ..Inventory::default()
    };
    let srcs = [
        "*",
        "a@example.com",
        "b@example.com",
        "group:g",
        "group:h",
        "tag:x",
        "tag:y",
        "autogroup:member",
        "autogroup:tagged",
        "10.1.0.0/16",
        "100.64.0.1",
        "h1",
    ];
    let dsts = [
        "*",
        "a@example.com",
        "c@example.org",
        "group:g",
        "tag:x",
        "tag:z",
        "autogroup:member",
        "autogroup:tagged",
        "10.0.0.0/8",
        "10.1.2.0/24",
        "h1",
        "100.64.0.0/10",
        "8.8.8.8",
    ];
    let ports = ["*", "22", "80,443", "1000-2000"];
    let mut acls = Vec::new();
    let mut grants = Vec::new();
    for _ in 0..(1 + rng.below(5)) {
        let src: Vec<String> = (0..1 + rng.below(2))
            .map(|_| format!("\"{}\"", pick(&mut rng, &srcs)))
            .collect();
        let self_ok = src
            .iter()
            .all(|s| s.contains('@') || s.contains("group:") || s.contains("member"));
        let mut dst: Vec<&str> = (0..1 + rng.below(2))
            .map(|_| pick(&mut rng, &dsts))
            .collect();
        if self_ok && rng.below(3) == 0 {
            dst.push("autogroup:self");
        }
        if rng.below(4) == 0 {
            dst.push("autogroup:internet");
        }
        if rng.below(2) == 0 {
            let d: Vec<String> = dst
                .iter()
                .map(|d| format!("\"{d}:{}\"", pick(&mut rng, &ports)))
                .collect();
            let proto = match rng.below(4) {
                0 => ", \"proto\": \"tcp\"",
                1 => ", \"proto\": \"icmp\"",
                _ => "",
            };
            let d = if proto.contains("icmp") {
                dst.iter().map(|d| format!("\"{d}:*\"")).collect::<Vec<_>>()
            } else {
                d
            };
            let gate = pick(&mut rng, &GATES);
            acls.push(format!(
                "{{\"action\": \"accept\", \"src\": [{}], \"dst\": [{}]{proto}, \"srcPosture\": [{gate}]}}",
                src.join(","),
                d.join(",")
            ));
        } else {
            let ip = pick(
                &mut rng,
                &["\"*\"", "\"tcp:22\"", "\"udp:53\", \"tcp:53\"", "\"443\""],
            );
            let via = if rng.below(4) == 0 {
                ", \"via\": [\"tag:x\"]"
            } else {
                ""
            };
            let d: Vec<String> = dst.iter().map(|d| format!("\"{d}\"")).collect();
            let gate = pick(&mut rng, &GATES);
            grants.push(format!(
                "{{\"src\": [{}], \"dst\": [{}], \"ip\": [{ip}]{via}, \"srcPosture\": [{gate}]}}",
                src.join(","),
                d.join(",")
            ));
        }
    }
    let default_gate = pick(&mut rng, &GATES);
    let policy = format!(
        "{{\"groups\": {{\"group:g\": [\"a@example.com\", \"c@example.org\"], \"group:h\": []}},
          \"tagOwners\": {{\"tag:x\": [], \"tag:y\": [], \"tag:z\": []}},
          \"hosts\": {{\"h1\": \"10.1.2.3\"}},
          \"postures\": {{\"posture:mac\": [\"node:os == 'macos'\"],
                          \"posture:new\": [\"node:tsVersion >= '1.60'\"],
                          \"posture:tier\": [\"custom:tier >= 2\"]}},
          \"defaultSrcPosture\": [{default_gate}],
          \"acls\": [{}], \"grants\": [{}]}}",
        acls.join(","),
        grants.join(",")
    );
    (policy, inv)
}

struct Reader<'a> {
    policy: &'a tailpolicy_policy::Policy,
    inv: &'a Inventory,
}

impl Reader<'_> {
    fn approved(&self, n: &Node) -> Vec<IpNet> {
        n.approved_routes
            .iter()
            .filter(|r| n.advertised_routes.contains(r))
            .copied()
            .collect()
    }

    fn is_exit(&self, n: &Node) -> bool {
        self.approved(n).iter().any(|r| r.prefix_len() == 0)
    }

    fn owner<'n>(&self, n: &'n Node) -> Option<&'n str> {
        if n.tags.is_empty() {
            n.user.as_deref()
        } else {
            None
        }
    }

    fn names(&self, alias: &Alias, n: &Node) -> bool {
        match alias {
            Alias::Tag(t) => n.tags.contains(t),
            Alias::User(u) => self.owner(n) == Some(u.as_str()),
            Alias::Group(g) => self.owner(n).is_some_and(|o| {
                self.policy
                    .group(g)
                    .is_some_and(|g| g.members.iter().any(|m| m.value == o))
            }),
            Alias::Autogroup(Autogroup::Member) => self.owner(n).is_some(),
            Alias::Autogroup(Autogroup::Tagged) => !n.tags.is_empty(),
            _ => false,
        }
    }

    fn literal(&self, alias: &Alias) -> Option<String> {
        match alias {
            Alias::Addr(a) => Some(a.to_string()),
            Alias::Host(h) => self.policy.host(h).map(|h| h.addr.value.to_string()),
            _ => None,
        }
    }

    /// Whether source string `s` is one of the sources `src` names (all of an address
    /// item, or a part of it cut around devices failing the rule's posture), holding no
    /// address of a device that fails the effective posture of a rule with `srcPosture`
    /// `own`.
    fn src_ok(
        &self,
        src: &[tailpolicy_policy::Spanned<Alias>],
        own: &[tailpolicy_policy::Spanned<String>],
        s: &str,
    ) -> bool {
        let gate = self.policy.effective_src_posture(own);
        let iv = addr_intervals(s);
        let within = |outer: &str| {
            let o = addr_intervals(outer);
            !iv.is_empty() && iv.iter().all(|x| o.iter().any(|y| y.contains(x)))
        };
        let holds_failing = self.inv.nodes.iter().any(|n| {
            !self.policy.admits(gate, &n.posture)
                && n.addresses().any(|a| {
                    let p = addr_intervals(&a.to_string());
                    p.iter().any(|x| iv.iter().any(|y| y.contains(x)))
                })
        });
        if holds_failing {
            return false;
        }
        src.iter().any(|a| match &a.value {
            Alias::Wildcard => {
                [
                    "100.64.0.0-100.115.91.255",
                    "100.115.94.0-100.127.255.255",
                    "fd7a:115c:a1e0::/48",
                ]
                .iter()
                .any(|w| within(w))
                    || self.inv.nodes.iter().any(|n| {
                        self.approved(n)
                            .iter()
                            .any(|r| r.prefix_len() > 0 && r.to_string() == s)
                    })
            }
            other => {
                self.literal(other).as_deref() == Some(s)
                    || self.literal(other).is_some_and(|l| within(&l))
                    || self.inv.nodes.iter().any(|n| {
                        self.names(other, n) && n.addresses().any(|ip| ip.to_string() == s)
                    })
            }
        })
    }

    /// Whether destination string `ip` on node `n` is justified by selector `d`, for a
    /// source `s`.
    fn dst_ok(&self, d: &Alias, ip: &str, n: &Node, s: &str, via: &[String]) -> bool {
        let own = n.addresses().any(|a| a.to_string() == ip);
        let via_ok = via.is_empty() || n.tags.iter().any(|t| via.contains(t));
        let routed = |lit: &str| {
            let iv = addr_intervals(lit);
            via_ok
                && self
                    .approved(n)
                    .iter()
                    .filter(|r| r.prefix_len() > 0)
                    .any(|r| {
                        addr_intervals(&r.to_string())
                            .iter()
                            .any(|x| iv.iter().any(|y| x.overlaps(y)))
                    })
        };
        match d {
            Alias::Wildcard => ip == "*",
            Alias::Autogroup(Autogroup::Internet) => {
                via_ok
                    && self.is_exit(n)
                    && !addr_intervals(ip).is_empty()
                    && !ip.starts_with("10.")
            }
            Alias::Autogroup(Autogroup::SelfDevices) => {
                own && self.owner(n).is_some_and(|o| {
                    self.inv.nodes.iter().any(|m| {
                        self.owner(m) == Some(o) && m.addresses().any(|a| a.to_string() == s)
                    })
                })
            }
            other => match self.literal(other) {
                Some(lit) => {
                    lit == ip
                        && (n.addresses().any(|a| {
                            addr_intervals(&lit).iter().any(|x| {
                                let p = addr_intervals(&a.to_string());
                                p.iter().all(|y| x.contains(y))
                            })
                        }) || routed(&lit)
                            || (self.is_exit(n) && via_ok && lit == "8.8.8.8"))
                }
                None => own && self.names(other, n),
            },
        }
    }

    fn justified(&self, n: &Node, s: &str, ip: &str, ports: (u16, u16), proto: &[i32]) -> bool {
        let in_ports =
            |rs: &[PortRange]| rs.iter().any(|r| r.first <= ports.0 && ports.1 <= r.last);
        let acl_ok = self.policy.acls.iter().flatten().any(|a| {
            let p: Vec<i32> = a.proto.iter().map(|p| i32::from(p.value.0)).collect();
            p == proto
                && self.src_ok(&a.src, &a.src_posture, s)
                && a.dst.iter().any(|d| {
                    let AclDst { alias, ports: rs } = &d.value;
                    in_ports(rs) && self.dst_ok(alias, ip, n, s, &[])
                })
        });
        let grant_ok = self.policy.grants.iter().flatten().any(|g| {
            let via: Vec<String> = g.via.iter().map(|v| v.value.to_string()).collect();
            g.ip.iter().any(|e| {
                let p: Vec<i32> = e
                    .value
                    .proto
                    .map(|Proto(x)| i32::from(x))
                    .into_iter()
                    .collect();
                p == proto && in_ports(&e.value.ports)
            }) && self.src_ok(&g.src, &g.src_posture, s)
                && g.dst.iter().any(|d| self.dst_ok(&d.value, ip, n, s, &via))
        });
        acl_ok || grant_ok
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn compiled_filters_grant_nothing_the_policy_does_not(seed in any::<u64>()) {
        let (text, inv) = random_tailnet(seed);
        let analysis = tailpolicy_policy::analyse(&text, &CheckOptions::default());
        prop_assume!(!analysis.diagnostics.has_errors());
        let policy = analysis.policy.expect("parsed");
        let options = CompileOptions { auto_approve: false, ..CompileOptions::default() };
        let compiled = Compiler::new(&policy, inv.clone(), options.clone());
        let reader = Reader { policy: &policy, inv: &inv };
        for (node, out) in inv.nodes.iter().zip(compiled.nodes()) {
            for cr in &out.packet_filter {
                for d in &cr.rule.dst_ports {
                    for s in &cr.rule.src_ips {
                        prop_assert!(
                            reader.justified(node, s, &d.ip, (d.ports.first, d.ports.last), &cr.rule.ip_proto),
                            "node {} got {s} -> {}:{}-{} proto {:?}, not in the policy:\n{text}",
                            node.name, d.ip, d.ports.first, d.ports.last, cr.rule.ip_proto
                        );
                    }
                }
            }
        }
        // Determinism: byte-identical output.
        let again = Compiler::new(&policy, inv.clone(), options);
        let a = serde_json::to_string(&OutputJson::new(compiled.nodes())).expect("json");
        let b = serde_json::to_string(&OutputJson::new(again.nodes())).expect("json");
        prop_assert_eq!(a, b);
        let _: Option<IpAddr> = None;
    }
}

/// The generator must mostly produce valid policies that compile to non-empty filters,
/// or the property above would check little.
#[test]
fn generator_exercises_the_compiler() {
    let mut valid = 0;
    let mut entries = 0;
    for seed in 0..200 {
        let (text, inv) = random_tailnet(seed);
        let analysis = tailpolicy_policy::analyse(&text, &CheckOptions::default());
        if analysis.diagnostics.has_errors() {
            continue;
        }
        valid += 1;
        let policy = analysis.policy.expect("parsed");
        let c = Compiler::new(
            &policy,
            inv,
            CompileOptions {
                auto_approve: false,
                ..CompileOptions::default()
            },
        );
        entries += c
            .nodes()
            .iter()
            .flat_map(|n| &n.packet_filter)
            .map(|r| r.rule.dst_ports.len())
            .sum::<usize>();
    }
    assert!(
        valid >= 120,
        "only {valid} of 200 generated policies are valid"
    );
    assert!(
        entries >= 1000,
        "only {entries} destination entries compiled"
    );
    println!("{valid} valid policies, {entries} destination entries");
}
