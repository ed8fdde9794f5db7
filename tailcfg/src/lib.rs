//! # tailpolicy-tailcfg
//!
//! What a control plane sends a node, as Tailscale's `tailcfg` serialises it: packet
//! filter rules (`FilterRule`, `NetPortRange`, `CapGrant`) and SSH policies
//! (`SSHPolicy`) in [`wire`], and the address strings those rules hold (`*`, IPs,
//! CIDRs, ranges, `cap:` names) parsed into ranges in [`addr`].
//!
//! The compiler produces these types and the packet filter consumes them; keeping them
//! apart lets the compiler depend on the wire format without the dataplane, as
//! Tailscale keeps `tailcfg` apart from `wgengine/filter`.

pub mod addr;
pub mod wire;

pub use wire::{
    CapGrant, FilterRule, NetPortRange, PortRange, SshAction, SshPolicy, SshPrincipal,
    SshRecorderFailureAction, SshRule, SshUsers,
};
