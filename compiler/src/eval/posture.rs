//! The evaluator's reading of device posture (policy-spec §2.7): a rule's sources must
//! also meet one of the rule's postures — its own `srcPosture`, or `defaultSrcPosture`
//! when it has none — when they are devices of this tailnet. Addresses with no device
//! behind them (subnets, the internet) and devices of shared-in users are not gated.
//!
//! Written apart from the compiler's gate (the `posture` module), which cuts failing
//! devices out of address lists instead, so that each checks the other.

use super::select::{Identity, Src};
use super::tailnet::Tailnet;
use tailpolicy_policy::Spanned;
use tailpolicy_policy::model::{Autogroup, Policy, PostureAttrs};

/// Whether `src` passes the posture gate of a rule whose own `srcPosture` is `own`.
pub fn admits(policy: &Policy, tailnet: &Tailnet, own: &[Spanned<String>], src: &Src) -> bool {
    let names: &[Spanned<String>] = if own.is_empty() {
        &policy.default_src_posture
    } else {
        own
    };
    if names.is_empty() {
        return true;
    }
    let is_device = src.node.is_some() || src.identity != Identity::Anonymous;
    if !is_device {
        return true;
    }
    if let Identity::User(u) = &src.identity
        && tailnet.has_role(u, Autogroup::Shared)
    {
        return true;
    }
    let none = PostureAttrs::new();
    let attrs = src.posture.as_ref().unwrap_or(&none);
    names.iter().any(|name| {
        policy
            .postures
            .iter()
            .filter(|p| p.name.value == name.value)
            .any(|p| {
                p.parsed.len() == p.conditions.len() && p.parsed.iter().all(|c| c.holds(attrs))
            })
    })
}
