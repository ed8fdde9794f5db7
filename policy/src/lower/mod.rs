//! Lowering: from the HuJSON tree to the typed [`Policy`], reporting structural problems
//! (unknown or duplicate fields, wrong types) and malformed values (selectors, ports,
//! protocols, durations) as diagnostics. Items that cannot be read are left out.

pub mod codes;
mod dialect;
mod duration;
mod fields;
mod sections;

pub use sections::{
    ACL_FIELDS, AUTO_APPROVER_FIELDS, GRANT_FIELDS, NODE_ATTR_FIELDS, SSH_FIELDS, SSH_TEST_FIELDS,
    TEST_FIELDS,
};

use crate::Dialect;
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::hujson::Document;
use crate::model::Policy;
use fields::Ctx;

/// Canonical top-level keys.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "acls",
    "grants",
    "ssh",
    "groups",
    "tagOwners",
    "hosts",
    "ipsets",
    "postures",
    "defaultSrcPosture",
    "autoApprovers",
    "nodeAttrs",
    "tests",
    "sshTests",
    "derpMap",
    "disableIPv4",
    "randomizeClientPort",
    "OneCGNATRoute",
    "extraDNSRecords",
];

/// Lowers a parsed document as Tailscale reads it. The policy is returned even when
/// diagnostics contain errors (it then holds whatever could be read).
pub fn lower(doc: &Document) -> (Policy, Diagnostics) {
    lower_with(doc, Dialect::Tailscale)
}

/// Lowers a parsed document as `dialect`'s control server reads it: in headscale mode
/// unknown fields are errors with headscale's wording, and the sections and fields
/// headscale does not have (`ipsets`, `postures`, `srcPosture`, …) are unknown fields.
pub fn lower_with(doc: &Document, dialect: Dialect) -> (Policy, Diagnostics) {
    let (policy, diags) = lower_tailscale(doc);
    let diags = match dialect {
        Dialect::Tailscale => diags,
        Dialect::Headscale => dialect::headscale(doc, diags),
    };
    (policy, diags)
}

/// Lowers again, as Tailscale reads it, the section written as member `member` of
/// `doc`'s root object (of a list section written as an array, with `element` given,
/// only that element), replacing what came from it in `policy` (which must be `doc`'s
/// lowering but for that value): the diagnostics of lowering that value and its span,
/// or `None` (`policy` unchanged) when the member is not a section read on its own.
pub fn relower_section(
    doc: &Document,
    member: usize,
    element: Option<usize>,
    policy: &mut Policy,
) -> Option<(Diagnostics, crate::span::Span)> {
    let obj = doc.root.as_object()?;
    let mut ctx = Ctx {
        source: &doc.source,
        diags: Diagnostics::new(),
    };
    let span = sections::relower_section(&mut ctx, obj, member, element, policy)?;
    Some((ctx.diags, span))
}

fn lower_tailscale(doc: &Document) -> (Policy, Diagnostics) {
    let mut ctx = Ctx {
        source: &doc.source,
        diags: Diagnostics::new(),
    };
    let mut policy = Policy::default();
    match doc.root.as_object() {
        Some(obj) => sections::lower_top(&mut ctx, obj, &mut policy),
        None => ctx.push(
            Diagnostic::new(
                codes::ROOT_NOT_OBJECT.as_code(),
                doc.root.span,
                format!(
                    "a policy must be a JSON object, found {}",
                    doc.root.type_name()
                ),
            )
            .with_help("wrap the sections in `{ … }`"),
        ),
    }
    (policy, ctx.diags)
}
