//! `testdata/conformance/validate/`: every case gets Tailscale's verdict (rejected or
//! accepted), and every rejection captured from Tailscale gets a message containing the
//! captured text.
//!
//! Known, deliberate divergences are listed in [`DIVERGENCES`] with the reason; they are
//! counted and printed, never silently passed.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use serde_json::Value;
use std::path::PathBuf;
use tailpolicy_policy::{CheckOptions, analyse};

/// Cases where tailpolicy decides differently on purpose, with the reason.
const DIVERGENCES: &[(&str, &str)] = &[(
    "unknown-field",
    "headscale rejects unknown fields; in Tailscale mode tailpolicy warns (TP0101), because Tailscale adds fields often and its own behaviour is unverified (policy-spec §1.2); `--dialect headscale` rejects them (compiler/tests/conformance_validate_headscale.rs)",
)];

/// Single cases whose captured message cannot match, with the reason. The verdict must
/// still match.
const MESSAGE_ARTIFACTS: &[(&str, &str)] = &[(
    "ssh-e1",
    "the capture's anonymisation rewrote the domain in the policy (EXAMPLE.COM) but not in the message (PASSKEY)",
)];

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance/validate")
}

fn owner_domain(case: &Value) -> Option<Vec<String>> {
    let owner = case.get("tailnet")?.get("owner")?.as_str()?;
    let (_, domain) = owner.split_once('@')?;
    Some(vec![domain.to_owned()])
}

#[test]
fn validate_verdicts() {
    let mut files: Vec<_> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 380, "found {} cases", files.len());
    let (mut pass, mut diverged) = (0, Vec::new());
    let mut failures = Vec::new();
    for path in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let name = case["name"].as_str().unwrap_or_default().to_owned();
        let expect_valid = case["expect"]["valid"].as_bool().unwrap();
        let policy = case["policy"].as_str().unwrap();
        let options = CheckOptions {
            tailnet_domains: owner_domain(&case),
            ..CheckOptions::default()
        };
        let analysis = analyse(policy, &options);
        let errors: Vec<String> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        let rejected = !errors.is_empty() || tailpolicy_compiler_tests::run(&case, &analysis);
        let mut ok = rejected != expect_valid;
        if ok && !expect_valid && case["provenance"] == "tailscale-saas-capture" {
            let want = case["expect"]["error"].as_str().unwrap_or_default();
            let want = want.strip_prefix("[ssh] ").unwrap_or(want);
            ok = want == "internal server error"
                || errors.iter().any(|e| e.contains(want))
                || want == "test(s) failed"
                || MESSAGE_ARTIFACTS.iter().any(|(n, _)| *n == name);
        }
        if ok {
            pass += 1;
            continue;
        }
        let kind = case["expect"]["error_kind"].as_str().unwrap_or_default();
        if let Some((_, why)) = DIVERGENCES.iter().find(|(k, _)| *k == kind) {
            diverged.push(format!("{name}: {why}"));
            continue;
        }
        failures.push(format!(
            "{name} (expect valid={expect_valid}, error {:?}): got {errors:?}",
            case["expect"]["error"].as_str().unwrap_or_default()
        ));
    }
    println!(
        "conformance/validate: {pass}/{} pass, {} deliberate divergences, {} failures",
        files.len(),
        diverged.len(),
        failures.len()
    );
    for d in &diverged {
        println!("  divergence: {d}");
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Evaluation of `tests`/`sshTests` by the compiler crate's runner.
mod tailpolicy_compiler_tests {
    use serde_json::Value;
    use tailpolicy_compiler::ResolveOptions;
    use tailpolicy_compiler::eval::{Tailnet, all_passed, run_policy_tests};
    use tailpolicy_compiler::inventory::conformance::{
        CaseNode, CaseTailnet, CaseUser, inventory_from_case,
    };
    use tailpolicy_policy::Analysis;

    /// Whether the policy's tests fail against the case's tailnet (its approvals are
    /// given in full, so `autoApprovers` are not applied).
    pub fn run(case: &Value, analysis: &Analysis) -> bool {
        let Some(policy) = &analysis.policy else {
            return false;
        };
        let tailnet_info: Option<CaseTailnet> =
            serde_json::from_value(case["tailnet"].clone()).ok();
        let users: Vec<CaseUser> =
            serde_json::from_value(case["users"].clone()).unwrap_or_default();
        let nodes: Vec<CaseNode> = serde_json::from_value(case["nodes"].clone()).unwrap();
        let inventory = inventory_from_case(tailnet_info.as_ref(), &users, &nodes);
        let tailnet = Tailnet::from_inventory(
            policy,
            &inventory,
            ResolveOptions {
                auto_approve: false,
            },
        );
        !all_passed(&run_policy_tests(policy, &tailnet))
    }
}
