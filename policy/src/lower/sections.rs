//! Lowering of each section.

use super::TOP_LEVEL_KEYS;
use super::duration::{format_go_duration, parse_go_duration};
use super::fields::{Ctx, FieldSet, field_set};
use crate::check::codes as cc;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::hujson::{Member, Object, Value, ValueKind};
use crate::model::alias::{is_valid_host_name, is_valid_tag_name, parse_addr};
use crate::model::ports::{parse_ports, split_host_port};
use crate::model::*;
use crate::span::{Span, Spanned};
use std::collections::HashSet;

field_set!(
    /// The fields of `acls` entries (`users`/`ports` are the legacy names of `src`/`dst`).
    pub AclField {
        /// `action`.
        Action = "action",
        /// `src`.
        Src = "src",
        /// `dst`.
        Dst = "dst",
        /// `proto`.
        Proto = "proto",
        /// `srcPosture`.
        SrcPosture = "srcPosture",
        /// `users`.
        Users = "users",
        /// `ports`.
        Ports = "ports",
    }
);

/// Canonical field names of `acls` entries.
pub const ACL_FIELDS: &[&str] = <AclField as FieldSet>::NAMES;

field_set!(
    /// The fields of `grants` entries.
    pub GrantField {
        /// `src`.
        Src = "src",
        /// `dst`.
        Dst = "dst",
        /// `ip`.
        Ip = "ip",
        /// `app`.
        App = "app",
        /// `srcPosture`.
        SrcPosture = "srcPosture",
        /// `via`.
        Via = "via",
    }
);

/// Canonical field names of `grants` entries.
pub const GRANT_FIELDS: &[&str] = <GrantField as FieldSet>::NAMES;

field_set!(
    /// The fields of `ssh` entries.
    pub SshField {
        /// `action`.
        Action = "action",
        /// `src`.
        Src = "src",
        /// `dst`.
        Dst = "dst",
        /// `users`.
        Users = "users",
        /// `checkPeriod`.
        CheckPeriod = "checkPeriod",
        /// `acceptEnv`.
        AcceptEnv = "acceptEnv",
        /// `srcPosture`.
        SrcPosture = "srcPosture",
        /// `recorder`.
        Recorder = "recorder",
        /// `enforceRecorder`.
        EnforceRecorder = "enforceRecorder",
    }
);

/// Canonical field names of `ssh` entries.
pub const SSH_FIELDS: &[&str] = <SshField as FieldSet>::NAMES;

field_set!(
    /// The fields of `tests` entries (`user`/`allow` are legacy names of `src`/`accept`).
    pub TestField {
        /// `src`.
        Src = "src",
        /// `user`.
        User = "user",
        /// `proto`.
        Proto = "proto",
        /// `accept`.
        Accept = "accept",
        /// `allow`.
        Allow = "allow",
        /// `deny`.
        Deny = "deny",
        /// `srcPostureAttrs`.
        SrcPostureAttrs = "srcPostureAttrs",
    }
);

/// Canonical field names of `tests` entries.
pub const TEST_FIELDS: &[&str] = <TestField as FieldSet>::NAMES;

field_set!(
    /// The fields of `sshTests` entries.
    pub SshTestField {
        /// `src`.
        Src = "src",
        /// `dst`.
        Dst = "dst",
        /// `accept`.
        Accept = "accept",
        /// `check`.
        Check = "check",
        /// `deny`.
        Deny = "deny",
        /// `srcPostureAttrs`.
        SrcPostureAttrs = "srcPostureAttrs",
    }
);

/// Canonical field names of `sshTests` entries.
pub const SSH_TEST_FIELDS: &[&str] = <SshTestField as FieldSet>::NAMES;

field_set!(
    /// The fields of `autoApprovers`.
    pub AutoApproverField {
        /// `routes`.
        Routes = "routes",
        /// `exitNode`.
        ExitNode = "exitNode",
        /// `services`.
        Services = "services",
    }
);

/// Canonical field names of `autoApprovers`.
pub const AUTO_APPROVER_FIELDS: &[&str] = <AutoApproverField as FieldSet>::NAMES;

field_set!(
    /// The fields of `nodeAttrs` entries.
    pub NodeAttrField {
        /// `target`.
        Target = "target",
        /// `attr`.
        Attr = "attr",
        /// `app`.
        App = "app",
        /// `ipPool`.
        IpPool = "ipPool",
    }
);

/// Canonical field names of `nodeAttrs` entries.
pub const NODE_ATTR_FIELDS: &[&str] = <NodeAttrField as FieldSet>::NAMES;

/// Maximum `checkPeriod` (168h), in nanoseconds.
const MAX_CHECK_PERIOD_NANOS: i128 = 168 * 3_600_000_000_000;

