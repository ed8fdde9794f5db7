//! `testdata/conformance/validate/` in headscale mode: every case whose provenance is
//! headscale's own unit tests gets headscale's verdict, and every rejection whose
//! captured message is headscale's wording (not a Go error variable's name) gets a
//! message containing it. The SaaS captures are run too and their agreement counted
//! and printed, not asserted: they carry Tailscale's verdicts.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use serde_json::Value;
use std::path::PathBuf;
use tailpolicy_compiler::ResolveOptions;
use tailpolicy_compiler::eval::{Tailnet, all_passed, run_policy_tests};
use tailpolicy_compiler::inventory::conformance::{
    CaseNode, CaseTailnet, CaseUser, inventory_from_case,
};
use tailpolicy_policy::{Analysis, CheckOptions, Dialect, analyse};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../testdata/conformance/validate")
}

/// Whether the policy's tests fail against the case's tailnet.
fn tests_fail(case: &Value, analysis: &Analysis) -> bool {
    let Some(policy) = &analysis.policy else {
        return false;
    };
    let tailnet_info: Option<CaseTailnet> = serde_json::from_value(case["tailnet"].clone()).ok();
    let users: Vec<CaseUser> = serde_json::from_value(case["users"].clone()).unwrap_or_default();
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

/// A captured message that is a Go error variable's name (`ErrSSHTestEmptySrc`), not
/// wording a user sees.
fn is_go_identifier(message: &str) -> bool {
    message.starts_with("Err") && !message.contains(' ')
}

/// (cases, passing, failures) over the cases of one provenance in headscale mode.
fn run(provenance: &str) -> (usize, usize, Vec<String>) {
    let mut files: Vec<_> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let (mut total, mut pass, mut failures) = (0, 0, Vec::new());
    let options = CheckOptions {
        dialect: Dialect::Headscale,
        ..CheckOptions::default()
    };
    for path in &files {
        let case: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        if case["provenance"] != provenance {
            continue;
        }
        total += 1;
        let name = case["name"].as_str().unwrap_or_default().to_owned();
        let expect_valid = case["expect"]["valid"].as_bool().unwrap();
        let analysis = analyse(case["policy"].as_str().unwrap(), &options);
        let errors: Vec<String> = analysis
            .diagnostics
            .iter()
            .filter(|d| d.is_error())
            .map(|d| format!("{} {}", d.code, d.message))
            .collect();
        let rejected = !errors.is_empty() || tests_fail(&case, &analysis);
        let mut ok = rejected != expect_valid;
        if ok && !expect_valid {
            let want = case["expect"]["error"].as_str().unwrap_or_default();
            let want = want.strip_prefix("[ssh] ").unwrap_or(want);
            ok = is_go_identifier(want)
                || want == "test(s) failed"
                || want == "internal server error"
                || want.starts_with("HuJSON syntax error")
                || errors.iter().any(|e| e.contains(want));
        }
        if ok {
            pass += 1;
        } else {
            failures.push(format!(
                "{name} (expect valid={expect_valid}, error {:?}): got {errors:?}",
                case["expect"]["error"].as_str().unwrap_or_default()
            ));
        }
    }
    (total, pass, failures)
}

#[test]
fn headscale_cases_get_headscale_verdicts_and_wording() {
    let (total, pass, failures) = run("headscale-unit-test");
    println!("conformance/validate, headscale mode, headscale-unit-test: {pass}/{total} pass");
    assert!(total >= 150, "found {total} cases");
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn saas_captures_in_headscale_mode_are_counted() {
    let (total, pass, failures) = run("tailscale-saas-capture");
    println!(
        "conformance/validate, headscale mode, tailscale-saas-capture: {pass}/{total} agree with Tailscale's verdict"
    );
    for f in &failures {
        println!("  differs: {f}");
    }
}
