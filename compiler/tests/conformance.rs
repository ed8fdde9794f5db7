//! Runs every SaaS capture of `testdata/conformance/compile/` (and the valid
//! `validate/` cases that carry filters or SSH policies) through the compiler and
//! compares each captured node's packet filter (semantic and exact comparators of the
//! folder's README), SSH policy and route approvals. Prints pass counts per case-name
//! prefix and per feature; fails when the semantic pass count drops below the ratchet.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    reason = "test"
)]

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;
use tailpolicy_compiler::compare::{exact_equal, semantic_equal, ssh_equal};
use tailpolicy_compiler::inventory::conformance::{
    CaseNode, CaseTailnet, CaseUser, inventory_from_case,
};
use tailpolicy_compiler::{CompileOptions, Compiler};
use tailpolicy_compiler::{ResolveOptions, Resolver};
use tailpolicy_policy::CheckOptions;

/// Cases whose filters, SSH policies and approvals all match semantically. Raise it
/// when the compiler improves; a drop fails the test.
const SEMANTIC_RATCHET: usize = 723;

#[derive(Default)]
struct Tally {
    cases: usize,
    semantic: usize,
    exact: usize,
}

struct Outcome {
    semantic: bool,
    exact: bool,
    why: Vec<String>,
}

fn run_case(case: &Value) -> Outcome {
    let mut why = Vec::new();
    let policy_text = case["policy"].as_str().unwrap_or("");
    let tailnet: Option<CaseTailnet> = serde_json::from_value(case["tailnet"].clone()).ok();
    let users: Vec<CaseUser> = serde_json::from_value(case["users"].clone()).unwrap_or_default();
    let nodes: Vec<CaseNode> = serde_json::from_value(case["nodes"].clone()).unwrap_or_default();
    let inv = inventory_from_case(tailnet.as_ref(), &users, &nodes);
    let options = CheckOptions {
        tailnet_domains: inv.tailnet_domain().map(|d| vec![d.to_owned()]),
        ..CheckOptions::default()
    };
    let analysis = tailpolicy_policy::analyse(policy_text, &options);
    let Some(policy) = analysis.policy else {
        return Outcome {
            semantic: false,
            exact: false,
            why: vec!["policy did not parse".into()],
        };
    };
    if analysis.diagnostics.has_errors() {
        let first = analysis
            .diagnostics
            .iter()
            .find(|d| d.is_error())
            .map(|d| format!("{}: {}", d.code, d.message));
        why.push(format!("policy rejected: {}", first.unwrap_or_default()));
        return Outcome {
            semantic: false,
            exact: false,
            why,
        };
    }
    let compiler = Compiler::new(
        &policy,
        inv.clone(),
        CompileOptions {
            auto_approve: false,
            control_url: "https://unused".into(),
            ..CompileOptions::default()
        },
    );
    let mut semantic = true;
    let mut exact = true;
    let expect = &case["expect"];
    if let Some(filters) = expect["filters"].as_object() {
        for (name, want) in filters {
            let want = want.as_array().cloned().unwrap_or_default();
            let Some(got) = compiler.node(name) else {
                why.push(format!("{name}: node missing from output"));
                semantic = false;
                exact = false;
                continue;
            };
            let got: Vec<Value> = got
                .packet_filter
                .iter()
                .map(|r| serde_json::to_value(&r.rule).unwrap())
                .collect();
            if !semantic_equal(&got, &want) {
                semantic = false;
                why.push(format!(
                    "{name}: filter differs\n      got  {}\n      want {}",
                    serde_json::to_string(&got).unwrap(),
                    serde_json::to_string(&want).unwrap()
                ));
            }
            if !exact_equal(&got, &want) {
                exact = false;
            }
        }
    }
    if let Some(ssh) = expect["ssh"].as_object() {
        for (name, want) in ssh {
            let got = compiler
                .node(name)
                .and_then(|n| n.to_json().ssh_policy)
                .map(|p| serde_json::to_value(p).unwrap())
                .unwrap_or(Value::Null);
            if !ssh_equal(&got, want) {
                semantic = false;
                exact = false;
                why.push(format!(
                    "{name}: ssh differs\n      got  {}\n      want {}",
                    serde_json::to_string(&got).unwrap(),
                    serde_json::to_string(want).unwrap()
                ));
            }
        }
    }
    if let Some(ra) = expect["route_approval"].as_object() {
        let r = Resolver::new(&policy, &inv, ResolveOptions::default());
        for (name, prefixes) in ra {
            let Some(node) = inv.node(name) else { continue };
            for (prefix, want) in prefixes.as_object().into_iter().flatten() {
                let Ok(net) = prefix.parse() else { continue };
                let got = r.auto_approves(node, &net);
                if Some(got) != want.as_bool() {
                    semantic = false;
                    exact = false;
                    why.push(format!(
                        "{name}: route {prefix} approval got {got} want {want}"
                    ));
                }
            }
        }
    }
    Outcome {
        semantic,
        exact,
        why,
    }
}