pub fn lower_top(ctx: &mut Ctx<'_>, obj: &Object, p: &mut Policy) {
    let f = ctx.members(obj, TOP_LEVEL_KEYS, "the policy");
    for (key, m) in TOP_LEVEL_KEYS.iter().zip(f) {
        let Some(m) = m else { continue };
        let v = &m.value;
        if section(ctx, key, v, p) {
            continue;
        }
        match *key {
            "derpMap" if v.is_null() || ctx.object(v, "derpMap").is_some() => {
                p.settings.derp_map = Some(v.to_json());
            }
            "disableIPv4" => p.settings.disable_ipv4 = ctx.boolean(v, "disableIPv4"),
            "randomizeClientPort" => {
                p.settings.randomize_client_port = ctx.boolean(v, "randomizeClientPort");
            }
            "OneCGNATRoute" => {
                if let Some(s) = ctx.string(v, "OneCGNATRoute") {
                    if !matches!(s.value.as_str(), "" | "mac-always" | "mac-never") {
                        ctx.push(
                            Diagnostic::new(
                                crate::lower::codes::WRONG_TYPE.as_code(),
                                s.span,
                                format!("OneCGNATRoute must be \"\", \"mac-always\" or \"mac-never\", found \"{}\"", s.value),
                            ),
                        );
                    }
                    p.settings.one_cgnat_route = Some(s.value);
                }
            }
            "extraDNSRecords" if ctx.array(v, "extraDNSRecords").is_some() => {
                p.settings.extra_dns_records = Some(v.to_json());
            }
            _ => {}
        }
    }
    for m in &obj.members {
        let k = m.key();
        if !k.starts_with('#') && !TOP_LEVEL_KEYS.iter().any(|t| t.eq_ignore_ascii_case(k)) {
            p.settings
                .other
                .push((Spanned::new(k.to_owned(), m.name.span), m.value.to_json()));
        }
    }
}

/// Lowers the section `key` (canonical spelling) from `v` into `p`, when it is one of
/// the sections read on their own (lists, maps, `defaultSrcPosture`): nothing else in
/// the policy depends on how it is read. Returns whether it was.
fn section(ctx: &mut Ctx<'_>, key: &str, v: &Value, p: &mut Policy) -> bool {
    match key {
        "acls" => p.acls = Some(list(ctx, v, "acls", acl)),
        "grants" => p.grants = Some(list(ctx, v, "grants", grant)),
        "ssh" => p.ssh = Some(list(ctx, v, "ssh", ssh_rule)),
        "groups" => p.groups = groups(ctx, v),
        "tagOwners" => p.tag_owners = tag_owners(ctx, v),
        "hosts" => p.hosts = hosts(ctx, v),
        "ipsets" => p.ipsets = ipsets(ctx, v),
        "postures" => p.postures = postures(ctx, v),
        "defaultSrcPosture" => p.default_src_posture = ctx.strings(v, "defaultSrcPosture"),
        "autoApprovers" => p.auto_approvers = auto_approvers(ctx, v),
        "nodeAttrs" => p.node_attrs = list(ctx, v, "nodeAttrs", node_attr),
        "tests" => p.tests = list(ctx, v, "tests", acl_test),
        "sshTests" => p.ssh_tests = list(ctx, v, "sshTests", ssh_test),
        _ => return false,
    }
    true
}

/// Lowers again the section written as the root object's member `member` into `p`,
/// as [`lower_top`] would; for a list section written as an array with `element`
/// given, only that element. Returns the span of the value read again; `None` (and
/// `p` unchanged) when that member is not a section read on its own (a setting, an
/// unknown key, a duplicate left out).
pub fn relower_section(
    ctx: &mut Ctx<'_>,
    obj: &Object,
    member: usize,
    element: Option<usize>,
    p: &mut Policy,
) -> Option<Span> {
    let target = obj.members.get(member)?;
    let mut scratch = Ctx {
        source: ctx.source,
        diags: Diagnostics::new(),
    };
    let f = scratch.members(obj, TOP_LEVEL_KEYS, "the policy");
    let (key, _) = TOP_LEVEL_KEYS
        .iter()
        .zip(f)
        .find(|(_, m)| m.is_some_and(|m| std::ptr::eq(m, target)))?;
    if !matches!(
        *key,
        "acls"
            | "grants"
            | "ssh"
            | "groups"
            | "tagOwners"
            | "hosts"
            | "ipsets"
            | "postures"
            | "defaultSrcPosture"
            | "autoApprovers"
            | "nodeAttrs"
            | "tests"
            | "sshTests"
    ) {
        return None;
    }
    let v = &target.value;
    if let (Some(index), Some(items)) = (element, v.as_array()) {
        let item = items.elements.get(index)?;
        let done = match *key {
            "acls" => relower_item(ctx, item, "acls", index, acl, p.acls.as_mut()?, |a| {
                a.origin.index
            }),
            "grants" => relower_item(ctx, item, "grants", index, grant, p.grants.as_mut()?, |g| {
                g.origin.index
            }),
            "ssh" => relower_item(ctx, item, "ssh", index, ssh_rule, p.ssh.as_mut()?, |r| {
                r.origin.index
            }),
            "nodeAttrs" => relower_item(
                ctx,
                item,
                "nodeAttrs",
                index,
                node_attr,
                &mut p.node_attrs,
                |n| n.origin.index,
            ),
            "tests" => relower_item(ctx, item, "tests", index, acl_test, &mut p.tests, |t| {
                t.origin.index
            }),
            "sshTests" => relower_item(
                ctx,
                item,
                "sshTests",
                index,
                ssh_test,
                &mut p.ssh_tests,
                |t| t.origin.index,
            ),
            _ => false,
        };
        if done {
            return Some(item.span);
        }
    }
    section(ctx, key, v, p).then_some(v.span)
}

