//! Device posture in compilation (policy-spec §2.7, §5.3): a rule whose effective
//! posture (its `srcPosture`, or `defaultSrcPosture` when it has none) a tailnet device
//! fails does not list that device as a source.
//!
//! The gate removes the Tailscale addresses of failing devices from the rule's sources
//! however they were named: an identity selector drops the device, and an address item
//! that contains a failing device's address (`*`'s tailnet ranges, a CIDR, a host) is
//! split around it. Every other address is untouched: routed subnets, addresses of no
//! node, and devices of shared-in users (posture does not apply to them).

use crate::addr::{self, Addr, Interval};
use crate::inventory::{Inventory, NodeId, Role};
use policy::Policy;
use policy::Spanned;
use std::collections::HashMap;

/// The devices failing one posture gate.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gate {
    /// The failing nodes, sorted.
    failing: Vec<NodeId>,
    /// Their addresses as sorted, merged intervals.
    holes: Vec<Interval>,
}

impl Gate {
    /// Whether node `id` passes (is not a failing device).
    pub fn admits(&self, id: NodeId) -> bool {
        self.failing.binary_search(&id).is_err()
    }

    /// Whether any device fails.
    pub fn is_trivial(&self) -> bool {
        self.failing.is_empty()
    }

    /// The failing nodes, sorted.
    pub fn failing(&self) -> &[NodeId] {
        &self.failing
    }

    /// `addrs` without the failing devices' addresses: items that do not touch one are
    /// kept as they are; the others are split around the holes.
    pub fn apply(&self, addrs: Vec<Addr>) -> Vec<Addr> {
        if self.holes.is_empty() {
            return addrs;
        }
        let mut out = Vec::with_capacity(addrs.len());
        for a in addrs {
            let ivs = a.intervals();
            if !ivs.iter().any(|i| self.overlaps(i)) {
                out.push(a);
                continue;
            }
            let left = addr::subtract(&addr::normalise(ivs), &self.holes);
            out.extend(addr::intervals_to_addrs(&left));
        }
        out
    }

    fn overlaps(&self, i: &Interval) -> bool {
        let start = self.holes.partition_point(|h| (h.v6, h.hi) < (i.v6, i.lo));
        self.holes.get(start).is_some_and(|h| h.overlaps(i))
    }
}

/// Every posture gate a policy uses, with the devices failing it.
#[derive(Clone, Debug, Default)]
pub struct Gates {
    by_names: HashMap<Vec<String>, Gate>,
}

impl Gates {
    /// Evaluates every gate the policy's rules use (`acls`, `grants`, `ssh`, and the
    /// implicit allow-all rule) against the inventory's devices.
    pub fn new(policy: &Policy, inventory: &Inventory) -> Self {
        let mut lists: Vec<&[Spanned<String>]> = Vec::new();
        lists.extend(
            policy
                .acls
                .iter()
                .flatten()
                .map(|a| a.src_posture.as_slice()),
        );
        lists.extend(
            policy
                .grants
                .iter()
                .flatten()
                .map(|g| g.src_posture.as_slice()),
        );
        lists.extend(
            policy
                .ssh
                .iter()
                .flatten()
                .map(|s| s.src_posture.as_slice()),
        );
        lists.push(&[]);
        let shared: Vec<&str> = inventory
            .users
            .iter()
            .filter(|u| u.role == Role::Shared)
            .map(|u| u.login.as_str())
            .collect();
        let mut by_names: HashMap<Vec<String>, Gate> = HashMap::new();
        for own in lists {
            let gate = policy.effective_src_posture(own);
            let key = names(gate);
            if key.is_empty() || by_names.contains_key(&key) {
                continue;
            }
            let mut g = Gate::default();
            let mut holes = Vec::new();
            for (id, n) in inventory.nodes.iter().enumerate() {
                let exempt = n
                    .owner()
                    .is_some_and(|o| shared.iter().any(|s| s.eq_ignore_ascii_case(o)));
                if !exempt && !policy.admits(gate, &n.posture) {
                    g.failing.push(NodeId(id));
                    holes.extend(n.addresses().map(Interval::of_ip));
                }
            }
            g.holes = addr::normalise(holes);
            by_names.insert(key, g);
        }
        Gates { by_names }
    }

    /// Whether node `id` fails some gate.
    pub fn fails_any(&self, id: NodeId) -> bool {
        self.by_names.values().any(|g| !g.admits(id))
    }

    /// The gate of a rule with `srcPosture` `own`; `None` when the rule is not gated or
    /// every device passes.
    pub fn gate(&self, policy: &Policy, own: &[Spanned<String>]) -> Option<&Gate> {
        let key = names(policy.effective_src_posture(own));
        if key.is_empty() {
            return None;
        }
        self.by_names.get(&key).filter(|g| !g.is_trivial())
    }
}

fn names(list: &[Spanned<String>]) -> Vec<String> {
    list.iter().map(|s| s.value.clone()).collect()
}
