//! The shape of `tests` entries, as far as it can be judged without an inventory.
//! Tailscale fails malformed entries with `test(s) failed`, so the messages start so.
//! Evaluation (and unknown users) happens in the compiler's test runner.

use super::codes as cc;
use crate::Dialect;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::model::ports::parse_ports;
use crate::model::{Alias, Autogroup, Policy};
use crate::span::Span;

pub fn check(p: &Policy, dialect: Dialect, diags: &mut Diagnostics) {
    for t in &p.tests {
        let entry = t.origin.span.0;
        let ctx = format!("tests[{}]", t.origin.index);
        match &t.src {
            None => diags.push(malformed(entry, &format!("{ctx}: missing \"src\""))),
            Some(s) if s.value.trim().is_empty() => {
                diags.push(malformed(s.span, &format!("{ctx}: empty \"src\"")))
            }
            Some(s) => match Alias::parse(&s.value, false) {
                Ok(a) => reference(p, &a, s.span, &ctx, diags),
                Err(e) => diags.push(malformed(s.span, &format!("{ctx}: src: {e}"))),
            },
        }
        if let Some(proto) = &t.proto {
            let v = proto.value.trim().trim_matches('"').to_ascii_lowercase();
            // headscale accepts only protocols with ports; Tailscale's documentation
            // also describes ICMP tests (port 0).
            let with_ports = matches!(v.as_str(), "" | "tcp" | "udp" | "sctp" | "6" | "17" | "132");
            let icmp_allowed = is_icmp(&v) && dialect == Dialect::Tailscale;
            if !with_ports && !icmp_allowed {
                diags.push(
                    malformed(
                        proto.span,
                        &format!(
                            "{ctx}: test protocol must be tcp, udp, sctp, or empty, got \"{v}\""
                        ),
                    )
                    .with_help("Tailscale can only evaluate tests for protocols with ports"),
                );
            }
        }
        if t.accept.is_none() && t.deny.is_none() {
            diags.push(malformed(
                entry,
                &format!("{ctx}: test entry must have at least one of \"accept\" or \"deny\""),
            ));
        }
        let icmp = t
            .proto
            .as_ref()
            .is_some_and(|p| is_icmp(&p.value.trim().trim_matches('"').to_ascii_lowercase()));
        for d in t.accept.iter().flatten().chain(t.deny.iter().flatten()) {
            destination(p, &d.value, d.span, &ctx, icmp, diags);
        }
    }
}

/// ICMP tests are written with port 0 (Tailscale's documentation).
fn is_icmp(proto: &str) -> bool {
    matches!(
        proto,
        "icmp" | "icmpv4" | "1" | "ipv6-icmp" | "icmpv6" | "58"
    )
}

fn destination(p: &Policy, raw: &str, span: Span, ctx: &str, icmp: bool, diags: &mut Diagnostics) {
    let raw = raw.trim();
    if raw
        .rsplit_once(':')
        .is_some_and(|(host, _)| host == "autogroup:internet")
    {
        diags.push(malformed(
            span,
            &format!("{ctx}: autogroup:internet not valid as a test destination"),
        ));
        return;
    }
    let Some((host, port)) = raw.rsplit_once(':') else {
        diags.push(
            malformed(span, &format!("{ctx}: destination \"{raw}\" has no port")).with_help(
                format!("test destinations are `host:port`, e.g. `{raw}:22`"),
            ),
        );
        return;
    };
    if !port
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'-' || b == b',' || b == b'*')
        && Alias::parse(raw, false).is_ok()
    {
        diags.push(
            malformed(span, &format!("{ctx}: destination \"{raw}\" has no port")).with_help(
                format!("test destinations are `host:port`, e.g. `{raw}:22`"),
            ),
        );
        return;
    }
    if icmp && port != "0" {
        diags.push(
            malformed(
                span,
                &format!("{ctx}: ICMP test destinations take port 0: \"{raw}\""),
            )
            .with_help("ICMP has no ports: write `host:0`"),
        );
        return;
    }
    match parse_ports(if icmp { "1" } else { port }) {
        Ok(ports) if ports.len() == 1 && ports.iter().all(|r| r.first == r.last) => {}
        Ok(_) => {
            diags.push(
                malformed(span, &format!("{ctx}: test destination port must be a single port: \"{raw}\""))
                    .with_help("Tailscale fails tests with `*`, ranges or lists even where the rules allow them; test one port"),
            );
            return;
        }
        Err(e) => {
            diags.push(malformed(span, &format!("{ctx}: \"{raw}\": {e}")));
            return;
        }
    }
    let alias = match Alias::parse(host, false) {
        Ok(a) => a,
        Err(e) => {
            diags.push(malformed(span, &format!("{ctx}: dst: {e}")));
            return;
        }
    };
    match &alias {
        Alias::Addr(a) if !a.bare => diags.push(malformed(
            span,
            &format!("{ctx}: test destination must be a single host, not a CIDR range: \"{raw}\""),
        )),
        Alias::Host(h) if p.host(h).is_some_and(|h| !h.addr.value.bare) => diags.push(malformed(
            span,
            &format!(
                "{ctx}: test destination must be a single host, not a CIDR range: host \"{h}\""
            ),
        )),
        Alias::Autogroup(Autogroup::Internet) => diags.push(malformed(
            span,
            &format!("{ctx}: autogroup:internet not valid as a test destination"),
        )),
        Alias::Wildcard
        | Alias::Autogroup(_)
        | Alias::IpSet(_)
        | Alias::Range(..)
        | Alias::UserDomain(_) => {
            diags.push(malformed(
                span,
                &format!("{ctx}: \"{host}\" is not a single host Tailscale can test"),
            ));
        }
        _ => reference(p, &alias, span, ctx, diags),
    }
}

/// Undefined groups, tags and hosts make the test fail.
fn reference(p: &Policy, a: &Alias, span: Span, ctx: &str, diags: &mut Diagnostics) {
    let missing = match a {
        Alias::Group(g) if p.group(g).is_none() => Some(format!("group \"{g}\" is not defined")),
        Alias::Tag(t) if p.tag_owner(t).is_none() => Some(format!("tag \"{t}\" is not defined")),
        Alias::Host(h) if p.host(h).is_none() => Some(format!("host \"{h}\" is not defined")),
        Alias::Autogroup(g) if !matches!(g, Autogroup::Member | Autogroup::Tagged) => {
            Some(format!("{g} cannot be a test source"))
        }
        Alias::Wildcard => Some("\"*\" cannot be a test source".to_owned()),
        _ => None,
    };
    if let Some(m) = missing {
        diags.push(malformed(span, &format!("{ctx}: {m}")));
    }
}

fn malformed(span: Span, msg: &str) -> Diagnostic {
    Diagnostic::new(
        cc::MALFORMED_TEST.as_code(),
        span,
        format!("test(s) failed: {msg}"),
    )
}