/// Lowers again element `index` (`item`) of the list section `section`, as [`list`]
/// would, replacing the item that came from it in `items` (ordered by index).
fn relower_item<T>(
    ctx: &mut Ctx<'_>,
    item: &Value,
    section: &str,
    index: usize,
    each: impl Fn(&mut Ctx<'_>, &Object, Origin, &str) -> Option<T>,
    items: &mut Vec<T>,
    index_of: impl Fn(&T) -> usize,
) -> bool {
    let sec = match section {
        "acls" => Section::Acls,
        "grants" => Section::Grants,
        "ssh" => Section::Ssh,
        "tests" => Section::Tests,
        "sshTests" => Section::SshTests,
        _ => Section::NodeAttrs,
    };
    let context = format!("{section}[{index}]");
    let new = ctx.object(item, &context).and_then(|obj| {
        let origin = Origin {
            section: sec,
            index,
            span: IgnoredSpan(item.span),
        };
        each(ctx, obj, origin, &context)
    });
    let at = items.partition_point(|t| index_of(t) < index);
    if items.get(at).is_some_and(|t| index_of(t) == index) {
        match new {
            Some(t) => {
                if let Some(slot) = items.get_mut(at) {
                    *slot = t;
                }
            }
            None => {
                items.remove(at);
            }
        }
    } else if let Some(t) = new {
        items.insert(at, t);
    }
    true
}

/// Lowers an array section element by element (`null` is an empty list).
fn list<T>(
    ctx: &mut Ctx<'_>,
    v: &Value,
    section: &str,
    each: impl Fn(&mut Ctx<'_>, &Object, Origin, &str) -> Option<T>,
) -> Vec<T> {
    let Some(items) = ctx.array(v, section) else {
        return Vec::new();
    };
    let sec = match section {
        "acls" => Section::Acls,
        "grants" => Section::Grants,
        "ssh" => Section::Ssh,
        "tests" => Section::Tests,
        "sshTests" => Section::SshTests,
        _ => Section::NodeAttrs,
    };
    let mut out = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let context = format!("{section}[{index}]");
        let Some(obj) = ctx.object(item, &context) else {
            continue;
        };
        let origin = Origin {
            section: sec,
            index,
            span: IgnoredSpan(item.span),
        };
        if let Some(t) = each(ctx, obj, origin, &context) {
            out.push(t);
        }
    }
    out
}

fn acl(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<Acl> {
    let f = ctx.fields::<AclField>(obj, context);
    let action = match f.get(AclField::Action) {
        Some(m) => ctx.string(&m.value, &format!("{context}.action")),
        None => {
            ctx.push(
                Diagnostic::new(
                    crate::lower::codes::MISSING_FIELD.as_code(),
                    origin.span.0,
                    format!("{context} has no `action`"),
                )
                .with_help("add `\"action\": \"accept\"`"),
            );
            None
        }
    };
    let mut legacy_names = None;
    let src_member = f.get(AclField::Src).or_else(|| {
        let m = f.get(AclField::Users);
        if let Some(m) = m {
            legacy_names = Some(m.name.span);
        }
        m
    });
    let dst_member = f.get(AclField::Dst).or_else(|| {
        let m = f.get(AclField::Ports);
        if let Some(m) = m {
            legacy_names.get_or_insert(m.name.span);
        }
        m
    });
    let src = src_member.map_or_else(Vec::new, |m| ctx.aliases(&m.value, "src"));
    let proto = f.get(AclField::Proto).and_then(|m| {
        let s = ctx.string(&m.value, &format!("{context}.proto"))?;
        match Proto::parse(&s.value) {
            Ok(p) => Some(Spanned::new(p, s.span)),
            Err(e) => {
                ctx.push(Diagnostic::new(cc::INVALID_PROTOCOL.as_code(), s.span, e));
                None
            }
        }
    });
    let mut dst = Vec::new();
    if let Some(m) = dst_member {
        for s in ctx.strings(&m.value, "dst") {
            if let Some(d) = acl_dst(ctx, &s) {
                if let Some(p) = &proto
                    && !p.value.has_ports()
                    && d.ports.iter().any(|r| !r.is_all())
                {
                    ctx.push(
                        Diagnostic::new(
                            cc::PORTS_ON_PORTLESS_PROTOCOL.as_code(),
                            s.span,
                            format!(
                                "protocol does not support specific ports: \"{}\", only \"*\" is allowed",
                                p.span.text(ctx.source).trim_matches('"')
                            ),
                        )
                        .with_label(p.span, "this protocol has no ports"),
                    );
                    continue;
                }
                dst.push(Spanned::new(d, s.span));
            }
        }
    }
    let src_posture = f
        .get(AclField::SrcPosture)
        .map_or_else(Vec::new, |m| ctx.strings(&m.value, "srcPosture"));
    Some(Acl {
        origin,
        action,
        src,
        dst,
        proto,
        src_posture,
        legacy_names,
    })
}

/// Parses an ACL destination `alias:ports`.
fn acl_dst(ctx: &mut Ctx<'_>, s: &Spanned<String>) -> Option<AclDst> {
    let raw = s.value.trim();
    let Some((host, ports)) = split_host_port(raw) else {
        ctx.push(
            Diagnostic::new(
                cc::INVALID_PORT.as_code(),
                s.span,
                format!("dst=\"{raw}\": hostport must contain a colon"),
            )
            .with_help(format!("add the ports: `{raw}:*` for all, or `{raw}:22`")),
        );
        return None;
    };
    let ports = match parse_ports(ports) {
        Ok(p) => p,
        Err(e) => {
            ctx.push(
                Diagnostic::new(
                    cc::INVALID_PORT.as_code(),
                    s.span,
                    format!("dst=\"{raw}\": {e}"),
                )
                .with_help(
                    "the port spec follows the last `:`; use `*`, `22`, `80,443` or `1000-2000`",
                ),
            );
            return None;
        }
    };
    let alias = ctx.alias(&Spanned::new(host.to_owned(), s.span), "dst")?;
    Some(AclDst {
        alias: alias.value,
        ports,
    })
}

fn grant(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<Grant> {
    let f = ctx.fields::<GrantField>(obj, context);
    let src = f
        .get(GrantField::Src)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "src"));
    let dst = f
        .get(GrantField::Dst)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "dst"));
    let mut ip = Vec::new();
    let mut capabilities_written = false;
    if let Some(m) = f.get(GrantField::Ip) {
        for s in ctx.strings(&m.value, &format!("{context}.ip")) {
            capabilities_written = true;
            if let Some(g) = grant_ip(ctx, &s) {
                ip.push(Spanned::new(g, s.span));
            }
        }
    }
    let app = f
        .get(GrantField::App)
        .map_or_else(Vec::new, |m| app_caps(ctx, &m.value, context));
    capabilities_written |= !app.is_empty();
    let src_posture = f
        .get(GrantField::SrcPosture)
        .map_or_else(Vec::new, |m| ctx.strings(&m.value, "srcPosture"));
    let mut via = Vec::new();
    if let Some(m) = f.get(GrantField::Via) {
        for s in ctx.strings(&m.value, "via") {
            if let Some(a) = ctx.alias(&s, "via") {
                via.push(a);
            }
        }
    }
    Some(Grant {
        origin,
        src,
        dst,
        ip,
        capabilities_written,
        app,
        via,
        src_posture,
    })
}

