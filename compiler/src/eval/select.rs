//! Does a selector match a source or a destination? The direct reading of policy-spec
//! §3 and §5.3–5.6: identity selectors match by who the endpoint is, address selectors
//! by where it is.

use super::tailnet::{Tailnet, TailnetNode};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use tailpolicy_policy::model::{Alias, Autogroup, Group, Policy, PostureAttrs};

/// Who an endpoint is, for identity selectors.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Identity {
    /// An untagged device of this user (or the user as such).
    User(String),
    /// A tagged device with these tags.
    Tagged(Vec<String>),
    /// An address with no tailnet identity.
    Anonymous,
}

impl Identity {
    /// The identity of a node: its tags when tagged, else its owner.
    pub fn of(node: &TailnetNode) -> Identity {
        if node.is_tagged() {
            Identity::Tagged(node.tags.clone())
        } else if let Some(u) = &node.user {
            Identity::User(u.clone())
        } else {
            Identity::Anonymous
        }
    }

    fn user(&self) -> Option<&str> {
        match self {
            Identity::User(u) => Some(u),
            _ => None,
        }
    }
}

/// A traffic source: an identity and the addresses it sends from. An identity with no
/// addresses stands for a user or tag that has no device (Tailscale evaluates tests by
/// identity).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Src {
    /// Who sends.
    pub identity: Identity,
    /// The node, when the source is one.
    pub node: Option<usize>,
    /// Source addresses (host prefixes for a node, any prefix for an address source).
    pub nets: Vec<IpNet>,
    /// The device's posture attributes, when known; a source with an identity or a node
    /// but no attributes here is a device without attributes (policy-spec §2.7).
    pub posture: Option<PostureAttrs>,
}

/// A traffic destination: a node as a whole, a node's address, an address a node
/// routes (subnet or internet through an exit node), or an address with no node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dst {
    /// Who receives (the node's identity, or [`Identity::Anonymous`]).
    pub identity: Identity,
    /// The node that owns or routes the address.
    pub node: Option<usize>,
    /// The destination address; `None` means "the node, at any of its addresses".
    pub addr: Option<IpNet>,
}

impl Src {
    /// A node sending from all its addresses.
    pub fn node(tailnet: &Tailnet, index: usize) -> Option<Src> {
        let n = tailnet.nodes.get(index)?;
        Some(Src {
            identity: Identity::of(n),
            node: Some(index),
            nets: n.addrs.iter().map(|a| IpNet::from(*a)).collect(),
            posture: Some(n.posture.clone()),
        })
    }

    /// An address source; a node's own address carries the node's identity.
    pub fn addr(tailnet: &Tailnet, net: IpNet) -> Src {
        let node = is_host(net)
            .then(|| tailnet.node_by_ip(net.addr()))
            .flatten();
        let n = node.and_then(|i| tailnet.nodes.get(i));
        Src {
            identity: n.map_or(Identity::Anonymous, Identity::of),
            node,
            nets: vec![net],
            posture: n.map(|n| n.posture.clone()),
        }
    }
}

impl Dst {
    /// A node at any of its addresses.
    pub fn node(tailnet: &Tailnet, index: usize) -> Option<Dst> {
        let n = tailnet.nodes.get(index)?;
        Some(Dst {
            identity: Identity::of(n),
            node: Some(index),
            addr: None,
        })
    }

    /// An address: a node's own address carries its identity; an address inside a
    /// subnet route is routed by a router with the most specific covering route (the first
    /// such router, in node order); any other address has no node.
    pub fn addr(tailnet: &Tailnet, net: IpNet) -> Dst {
        if is_host(net)
            && let Some(i) = tailnet.node_by_ip(net.addr())
            && let Some(n) = tailnet.nodes.get(i)
        {
            return Dst {
                identity: Identity::of(n),
                node: Some(i),
                addr: Some(net),
            };
        }
        let router = subnet_routers(tailnet, net).first().copied().or_else(|| {
            is_internet(net)
                .then(|| tailnet.nodes.iter().position(TailnetNode::is_exit_node))
                .flatten()
        });
        Dst {
            identity: Identity::Anonymous,
            node: router,
            addr: Some(net),
        }
    }
}

impl Dst {
    /// An address as each node that could carry traffic to it sees it: a node's own
    /// address (one entry), else one entry per subnet router whose route covers it most
    /// specifically (clients route by the longest prefix; equal prefixes are HA routers), else
    /// (for the internet) one per exit node. Empty for an address nothing routes. The
    /// first entry is [`Dst::addr`]'s choice; the others matter for `via`, which lets
    /// traffic through some routers only.
    pub fn routes(tailnet: &Tailnet, net: IpNet) -> Vec<Dst> {
        let first = Dst::addr(tailnet, net);
        if first.node.is_none() || first.identity != Identity::Anonymous {
            return first.node.map(|_| first).into_iter().collect();
        }
        let mut routers = subnet_routers(tailnet, net);
        if routers.is_empty() && is_internet(net) {
            routers = tailnet
                .nodes
                .iter()
                .enumerate()
                .filter(|(_, n)| n.is_exit_node())
                .map(|(i, _)| i)
                .collect();
        }
        routers
            .into_iter()
            .map(|i| Dst {
                identity: Identity::Anonymous,
                node: Some(i),
                addr: Some(net),
            })
            .collect()
    }
}

