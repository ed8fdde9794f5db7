//! Names for endpoints the way the policy names them, so that answers read like the
//! policy: a user's devices by the user's login, tagged devices by their tags, an
//! address by the host alias or the literal a rule writes, a subnet by the route its
//! router carries (`10.0.0.0/16 (via vpc-router)`), and the ranges an exit node carries
//! as `autogroup:internet (via exit-1)` instead of the complement of the private ranges.
//!
//! A region's name is, in order: a host alias naming exactly its range, an address
//! literal of a rule naming exactly it, the router's route equal to it, the internet
//! (for an exit node), then the smallest host, literal or route containing it, then its
//! range as text.

use super::classes::{DstPoint, Range, SrcPoint, bounds, interval_text, ip_u128};
use super::select::{Identity, is_internet};
use super::tailnet::Tailnet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::net::{Ipv4Addr, Ipv6Addr};
use tailpolicy_policy::model::{Alias, Policy};

/// What a folded row or column stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A user's (untagged) devices, named by the login.
    User,
    /// Devices carrying a tag set, named `tag:a` or `tag:a+tag:b`.
    Tag,
    /// A host alias of the policy's `hosts`.
    Host,
    /// A subnet route (or part of one) carried by a router.
    Subnet,
    /// `autogroup:internet`: the ranges an exit node carries.
    Internet,
    /// An address range named by a rule's literal, or by its addresses.
    Address,
    /// A device with neither owner nor tags, named by its name.
    Node,
}

impl Kind {
    /// A lower-case word for the kind (`user`, `tag`, `host`, `subnet`, `internet`,
    /// `address`, `node`).
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::User => "user",
            Kind::Tag => "tag",
            Kind::Host => "host",
            Kind::Subnet => "subnet",
            Kind::Internet => "internet",
            Kind::Address => "address",
            Kind::Node => "node",
        }
    }
}

/// A folded name: what the policy calls an endpoint, and through which router.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Label {
    /// The kind.
    pub kind: Kind,
    /// The name as the policy writes it (`k8s-api`, `tag:db`, `10.0.0.0/16`,
    /// `autogroup:internet`).
    pub name: String,
    /// The router or exit node carrying it, by name (for subnets and the internet).
    pub via: Option<String>,
}

impl Label {
    /// The name with its router: `10.0.0.0/16 (via vpc-router)`.
    pub fn title(&self) -> String {
        match &self.via {
            Some(v) => format!("{} (via {v})", self.name),
            None => self.name.clone(),
        }
    }
}

/// A named range: its name, kind and range.
type Named = (String, Kind, Range);

/// Names endpoints for one or more policies over a tailnet.
#[derive(Clone, Debug)]
pub struct Labeler<'a> {
    tailnet: &'a Tailnet,
    /// Host aliases of every policy.
    hosts: Vec<Named>,
    /// Address literals written in rules (sources and destinations) of every policy.
    literals: Vec<Named>,
}