fn corpus() -> Vec<(String, Value)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance");
    let mut out = Vec::new();
    for dir in ["compile", "validate"] {
        let mut files: Vec<PathBuf> = std::fs::read_dir(root.join(dir))
            .expect("conformance corpus")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        files.sort();
        for f in files {
            let case: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
            if dir == "validate" {
                let e = &case["expect"];
                let has = e["valid"].as_bool() == Some(true)
                    && (e.get("filters").is_some() || e.get("ssh").is_some());
                if !has {
                    continue;
                }
            }
            let name = format!("{dir}/{}", case["name"].as_str().unwrap_or("?"));
            out.push((name, case));
        }
    }
    out
}

#[test]
fn conformance_compile() {
    let cases = corpus();
    let mut by_prefix: BTreeMap<String, Tally> = BTreeMap::new();
    let mut by_feature: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut failures = Vec::new();
    let mut exact_failures = Vec::new();
    let verbose = std::env::var("CONFORMANCE_VERBOSE").is_ok();
    for (name, case) in &cases {
        let o = run_case(case);
        let base = name.split('/').nth(1).unwrap_or("");
        let prefix = if base.starts_with("via-") {
            "via".to_owned()
        } else {
            base.split(['-', '_']).next().unwrap_or("").to_owned()
        };
        let prefix = format!("{}/{prefix}", name.split('/').next().unwrap_or(""));
        for t in [by_prefix.entry(prefix).or_default(), &mut total] {
            t.cases += 1;
            t.semantic += usize::from(o.semantic);
            t.exact += usize::from(o.exact);
        }
        for f in case["features"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let t = by_feature.entry(f.to_owned()).or_default();
            t.cases += 1;
            t.semantic += usize::from(o.semantic);
            t.exact += usize::from(o.exact);
        }
        if o.semantic && !o.exact {
            exact_failures.push(name.clone());
        }
        if !o.semantic {
            let saas = case.get("saas_only").map_or(String::new(), |s| {
                format!(" [saas_only: {}]", s.as_str().unwrap_or(""))
            });
            failures.push(format!("{name}{saas}"));
            if verbose {
                println!("FAIL {name}{saas}");
                for w in o.why.iter().take(4) {
                    println!("    {w}");
                }
            }
        }
    }
    println!(
        "\n{:<28} {:>6} {:>9} {:>6}",
        "prefix", "cases", "semantic", "exact"
    );
    for (k, t) in &by_prefix {
        println!("{k:<28} {:>6} {:>9} {:>6}", t.cases, t.semantic, t.exact);
    }
    println!(
        "{:<28} {:>6} {:>9} {:>6}",
        "TOTAL", total.cases, total.semantic, total.exact
    );
    println!(
        "\n{:<36} {:>6} {:>9} {:>6}",
        "feature", "cases", "semantic", "exact"
    );
    for (k, t) in &by_feature {
        println!("{k:<36} {:>6} {:>9} {:>6}", t.cases, t.semantic, t.exact);
    }
    println!("\nsemantic failures ({}):", failures.len());
    for f in &failures {
        println!("  {f}");
    }
    println!(
        "\nexact-only failures (semantically equal) ({}):",
        exact_failures.len()
    );
    for f in &exact_failures {
        println!("  {f}");
    }
    assert!(
        total.semantic >= SEMANTIC_RATCHET,
        "semantic passes dropped to {} (ratchet {SEMANTIC_RATCHET})",
        total.semantic
    );
}
