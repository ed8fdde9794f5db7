//! Endpoints of a tailnet for whole-tailnet questions (matrix, diff), and their grouping
//! into classes that every rule treats alike.
//!
//! Endpoints are each node address (sources and destinations) plus address regions
//! that policies name and that are not node addresses: subnets behind routers and the
//! internet through exit nodes (destinations), addresses behind routers or named by
//! address selectors (sources). Regions are the elementary intervals cut by every
//! address the policies mention, so every selector treats a region as one.

use super::access::Evaluator;
use super::select::{CGNAT, Dst, Identity, Src, TAILSCALE_ULA, is_internet};
use super::tailnet::Tailnet;
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tailpolicy_policy::model::{Alias, Autogroup, Policy};

/// Who an endpoint belongs to, for grouping output: a user, a tag set, or an address
/// region.
pub fn principal(identity: &Identity, region: Option<&str>) -> String {
    match identity {
        Identity::User(u) => u.clone(),
        Identity::Tagged(t) => t.join("+"),
        Identity::Anonymous => region.unwrap_or("(address)").to_owned(),
    }
}

/// A source endpoint.
#[derive(Clone, Debug)]
pub struct SrcPoint {
    /// Display name: `node (address)` or the region.
    pub name: String,
    /// The principal it belongs to.
    pub principal: String,
    /// The evaluator's source.
    pub src: Src,
    /// For an address region (not a node's own address): its range.
    pub region: Option<Range>,
}

/// A destination endpoint.
#[derive(Clone, Debug)]
pub struct DstPoint {
    /// Display name: `node (address)`, or `region via router`.
    pub name: String,
    /// The principal it belongs to (for regions: the region).
    pub principal: String,
    /// The evaluator's destination.
    pub dst: Dst,
    /// For an address region behind a router or exit node: its range.
    pub region: Option<Range>,
}

fn net_of(first: u128, v4: bool) -> IpNet {
    if v4 {
        IpNet::V4(Ipv4Net::from(Ipv4Addr::from(
            u32::try_from(first).unwrap_or(0),
        )))
    } else {
        IpNet::V6(Ipv6Net::from(Ipv6Addr::from(first)))
    }
}

