//! Reachability questions over the reference evaluator: what a source can reach, who
//! can reach a destination, and the endpoints a selector names.

use super::access::{Evaluator, is_icmp, via_allows};
use super::classes::dst_points;
use super::rules::DstAtom;
use super::select::{Dst, Identity, Src, alias_is_address, is_host, is_internet};
use super::tailnet::Tailnet;
use ipnet::{IpNet, Ipv4Net};
use tailpolicy_policy::model::{Alias, Autogroup, Origin, PortRange, Proto};

/// Something traffic goes to or comes from, as reported.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Endpoint {
    /// A node of the tailnet (index into [`Tailnet::nodes`]).
    Node(usize),
    /// Addresses named by a rule that are not a node's own: a subnet behind a router,
    /// the internet through an exit node, or sources outside the tailnet. The text is
    /// the selector as written in the policy.
    Addrs(String),
}

/// One kind of access: an endpoint, a protocol choice and a port range, with the rules
/// that grant it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Access {
    /// The other end (the destination for [`reachable_from`], the source for
    /// [`reaching`]).
    pub endpoint: Endpoint,
    /// The protocol; `None` is the default set (TCP, UDP, ICMPv4, ICMPv6).
    pub proto: Option<Proto>,
    /// The ports.
    pub ports: PortRange,
    /// The rules granting it, in compilation order.
    pub rules: Vec<Origin>,
}

fn add(out: &mut Vec<Access>, endpoint: Endpoint, atom: &DstAtom, origin: Origin) {
    if let Some(a) = out
        .iter_mut()
        .find(|a| a.endpoint == endpoint && a.proto == atom.proto && a.ports == atom.ports)
    {
        if !a.rules.contains(&origin) {
            a.rules.push(origin);
        }
        return;
    }
    out.push(Access {
        endpoint,
        proto: atom.proto,
        ports: atom.ports,
        rules: vec![origin],
    });
}

/// Whether an address destination names something beyond nodes' own addresses
/// (a subnet, the internet, or an address outside the tailnet).
fn names_more_than_nodes(ev: &Evaluator<'_>, alias: &Alias) -> bool {
    let m = ev.matcher();
    match alias {
        Alias::Autogroup(Autogroup::Internet) => true,
        Alias::Addr(a) => !is_host(a.net) || m.tailnet.node_by_ip(a.net.addr()).is_none(),
        Alias::Host(h) => m.policy.host(h).is_some_and(|h| {
            !is_host(h.addr.value.net) || m.tailnet.node_by_ip(h.addr.value.net.addr()).is_none()
        }),
        _ => alias_is_address(alias),
    }
}

/// Everything `src` can reach: every node (at any of its addresses) and every
/// non-node address selector (subnets, internet) whose rule lets `src` in, per
/// protocol and port range.
pub fn reachable_from(ev: &Evaluator<'_>, src: &Src) -> Vec<Access> {
    let m = ev.matcher();
    let tailnet = m.tailnet;
    let mut out = Vec::new();
    for rule in ev.rules() {
        if !ev.src_admitted(rule, src) {
            continue;
        }
        for atom in &rule.dst {
            for i in 0..tailnet.nodes.len() {
                if let Some(d) = Dst::node(tailnet, i)
                    && ev.atom_matches(rule, atom, &d, src)
                {
                    add(&mut out, Endpoint::Node(i), atom, rule.origin);
                }
            }
            let internet = matches!(
                atom.alias,
                Alias::Autogroup(Autogroup::Internet) | Alias::Wildcard
            );
            if internet {
                // The internet, through each exit node that lets it through (`*` and
                // `autogroup:internet` are on every exit node's filter; `via` picks).
                for (i, n) in tailnet.nodes.iter().enumerate() {
                    let through = Dst {
                        identity: Identity::Anonymous,
                        node: Some(i),
                        addr: Some(IpNet::V4(Ipv4Net::default())),
                    };
                    if n.is_exit_node() && via_allows(tailnet, &rule.via, &atom.alias, &through) {
                        let e = Endpoint::Addrs(format!("autogroup:internet via {}", n.name));
                        add(&mut out, e, atom, rule.origin);
                    }
                }
            } else if names_more_than_nodes(ev, &atom.alias) {
                add(
                    &mut out,
                    Endpoint::Addrs(atom.alias.to_string()),
                    atom,
                    rule.origin,
                );
            }
            if atom.alias == Alias::Wildcard {
                add(&mut out, Endpoint::Addrs("*".to_owned()), atom, rule.origin);
            }
        }
    }
    out
}