/// Parses one grant `ip` element: `[proto:]ports`.
fn grant_ip(ctx: &mut Ctx<'_>, s: &Spanned<String>) -> Option<GrantIp> {
    let raw = s.value.trim();
    let (proto_part, ports_part) = match raw.split_once(':') {
        Some((p, rest)) => {
            if rest.contains(':') {
                ctx.push(Diagnostic::new(
                    cc::INVALID_PORT.as_code(),
                    s.span,
                    format!(
                        "\"{raw}\": expected only one colon in Internet protocol and port type"
                    ),
                ));
                return None;
            }
            (Some(p), rest)
        }
        None => (None, raw),
    };
    let proto = match proto_part {
        Some(p) => match Proto::parse(p) {
            Ok(p) => Some(p),
            Err(e) => {
                ctx.push(Diagnostic::new(cc::INVALID_PROTOCOL.as_code(), s.span, e));
                return None;
            }
        },
        None => None,
    };
    let ports = match parse_ports(ports_part) {
        Ok(p) => p,
        Err(e) => {
            let mut d = Diagnostic::new(cc::INVALID_PORT.as_code(), s.span, e);
            if proto_part.is_none() && Proto::parse(ports_part).is_ok() {
                d = d.with_help(format!(
                    "a grant `ip` element is `[proto:]ports`; for all of {ports_part} write `{ports_part}:*`"
                ));
            }
            ctx.push(d);
            return None;
        }
    };
    if let Some(p) = proto
        && !p.has_ports()
        && ports.iter().any(|r| !r.is_all())
    {
        ctx.push(Diagnostic::new(
            cc::PORTS_ON_PORTLESS_PROTOCOL.as_code(),
            s.span,
            format!(
                "protocol does not support specific ports: \"{}\", only \"*\" is allowed",
                proto_part.unwrap_or_default()
            ),
        ));
        return None;
    }
    Some(GrantIp { proto, ports })
}

/// Reads an `app` object: capability name → array of JSON values.
fn app_caps(
    ctx: &mut Ctx<'_>,
    v: &Value,
    context: &str,
) -> Vec<(Spanned<String>, Vec<serde_json::Value>)> {
    let Some(obj) = ctx.object(v, &format!("{context}.app")) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for m in &obj.members {
        let name = Spanned::new(m.key().to_owned(), m.name.span);
        let values = match &m.value.kind {
            ValueKind::Array(a) => a.elements.iter().map(Value::to_json).collect(),
            ValueKind::Null => Vec::new(),
            _ => {
                ctx.wrong_type(
                    &m.value,
                    "an array",
                    &format!("{context}.app[\"{}\"]", name.value),
                );
                continue;
            }
        };
        out.push((name, values));
    }
    out
}

