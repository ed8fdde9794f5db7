//! The evaluator's view of the tailnet: nodes with their identity (owner or tags),
//! addresses and approved routes, and the tailnet's users.
//!
//! This is deliberately small and independent of the compiler's inventory, so that the
//! reference evaluator does not share code with the compiler it checks.

use ipnet::IpNet;
use serde::Deserialize;
use std::net::IpAddr;

/// One node as the evaluator sees it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TailnetNode {
    /// The node's name (given name).
    pub name: String,
    /// The owning user's login; ignored when the node is tagged (tags replace user
    /// identity).
    pub user: Option<String>,
    /// ACL tags (`tag:…`).
    pub tags: Vec<String>,
    /// Tailscale addresses (IPv4 and IPv6).
    pub addrs: Vec<IpAddr>,
    /// Approved routes, exit routes (`0.0.0.0/0`, `::/0`) included.
    pub approved_routes: Vec<IpNet>,
}

impl TailnetNode {
    /// Whether the node carries tags.
    pub fn is_tagged(&self) -> bool {
        !self.tags.is_empty()
    }

    /// The owner for policy purposes: the user of an untagged node.
    pub fn owner(&self) -> Option<&str> {
        if self.is_tagged() {
            None
        } else {
            self.user.as_deref()
        }
    }

    /// Whether it is an approved exit node.
    pub fn is_exit_node(&self) -> bool {
        self.approved_routes.iter().any(|r| r.prefix_len() == 0)
    }

    /// Approved subnet routes (exit routes left out).
    pub fn subnet_routes(&self) -> impl Iterator<Item = &IpNet> {
        self.approved_routes.iter().filter(|r| r.prefix_len() != 0)
    }

    /// Whether `ip` is one of the node's own addresses.
    pub fn owns(&self, ip: IpAddr) -> bool {
        self.addrs.contains(&ip)
    }
}

/// The nodes and users of a tailnet.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tailnet {
    /// Every node.
    pub nodes: Vec<TailnetNode>,
    /// Logins of the tailnet's users, including those who own no node. Node owners are
    /// users too even when not listed.
    pub users: Vec<String>,
}

impl Tailnet {
    /// Whether `login` is a user of the tailnet (listed, or owning a node).
    /// Logins compare case-insensitively.
    pub fn has_user(&self, login: &str) -> bool {
        self.users.iter().any(|u| u.eq_ignore_ascii_case(login))
            || self
                .nodes
                .iter()
                .filter_map(|n| n.user.as_deref())
                .any(|u| u.eq_ignore_ascii_case(login))
    }

    /// Every known user login (listed users first, then node owners), without
    /// duplicates.
    pub fn user_logins(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        let all = self
            .users
            .iter()
            .map(String::as_str)
            .chain(self.nodes.iter().filter_map(|n| n.user.as_deref()));
        for u in all {
            if !out.iter().any(|o| o.eq_ignore_ascii_case(u)) {
                out.push(u);
            }
        }
        out
    }

    /// The node that has `ip` as one of its own addresses.
    pub fn node_by_ip(&self, ip: IpAddr) -> Option<usize> {
        self.nodes.iter().position(|n| n.owns(ip))
    }

    /// The node called `name`.
    pub fn node_by_name(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// Reads the JSON node format of the conformance corpus: either an object with
    /// `nodes` (and optionally `users`, each a login string or `{"email": …}` /
    /// `{"name": …}`), or a bare array of nodes. Each node has `name`, `user`, `tags`,
    /// `ipv4`, `ipv6` and `approved_routes`.
    pub fn from_json(value: &serde_json::Value) -> Result<Tailnet, String> {
        let (nodes, users) = match value {
            serde_json::Value::Array(_) => (value.clone(), serde_json::Value::Null),
            serde_json::Value::Object(o) => (
                o.get("nodes").cloned().unwrap_or(serde_json::Value::Null),
                o.get("users").cloned().unwrap_or(serde_json::Value::Null),
            ),
            _ => return Err("expected an object with `nodes` or an array of nodes".into()),
        };
        let raw: Vec<RawNode> = if nodes.is_null() {
            Vec::new()
        } else {
            serde_json::from_value(nodes).map_err(|e| format!("nodes: {e}"))?
        };
        let mut out = Tailnet::default();
        for (i, n) in raw.into_iter().enumerate() {
            out.nodes.push(n.into_node(i)?);
        }
        if let serde_json::Value::Array(us) = users {
            for u in us {
                let login = match &u {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Object(o) => o
                        .get("email")
                        .and_then(|e| e.as_str())
                        .filter(|e| !e.is_empty())
                        .map(str::to_owned)
                        .or_else(|| {
                            o.get("name")
                                .and_then(|n| n.as_str())
                                .map(|n| format!("{n}@"))
                        }),
                    _ => None,
                };
                if let Some(l) = login {
                    out.users.push(l);
                }
            }
        }
        Ok(out)
    }
}

#[derive(Deserialize)]
struct RawNode {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    user: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    ipv4: Option<String>,
    #[serde(default)]
    ipv6: Option<String>,
    #[serde(default)]
    approved_routes: Vec<String>,
}

impl RawNode {
    fn into_node(self, index: usize) -> Result<TailnetNode, String> {
        let name = self.name.unwrap_or_else(|| format!("node{index}"));
        let mut addrs = Vec::new();
        for a in [self.ipv4, self.ipv6].into_iter().flatten() {
            let ip = a
                .parse::<IpAddr>()
                .map_err(|_| format!("node `{name}`: invalid address `{a}`"))?;
            addrs.push(ip);
        }
        let mut approved_routes = Vec::new();
        for r in self.approved_routes {
            let net = r
                .parse::<IpNet>()
                .or_else(|_| r.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("node `{name}`: invalid route `{r}`"))?;
            approved_routes.push(net.trunc());
        }
        Ok(TailnetNode {
            name,
            user: self.user.filter(|u| !u.is_empty()),
            tags: self.tags,
            addrs,
            approved_routes,
        })
    }
}
