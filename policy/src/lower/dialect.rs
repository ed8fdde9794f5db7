//! headscale's reading of the tree, applied to what the Tailscale reading found:
//! headscale (policy v2) decodes with unknown fields disallowed, and its policy types
//! have no `ipsets`, `postures`, `defaultSrcPosture`, `srcPosture` or the settings
//! keys configured elsewhere in headscale (`derpMap`, `disableIPv4`, …).

use super::codes;
use crate::check::codes as check_codes;
use crate::check::dialect::headscale_unknown_autogroup;
use crate::diagnostic::{Diagnostic, Diagnostics, Severity};
use crate::hujson::{Document, Object, Value};

/// Top-level keys Tailscale reads and headscale does not, with why.
const TOP_LEVEL_UNSUPPORTED: &[(&str, &str)] = &[
    ("ipsets", "headscale does not support ipsets"),
    ("postures", "headscale does not support device posture"),
    (
        "defaultSrcPosture",
        "headscale does not support device posture",
    ),
    (
        "derpMap",
        "headscale configures DERP in its config file, not in the policy",
    ),
    (
        "disableIPv4",
        "headscale configures addresses in its config file",
    ),
    (
        "OneCGNATRoute",
        "headscale does not read this setting from the policy",
    ),
    (
        "extraDNSRecords",
        "headscale configures DNS records in its config file",
    ),
];

/// Sections whose entries headscale reads without `srcPosture`.
const POSTURE_SECTIONS: &[&str] = &["acls", "grants", "ssh"];

/// The help every headscale unknown-field error carries.
const HELP: &str = "headscale rejects policies with fields it does not know (Tailscale mode only warns): remove it, or fix its spelling";

/// Rewrites the Tailscale reading's diagnostics into headscale's verdicts.
pub fn headscale(doc: &Document, diags: Diagnostics) -> Diagnostics {
    let mut out: Diagnostics = diags
        .into_iter()
        .map(|mut d| {
            if d.code == codes::UNKNOWN_FIELD.as_code() {
                d.severity = Severity::Error;
                d.help = Some(match d.help.take() {
                    Some(h) => format!("{h}; {HELP}"),
                    None => HELP.to_owned(),
                });
            } else if d.code == check_codes::UNKNOWN_AUTOGROUP.as_code() {
                d.message = headscale_autogroup_message(&d.message);
            }
            d
        })
        .collect();
    if let Some(root) = doc.root.as_object() {
        unsupported(root, &mut out);
        metadata_keys(root, &mut out);
    }
    out
}

/// `#`-prefixed keys: headscale ignores them inside ACL entries only (PR #2764); anywhere
/// else they are unknown fields to it. Tailscale ignores them everywhere.
fn metadata_keys(root: &Object, diags: &mut Diagnostics) {
    // (object, whether it is an ACL entry)
    let mut stack: Vec<(&Object, bool)> = vec![(root, false)];
    while let Some((obj, acl_entry)) = stack.pop() {
        for m in &obj.members {
            let key = m.key();
            if key.starts_with('#') && !acl_entry {
                diags.push(
                    Diagnostic::new(
                        codes::UNKNOWN_FIELD.as_code(),
                        m.name.span,
                        format!("unknown field: \"{key}\""),
                    )
                    .with_severity(Severity::Error)
                    .with_help("headscale ignores `#` keys only inside `acls` entries; Tailscale ignores them everywhere"),
                );
            }
            let is_acls = std::ptr::eq(obj, root) && key.eq_ignore_ascii_case("acls");
            if let Some(o) = m.value.as_object() {
                stack.push((o, false));
            }
            if let Some(a) = m.value.as_array() {
                for e in &a.elements {
                    if let Some(o) = e.as_object() {
                        stack.push((o, is_acls));
                    }
                }
            }
        }
    }
}

/// The message with Tailscale's list of autogroups replaced by headscale's.
fn headscale_autogroup_message(message: &str) -> String {
    let Some(start) = message.find("invalid autogroup: got \"") else {
        return message.to_owned();
    };
    let (before, rest) = message.split_at(start);
    let got = rest
        .strip_prefix("invalid autogroup: got \"")
        .and_then(|r| r.split_once('"'))
        .map_or("", |(g, _)| g);
    format!("{before}{}", headscale_unknown_autogroup(got))
}

fn unknown(span: crate::span::Span, key: &str, why: &str) -> Diagnostic {
    Diagnostic::new(
        codes::UNKNOWN_FIELD.as_code(),
        span,
        format!("unknown field: \"{key}\": {why}"),
    )
    .with_severity(Severity::Error)
    .with_help(format!(
        "Tailscale accepts `{key}`; headscale rejects the policy: remove it for headscale"
    ))
}

fn unsupported(root: &Object, diags: &mut Diagnostics) {
    for m in &root.members {
        let key = m.key();
        if let Some((_, why)) = TOP_LEVEL_UNSUPPORTED
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
        {
            diags.push(unknown(m.name.span, key, why));
        }
        if POSTURE_SECTIONS.iter().any(|s| s.eq_ignore_ascii_case(key)) {
            for entry in entries(&m.value) {
                for f in &entry.members {
                    if f.key().eq_ignore_ascii_case("srcPosture") {
                        diags.push(unknown(
                            f.name.span,
                            f.key(),
                            "headscale does not support device posture",
                        ));
                    }
                }
            }
        }
    }
}

fn entries(v: &Value) -> impl Iterator<Item = &Object> {
    v.as_array()
        .into_iter()
        .flat_map(|a| a.elements.iter())
        .filter_map(Value::as_object)
}