fn ssh_rule(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<SshRule> {
    let f = ctx.fields::<SshField>(obj, context);
    let action_str = f
        .get(SshField::Action)
        .and_then(|m| ctx.string(&m.value, "action"));
    let action = match &action_str {
        None => {
            ctx.push(
                Diagnostic::new(
                    cc::INVALID_SSH_ACTION.as_code(),
                    origin.span.0,
                    "action must be specified",
                )
                .with_help("add `\"action\": \"accept\"` or `\"action\": \"check\"`"),
            );
            None
        }
        Some(s) => match s.value.trim() {
            "accept" => Some(Spanned::new(SshAction::Accept, s.span)),
            "check" => Some(Spanned::new(SshAction::Check, s.span)),
            "" => {
                ctx.push(Diagnostic::new(
                    cc::INVALID_SSH_ACTION.as_code(),
                    s.span,
                    "action must be specified",
                ));
                None
            }
            other => {
                ctx.push(
                    Diagnostic::new(
                        cc::INVALID_SSH_ACTION.as_code(),
                        s.span,
                        format!("\"{other}\" is not a valid action"),
                    )
                    .with_help("SSH actions are `accept` and `check`, in lower case"),
                );
                None
            }
        },
    };
    let src = f
        .get(SshField::Src)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "src"));
    let dst = f
        .get(SshField::Dst)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "dst"));
    let mut users = Vec::new();
    let raw_users = f
        .get(SshField::Users)
        .map(|m| ctx.strings(&m.value, "users"));
    match raw_users {
        None => ctx.push(users_missing(origin)),
        Some(list) if list.is_empty() => ctx.push(users_missing(origin)),
        Some(list) => {
            for s in list {
                let u = s.value.trim();
                let user = match u {
                    "" | "*" => {
                        ctx.push(
                            Diagnostic::new(cc::INVALID_SSH_USER.as_code(), s.span, format!("user \"{u}\" is not valid"))
                                .with_help("use `autogroup:nonroot` for any non-root user, or name the local account"),
                        );
                        continue;
                    }
                    "root" => SshUser::Root,
                    "autogroup:nonroot" => SshUser::NonRoot,
                    // `localpart:*@` without a domain is a literal user name to
                    // Tailscale, like any other string it does not recognise.
                    _ => match u.strip_prefix("localpart:*@") {
                        Some(domain) if !domain.is_empty() => {
                            SshUser::LocalpartOf(domain.to_owned())
                        }
                        _ => SshUser::Named(u.to_owned()),
                    },
                };
                users.push(Spanned::new(user, s.span));
            }
        }
    }
    let check_period = f.get(SshField::CheckPeriod).and_then(|m| {
        if m.value.is_null() {
            // Tailscale accepts `null`: no check period.
            return None;
        }
        let s = ctx.string(&m.value, "checkPeriod")?;
        let t = s.value.trim();
        if t == "always" {
            return Some(Spanned::new(CheckPeriod::Always, s.span));
        }
        match parse_go_duration(t) {
            Err(e) => {
                ctx.push(
                    Diagnostic::new(cc::INVALID_CHECK_PERIOD.as_code(), s.span, e)
                        .with_help("write a duration such as `12h`, `30m` or `1h30m`, or `always`"),
                );
                None
            }
            Ok(n) if n < 0 => {
                ctx.push(Diagnostic::new(
                    cc::INVALID_CHECK_PERIOD.as_code(),
                    s.span,
                    format!(
                        "checkPeriod {} must be a positive duration",
                        format_go_duration(n)
                    ),
                ));
                None
            }
            Ok(n) if n > MAX_CHECK_PERIOD_NANOS => {
                ctx.push(Diagnostic::new(
                    cc::INVALID_CHECK_PERIOD.as_code(),
                    s.span,
                    format!(
                        "checkPeriod {} is above the max (168h)",
                        format_go_duration(n)
                    ),
                ));
                None
            }
            Ok(n) => Some(Spanned::new(
                CheckPeriod::Seconds(u64::try_from(n / 1_000_000_000).unwrap_or(0)),
                s.span,
            )),
        }
    });
    let accept_env = f
        .get(SshField::AcceptEnv)
        .map_or_else(Vec::new, |m| ctx.strings(&m.value, "acceptEnv"));
    for e in &accept_env {
        if e.value.is_empty() {
            ctx.push(Diagnostic::new(
                cc::SSH_ACCEPT_ENV_EMPTY.as_code(),
                e.span,
                "acceptEnv values cannot be empty",
            ));
        }
    }
    let src_posture = f
        .get(SshField::SrcPosture)
        .map_or_else(Vec::new, |m| ctx.strings(&m.value, "srcPosture"));
    let recorder = f
        .get(SshField::Recorder)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "recorder"));
    let enforce_recorder = f
        .get(SshField::EnforceRecorder)
        .and_then(|m| ctx.boolean(&m.value, "enforceRecorder"))
        .unwrap_or(false);
    Some(SshRule {
        origin,
        action: action?,
        src,
        dst,
        users,
        check_period,
        accept_env,
        src_posture,
        recorder,
        enforce_recorder,
    })
}

fn users_missing(origin: Origin) -> Diagnostic {
    Diagnostic::new(
        cc::SSH_USERS_MISSING.as_code(),
        origin.span.0,
        "users must be specified",
    )
    .with_help("add `\"users\": [\"autogroup:nonroot\"]` or name the local accounts")
}