/// Everyone who can reach `dst`: every node (sending from its own addresses) and
/// every non-node source selector (addresses, `*` for subnets behind routers) whose
/// rule reaches `dst`, per protocol and port range.
pub fn reaching(ev: &Evaluator<'_>, dst: &Dst) -> Vec<Access> {
    let m = ev.matcher();
    let tailnet = m.tailnet;
    let mut out = Vec::new();
    let srcs: Vec<Src> = (0..tailnet.nodes.len())
        .filter_map(|i| Src::node(tailnet, i))
        .collect();
    for rule in ev.rules() {
        for atom in &rule.dst {
            for (i, s) in srcs.iter().enumerate() {
                if ev.src_admitted(rule, s) && ev.atom_matches(rule, atom, dst, s) {
                    add(&mut out, Endpoint::Node(i), atom, rule.origin);
                }
            }
            // Address sources and `*` also stand for senders that are not nodes.
            let anon = Src {
                identity: Identity::Anonymous,
                node: None,
                nets: Vec::new(),
                posture: None,
            };
            if ev.atom_matches(rule, atom, dst, &anon) {
                for s in &rule.src {
                    let literal = alias_is_address(&s.value)
                        || matches!(
                            s.value,
                            Alias::Wildcard | Alias::Autogroup(Autogroup::DangerAll)
                        );
                    if literal && !matches!(s.value, Alias::Autogroup(Autogroup::Internet)) {
                        add(
                            &mut out,
                            Endpoint::Addrs(s.value.to_string()),
                            atom,
                            rule.origin,
                        );
                    }
                }
            }
        }
    }
    out
}

/// A tag set as the folded answers name it (`tag:a+tag:b`): its tags, when `sel` is one.
fn tag_set(sel: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = sel.split('+').map(str::trim).collect();
    (parts.len() > 1 && parts.iter().all(|p| p.len() > 4 && p.starts_with("tag:"))).then_some(parts)
}

/// Whether a node's tags are exactly `set` (in any order).
fn same_tags(tags: &[String], set: &[&str]) -> bool {
    tags.len() == set.len() && set.iter().all(|s| tags.iter().any(|t| t == s))
}

/// Sources a selector (or node name) names: a node by name, the devices of a user,
/// group or tag (or the identity alone when it has none), the devices carrying exactly a
/// tag set as the folded answers name it (`tag:a+tag:b`), an address.
pub fn resolve_sources(ev: &Evaluator<'_>, sel: &str) -> Result<Vec<Src>, String> {
    let m = ev.matcher();
    let t = m.tailnet;
    if let Some(i) = t.node_by_name(sel) {
        return Src::node(t, i)
            .map(|s| vec![s])
            .ok_or_else(|| format!("no node `{sel}`"));
    }
    if let Some(set) = tag_set(sel) {
        let srcs: Vec<Src> = (0..t.nodes.len())
            .filter(|i| t.nodes.get(*i).is_some_and(|n| same_tags(&n.tags, &set)))
            .filter_map(|i| Src::node(t, i))
            .collect();
        if srcs.is_empty() {
            return Err(format!("no node carries exactly the tags `{sel}`"));
        }
        return Ok(srcs);
    }
    let alias = Alias::parse(sel, false).map_err(|e| format!("`{sel}`: {e}"))?;
    let nodes = |f: &dyn Fn(usize) -> bool| -> Vec<Src> {
        (0..t.nodes.len())
            .filter(|i| f(*i))
            .filter_map(|i| Src::node(t, i))
            .collect()
    };
    let with_identity = |mut v: Vec<Src>, id: Identity| {
        if v.is_empty() {
            v.push(Src {
                identity: id,
                node: None,
                nets: Vec::new(),
                posture: None,
            });
        }
        v
    };
    Ok(match &alias {
        Alias::Addr(a) => vec![Src::addr(t, a.net)],
        Alias::Host(h) => {
            let host = m
                .policy
                .host(h)
                .ok_or_else(|| format!("host `{h}` is not defined"))?;
            vec![Src::addr(t, host.addr.value.net)]
        }
        Alias::User(u) => {
            if !t.has_user(u) {
                return Err(format!("`{u}` is not a user of the tailnet"));
            }
            with_identity(
                nodes(&|i| {
                    t.nodes
                        .get(i)
                        .and_then(|n| n.owner())
                        .is_some_and(|o| o.eq_ignore_ascii_case(u))
                }),
                Identity::User(u.clone()),
            )
        }
        Alias::Tag(tag) => with_identity(
            nodes(&|i| t.nodes.get(i).is_some_and(|n| n.tags.contains(tag))),
            Identity::Tagged(vec![tag.clone()]),
        ),
        Alias::Wildcard => nodes(&|_| true),
        other => {
            let probe = other.clone();
            nodes(&|i| Src::node(t, i).is_some_and(|s| m.src_matches(&probe, &s)))
        }
    })
}

