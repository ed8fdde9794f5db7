//! Reading an inventory from HuJSON text: format detection and the three readers, all
//! reporting problems as `TP05xx` diagnostics with spans.

use super::{Inventory, Node, Role, User, is_exit_route};
use ipnet::IpNet;
use policy::Diagnostic;
use policy::Diagnostics;
use policy::Span;
use policy::codes::inventory as codes;
use policy::hujson::{Document, Object, Value};
use policy::model::PostureAttrs;
use policy::model::alias::is_valid_tag_name;
use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

/// Parses inventory text (JSON or HuJSON) and reads it, detecting the format. Returns
/// `None` only when the text is not HuJSON at all; otherwise the inventory holds every
/// node that could be read, and the diagnostics say what could not.
pub fn load(text: &str) -> (Option<Inventory>, Diagnostics) {
    let (doc, mut diags) = policy::hujson::parse(text);
    let Some(doc) = doc else {
        return (None, diags);
    };
    let (inv, more) = from_document(&doc);
    diags.extend(more);
    (Some(inv), diags)
}

/// Reads an already parsed inventory document, detecting the format.
pub fn from_document(doc: &Document) -> (Inventory, Diagnostics) {
    let mut r = Reader::default();
    if super::headscale::looks_like_nodes(&doc.root) {
        return headscale_inventory(r, &doc.root);
    }
    if let Some(nodes) = doc.root.as_object().and_then(|o| o.get_key("nodes"))
        && super::headscale::looks_like_nodes(nodes)
    {
        return headscale_inventory(r, nodes);
    }
    let inv = match doc.root.as_object() {
        Some(obj) if obj.get_key("nodes").is_some() => r.own_format(obj),
        Some(obj) if obj.get_key("Peer").is_some() || obj.get_key("Self").is_some() => {
            r.status_json(obj)
        }
        Some(obj) if obj.get_key("devices").is_some() => r.api_devices(obj),
        _ => {
            r.push(
                Diagnostic::new(
                    codes::INVENTORY_FORMAT.as_code(),
                    doc.root.span,
                    "unrecognised inventory format",
                )
                .with_help(
                    "expected tailpolicy's `{\"nodes\": [...]}`, the output of `tailscale status --json`, the API's `{\"devices\": [...]}`, or headscale's `nodes list -o json` or `GET /api/v1/node`",
                ),
            );
            Inventory::default()
        }
    };
    let inv = r.finish(inv);
    (inv, r.diags)
}

/// A headscale listing (the array of nodes), then the cross-node checks.
fn headscale_inventory(mut r: Reader, nodes: &Value) -> (Inventory, Diagnostics) {
    let (mut inv, users) = super::headscale::read(nodes, &mut r.diags);
    inv.headscale_users = users;
    r.user_spans = vec![Span::default(); inv.nodes.len()];
    let inv = r.finish(inv);
    (inv, r.diags)
}

trait ObjectExt {
    fn get_key(&self, key: &str) -> Option<&Value>;
}

impl ObjectExt for Object {
    fn get_key(&self, key: &str) -> Option<&Value> {
        self.members
            .iter()
            .find(|m| m.key() == key)
            .map(|m| &m.value)
    }
}

#[derive(Default)]
struct Reader {
    diags: Diagnostics,
    /// Whether node users must be listed in `users` (own format only).
    check_users: bool,
    /// Spans of node `user` values, by node index, for unknown-user diagnostics.
    user_spans: Vec<Span>,
}

impl Reader {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn format_error(&mut self, span: Span, msg: impl Into<String>) {
        self.push(Diagnostic::new(
            codes::INVENTORY_FORMAT.as_code(),
            span,
            msg,
        ));
    }