/// Whether the prefix is a single address.
pub fn is_host(net: IpNet) -> bool {
    net.prefix_len() == net.max_prefix_len()
}

/// Selector matching against one policy and tailnet.
#[derive(Debug)]
pub struct Matcher<'a> {
    /// The policy (groups, hosts, ipsets).
    pub policy: &'a Policy,
    /// The tailnet.
    pub tailnet: &'a Tailnet,
    star: Vec<IpNet>,
    /// The policy's groups by name (the first of a name, as [`Policy::group`]).
    groups: HashMap<&'a str, &'a Group>,
}

const CHROMEOS_VM_RANGE: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 115, 92, 0), 23);

/// Tailscale's CGNAT range `100.64.0.0/10`.
pub const CGNAT: Ipv4Net = Ipv4Net::new_assert(Ipv4Addr::new(100, 64, 0, 0), 10);
/// Tailscale's ULA range `fd7a:115c:a1e0::/48`.
pub const TAILSCALE_ULA: Ipv6Net =
    Ipv6Net::new_assert(Ipv6Addr::new(0xfd7a, 0x115c, 0xa1e0, 0, 0, 0, 0, 0), 48);

/// Whether `net` lies in "the internet" of `autogroup:internet` (policy-spec §5.5).
pub fn is_internet(net: IpNet) -> bool {
    match net {
        IpNet::V4(n) => {
            let excluded = [
                Ipv4Net::new_assert(Ipv4Addr::new(10, 0, 0, 0), 8),
                CGNAT,
                Ipv4Net::new_assert(Ipv4Addr::new(169, 254, 0, 0), 16),
                Ipv4Net::new_assert(Ipv4Addr::new(172, 16, 0, 0), 12),
                Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
            ];
            !excluded.iter().any(|e| e.contains(&n) || n.contains(e))
        }
        IpNet::V6(n) => {
            Ipv6Net::new_assert(Ipv6Addr::new(0x2000, 0, 0, 0, 0, 0, 0, 0), 3).contains(&n)
        }
    }
}

impl<'a> Matcher<'a> {
    /// A matcher for `policy` over `tailnet`.
    pub fn new(policy: &'a Policy, tailnet: &'a Tailnet) -> Self {
        let mut star = vec![IpNet::V4(CGNAT), IpNet::V6(TAILSCALE_ULA)];
        for n in &tailnet.nodes {
            star.extend(n.subnet_routes().copied());
        }
        let mut groups = HashMap::new();
        for g in &policy.groups {
            groups.entry(g.name.value.as_str()).or_insert(g);
        }
        Matcher {
            policy,
            tailnet,
            star,
            groups,
        }
    }

    /// Whether `net` is inside what `*` means as a source: the tailnet's address ranges
    /// (without the ChromeOS VM range) and every approved subnet route.
    fn in_star(&self, net: IpNet) -> bool {
        if let IpNet::V4(n) = net
            && (CHROMEOS_VM_RANGE.contains(&n) || n.contains(&CHROMEOS_VM_RANGE))
        {
            return false;
        }
        self.star.iter().any(|s| s.contains(&net))
    }

    fn group_has(&self, group: &str, login: &str) -> bool {
        self.groups.get(group).is_some_and(|g| {
            g.members
                .iter()
                .any(|m| m.value.eq_ignore_ascii_case(login))
        })
    }

    /// Whether `identity` matches an identity selector (users, groups, tags,
    /// identity autogroups). Address selectors never match here.
    pub fn identity_matches(&self, alias: &Alias, identity: &Identity) -> bool {
        match (alias, identity) {
            (Alias::User(u), Identity::User(v)) => u.eq_ignore_ascii_case(v),
            (Alias::UserDomain(d), Identity::User(v)) => v
                .rsplit_once('@')
                .is_some_and(|(_, dom)| dom.eq_ignore_ascii_case(d)),
            (Alias::Group(g), Identity::User(v)) => self.group_has(g, v),
            (Alias::Tag(t), Identity::Tagged(tags)) => tags.iter().any(|x| x == t),
            (Alias::Autogroup(Autogroup::Member), Identity::User(v)) => {
                !self.tailnet.has_role(v, Autogroup::Shared)
            }
            (Alias::Autogroup(a), Identity::User(v)) if a.is_role() || *a == Autogroup::Shared => {
                self.tailnet.has_role(v, *a)
            }
            (Alias::Autogroup(Autogroup::Tagged), Identity::Tagged(_)) => true,
            _ => false,
        }
    }

