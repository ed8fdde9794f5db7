//! Device posture attributes in an inventory (policy-spec §2.7): tailpolicy's
//! `postureAttributes` object, and what the other formats let us derive.
//!
//! - tailpolicy's format: `"postureAttributes": {"node:os": "macos", "node:tsVersion":
//!   "1.62.0", "node:tsAutoUpdate": true, "custom:tier": "prod", "custom:score": 80}` —
//!   namespaced keys, string/number/boolean values.
//! - `tailscale status --json`: a peer's `OS` gives `node:os`.
//! - the API device list: `os` gives `node:os`, `clientVersion` gives `node:tsVersion`
//!   (the leading `v` and the `-t…-g…` build suffix dropped).
//!
//! `node:os` values are lower case (`macos`, `ios`), as Tailscale documents them.

use policy::Diagnostic;
use policy::Diagnostics;
use policy::codes::inventory as codes;
use policy::hujson::Value;
use policy::model::posture::{self, AttrType, AttrValue, PostureAttrs};

/// Reads a `postureAttributes` object, reporting malformed entries (TP0501) and
/// leaving them out.
pub(crate) fn read_attributes(v: &Value, diags: &mut Diagnostics) -> PostureAttrs {
    let mut out = PostureAttrs::new();
    if v.is_null() {
        return out;
    }
    let Some(obj) = v.as_object() else {
        diags.push(
            Diagnostic::new(
                codes::INVENTORY_FORMAT.as_code(),
                v.span,
                format!("`postureAttributes` must be an object, found {}", v.type_name()),
            )
            .with_help("write `\"postureAttributes\": {\"node:os\": \"macos\", \"node:tsVersion\": \"1.62.0\"}`"),
        );
        return out;
    };
    for m in &obj.members {
        let key = m.key();
        if !posture::is_attribute_key(key) {
            diags.push(
                Diagnostic::new(
                    codes::INVENTORY_FORMAT.as_code(),
                    m.name.span,
                    format!("`{key}` is not a posture attribute"),
                )
                .with_help("attributes are namespaced: `node:os`, `node:tsVersion`, `custom:name`"),
            );
            continue;
        }
        let Some(value) = AttrValue::from_json(&m.value.to_json()) else {
            diags.push(Diagnostic::new(
                codes::INVENTORY_FORMAT.as_code(),
                m.value.span,
                format!(
                    "posture attribute `{key}` must be a string, number or boolean, found {}",
                    m.value.type_name()
                ),
            ));
            continue;
        };
        let expected = match posture::known_type(key) {
            Some(AttrType::Bool) => (!matches!(value, AttrValue::Bool(_))).then_some("a boolean"),
            Some(AttrType::String | AttrType::Version) => {
                (!matches!(value, AttrValue::String(_))).then_some("a string")
            }
            None => None,
        };
        if let Some(what) = expected {
            diags.push(Diagnostic::new(
                codes::INVENTORY_FORMAT.as_code(),
                m.value.span,
                format!("posture attribute `{key}` must be {what}"),
            ));
            continue;
        }
        out.insert(key, value);
    }
    out
}

/// `node:os` from an OS name as `tailscale status` or the API spell it (`macOS`).
pub(crate) fn derive_os(attrs: &mut PostureAttrs, os: Option<&str>) {
    if let Some(os) = os.map(str::trim).filter(|s| !s.is_empty()) {
        attrs.insert("node:os", AttrValue::String(os.to_ascii_lowercase()));
    }
}

/// `node:tsVersion` from the API's `clientVersion` (`1.62.0-t0123abcd-g4567ef`).
pub(crate) fn derive_ts_version(attrs: &mut PostureAttrs, client_version: Option<&str>) {
    let Some(v) = client_version.map(str::trim).filter(|s| !s.is_empty()) else {
        return;
    };
    let v = v.strip_prefix('v').unwrap_or(v);
    let short = v.split('-').next().unwrap_or(v);
    if !short.is_empty() {
        attrs.insert("node:tsVersion", AttrValue::String(short.to_owned()));
    }
}