    fn string<'a>(&mut self, v: &'a Value, what: &str) -> Option<&'a str> {
        let s = v.as_str();
        if s.is_none() {
            self.format_error(
                v.span,
                format!("`{what}` must be a string, found {}", v.type_name()),
            );
        }
        s
    }

    fn strings<'a>(&mut self, v: Option<&'a Value>, what: &str) -> Vec<(&'a str, Span)> {
        let Some(v) = v else { return Vec::new() };
        if v.is_null() {
            return Vec::new();
        }
        let Some(arr) = v.as_array() else {
            self.format_error(
                v.span,
                format!("`{what}` must be an array, found {}", v.type_name()),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for e in &arr.elements {
            if let Some(s) = self.string(e, what) {
                out.push((s, e.span));
            }
        }
        out
    }

    fn routes(&mut self, v: Option<&Value>, what: &str) -> Vec<IpNet> {
        let mut out = Vec::new();
        for (s, span) in self.strings(v, what) {
            match parse_route(s) {
                Some(net) => {
                    if !out.contains(&net) {
                        out.push(net);
                    }
                }
                None => self.push(
                    Diagnostic::new(
                        codes::INVENTORY_INVALID_ADDRESS.as_code(),
                        span,
                        format!("`{s}` is not a valid route prefix"),
                    )
                    .with_help("routes are CIDR prefixes with no host bits, e.g. `10.0.0.0/16`"),
                ),
            }
        }
        out
    }

    fn tags(&mut self, v: Option<&Value>) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (s, span) in self.strings(v, "tags") {
            let ok = s.strip_prefix("tag:").is_some_and(is_valid_tag_name);
            if ok {
                if !out.iter().any(|t| t == s) {
                    out.push(s.to_owned());
                }
            } else {
                self.push(Diagnostic::new(
                    codes::INVENTORY_INVALID_TAG.as_code(),
                    span,
                    format!("`{s}` is not a valid tag"),
                ));
            }
        }
        out
    }

    /// Sets the node's addresses from a list of strings; reports bad or extra ones.
    fn addresses(&mut self, node: &mut Node, v: Option<&Value>) {
        for (s, span) in self.strings(v, "addresses") {
            match s.trim().parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) if node.ipv4.is_none() => node.ipv4 = Some(a),
                Ok(IpAddr::V6(a)) if node.ipv6.is_none() => node.ipv6 = Some(a),
                Ok(_) => self.push(Diagnostic::new(
                    codes::INVENTORY_INVALID_ADDRESS.as_code(),
                    span,
                    format!(
                        "node `{}` has more than one address of this family",
                        node.name
                    ),
                )),
                Err(_) => self.push(Diagnostic::new(
                    codes::INVENTORY_INVALID_ADDRESS.as_code(),
                    span,
                    format!("`{s}` is not a valid IP address"),
                )),
            }
        }
    }

    fn own_format(&mut self, obj: &Object) -> Inventory {
        self.check_users = true;
        let mut inv = Inventory::default();
        if let Some(t) = obj.get_key("tailnet") {
            match t.as_object() {
                Some(t) => {
                    if let Some(o) = t.get_key("owner") {
                        inv.tailnet_owner = self.string(o, "owner").map(str::to_owned);
                    }
                }
                None => self.format_error(t.span, "`tailnet` must be an object"),
            }
        }
        if let Some(users) = obj.get_key("users") {
            match users.as_array() {
                Some(arr) => {
                    for u in &arr.elements {
                        self.own_user(u, &mut inv);
                    }
                }
                None => self.format_error(users.span, "`users` must be an array"),
            }
        }
        if let Some(nodes) = obj.get_key("nodes") {
            match nodes.as_array() {
                Some(arr) => {
                    for n in &arr.elements {
                        if let Some(node) = self.own_node(n) {
                            inv.nodes.push(node);
                        }
                    }
                }
                None => self.format_error(nodes.span, "`nodes` must be an array"),
            }
        }
        inv
    }

    fn own_user(&mut self, v: &Value, inv: &mut Inventory) {
        let Some(o) = v.as_object() else {
            self.format_error(v.span, "a user must be an object `{\"login\": …}`");
            return;
        };
        let Some(login) = o.get_key("login").and_then(|l| self.string(l, "login")) else {
            self.format_error(v.span, "a user needs a `login`");
            return;
        };
        let mut role = Role::Member;
        if let Some(r) = o.get_key("role")
            && let Some(s) = self.string(r, "role")
        {
            match Role::parse(s) {
                Some(x) => role = x,
                None => self.push(Diagnostic::new(
                    codes::INVENTORY_UNKNOWN_ROLE.as_code(),
                    r.span,
                    format!("unknown role `{s}`"),
                )),
            }
        }
        if inv.user(login).is_some() {
            self.push(Diagnostic::new(
                codes::INVENTORY_DUPLICATE_NODE.as_code(),
                v.span,
                format!("user `{login}` is listed twice"),
            ));
            return;
        }
        inv.users.push(User {
            login: login.to_owned(),
            role,
            span: v.span,
        });
    }

    fn own_node(&mut self, v: &Value) -> Option<Node> {
        let Some(o) = v.as_object() else {
            self.format_error(v.span, "a node must be an object `{\"name\": …}`");
            return None;
        };
        let Some(name) = o.get_key("name").and_then(|n| self.string(n, "name")) else {
            self.format_error(v.span, "a node needs a `name`");
            return None;
        };
        let mut node = blank_node(name, v.span);
        let mut user_span = Span::default();
        if let Some(u) = o.get_key("user")
            && !u.is_null()
        {
            node.user = self.string(u, "user").map(str::to_owned);
            user_span = u.span;
        }
        node.tags = self.tags(o.get_key("tags"));
        if node.is_tagged() && node.user.is_some() {
            self.push(Diagnostic::new(
                codes::INVENTORY_TAGGED_NODE_WITH_USER.as_code(),
                user_span,
                format!("tagged node `{name}` also names a user; the user is ignored"),
            ));
            node.user = None;
        }
        self.addresses(&mut node, o.get_key("addresses"));
        node.advertised_routes = self.routes(o.get_key("advertisedRoutes"), "advertisedRoutes");
        node.approved_routes = self.routes(o.get_key("approvedRoutes"), "approvedRoutes");
        if let Some(p) = o.get_key("postureAttributes") {
            node.posture = super::posture::read_attributes(p, &mut self.diags);
        }
        if let Some(e) = o.get_key("exitNode") {
            match e.as_bool() {
                Some(true) => {
                    for net in exit_routes() {
                        if !node.advertised_routes.contains(&net) {
                            node.advertised_routes.push(net);
                        }
                    }
                }
                Some(false) => {}
                None => self.format_error(e.span, "`exitNode` must be a boolean"),
            }
        }
        for net in node.approved_routes.clone() {
            if !node.advertised_routes.contains(&net) {
                self.push(Diagnostic::new(
                    codes::INVENTORY_UNADVERTISED_APPROVAL.as_code(),
                    v.span,
                    format!("node `{name}` has approved route `{net}` but does not advertise it"),
                ));
            }
        }
        self.user_spans.push(user_span);
        Some(node)
    }

    fn status_json(&mut self, obj: &Object) -> Inventory {
        let mut inv = Inventory::default();
        let mut user_ids: BTreeMap<String, String> = BTreeMap::new();
        if let Some(users) = obj.get_key("User").and_then(Value::as_object) {
            for m in &users.members {
                if let Some(login) = m
                    .value
                    .as_object()
                    .and_then(|u| u.get_key("LoginName"))
                    .and_then(Value::as_str)
                {
                    user_ids.insert(m.key().to_owned(), login.to_owned());
                    if inv.user(login).is_none() {
                        inv.users.push(User {
                            login: login.to_owned(),
                            role: Role::Member,
                            span: m.value.span,
                        });
                    }
                }
            }
        }
        let mut peers: Vec<&Value> = Vec::new();
        if let Some(s) = obj.get_key("Self") {
            peers.push(s);
        }
        if let Some(p) = obj.get_key("Peer") {
            match p.as_object() {
                Some(p) => peers.extend(p.members.iter().map(|m| &m.value)),
                None if p.is_null() => {}
                None => self.format_error(p.span, "`Peer` must be an object"),
            }
        }
        for p in peers {
            let Some(o) = p.as_object() else {
                self.format_error(p.span, "a peer must be an object");
                continue;
            };
            let dns = o.get_key("DNSName").and_then(Value::as_str).unwrap_or("");
            let host = o.get_key("HostName").and_then(Value::as_str).unwrap_or("");
            let name = dns
                .split('.')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or(host);
            if name.is_empty() {
                self.format_error(p.span, "a peer needs a `DNSName` or `HostName`");
                continue;
            }
            let mut node = blank_node(name, p.span);
            node.tags = self.tags(o.get_key("Tags"));
            if !node.is_tagged() {
                let uid = o.get_key("UserID").map(|u| match &u.kind {
                    policy::hujson::ValueKind::Number(n) => format!("{n}"),
                    policy::hujson::ValueKind::String(s) => s.to_string(),
                    _ => String::new(),
                });
                node.user = uid.and_then(|id| user_ids.get(&id).cloned());
            }
            self.addresses(&mut node, o.get_key("TailscaleIPs"));
            // `PrimaryRoutes` are the approved subnet routes this node serves; an exit
            // node that the viewer may use is shown by `ExitNodeOption`.
            let mut routes = self.routes(o.get_key("PrimaryRoutes"), "PrimaryRoutes");
            if o.get_key("ExitNodeOption").and_then(Value::as_bool) == Some(true) {
                routes.extend(exit_routes());
            }
            node.advertised_routes.clone_from(&routes);
            node.approved_routes = routes;
            super::posture::derive_os(&mut node.posture, o.get_key("OS").and_then(Value::as_str));
            self.user_spans.push(Span::default());
            inv.nodes.push(node);
        }
        inv
    }

    fn api_devices(&mut self, obj: &Object) -> Inventory {
        let mut inv = Inventory::default();
        let Some(devices) = obj.get_key("devices") else {
            return inv;
        };
        let Some(arr) = devices.as_array() else {
            self.format_error(devices.span, "`devices` must be an array");
            return inv;
        };
        for d in &arr.elements {
            let Some(o) = d.as_object() else {
                self.format_error(d.span, "a device must be an object");
                continue;
            };
            let full = o.get_key("name").and_then(Value::as_str).unwrap_or("");
            let host = o.get_key("hostname").and_then(Value::as_str).unwrap_or("");
            let name = full
                .split('.')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or(host);
            if name.is_empty() {
                self.format_error(d.span, "a device needs a `name` or `hostname`");
                continue;
            }
            let mut node = blank_node(name, d.span);
            node.tags = self.tags(o.get_key("tags"));
            if !node.is_tagged() {
                node.user = o
                    .get_key("user")
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned);
            }
            if let Some(login) = &node.user
                && inv.user(login).is_none()
            {
                inv.users.push(User {
                    login: login.clone(),
                    role: Role::Member,
                    span: Span::default(),
                });
            }
            self.addresses(&mut node, o.get_key("addresses"));
            node.advertised_routes = self.routes(o.get_key("advertisedRoutes"), "advertisedRoutes");
            node.approved_routes = self.routes(o.get_key("enabledRoutes"), "enabledRoutes");
            super::posture::derive_os(&mut node.posture, o.get_key("os").and_then(Value::as_str));
            super::posture::derive_ts_version(
                &mut node.posture,
                o.get_key("clientVersion").and_then(Value::as_str),
            );
            self.user_spans.push(Span::default());
            inv.nodes.push(node);
        }
        inv
    }

    /// Cross-node checks: unique names and addresses, known users.
    fn finish(&mut self, mut inv: Inventory) -> Inventory {
        let mut names: HashMap<String, Span> = HashMap::new();
        let mut addrs: HashMap<IpAddr, (String, Span)> = HashMap::new();
        let mut keep = Vec::with_capacity(inv.nodes.len());
        let nodes = std::mem::take(&mut inv.nodes);
        for (i, node) in nodes.into_iter().enumerate() {
            if let Some(first) = names.get(&node.name) {
                self.push(
                    Diagnostic::new(
                        codes::INVENTORY_DUPLICATE_NODE.as_code(),
                        node.span,
                        format!("duplicate node name `{}`", node.name),
                    )
                    .with_label(*first, "first defined here"),
                );
                continue;
            }
            let mut dup = false;
            for a in node.addresses() {
                if let Some((other, span)) = addrs.get(&a) {
                    self.push(
                        Diagnostic::new(
                            codes::INVENTORY_DUPLICATE_NODE.as_code(),
                            node.span,
                            format!(
                                "node `{}` has address `{a}`, already used by `{other}`",
                                node.name
                            ),
                        )
                        .with_label(*span, "first used here"),
                    );
                    dup = true;
                }
            }
            if dup {
                continue;
            }
            if self.check_users
                && let Some(login) = &node.user
                && inv.user(login).is_none()
            {
                let span = self
                    .user_spans
                    .get(i)
                    .copied()
                    .filter(|s| !s.is_empty())
                    .unwrap_or(node.span);
                self.push(
                    Diagnostic::new(
                        codes::INVENTORY_UNKNOWN_USER.as_code(),
                        span,
                        format!("node `{}` is owned by unknown user `{login}`", node.name),
                    )
                    .with_help("add the user to `users`"),
                );
            }
            names.insert(node.name.clone(), node.span);
            for a in node.addresses() {
                addrs.insert(a, (node.name.clone(), node.span));
            }
            keep.push(node);
        }
        inv.nodes = keep;
        inv
    }
}

fn blank_node(name: &str, span: Span) -> Node {
    Node {
        name: name.to_owned(),
        user: None,
        tags: Vec::new(),
        ipv4: None,
        ipv6: None,
        advertised_routes: Vec::new(),
        approved_routes: Vec::new(),
        posture: PostureAttrs::new(),
        span,
    }
}

/// `0.0.0.0/0` and `::/0`.
pub(crate) fn exit_routes() -> [IpNet; 2] {
    [
        IpNet::V4(ipnet::Ipv4Net::default()),
        IpNet::V6(ipnet::Ipv6Net::default()),
    ]
}

/// Parses a route: a CIDR prefix without host bits.
pub(crate) fn parse_route(s: &str) -> Option<IpNet> {
    let net: IpNet = s.trim().parse().ok()?;
    (net.trunc() == net || is_exit_route(&net)).then_some(net)
}