/// Reads one map section (`groups`, `tagOwners`, `hosts`, `ipsets`, `postures`): every
/// member through `entry`, which reports its own problems and returns `None` to leave
/// the member out. A name written twice is a duplicate key, which the parser reports
/// (`TP0006`) at the later one: the first definition is kept and the later ones are left
/// out, so no later stage sees two definitions of one name.
fn map_section<T>(
    ctx: &mut Ctx<'_>,
    v: &Value,
    section: &str,
    mut entry: impl FnMut(&mut Ctx<'_>, &Member) -> Option<T>,
) -> Vec<T> {
    let Some(obj) = ctx.object(v, section) else {
        return Vec::new();
    };
    let mut out = Vec::with_capacity(obj.members.len());
    // Names kept so far: duplicates are found in constant time.
    let mut seen: HashSet<&str> = HashSet::with_capacity(obj.members.len());
    for m in &obj.members {
        if seen.contains(m.key()) {
            continue;
        }
        if let Some(item) = entry(ctx, m) {
            seen.insert(m.key());
            out.push(item);
        }
    }
    out
}

fn groups(ctx: &mut Ctx<'_>, v: &Value) -> Vec<Group> {
    map_section(ctx, v, "groups", |ctx, m| {
        let name = m.key();
        if !name.starts_with("group:") {
            ctx.push(
                Diagnostic::new(
                    cc::INVALID_GROUP_NAME.as_code(),
                    m.name.span,
                    format!("group must start with 'group:', got: \"{name}\""),
                )
                .with_help(format!("write `group:{name}`")),
            );
            return None;
        }
        let members = match &m.value.kind {
            ValueKind::Array(_) | ValueKind::Null => {
                ctx.strings(&m.value, &format!("groups[\"{name}\"]"))
            }
            _ => {
                ctx.push(Diagnostic::new(
                    crate::lower::codes::WRONG_TYPE.as_code(),
                    m.value.span,
                    format!(
                        "group value must be an array of users: group \"{name}\" got {}: {}",
                        m.value.type_name(),
                        m.value.span.text(ctx.source)
                    ),
                ));
                return None;
            }
        };
        Some(Group {
            name: Spanned::new(name.to_owned(), m.name.span),
            members,
        })
    })
}

fn tag_owners(ctx: &mut Ctx<'_>, v: &Value) -> Vec<TagOwner> {
    map_section(ctx, v, "tagOwners", |ctx, m| {
        let tag = m.key();
        match tag.strip_prefix("tag:") {
            None => {
                ctx.push(Diagnostic::new(
                    cc::INVALID_TAG_NAME.as_code(),
                    m.name.span,
                    format!("tag must start with 'tag:', got: \"{tag}\""),
                ));
                return None;
            }
            Some(name) if !is_valid_tag_name(name) => {
                ctx.push(
                    Diagnostic::new(
                        cc::INVALID_TAG_NAME.as_code(),
                        m.name.span,
                        format!(
                            "tagOwners[\"{tag}\"]: tag names must start with a letter, after 'tag:'"
                        ),
                    )
                    .with_help(
                        "tag names are ASCII letters, digits and `-`, starting with a letter",
                    ),
                );
                return None;
            }
            Some(_) => {}
        }
        let owners = ctx.aliases(&m.value, &format!("tagOwners[\"{tag}\"]"));
        Some(TagOwner {
            tag: Spanned::new(tag.to_owned(), m.name.span),
            owners,
        })
    })
}

fn hosts(ctx: &mut Ctx<'_>, v: &Value) -> Vec<Host> {
    map_section(ctx, v, "hosts", |ctx, m| {
        let name = m.key();
        let value_text = match &m.value.kind {
            ValueKind::String(s) => s.to_string(),
            _ => m.value.span.text(ctx.source).to_owned(),
        };
        let addr = m.value.as_str().and_then(|s| parse_addr(s.trim()));
        let valid_name = is_valid_host_name(name) && parse_addr(name).is_none();
        let (Some(addr), true) = (addr, valid_name) else {
            let d = if valid_name {
                Diagnostic::new(
                    cc::INVALID_HOST.as_code(),
                    m.value.span,
                    format!("hostname contains invalid IP address: hostname \"{name}\" address \"{value_text}\""),
                )
                .with_help("a host alias maps to one IP address or CIDR prefix, e.g. `\"10.0.0.5\"` or `\"10.0.0.0/24\"`")
            } else {
                Diagnostic::new(
                    cc::INVALID_HOST.as_code(),
                    m.name.span,
                    format!("invalid hostname \"{name}\""),
                )
                .with_help("host alias names use letters, digits, `-`, `_` and `.`, and must not look like an address")
            };
            ctx.push(d);
            return None;
        };
        Some(Host {
            name: Spanned::new(name.to_owned(), m.name.span),
            addr: Spanned::new(addr, m.value.span),
        })
    })
}

fn ipsets(ctx: &mut Ctx<'_>, v: &Value) -> Vec<IpSet> {
    map_section(ctx, v, "ipsets", |ctx, m| {
        let name = m.key();
        if !name.starts_with("ipset:") || name.len() <= "ipset:".len() {
            ctx.push(Diagnostic::new(
                cc::INVALID_IPSET.as_code(),
                m.name.span,
                format!("ipset must start with 'ipset:', got: \"{name}\""),
            ));
            return None;
        }
        let mut ops = Vec::new();
        for s in ctx.strings(&m.value, &format!("ipsets[\"{name}\"]")) {
            let t = s.value.trim();
            let (add, target) = if let Some(r) = t.strip_prefix("add ") {
                (true, r.trim())
            } else if let Some(r) = t.strip_prefix("remove ") {
                (false, r.trim())
            } else {
                (true, t)
            };
            let parsed = if let Some(h) = target.strip_prefix("host:") {
                Ok(Alias::Host(h.to_owned()))
            } else {
                Alias::parse(target, true)
            };
            match parsed {
                Ok(a @ (Alias::Addr(_) | Alias::Range(..) | Alias::Host(_) | Alias::IpSet(_)))
                | Ok(a @ Alias::Autogroup(Autogroup::Internet)) => {
                    ops.push(Spanned::new(IpSetOp { add, target: a }, s.span));
                }
                Ok(other) => ctx.push(
                    Diagnostic::new(
                        cc::INVALID_IPSET.as_code(),
                        s.span,
                        format!("ipsets[\"{name}\"]: `{other}` cannot be used in an ipset"),
                    )
                    .with_help("ipsets hold IPs, CIDRs, ranges, `host:` aliases, other ipsets and `autogroup:internet`"),
                ),
                Err(e) => ctx.push(cc::alias_error(&e, s.span, &format!("ipsets[\"{name}\"]"))),
            }
        }
        Some(IpSet {
            name: Spanned::new(name.to_owned(), m.name.span),
            ops,
        })
    })
}

fn postures(ctx: &mut Ctx<'_>, v: &Value) -> Vec<Posture> {
    map_section(ctx, v, "postures", |ctx, m| {
        let name = m.key();
        if !name.starts_with("posture:") {
            ctx.push(Diagnostic::new(
                cc::INVALID_POSTURE.as_code(),
                m.name.span,
                format!("posture must start with 'posture:', got: \"{name}\""),
            ));
            return None;
        }
        let conditions = ctx.strings(&m.value, &format!("postures[\"{name}\"]"));
        let mut parsed = Vec::with_capacity(conditions.len());
        for c in &conditions {
            match Condition::parse(&c.value) {
                Ok(cond) => parsed.push(cond),
                Err(e) => {
                    // A problem with the whole condition points at the whole string.
                    let whole = e.start == 0 && e.end >= c.value.trim_end().len();
                    let span = if whole {
                        c.span
                    } else {
                        inner_span(ctx.source, c, e.start, e.end)
                    };
                    let mut d = Diagnostic::new(
                        cc::INVALID_POSTURE.as_code(),
                        span,
                        format!("postures[\"{name}\"]: {}", e.message),
                    );
                    if span != c.span {
                        d = d.with_label(c.span, "in this condition");
                    }
                    if let Some(h) = e.help {
                        d = d.with_help(h);
                    }
                    ctx.push(d);
                }
            }
        }
        Some(Posture {
            name: Spanned::new(name.to_owned(), m.name.span),
            conditions,
            parsed,
        })
    })
}

/// The span of bytes `start..end` of a string value's text, when the source spells the
/// string without escapes (so offsets carry over); the whole string's span otherwise.
fn inner_span(source: &str, s: &Spanned<String>, start: usize, end: usize) -> crate::span::Span {
    let raw = s.span.text(source);
    let plain =
        raw.len() == s.value.len() + 2 && raw.get(1..raw.len() - 1) == Some(s.value.as_str());
    let (Ok(a), Ok(b)) = (u32::try_from(start), u32::try_from(end)) else {
        return s.span;
    };
    if plain && start <= end && end <= s.value.len() {
        crate::span::Span {
            start: s.span.start + 1 + a,
            end: s.span.start + 1 + b,
        }
    } else {
        s.span
    }
}

/// Reads a test's `srcPostureAttrs`: an object of namespaced keys to strings, numbers
/// or booleans. Bad entries are reported (`code`) and left out.
fn posture_attrs(
    ctx: &mut Ctx<'_>,
    v: &Value,
    context: &str,
    code: crate::rules::Code,
) -> Option<Spanned<PostureAttrs>> {
    let Some(obj) = v.as_object() else {
        ctx.push(
            Diagnostic::new(
                code,
                v.span,
                format!(
                    "{context}.srcPostureAttrs must be an object, found {}",
                    v.type_name()
                ),
            )
            .with_help("write `{\"node:os\": \"macos\", \"node:tsVersion\": \"1.62.0\"}`"),
        );
        return None;
    };
    let mut attrs = PostureAttrs::new();
    for m in &obj.members {
        let key = m.key();
        if !posture::is_attribute_key(key) {
            ctx.push(
                Diagnostic::new(
                    code,
                    m.name.span,
                    format!("{context}.srcPostureAttrs: `{key}` is not a posture attribute"),
                )
                .with_help("attributes are namespaced: `node:os`, `node:tsVersion`, `custom:name`"),
            );
            continue;
        }
        match AttrValue::from_json(&m.value.to_json()) {
            Some(value) => attrs.insert(key, value),
            None => ctx.push(Diagnostic::new(
                code,
                m.value.span,
                format!(
                    "{context}.srcPostureAttrs[\"{key}\"] must be a string, number or boolean, found {}",
                    m.value.type_name()
                ),
            )),
        }
    }
    Some(Spanned::new(attrs, v.span))
}

fn auto_approvers(ctx: &mut Ctx<'_>, v: &Value) -> AutoApprovers {
    let mut out = AutoApprovers::default();
    let Some(obj) = ctx.object(v, "autoApprovers") else {
        return out;
    };
    let f = ctx.fields::<AutoApproverField>(obj, "autoApprovers");
    if let Some(m) = f.get(AutoApproverField::Routes)
        && let Some(routes) = ctx.object(&m.value, "autoApprovers.routes")
    {
        for r in &routes.members {
            let key = r.key();
            let approvers = ctx.aliases(&r.value, &format!("autoApprovers.routes[\"{key}\"]"));
            match key.trim().parse::<ipnet::IpNet>() {
                Ok(net) => out.routes.push((Spanned::new(net, r.name.span), approvers)),
                Err(_) => ctx.push(
                    Diagnostic::new(
                        cc::INVALID_AUTO_APPROVER.as_code(),
                        r.name.span,
                        format!("autoApprovers.routes: \"{key}\" is not a valid CIDR prefix"),
                    )
                    .with_help("route keys are prefixes such as `10.0.0.0/16` or `fd00::/64`"),
                ),
            }
        }
    }
    if let Some(m) = f.get(AutoApproverField::ExitNode) {
        out.exit_node = ctx.aliases(&m.value, "autoApprovers.exitNode");
    }
    if let Some(m) = f.get(AutoApproverField::Services)
        && let Some(svcs) = ctx.object(&m.value, "autoApprovers.services")
    {
        for s in &svcs.members {
            let key = s.key();
            let approvers = ctx.aliases(&s.value, &format!("autoApprovers.services[\"{key}\"]"));
            out.services
                .push((Spanned::new(key.to_owned(), s.name.span), approvers));
        }
    }
    out
}

fn node_attr(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<NodeAttr> {
    let f = ctx.fields::<NodeAttrField>(obj, context);
    let target = f
        .get(NodeAttrField::Target)
        .map_or_else(Vec::new, |m| ctx.aliases(&m.value, "target"));
    let attr = f.get(NodeAttrField::Attr).map_or_else(Vec::new, |m| {
        ctx.strings(&m.value, &format!("{context}.attr"))
    });
    let app = f
        .get(NodeAttrField::App)
        .map_or_else(Vec::new, |m| app_caps(ctx, &m.value, context));
    let mut ip_pool = Vec::new();
    if let Some(m) = f.get(NodeAttrField::IpPool) {
        for s in ctx.strings(&m.value, &format!("{context}.ipPool")) {
            match s.value.trim().parse::<ipnet::IpNet>() {
                Ok(n) => ip_pool.push(Spanned::new(n, s.span)),
                Err(_) => ctx.push(Diagnostic::new(
                    cc::INVALID_IP_POOL.as_code(),
                    s.span,
                    format!("ipPool \"{}\" is not a valid CIDR prefix", s.value),
                )),
            }
        }
    }
    Some(NodeAttr {
        origin,
        target,
        attr,
        app,
        ip_pool,
    })
}

fn acl_test(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<AclTest> {
    let f = ctx.fields::<TestField>(obj, context);
    let src = f
        .get(TestField::Src)
        .or_else(|| f.get(TestField::User))
        .and_then(|m| ctx.string(&m.value, &format!("{context}.src")));
    let proto = f.get(TestField::Proto).and_then(|m| match &m.value.kind {
        // Tailscale accepts a number here too.
        ValueKind::Number(_) => Some(Spanned::new(
            m.value.span.text(ctx.source).to_owned(),
            m.value.span,
        )),
        _ => ctx.string(&m.value, &format!("{context}.proto")),
    });
    let accept = f
        .get(TestField::Accept)
        .or_else(|| f.get(TestField::Allow))
        .map(|m| ctx.strings(&m.value, &format!("{context}.accept")));
    let deny = f
        .get(TestField::Deny)
        .map(|m| ctx.strings(&m.value, &format!("{context}.deny")));
    let src_posture_attrs = f
        .get(TestField::SrcPostureAttrs)
        .and_then(|m| posture_attrs(ctx, &m.value, context, cc::MALFORMED_TEST.as_code()));
    Some(AclTest {
        origin,
        src,
        proto,
        accept,
        deny,
        src_posture_attrs,
    })
}

fn ssh_test(ctx: &mut Ctx<'_>, obj: &Object, origin: Origin, context: &str) -> Option<SshTest> {
    let f = ctx.fields::<SshTestField>(obj, context);
    let src = f
        .get(SshTestField::Src)
        .and_then(|m| ctx.string(&m.value, &format!("{context}.src")));
    let mut lists: [Vec<Spanned<String>>; 4] = Default::default();
    for (slot, (i, name)) in lists.iter_mut().zip([
        (SshTestField::Dst, "dst"),
        (SshTestField::Accept, "accept"),
        (SshTestField::Check, "check"),
        (SshTestField::Deny, "deny"),
    ]) {
        if let Some(m) = f.get(i) {
            *slot = ctx.strings(&m.value, &format!("{context}.{name}"));
        }
    }
    let [dst, accept, check, deny] = lists;
    Some(SshTest {
        origin,
        src,
        dst,
        accept,
        check,
        deny,
        src_posture_attrs: f
            .get(SshTestField::SrcPostureAttrs)
            .and_then(|m| posture_attrs(ctx, &m.value, context, cc::MALFORMED_SSH_TEST.as_code())),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn ranges() {
        assert!(crate::model::alias::parse_range("10.0.0.1-10.0.0.5").is_some());
    }
}
