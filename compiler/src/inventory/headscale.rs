//! headscale's node listings as inventories: `headscale nodes list -o json` and
//! `-o json-line` (0.23–0.29: snake_case, numeric ids, `{"seconds","nanos"}`
//! timestamps, `forced_tags`/`valid_tags` before 0.28 and `tags` from 0.28,
//! `approved_routes`/`available_routes`/`subnet_routes` from 0.26), the REST API's
//! `GET /api/v1/node` (`{"nodes": [...]}`, camelCase, string ids) and the camelCase
//! array of headscale's unreleased 0.30 CLI. Field names are matched in either case
//! style, so one reader covers every shape.
//!
//! A node's identity is its tags when it has any, else its user. Users are named by
//! their e-mail when they have one, else `name@` (headscale's spelling for a user
//! without an e-mail); [`match_policy_users`] renames them to the token a policy uses
//! for them, resolving as headscale does: provider id first, then e-mail or name.
//! Served routes are `subnet_routes`, or approved ∩ available when only those are
//! given; before 0.26 the listing has no routes.

use super::load::parse_route;
use super::{Inventory, Node, Role, User};
use ipnet::IpNet;
use policy::Diagnostic;
use policy::Diagnostics;
use policy::Span;
use policy::codes::inventory as codes;
use policy::hujson::{Object, Value};
use policy::model::alias::is_valid_tag_name;
use policy::model::{Alias, Policy, PostureAttrs};
use std::net::IpAddr;

/// A headscale user's identities, in the order headscale matches a policy token.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HeadscaleUser {
    /// The login the inventory uses for the user (e-mail, else `name@`).
    pub login: String,
    /// `provider_id` (OIDC subject URL), if any.
    pub provider_id: Option<String>,
    /// `email`, if any.
    pub email: Option<String>,
    /// `name`, if any.
    pub name: Option<String>,
}

/// Keys that only headscale's node objects have (either case style).
const MARKERS: &[&str] = &[
    "ip_addresses",
    "ipAddresses",
    "given_name",
    "givenName",
    "machine_key",
    "machineKey",
    "register_method",
    "registerMethod",
];

/// Whether `nodes` (an array value) holds headscale node objects.
pub fn looks_like_nodes(nodes: &Value) -> bool {
    nodes
        .as_array()
        .and_then(|a| a.elements.first())
        .and_then(Value::as_object)
        .is_some_and(|o| MARKERS.iter().any(|k| get(o, k).is_some()))
}

/// The member `snake` or its camelCase spelling.
fn get<'a>(o: &'a Object, snake: &str) -> Option<&'a Value> {
    let camel = to_camel(snake);
    o.members
        .iter()
        .find(|m| m.key() == snake || m.key() == camel)
        .map(|m| &m.value)
}

fn to_camel(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

fn text<'a>(o: &'a Object, key: &str) -> Option<&'a str> {
    get(o, key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

fn strings<'a>(o: &'a Object, key: &str) -> Vec<(&'a str, Span)> {
    get(o, key)
        .and_then(Value::as_array)
        .map(|a| {
            a.elements
                .iter()
                .filter_map(|e| e.as_str().map(|s| (s, e.span)))
                .collect()
        })
        .unwrap_or_default()
}

/// Reads headscale node objects (the array `nodes`) into an inventory and the users'
/// identities.
pub fn read(nodes: &Value, diags: &mut Diagnostics) -> (Inventory, Vec<HeadscaleUser>) {
    let mut inv = Inventory::default();
    let mut users: Vec<HeadscaleUser> = Vec::new();
    let Some(arr) = nodes.as_array() else {
        return (inv, users);
    };
    for v in &arr.elements {
        let Some(o) = v.as_object() else {
            diags.push(Diagnostic::new(
                codes::INVENTORY_FORMAT.as_code(),
                v.span,
                "a headscale node must be an object",
            ));
            continue;
        };
        let Some(name) = text(o, "given_name").or_else(|| text(o, "name")) else {
            diags.push(Diagnostic::new(
                codes::INVENTORY_FORMAT.as_code(),
                v.span,
                "a headscale node needs a `given_name` or `name`",
            ));
            continue;
        };
        let mut node = Node {
            name: name.to_owned(),
            user: None,
            tags: tags(o, diags),
            ipv4: None,
            ipv6: None,
            advertised_routes: Vec::new(),
            approved_routes: Vec::new(),
            posture: PostureAttrs::new(),
            span: v.span,
        };
        for (s, span) in strings(o, "ip_addresses") {
            match s.trim().parse::<IpAddr>() {
                Ok(IpAddr::V4(a)) if node.ipv4.is_none() => node.ipv4 = Some(a),
                Ok(IpAddr::V6(a)) if node.ipv6.is_none() => node.ipv6 = Some(a),
                _ => diags.push(Diagnostic::new(
                    codes::INVENTORY_INVALID_ADDRESS.as_code(),
                    span,
                    format!("`{s}` is not a usable address of node `{name}`"),
                )),
            }
        }
        let served = served_routes(o, diags);
        node.advertised_routes.clone_from(&served);
        node.approved_routes = served;
        if !node.is_tagged()
            && let Some(user) = get(o, "user").and_then(Value::as_object)
        {
            let u = identity(user);
            if !u.login.is_empty() {
                node.user = Some(u.login.clone());
                if !users.iter().any(|x| x.login == u.login) {
                    inv.users.push(User {
                        login: u.login.clone(),
                        role: Role::Member,
                        span: user_span(o),
                    });
                    users.push(u);
                }
            }
        }
        inv.nodes.push(node);
    }
    (inv, users)
}

