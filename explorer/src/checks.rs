//! The policy's own checks: `GET /explorer/api/tests` (the `tests` and `sshTests`
//! results) and `GET /explorer/api/audit` (the security audit's findings).

use crate::problem::{Problem, evaluable};
use crate::rules::{position, rule_json, rules_json};
use serde_json::{Value, json};
use tailpolicy_compiler::audit;
use tailpolicy_compiler::eval::run_policy_tests;
use tailpolicy_workspace::Workspace;

/// `{"passed", "tests": [{"section", "src", "passed", "rule", "message",
/// "assertions": [{"expect", "target", "passed", "failure", "rules"}]}]}`.
pub fn tests_json(ws: &Workspace) -> Result<Value, Problem> {
    let (policy, tailnet) = evaluable(ws)?;
    let map = ws.source_map();
    let outcomes = run_policy_tests(&policy, &tailnet);
    let tests: Vec<Value> = outcomes
        .iter()
        .map(|t| {
            let assertions: Vec<Value> = t
                .assertions
                .iter()
                .map(|a| {
                    json!({"expect": a.expect.key(), "target": a.target.value, "passed": a.passed,
                        "failure": a.failure, "rules": rules_json(&map, &a.rules)})
                })
                .collect();
            json!({
                "section": t.origin.section.key(),
                "src": t.src.as_ref().map(|s| s.value.clone()),
                "passed": t.passed,
                "rule": rule_json(&map, &t.origin),
                "message": t.diagnostic.as_ref().map(|d| d.message.clone()),
                "assertions": assertions,
            })
        })
        .collect();
    Ok(json!({"passed": outcomes.iter().all(|t| t.passed), "tests": tests}))
}

/// `{"findings": [{"code", "name", "message", "help", "fragment", "line", "column"}]}`.
pub fn audit_json(ws: &Workspace) -> Result<Value, Problem> {
    let (policy, _) = evaluable(ws)?;
    let map = ws.source_map();
    let inventory = ws.inventory().and_then(|i| i.inventory.clone());
    let report = audit::build(&policy, inventory.as_ref());
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            let (fragment, line, column, end_line) = position(&map, f.span);
            json!({"code": f.code, "name": f.name, "message": f.message, "help": f.help,
                "fragment": fragment, "line": line, "column": column, "endLine": end_line})
        })
        .collect();
    Ok(json!({"findings": findings}))
}