/// Destinations a selector (or node name) names: nodes as wholes (by name, user, tag or
/// a tag set as the folded answers name it, `tag:a+tag:b`), or an address (a node's own,
/// a subnet address, an internet address through an exit node).
pub fn resolve_destinations(ev: &Evaluator<'_>, sel: &str) -> Result<Vec<Dst>, String> {
    let m = ev.matcher();
    let t = m.tailnet;
    if let Some(i) = t.node_by_name(sel) {
        return Dst::node(t, i)
            .map(|d| vec![d])
            .ok_or_else(|| format!("no node `{sel}`"));
    }
    if let Some(set) = tag_set(sel) {
        let dsts: Vec<Dst> = (0..t.nodes.len())
            .filter(|i| t.nodes.get(*i).is_some_and(|n| same_tags(&n.tags, &set)))
            .filter_map(|i| Dst::node(t, i))
            .collect();
        if dsts.is_empty() {
            return Err(format!("no node carries exactly the tags `{sel}`"));
        }
        return Ok(dsts);
    }
    let alias = Alias::parse(sel, false).map_err(|e| format!("`{sel}`: {e}"))?;
    let nodes = |f: &dyn Fn(&super::tailnet::TailnetNode) -> bool| -> Vec<Dst> {
        t.nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| f(n))
            .filter_map(|(i, _)| Dst::node(t, i))
            .collect()
    };
    Ok(match &alias {
        Alias::Addr(a) => routed(t, a.net),
        Alias::Host(h) => {
            let host = m
                .policy
                .host(h)
                .ok_or_else(|| format!("host `{h}` is not defined"))?;
            routed(t, host.addr.value.net)
        }
        Alias::User(u) => {
            if !t.has_user(u) {
                return Err(format!("`{u}` is not a user of the tailnet"));
            }
            nodes(&|n| n.owner().is_some_and(|o| o.eq_ignore_ascii_case(u)))
        }
        Alias::Autogroup(Autogroup::Internet) => {
            return Err(
                "name an internet address (e.g. `1.1.1.1`) instead of `autogroup:internet`"
                    .to_owned(),
            );
        }
        Alias::Autogroup(Autogroup::SelfDevices) => {
            return Err("`autogroup:self` depends on the source: name a user or node".to_owned());
        }
        Alias::Wildcard => nodes(&|_| true),
        other => {
            let probe = other.clone();
            let anon = Src {
                identity: Identity::Anonymous,
                node: None,
                nets: Vec::new(),
                posture: None,
            };
            (0..t.nodes.len())
                .filter_map(|i| Dst::node(t, i))
                .filter(|d| m.dst_matches(&probe, d, &anon))
                .collect()
        }
    })
}

/// A human name for a source point.
pub fn src_name(tailnet: &Tailnet, src: &Src) -> String {
    match src.node.and_then(|i| tailnet.nodes.get(i)) {
        Some(n) => n.name.clone(),
        None => match &src.identity {
            Identity::User(u) => u.clone(),
            Identity::Tagged(t) => t.join(","),
            Identity::Anonymous => src.nets.first().map_or_else(String::new, IpNet::to_string),
        },
    }
}

/// An address as a destination: one entry per node that could carry traffic to it (with
/// `via`, some routers may be allowed and others not), or the bare address when nothing
/// routes it.
fn routed(t: &Tailnet, net: IpNet) -> Vec<Dst> {
    let all = Dst::routes(t, net);
    if all.is_empty() {
        vec![Dst::addr(t, net)]
    } else {
        all
    }
}

/// A human name for a destination point: a node's name, `ADDR via ROUTER`, or the
/// address.
pub fn dst_name(tailnet: &Tailnet, dst: &Dst) -> String {
    match (dst.node.and_then(|i| tailnet.nodes.get(i)), dst.addr) {
        (Some(n), None) => n.name.clone(),
        (Some(n), Some(a)) if n.owns(a.addr()) && is_host(a) => n.name.clone(),
        (Some(n), Some(a)) => format!("{a} via {}", n.name),
        (None, Some(a)) => a.to_string(),
        (None, None) => match &dst.identity {
            Identity::User(u) => u.clone(),
            Identity::Tagged(t) => t.join(","),
            Identity::Anonymous => String::new(),
        },
    }
}

