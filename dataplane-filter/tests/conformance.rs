//! Every case of `testdata/conformance/packets/` through the real filter.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests"
)]

use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use tailpolicy_dataplane_filter::FilterConfig;
use tailpolicy_dataplane_filter::addr::parse_addr_list;
use tailpolicy_dataplane_filter::sim::{Simulator, Step};
use tailpolicy_dataplane_filter::wire::FilterRule;

#[derive(Deserialize)]
struct CaseStep {
    #[serde(flatten)]
    step: Step,
    expect: String,
    #[serde(default)]
    why: Option<String>,
}

#[derive(Deserialize)]
struct CapQuery {
    src: IpAddr,
    dst: IpAddr,
    want_caps: Vec<String>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    rules: Vec<FilterRule>,
    local_nets: Option<Vec<String>>,
    #[serde(default)]
    src_caps: BTreeMap<IpAddr, Vec<String>>,
    steps: Vec<CaseStep>,
    #[serde(default)]
    cap_queries: Vec<CapQuery>,
}

fn packets_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance/packets")
}

#[test]
fn every_packet_case_passes() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(packets_dir())
        .expect("testdata/conformance/packets is part of the repository")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty());
    let (mut steps, mut queries, mut failures) = (0, 0, Vec::new());
    for file in &files {
        let case: Case = serde_json::from_str(&std::fs::read_to_string(file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let config = FilterConfig {
            local_nets: case
                .local_nets
                .as_ref()
                .map(|l| parse_addr_list(l).expect("valid local_nets")),
            node_caps: case.src_caps.clone().into_iter().collect(),
            merge_budget: None,
        };
        let (mut sim, _errors) = Simulator::new(&case.rules, &config);
        for (i, s) in case.steps.iter().enumerate() {
            steps += 1;
            let verdict = sim.run(&s.step).expect("step describes a packet");
            if verdict.action.as_str() != s.expect {
                failures.push(format!(
                    "{} step {i}: got {} ({}), want {} — {}",
                    case.name,
                    verdict.action.as_str(),
                    verdict.reason,
                    s.expect,
                    s.why.as_deref().unwrap_or("")
                ));
            }
        }
        for q in &case.cap_queries {
            queries += 1;
            let got: Vec<String> = sim.filter().peer_caps(q.src, q.dst).into_keys().collect();
            let mut want = q.want_caps.clone();
            want.sort();
            if got != want {
                failures.push(format!(
                    "{}: caps {} -> {}: got {got:?}, want {want:?}",
                    case.name, q.src, q.dst
                ));
            }
        }
    }
    println!(
        "conformance/packets: {} files, {} steps, {} capability queries, {} failures",
        files.len(),
        steps,
        queries,
        failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
