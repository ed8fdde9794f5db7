//! # tailpolicy-compiler
//!
//! Turns a checked policy and a node inventory into what Tailscale's control plane sends
//! each node: its packet filter (`tailcfg.FilterRule` list), its SSH policy and its
//! route approvals; and answers "who can reach what" with a reference evaluator.
//!
//! **Invariant:** pure. No IO, no clock, no threads; it cannot fail on a checked policy.

extern crate tailpolicy_policy as policy;
extern crate tailpolicy_tailcfg as wire;

// The public API is what this file re-exports, plus the namespaces `eval` (the reference
// evaluator: reach, matrix, folding, diff, policy tests), `inventory` (nodes and their
// formats) and `audit` (the audit report). Everything else is private.
mod addr;
pub mod audit;
mod compile;
pub mod eval;
pub mod inventory;
mod posture;
mod resolve;

pub use addr::Addr;
pub use compile::{
    CompileOptions, CompiledRule, CompiledSshRule, Compiler, NodeCompiled, NodeJson, OutputJson,
    compile,
};
pub use inventory::{Inventory, Node, NodeId, Role, User};
pub use resolve::{ResolveOptions, Resolver};

// Test and benchmark support: comparing filters as the conformance corpus prescribes
// (`compare`) and synthetic tailnets shaped like real ones (`synth`). Behind the
// `test-support` feature; not part of the stable API.
#[cfg(feature = "test-support")]
pub mod compare;
#[cfg(feature = "test-support")]
pub mod synth;