/// Every (protocol, ports) on which `src` may reach `dst`, with the rules.
pub fn pair_access(ev: &Evaluator<'_>, src: &Src, dst: &Dst) -> Vec<Access> {
    let m = ev.matcher();
    let endpoint = match dst.node {
        Some(i) if dst.addr.is_none() => Endpoint::Node(i),
        _ => Endpoint::Addrs(dst_name(m.tailnet, dst)),
    };
    let mut out = Vec::new();
    for rule in ev.rules() {
        if !ev.src_admitted(rule, src) {
            continue;
        }
        for atom in &rule.dst {
            if ev.atom_matches(rule, atom, dst, src) {
                add(&mut out, endpoint.clone(), atom, rule.origin);
            }
        }
    }
    out
}

impl Access {
    /// Whether this access covers `proto` (and `port`, for protocols with ports).
    /// As the client's filter decides (policy-spec §5.12): ICMP is covered by any
    /// access; other protocols without ports need an access on every port.
    pub fn covers(&self, proto: Proto, port: Option<u16>) -> bool {
        if is_icmp(proto) {
            return true;
        }
        let p = match self.proto {
            Some(p) => p == proto,
            None => Proto::DEFAULT_SET.contains(&proto),
        };
        p && if proto.has_ports() {
            port.is_none_or(|x| self.ports.contains(x))
        } else {
            self.ports == PortRange::ALL
        }
    }
}

/// Access to the internet through one exit node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InternetAccess {
    /// The exit node (index into [`Tailnet::nodes`]).
    pub exit: usize,
    /// The access; its endpoint is the source (for [`reaching_internet`]) or
    /// `autogroup:internet` (for [`internet_from`]).
    pub access: Access,
    /// The parts of the internet it covers, as address ranges; empty when it covers
    /// all of it (every part the policy's selectors cut it into).
    pub parts: Vec<String>,
}

/// The internet of `autogroup:internet` as destinations: for every exit node, one per
/// part that the policy's address selectors cut the internet into (parts a subnet route
/// covers go to that router instead). Each with its exit node and its range as text.
pub fn internet_destinations(ev: &Evaluator<'_>) -> Vec<(usize, String, Dst)> {
    let m = ev.matcher();
    let t = m.tailnet;
    dst_points(&[m.policy], t)
        .into_iter()
        .filter_map(|p| {
            let i = p.dst.node?;
            let n = t.nodes.get(i)?;
            let a = p.dst.addr?;
            (p.dst.identity == Identity::Anonymous
                && n.is_exit_node()
                && is_internet(a)
                && !n.subnet_routes().any(|r| r.contains(&a)))
            .then_some((i, p.principal, p.dst))
        })
        .collect()
}

/// Gathers per-part answers into per-exit-node ones: the same access (endpoint,
/// protocol, ports, rules) through the same exit node is one entry with the parts it
/// holds for, none when it holds for all.
fn gather(
    parts: Vec<(usize, String, Dst)>,
    answer: impl Fn(&Dst) -> Vec<Access>,
) -> Vec<InternetAccess> {
    let mut total: Vec<(usize, usize)> = Vec::new();
    let mut out: Vec<InternetAccess> = Vec::new();
    for (exit, part, dst) in parts {
        match total.iter_mut().find(|(e, _)| *e == exit) {
            Some((_, n)) => *n += 1,
            None => total.push((exit, 1)),
        }
        for a in answer(&dst) {
            match out.iter_mut().find(|x| x.exit == exit && x.access == a) {
                Some(x) => x.parts.push(part.clone()),
                None => out.push(InternetAccess {
                    exit,
                    access: a,
                    parts: vec![part.clone()],
                }),
            }
        }
    }
    for x in &mut out {
        if total
            .iter()
            .any(|(e, n)| *e == x.exit && *n == x.parts.len())
        {
            x.parts.clear();
        }
    }
    out
}

/// Everyone who can reach the internet, through which exit node and by which rules.
pub fn reaching_internet(ev: &Evaluator<'_>) -> Vec<InternetAccess> {
    gather(internet_destinations(ev), |d| reaching(ev, d))
}

/// How `src` can reach the internet: through which exit nodes, on what, by which rules.
pub fn internet_from(ev: &Evaluator<'_>, src: &Src) -> Vec<InternetAccess> {
    gather(internet_destinations(ev), |d| {
        pair_access(ev, src, d)
            .into_iter()
            .map(|mut a| {
                a.endpoint = Endpoint::Addrs("autogroup:internet".to_owned());
                a
            })
            .collect()
    })
}
