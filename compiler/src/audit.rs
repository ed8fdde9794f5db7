//! The security audit report: the audit findings (`TP11xx`, from
//! [`policy::audit`]) plus, per user and per tag, what it can reach (from the
//! reference evaluator), as data a reviewer can attach to a change or a compliance
//! request. A pure function of the checked policy and an optional inventory; rendering
//! is the caller's.

use crate::eval::reach::{Endpoint, reachable_from, resolve_sources};
use crate::eval::{Evaluator, Tailnet};
use crate::inventory::Inventory;
use crate::resolve::ResolveOptions;
use policy::Span;
use policy::model::{Policy, PortRange};
use serde::Serialize;
use std::collections::BTreeSet;

/// The whole report.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    /// Every audit finding, in the order of the policy text.
    pub findings: Vec<Finding>,
    /// Per user and tag, what it can reach; empty without an inventory.
    pub reach: Vec<SubjectReach>,
    /// Whether `reach` was computed against an inventory (without one there are no
    /// devices to reach).
    pub with_inventory: bool,
}

/// One audit finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The rule's code, e.g. `TP1103`.
    pub code: &'static str,
    /// The rule's name, e.g. `audit-ssh-root-broad`.
    pub name: &'static str,
    /// What was found.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// Where, in the policy text.
    #[serde(skip)]
    pub span: Span,
}

/// What one user or tag can reach.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SubjectReach {
    /// `user` or `tag`.
    pub kind: &'static str,
    /// The login or the tag.
    pub subject: String,
    /// Every destination with its protocol and ports, sorted.
    pub destinations: Vec<Reachable>,
}

/// One destination of a [`SubjectReach`].
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Reachable {
    /// A node's name, or the address selector as written (subnets, the internet).
    pub destination: String,
    /// The protocol (`*` for the default set: TCP, UDP, ICMP).
    pub proto: String,
    /// The ports: `*`, `22` or `8000-8999`.
    pub ports: String,
}

/// Builds the report for `policy` (which must have no errors) and, when given, the
/// tailnet of `inventory`.
pub fn build(policy: &Policy, inventory: Option<&Inventory>) -> AuditReport {
    let mut findings: Vec<Finding> = policy::audit(policy)
        .into_iter()
        .map(|d| Finding {
            code: d.code.as_str(),
            name: d.code.rule().name,
            message: d.message,
            help: d.help,
            span: d.span,
        })
        .collect();
    findings.sort_by_key(|f| (f.span.start, f.code));
    let Some(inventory) = inventory else {
        return AuditReport {
            findings,
            reach: Vec::new(),
            with_inventory: false,
        };
    };
    let tailnet = Tailnet::from_inventory(policy, inventory, ResolveOptions::default());
    let ev = Evaluator::new(policy, &tailnet);
    let mut subjects: Vec<(&'static str, String)> = Vec::new();
    let logins: BTreeSet<&str> = inventory.users.iter().map(|u| u.login.as_str()).collect();
    subjects.extend(logins.into_iter().map(|l| ("user", l.to_owned())));
    subjects.extend(
        policy
            .tag_owners
            .iter()
            .map(|t| ("tag", t.tag.value.clone())),
    );
    let reach = subjects
        .into_iter()
        .map(|(kind, subject)| {
            let mut set: BTreeSet<Reachable> = BTreeSet::new();
            for src in resolve_sources(&ev, &subject).unwrap_or_default() {
                for a in reachable_from(&ev, &src) {
                    let destination = match &a.endpoint {
                        Endpoint::Node(i) => tailnet
                            .nodes
                            .get(*i)
                            .map_or_else(String::new, |n| n.name.clone()),
                        Endpoint::Addrs(s) => s.clone(),
                    };
                    set.insert(Reachable {
                        destination,
                        proto: a.proto.map_or_else(|| "*".to_owned(), |p| p.to_string()),
                        ports: ports_text(a.ports),
                    });
                }
            }
            SubjectReach {
                kind,
                subject,
                destinations: set.into_iter().collect(),
            }
        })
        .collect();
    AuditReport {
        findings,
        reach,
        with_inventory: true,
    }
}

fn ports_text(p: PortRange) -> String {
    if p.is_all() {
        "*".to_owned()
    } else if p.first == p.last {
        p.first.to_string()
    } else {
        format!("{}-{}", p.first, p.last)
    }
}