fn named(policy: &Policy, alias: &Alias, out: &mut Vec<Named>, depth: u8) {
    match alias {
        Alias::Addr(a) => out.push((alias.to_string(), Kind::Address, bounds(&a.net))),
        Alias::Range(a, b) => {
            let ((fa, x), (fb, y)) = (ip_u128(*a), ip_u128(*b));
            if fa == fb {
                out.push((alias.to_string(), Kind::Address, (fa, x, y)));
            }
        }
        Alias::IpSet(name) if depth < 8 => {
            if let Some(set) = policy.ipset(name) {
                for op in &set.ops {
                    named(policy, &op.value.target, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

fn contains(outer: Range, inner: Range) -> bool {
    outer.0 == inner.0 && outer.1 <= inner.1 && inner.2 <= outer.2
}

fn first_addr(r: Range) -> IpNet {
    if r.0 {
        IpNet::V4(Ipv4Net::from(Ipv4Addr::from(
            u32::try_from(r.1).unwrap_or(0),
        )))
    } else {
        IpNet::V6(Ipv6Net::from(Ipv6Addr::from(r.1)))
    }
}

impl<'a> Labeler<'a> {
    /// A labeler for these policies (their hosts and address literals) over `tailnet`.
    pub fn new(policies: &[&Policy], tailnet: &'a Tailnet) -> Self {
        let (mut hosts, mut literals) = (Vec::new(), Vec::new());
        for p in policies {
            for h in &p.hosts {
                hosts.push((h.name.value.clone(), Kind::Host, bounds(&h.addr.value.net)));
            }
            for r in super::rules::net_rules(p) {
                for s in &r.src {
                    named(p, &s.value, &mut literals, 0);
                }
                for a in &r.dst {
                    named(p, &a.alias, &mut literals, 0);
                }
            }
        }
        hosts.dedup();
        literals.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
        literals.dedup();
        Labeler {
            tailnet,
            hosts,
            literals,
        }
    }

    /// The name of an identity (a user's login, a tag set).
    fn identity(identity: &Identity) -> Option<Label> {
        match identity {
            Identity::User(u) => Some(Label {
                kind: Kind::User,
                name: u.clone(),
                via: None,
            }),
            Identity::Tagged(t) => Some(Label {
                kind: Kind::Tag,
                name: t.join("+"),
                via: None,
            }),
            Identity::Anonymous => None,
        }
    }

    /// The host alias naming exactly `range`.
    fn host_exact(&self, range: Range) -> Option<Label> {
        self.hosts
            .iter()
            .find(|(_, _, r)| *r == range)
            .map(|(n, k, _)| Label {
                kind: *k,
                name: n.clone(),
                via: None,
            })
    }

    /// The name of a source endpoint.
    pub fn src(&self, p: &SrcPoint) -> Label {
        if let Some(l) = Self::identity(&p.src.identity) {
            return l;
        }
        let range = p
            .region
            .or_else(|| p.src.nets.first().map(bounds))
            .unwrap_or((true, 0, 0));
        if p.region.is_none()
            && let Some(n) = p.src.node.and_then(|i| self.tailnet.nodes.get(i))
        {
            return Label {
                kind: Kind::Node,
                name: n.name.clone(),
                via: None,
            };
        }
        let routes: Vec<Named> = self
            .tailnet
            .nodes
            .iter()
            .flat_map(|n| {
                n.subnet_routes()
                    .map(|r| (r.to_string(), Kind::Subnet, bounds(r)))
            })
            .collect();
        self.region(range, &routes, false)
    }

    /// The name of a destination endpoint.
    pub fn dst(&self, p: &DstPoint) -> Label {
        let node = p.dst.node.and_then(|i| self.tailnet.nodes.get(i));
        let range = p.region.or_else(|| p.dst.addr.as_ref().map(bounds));
        let own = match (node, p.dst.addr) {
            (Some(n), Some(a)) => n.owns(a.addr()) && super::select::is_host(a),
            (Some(_), None) => true,
            _ => false,
        };
        if own || p.dst.identity != Identity::Anonymous {
            // A node's own address: a host alias naming it, else who the node is.
            if let Some(l) = range.and_then(|r| self.host_exact(r)) {
                return l;
            }
            if let Some(l) = Self::identity(&p.dst.identity) {
                return l;
            }
            if let Some(n) = node {
                return Label {
                    kind: Kind::Node,
                    name: n.name.clone(),
                    via: None,
                };
            }
        }
        let Some(range) = range else {
            return Label {
                kind: Kind::Address,
                name: p.name.clone(),
                via: None,
            };
        };
        let Some(router) = node else {
            return self.region(range, &[], false);
        };
        let routes: Vec<Named> = router
            .subnet_routes()
            .map(|r| (r.to_string(), Kind::Subnet, bounds(r)))
            .collect();
        let inside_route = routes.iter().any(|(_, _, r)| contains(*r, range));
        let internet = router.is_exit_node() && !inside_route && is_internet(first_addr(range));
        let mut l = self.region(range, &routes, internet);
        l.via = Some(router.name.clone());
        l
    }

    /// The name of an address region: exact names first, then the internet, then the
    /// smallest named range around it, then the range itself.
    fn region(&self, range: Range, routes: &[Named], internet: bool) -> Label {
        let label = |(n, k, _): &Named| Label {
            kind: *k,
            name: n.clone(),
            via: None,
        };
        let exact = self
            .hosts
            .iter()
            .chain(&self.literals)
            .chain(routes)
            .find(|(_, _, r)| *r == range);
        if let Some(x) = exact {
            return label(x);
        }
        if internet {
            return Label {
                kind: Kind::Internet,
                name: "autogroup:internet".to_owned(),
                via: None,
            };
        }
        let size = |r: &Range| r.2.wrapping_sub(r.1);
        let around = self
            .hosts
            .iter()
            .chain(&self.literals)
            .chain(routes)
            .filter(|(_, _, r)| contains(*r, range))
            .min_by_key(|(_, _, r)| size(r));
        match around {
            Some(x) => {
                let mut l = label(x);
                if l.kind == Kind::Host || l.kind == Kind::Address {
                    // A part of a named range behind a router is a subnet.
                    l.kind = if routes.is_empty() {
                        l.kind
                    } else {
                        Kind::Subnet
                    };
                }
                l
            }
            None => Label {
                kind: Kind::Address,
                name: interval_text(range.0, range.1, range.2),
                via: None,
            },
        }
    }
}