/// The inclusive range of a prefix.
pub fn bounds(net: &IpNet) -> (bool, u128, u128) {
    match net {
        IpNet::V4(n) => (
            true,
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (false, u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// An address as (is IPv4, number).
pub fn ip_u128(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (true, u128::from(u32::from(a))),
        IpAddr::V6(a) => (false, u128::from(a)),
    }
}

/// `a-b`, or the CIDR when the interval is one.
pub fn interval_text(v4: bool, first: u128, last: u128) -> String {
    let ip = |x: u128| -> IpAddr {
        if v4 {
            IpAddr::V4(Ipv4Addr::from(u32::try_from(x).unwrap_or(0)))
        } else {
            IpAddr::V6(Ipv6Addr::from(x))
        }
    };
    let size = last.wrapping_sub(first).wrapping_add(1);
    if size.is_power_of_two() && first.is_multiple_of(size) {
        let bits = if v4 { 32 } else { 128 };
        let len = bits - size.trailing_zeros();
        if let Ok(n) = IpNet::new(ip(first), u8::try_from(len).unwrap_or(0)) {
            return n.to_string();
        }
    } else if size == 0 {
        return if v4 {
            "0.0.0.0/0".to_owned()
        } else {
            "::/0".to_owned()
        };
    }
    format!("{}-{}", ip(first), ip(last))
}

/// An inclusive address range: (is IPv4, first, last).
pub type Range = (bool, u128, u128);

/// Address ranges the selectors of `policy` name (sources or destinations).
fn literal_ranges(policy: &Policy, alias: &Alias, out: &mut Vec<Range>, depth: u8) {
    match alias {
        Alias::Addr(a) => out.push(bounds(&a.net)),
        Alias::Host(h) => {
            if let Some(h) = policy.host(h) {
                out.push(bounds(&h.addr.value.net));
            }
        }
        Alias::Range(a, b) => {
            let ((fa, x), (fb, y)) = (ip_u128(*a), ip_u128(*b));
            if fa == fb {
                out.push((fa, x, y));
            }
        }
        Alias::IpSet(name) if depth < 8 => {
            if let Some(set) = policy.ipset(name) {
                for op in &set.ops {
                    literal_ranges(policy, &op.value.target, out, depth + 1);
                }
            }
        }
        _ => {}
    }
}

/// The internet of `autogroup:internet` as prefixes.
fn internet_prefixes() -> Vec<IpNet> {
    let mut v: Vec<IpNet> = [
        "0.0.0.0/5",
        "8.0.0.0/7",
        "11.0.0.0/8",
        "12.0.0.0/6",
        "16.0.0.0/4",
        "32.0.0.0/3",
        "64.0.0.0/3",
        "96.0.0.0/6",
        "100.0.0.0/10",
        "100.128.0.0/9",
        "101.0.0.0/8",
        "102.0.0.0/7",
        "104.0.0.0/5",
        "112.0.0.0/4",
        "128.0.0.0/3",
        "160.0.0.0/5",
        "168.0.0.0/8",
        "169.0.0.0/9",
        "169.128.0.0/10",
        "169.192.0.0/11",
        "169.224.0.0/12",
        "169.240.0.0/13",
        "169.248.0.0/14",
        "169.252.0.0/15",
        "169.255.0.0/16",
        "170.0.0.0/7",
        "172.0.0.0/12",
        "172.32.0.0/11",
        "172.64.0.0/10",
        "172.128.0.0/9",
        "173.0.0.0/8",
        "174.0.0.0/7",
        "176.0.0.0/4",
        "192.0.0.0/9",
        "192.128.0.0/11",
        "192.160.0.0/13",
        "192.169.0.0/16",
        "192.170.0.0/15",
        "192.172.0.0/14",
        "192.176.0.0/12",
        "192.192.0.0/10",
        "193.0.0.0/8",
        "194.0.0.0/7",
        "196.0.0.0/6",
        "200.0.0.0/5",
        "208.0.0.0/4",
        "224.0.0.0/3",
        "2000::/3",
    ]
    .iter()
    .filter_map(|s| s.parse().ok())
    .collect();
    v.retain(|n| is_internet(*n));
    v
}

/// Cuts the address space at every range boundary and node address; returns the
/// elementary intervals inside at least one range, minus node addresses and the
/// tailnet's own ranges.
fn regions(ranges: &[Range], tailnet: &Tailnet) -> Vec<(bool, u128, u128)> {
    let mut out = Vec::new();
    for v4 in [true, false] {
        let rs: Vec<(u128, u128)> = ranges
            .iter()
            .filter(|(f, _, _)| *f == v4)
            .map(|(_, a, b)| (*a, *b))
            .collect();
        if rs.is_empty() {
            continue;
        }
        let mut cuts: Vec<u128> = Vec::new();
        for (a, b) in &rs {
            cuts.push(*a);
            if let Some(n) = b.checked_add(1) {
                cuts.push(n);
            }
        }
        for n in &tailnet.nodes {
            for ip in &n.addrs {
                let (f, x) = ip_u128(*ip);
                if f == v4 {
                    cuts.push(x);
                    cuts.push(x.saturating_add(1));
                }
            }
        }
        cuts.sort_unstable();
        cuts.dedup();
        let max: u128 = if v4 { u128::from(u32::MAX) } else { u128::MAX };
        for (i, start) in cuts.iter().enumerate() {
            let end = cuts.get(i + 1).map_or(max, |n| n - 1);
            if end < *start || *start > max {
                continue;
            }
            if !rs.iter().any(|(a, b)| a <= start && end <= *b) {
                continue;
            }
            let rep = net_of(*start, v4);
            if tailnet.node_by_ip(rep.addr()).is_some() && *start == end {
                continue;
            }
            let own = match rep {
                IpNet::V4(n) => CGNAT.contains(&n),
                IpNet::V6(n) => TAILSCALE_ULA.contains(&n),
            };
            if own {
                continue;
            }
            out.push((v4, *start, end));
        }
    }
    out
}

/// Every source endpoint for the given policies over `tailnet`.
pub fn src_points(policies: &[&Policy], tailnet: &Tailnet) -> Vec<SrcPoint> {
    let mut out = Vec::new();
    for n in &tailnet.nodes {
        for ip in &n.addrs {
            let src = Src::addr(tailnet, IpNet::from(*ip));
            out.push(SrcPoint {
                name: format!("{} ({ip})", n.name),
                principal: principal(&src.identity, None),
                src,
                region: None,
            });
        }
    }
    let mut ranges: Vec<Range> = tailnet
        .nodes
        .iter()
        .flat_map(|n| n.subnet_routes().map(bounds))
        .collect();
    for p in policies {
        let rules = super::rules::net_rules(p);
        for r in &rules {
            for s in &r.src {
                literal_ranges(p, &s.value, &mut ranges, 0);
            }
        }
        for r in p.ssh.iter().flatten() {
            for s in &r.src {
                literal_ranges(p, &s.value, &mut ranges, 0);
            }
        }
    }
    for (v4, a, b) in regions(&ranges, tailnet) {
        let text = interval_text(v4, a, b);
        let src = Src {
            identity: Identity::Anonymous,
            node: None,
            nets: vec![net_of(a, v4)],
            posture: None,
        };
        out.push(SrcPoint {
            name: text.clone(),
            principal: text,
            src,
            region: Some((v4, a, b)),
        });
    }
    out
}

/// Every destination endpoint for the given policies over `tailnet`: node addresses,
/// and regions that some router or exit node serves.
pub fn dst_points(policies: &[&Policy], tailnet: &Tailnet) -> Vec<DstPoint> {
    let mut out = Vec::new();
    for n in &tailnet.nodes {
        for ip in &n.addrs {
            let dst = Dst::addr(tailnet, IpNet::from(*ip));
            out.push(DstPoint {
                name: format!("{} ({ip})", n.name),
                principal: principal(&dst.identity, None),
                dst,
                region: None,
            });
        }
    }
    let mut ranges: Vec<Range> = tailnet
        .nodes
        .iter()
        .flat_map(|n| n.subnet_routes().map(bounds))
        .collect();
    let mut internet = false;
    for p in policies {
        for r in &super::rules::net_rules(p) {
            for a in &r.dst {
                if a.alias == Alias::Autogroup(Autogroup::Internet) {
                    internet = true;
                }
                literal_ranges(p, &a.alias, &mut ranges, 0);
            }
        }
    }
    if internet || tailnet.nodes.iter().any(|n| n.is_exit_node()) {
        ranges.extend(internet_prefixes().iter().map(bounds));
    }
    for (v4, a, b) in regions(&ranges, tailnet) {
        // One endpoint per router or exit node that carries it (`via` can tell them
        // apart).
        for dst in Dst::routes(tailnet, net_of(a, v4)) {
            let Some(router) = dst.node.and_then(|i| tailnet.nodes.get(i)) else {
                continue;
            };
            let text = interval_text(v4, a, b);
            out.push(DstPoint {
                name: format!("{text} via {}", router.name),
                principal: text,
                dst,
                region: Some((v4, a, b)),
            });
        }
    }
    out
}

/// A packed bit set (bit `i` in word `i / 64`): a signature as long as the policies
/// have rules, kept small.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Bits(Vec<u64>);

impl Bits {
    /// Packs `bits`.
    pub fn from_bools(bits: &[bool]) -> Bits {
        let mut words = vec![0u64; bits.len().div_ceil(64)];
        for (i, x) in bits.iter().enumerate() {
            if *x && let Some(w) = words.get_mut(i / 64) {
                *w |= 1 << (i % 64);
            }
        }
        Bits(words)
    }

    /// Whether bit `i` is set (false beyond the end).
    pub fn has(&self, i: usize) -> bool {
        self.0.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Whether some bit is set.
    pub fn any(&self) -> bool {
        self.0.iter().any(|w| *w != 0)
    }

    /// The set bits, in order.
    pub fn ones(&self) -> impl Iterator<Item = usize> + '_ {
        self.0.iter().enumerate().flat_map(|(wi, w)| {
            let mut x = *w;
            std::iter::from_fn(move || {
                if x == 0 {
                    return None;
                }
                let b = x.trailing_zeros() as usize;
                x &= x - 1;
                Some(wi * 64 + b)
            })
        })
    }
}

/// Groups points whose signatures are equal. Returns (signature order) class members.
pub fn classify<K: std::hash::Hash + Eq + Clone>(keys: &[K]) -> Vec<Vec<usize>> {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut classes: Vec<Vec<usize>> = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        match index.get(k) {
            Some(c) => {
                if let Some(v) = classes.get_mut(*c) {
                    v.push(i);
                }
            }
            None => {
                index.insert(k.clone(), classes.len());
                classes.push(vec![i]);
            }
        }
    }
    classes
}

/// The signature of a source under some evaluators: which network rules' sources match it,
/// and its user (for `autogroup:self`).
pub fn src_signature(evs: &[&Evaluator<'_>], src: &Src) -> (Vec<bool>, Option<String>) {
    let mut bits = Vec::new();
    for ev in evs {
        for r in ev.rules() {
            bits.push(ev.src_admitted(r, src));
        }
    }
    let user = match &src.identity {
        Identity::User(u) => Some(u.to_ascii_lowercase()),
        _ => None,
    };
    (bits, user)
}

/// The signature of a destination: which destination atoms match it (for a source
/// that is nobody, i.e. without `autogroup:self`), and the owner of a user's own
/// address (for `autogroup:self`).
pub fn dst_signature(evs: &[&Evaluator<'_>], dst: &Dst) -> (Vec<bool>, Option<String>) {
    let nobody = Src {
        identity: Identity::Anonymous,
        node: None,
        nets: Vec::new(),
        posture: None,
    };
    let mut bits = Vec::new();
    for ev in evs {
        for r in ev.rules() {
            for a in &r.dst {
                bits.push(ev.atom_matches(r, a, dst, &nobody));
            }
        }
    }
    let owner = match (&dst.identity, dst.addr, dst.node) {
        (Identity::User(u), _, Some(_)) => Some(u.to_ascii_lowercase()),
        _ => None,
    };
    (bits, owner)
}

/// Computes signatures with the identity part shared by every endpoint of the same
/// identity: only address-like selectors are matched per endpoint. Equal to
/// [`src_signature`] / [`dst_signature`], much faster on large tailnets.
#[derive(Debug)]
pub struct Signer<'e, 'a> {
    evs: &'e [&'e Evaluator<'a>],
    src_cache: HashMap<Identity, Vec<bool>>,
    dst_cache: HashMap<Identity, Vec<bool>>,
    /// Rules with a source selector that is not identity-only: (bit, evaluator, rule).
    src_addr: Vec<(usize, usize, usize)>,
    /// Destinations that are not identity-only: (bit, evaluator, rule, destination).
    dst_addr: Vec<(usize, usize, usize, usize)>,
    /// Number of destination bits.
    dst_len: usize,
    /// Some rule is gated by a device posture (its own or `defaultSrcPosture`).
    gated: bool,
    /// The distinct identity-only selectors, with the evaluator whose policy gives
    /// them their meaning: an identity is matched against each once, not once per
    /// rule or destination naming it.
    aliases: Vec<(usize, Alias)>,
    /// Per source bit (rule): the ids (into `aliases`) of its identity-only sources.
    src_aliases: Vec<Vec<usize>>,
    /// Per destination bit: the id of its selector when identity-only.
    dst_alias: Vec<Option<usize>>,
    /// Per entry of `dst_addr`: the id of its (evaluator, selector, `via`) among the
    /// distinct ones, each matched once per endpoint.
    dst_addr_key: Vec<usize>,
    /// The distinct (evaluator, rule, destination) representatives of those ids.
    dst_addr_reps: Vec<(usize, usize, usize)>,
}

/// Whether a selector's match depends only on identity.
fn identity_only(alias: &Alias) -> bool {
    alias.is_identity() && !matches!(alias, Alias::Autogroup(Autogroup::SelfDevices))
}

impl<'e, 'a> Signer<'e, 'a> {
    /// A signer for these evaluators.
    pub fn new(evs: &'e [&'e Evaluator<'a>]) -> Self {
        let (mut src_addr, mut dst_addr) = (Vec::new(), Vec::new());
        let (mut k, mut d) = (0, 0);
        let mut ids: HashMap<(usize, &Alias), usize> = HashMap::new();
        let mut aliases: Vec<(usize, Alias)> = Vec::new();
        let mut intern = |e: usize, a: &'e Alias| {
            *ids.entry((e, a)).or_insert_with(|| {
                aliases.push((e, a.clone()));
                aliases.len() - 1
            })
        };
        let (mut src_aliases, mut dst_alias) = (Vec::new(), Vec::new());
        for (e, ev) in evs.iter().enumerate() {
            for (ri, r) in ev.rules().iter().enumerate() {
                if r.src.iter().any(|s| !identity_only(&s.value)) {
                    src_addr.push((k, e, ri));
                }
                src_aliases.push(
                    r.src
                        .iter()
                        .filter(|s| identity_only(&s.value))
                        .map(|s| intern(e, &s.value))
                        .collect(),
                );
                k += 1;
                for (j, a) in r.dst.iter().enumerate() {
                    if identity_only(&a.alias) {
                        dst_alias.push(Some(intern(e, &a.alias)));
                    } else {
                        dst_addr.push((d, e, ri, j));
                        dst_alias.push(None);
                    }
                    d += 1;
                }
            }
        }
        let gated = evs.iter().any(|ev| {
            !ev.matcher().policy.default_src_posture.is_empty()
                || ev.rules().iter().any(|r| !r.src_posture.is_empty())
        });
        let mut keys: HashMap<(usize, &Alias, &[String]), usize> = HashMap::new();
        let (mut dst_addr_key, mut dst_addr_reps) = (Vec::new(), Vec::new());
        for &(_, e, ri, j) in &dst_addr {
            let Some(r) = evs.get(e).and_then(|ev| ev.rules().get(ri)) else {
                dst_addr_key.push(usize::MAX);
                continue;
            };
            let Some(a) = r.dst.get(j) else {
                dst_addr_key.push(usize::MAX);
                continue;
            };
            let id = *keys
                .entry((e, &a.alias, r.via.as_slice()))
                .or_insert_with(|| {
                    dst_addr_reps.push((e, ri, j));
                    dst_addr_reps.len() - 1
                });
            dst_addr_key.push(id);
        }
        Signer {
            dst_addr_key,
            dst_addr_reps,
            evs,
            src_cache: HashMap::new(),
            dst_cache: HashMap::new(),
            src_addr,
            dst_addr,
            dst_len: d,
            gated,
            aliases,
            src_aliases,
            dst_alias,
        }
    }

    /// Whether each distinct identity-only selector matches `identity`.
    fn alias_hits(&self, identity: &Identity) -> Vec<bool> {
        self.aliases
            .iter()
            .map(|(e, a)| {
                self.evs
                    .get(*e)
                    .is_some_and(|ev| ev.matcher().identity_matches(a, identity))
            })
            .collect()
    }

    /// [`src_signature`], sharing identity work.
    pub fn src(&mut self, src: &Src) -> (Vec<bool>, Option<String>) {
        let evs = self.evs;
        if !self.src_cache.contains_key(&src.identity) {
            let hits = self.alias_hits(&src.identity);
            let bits = self
                .src_aliases
                .iter()
                .map(|ids| ids.iter().any(|i| hits.get(*i).copied().unwrap_or(false)))
                .collect();
            self.src_cache.insert(src.identity.clone(), bits);
        }
        let id_bits = self
            .src_cache
            .get(&src.identity)
            .cloned()
            .unwrap_or_default();
        let mut bits = id_bits;
        for &(k, e, ri) in &self.src_addr {
            let (Some(ev), Some(b)) = (evs.get(e), bits.get_mut(k)) else {
                continue;
            };
            if !*b && let Some(r) = ev.rules().get(ri) {
                let m = ev.matcher();
                *b = r
                    .src
                    .iter()
                    .any(|s| !identity_only(&s.value) && m.src_matches(&s.value, src));
            }
        }
        // Posture depends on the device, not only on its identity.
        if self.gated {
            let mut k = 0;
            for ev in evs {
                let m = ev.matcher();
                for r in ev.rules() {
                    if let Some(b) = bits.get_mut(k)
                        && *b
                    {
                        *b = super::posture::admits(m.policy, m.tailnet, &r.src_posture, src);
                    }
                    k += 1;
                }
            }
        }
        let user = match &src.identity {
            Identity::User(u) => Some(u.to_ascii_lowercase()),
            _ => None,
        };
        (bits, user)
    }

    /// [`dst_signature`], sharing identity work.
    pub fn dst(&mut self, dst: &Dst) -> (Vec<bool>, Option<String>) {
        let evs = self.evs;
        let nobody = Src {
            identity: Identity::Anonymous,
            node: None,
            nets: Vec::new(),
            posture: None,
        };
        let tailnet = evs.first().map(|e| e.matcher().tailnet);
        let own = match (
            dst.addr,
            dst.node.and_then(|i| tailnet.and_then(|t| t.nodes.get(i))),
        ) {
            (None, _) => true,
            (Some(a), Some(n)) => super::select::is_host(a) && n.owns(a.addr()),
            (Some(_), None) => false,
        };
        let id_bits = if own {
            if !self.dst_cache.contains_key(&dst.identity) {
                let hits = self.alias_hits(&dst.identity);
                let bits = self
                    .dst_alias
                    .iter()
                    .map(|id| id.is_some_and(|i| hits.get(i).copied().unwrap_or(false)))
                    .collect();
                self.dst_cache.insert(dst.identity.clone(), bits);
            }
            self.dst_cache
                .get(&dst.identity)
                .cloned()
                .unwrap_or_else(|| vec![false; self.dst_len])
        } else {
            vec![false; self.dst_len]
        };
        let mut bits = id_bits;
        // Each distinct (selector, `via`) once: rules repeat them.
        let hits: Vec<bool> = self
            .dst_addr_reps
            .iter()
            .map(|&(e, ri, j)| {
                evs.get(e).is_some_and(|ev| {
                    ev.rules().get(ri).is_some_and(|r| {
                        r.dst
                            .get(j)
                            .is_some_and(|a| ev.atom_matches(r, a, dst, &nobody))
                    })
                })
            })
            .collect();
        for (&(k, _, _, _), id) in self.dst_addr.iter().zip(&self.dst_addr_key) {
            if let Some(b) = bits.get_mut(k) {
                *b = hits.get(*id).copied().unwrap_or(false);
            }
        }
        let owner = match (&dst.identity, dst.addr, dst.node) {
            (Identity::User(u), _, Some(_)) => Some(u.to_ascii_lowercase()),
            _ => None,
        };
        (bits, owner)
    }
}