fn user_span(o: &Object) -> Span {
    get(o, "user").map_or(Span::default(), |v| v.span)
}

fn identity(user: &Object) -> HeadscaleUser {
    let email = text(user, "email").map(str::to_owned);
    let name = text(user, "name").map(str::to_owned);
    let provider_id = text(user, "provider_id").map(str::to_owned);
    let login = email
        .clone()
        .or_else(|| name.as_ref().map(|n| format!("{n}@")))
        .unwrap_or_default();
    HeadscaleUser {
        login,
        provider_id,
        email,
        name,
    }
}

/// `tags` (0.28+), else `forced_tags` ∪ `valid_tags` (0.23–0.27; `invalid_tags` are
/// tags the node asked for and was refused).
fn tags(o: &Object, diags: &mut Diagnostics) -> Vec<String> {
    let listed: Vec<(&str, Span)> = if get(o, "tags").is_some() {
        strings(o, "tags")
    } else {
        strings(o, "forced_tags")
            .into_iter()
            .chain(strings(o, "valid_tags"))
            .collect()
    };
    let mut out: Vec<String> = Vec::new();
    for (s, span) in listed {
        if !s.strip_prefix("tag:").is_some_and(is_valid_tag_name) {
            diags.push(Diagnostic::new(
                codes::INVENTORY_INVALID_TAG.as_code(),
                span,
                format!("`{s}` is not a valid tag"),
            ));
        } else if !out.iter().any(|t| t == s) {
            out.push(s.to_owned());
        }
    }
    out
}

/// `subnet_routes`, else `approved_routes` ∩ `available_routes`.
fn served_routes(o: &Object, diags: &mut Diagnostics) -> Vec<IpNet> {
    let mut read = |key: &str| -> Vec<IpNet> {
        strings(o, key)
            .into_iter()
            .filter_map(|(s, span)| {
                let r = parse_route(s);
                if r.is_none() {
                    diags.push(Diagnostic::new(
                        codes::INVENTORY_INVALID_ADDRESS.as_code(),
                        span,
                        format!("`{s}` is not a valid route"),
                    ));
                }
                r
            })
            .collect()
    };
    if get(o, "subnet_routes").is_some() {
        return read("subnet_routes");
    }
    let approved = read("approved_routes");
    let available = read("available_routes");
    approved
        .into_iter()
        .filter(|r| available.contains(r))
        .collect()
}

/// The user tokens (`alice@`, `alice@example.com`) the policy names, in order.
pub fn policy_user_tokens(p: &Policy) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |a: &Alias| {
        if let Alias::User(u) = a
            && !out.contains(u)
        {
            out.push(u.clone());
        }
    };
    for a in p.acls.iter().flatten() {
        a.src.iter().for_each(|s| add(&s.value));
        a.dst.iter().for_each(|d| add(&d.value.alias));
    }
    for g in p.grants.iter().flatten() {
        g.src.iter().chain(&g.dst).for_each(|s| add(&s.value));
    }
    for r in p.ssh.iter().flatten() {
        r.src.iter().chain(&r.dst).for_each(|s| add(&s.value));
    }
    for t in &p.tag_owners {
        t.owners.iter().for_each(|s| add(&s.value));
    }
    for (_, a) in &p.auto_approvers.routes {
        a.iter().for_each(|s| add(&s.value));
    }
    p.auto_approvers
        .exit_node
        .iter()
        .for_each(|s| add(&s.value));
    for g in &p.groups {
        for m in &g.members {
            if let Ok(a) = Alias::parse(&m.value, false) {
                add(&a);
            }
        }
    }
    out
}

/// Renames users to the tokens `policy` uses for them, resolving each token as
/// headscale does (`resolveUser`): a token (without its trailing `@`) that equals a
/// user's provider id names that user; otherwise it must equal the e-mail or the name
/// of exactly one user. A user named by several tokens keeps the first.
pub fn match_policy_users(inv: &mut Inventory, users: &[HeadscaleUser], policy: &Policy) {
    let mut renamed: Vec<&str> = Vec::new();
    for token in policy_user_tokens(policy) {
        let bare = token.strip_suffix('@').unwrap_or(&token);
        let by_provider = users
            .iter()
            .find(|u| u.provider_id.as_deref() == Some(bare));
        let user = by_provider.or_else(|| {
            let mut hits = users
                .iter()
                .filter(|u| u.email.as_deref() == Some(bare) || u.name.as_deref() == Some(bare));
            match (hits.next(), hits.next()) {
                (Some(u), None) => Some(u),
                _ => None,
            }
        });
        let Some(user) = user else { continue };
        if renamed.contains(&user.login.as_str()) || user.login == token {
            continue;
        }
        renamed.push(&user.login);
        for u in &mut inv.users {
            if u.login == user.login {
                u.login.clone_from(&token);
            }
        }
        for n in &mut inv.nodes {
            if n.user.as_deref() == Some(user.login.as_str()) {
                n.user = Some(token.clone());
            }
        }
    }
}
