//! # tailpolicy-compiler
//!
//! Turns a checked policy and a node inventory into what Tailscale's control plane sends
//! each node: its packet filter (`tailcfg.FilterRule` list), its SSH policy and its
//! route approvals; and answers "who can reach what" with a reference evaluator.
//!
//! **Invariant:** pure. No IO, no clock, no threads; it cannot fail on a checked policy.

extern crate tailpolicy_policy as policy;
extern crate tailpolicy_tailcfg as wire;

pub mod addr;
pub mod audit;
pub mod compile;
pub mod eval;
pub mod inventory;
pub mod posture;
pub mod resolve;

pub use compile::{CompileOptions, CompiledRule, CompiledSshRule, Compiler, NodeCompiled, compile};
pub use inventory::{Inventory, Node, Role, User};
pub mod compare;
pub mod synth;
