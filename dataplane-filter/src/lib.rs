//! # tailpolicy-dataplane-filter
//!
//! The wire types of compiled policy (`tailcfg.FilterRule`, `SSHPolicy`) and the packet
//! filter nodes run: zero-copy packet views, an immutable matcher built from FilterRules,
//! a bounded flow table for stateful return traffic, and atomic swapping.
//!
//! **Invariant:** depends only on the wire types, never on the policy parser; the packet
//! path never allocates and never panics on any bytes.

pub mod addr;
pub mod rules;
pub mod wire;

pub use wire::{
    CapGrant, FilterRule, NetPortRange, PortRange, SshAction, SshPolicy, SshPrincipal,
    SshRecorderFailureAction, SshRule, SshUsers,
};
