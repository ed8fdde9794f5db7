//! The reference evaluator and what is built on it: the `tests`/`sshTests` runner,
//! reachability queries, the access matrix and semantic diffs.
//!
//! The evaluator reads the policy directly (selectors matched against sources and
//! destinations) and never looks at compiled filters, so the two can check each other.

pub mod access;
pub mod classes;
pub mod diff;
pub mod fold;
pub mod fold_diff;
pub mod label;
pub mod matrix;
pub mod policy_tests;
pub mod posture;
pub mod reach;
pub mod rules;
pub mod select;
pub mod ssh;
pub mod tailnet;

pub use access::{Evaluator, RuleRef};
pub use policy_tests::{
    AssertionOutcome, Expectation, TestOutcome, all_passed, run_policy_tests, test_diagnostics,
};
pub use select::{Dst, Identity, Src};
pub use tailnet::{Tailnet, TailnetNode};