    /// Whether the address selector `alias` covers all of `net`. `None` for selectors
    /// that are not addresses.
    pub fn addr_covers(&self, alias: &Alias, net: IpNet) -> Option<bool> {
        self.addr_covers_depth(alias, net, 0)
    }

    fn addr_covers_depth(&self, alias: &Alias, net: IpNet, depth: u8) -> Option<bool> {
        match alias {
            Alias::Addr(a) => Some(a.net.contains(&net)),
            Alias::Host(h) => Some(
                self.policy
                    .host(h)
                    .is_some_and(|h| h.addr.value.net.contains(&net)),
            ),
            Alias::Range(a, b) => Some(*a <= net.network() && net.broadcast() <= *b),
            Alias::IpSet(name) => Some(depth < 8 && self.ipset_covers(name, net, depth)),
            Alias::Autogroup(Autogroup::Internet) => Some(is_internet(net)),
            _ => None,
        }
    }

    /// Ipset membership: operations run in order, so an address is in the set when the
    /// last operation whose target covers it is an `add`.
    fn ipset_covers(&self, name: &str, net: IpNet, depth: u8) -> bool {
        let Some(set) = self.policy.ipset(name) else {
            return false;
        };
        let mut inside = false;
        for op in &set.ops {
            if self
                .addr_covers_depth(&op.value.target, net, depth + 1)
                .unwrap_or(false)
            {
                inside = op.value.add;
            }
        }
        inside
    }

    /// Whether the source selector `alias` matches `src`.
    pub fn src_matches(&self, alias: &Alias, src: &Src) -> bool {
        match alias {
            Alias::Wildcard => {
                src.identity != Identity::Anonymous
                    || (!src.nets.is_empty() && src.nets.iter().all(|n| self.in_star(*n)))
            }
            Alias::Autogroup(Autogroup::DangerAll) => true,
            _ if alias_is_address(alias) => {
                // A node may send from any of its addresses.
                src.nets
                    .iter()
                    .any(|n| self.addr_covers(alias, *n).unwrap_or(false))
            }
            _ => self.identity_matches(alias, &src.identity),
        }
    }

    /// Whether the destination selector `alias` matches `dst` for traffic from `src`
    /// (`src` matters for `autogroup:self`).
    pub fn dst_matches(&self, alias: &Alias, dst: &Dst, src: &Src) -> bool {
        let node = dst.node.and_then(|i| self.tailnet.nodes.get(i));
        // Identity selectors reach a node's own addresses only, never what it routes.
        let own = match (dst.addr, node) {
            (None, _) => true,
            (Some(a), Some(n)) => is_host(a) && n.owns(a.addr()),
            (Some(_), None) => false,
        };
        match alias {
            Alias::Wildcard => true,
            Alias::Autogroup(Autogroup::SelfDevices) => {
                own && matches!(
                    (&dst.identity, src.identity.user()),
                    (Identity::User(d), Some(s)) if d.eq_ignore_ascii_case(s)
                )
            }
            Alias::Autogroup(Autogroup::Internet) => match (dst.addr, node) {
                (Some(a), Some(n)) => n.is_exit_node() && is_internet(a),
                _ => false,
            },
            _ if alias_is_address(alias) => match (dst.addr, node) {
                (Some(a), _) => self.addr_covers(alias, a).unwrap_or(false),
                (None, Some(n)) => n
                    .addrs
                    .iter()
                    .any(|a| self.addr_covers(alias, IpNet::from(*a)).unwrap_or(false)),
                (None, None) => false,
            },
            _ => own && self.identity_matches(alias, &dst.identity),
        }
    }
}

/// Whether the selector names addresses rather than identities.
pub fn alias_is_address(alias: &Alias) -> bool {
    matches!(
        alias,
        Alias::Addr(_)
            | Alias::Host(_)
            | Alias::Range(..)
            | Alias::IpSet(_)
            | Alias::Autogroup(Autogroup::Internet)
    )
}

/// The subnet routers that carry `net`: those whose covering route has the longest prefix
/// (a client sends to the most specific route), in node order.
fn subnet_routers(tailnet: &Tailnet, net: IpNet) -> Vec<usize> {
    let best = |n: &TailnetNode| {
        n.subnet_routes()
            .filter(|r| r.contains(&net))
            .map(IpNet::prefix_len)
            .max()
    };
    let longest = tailnet.nodes.iter().filter_map(best).max();
    tailnet
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| longest.is_some() && best(n) == longest)
        .map(|(i, _)| i)
        .collect()
}
