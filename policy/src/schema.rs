//! A JSON Schema (draft 2020-12) of the policy file, generated from the field tables
//! the lowering uses ([`crate::lower()`]), so that the schema and the checker cannot
//! drift: a test fails when a field is known to one and not the other.
//!
//! The schema is deliberately permissive where tailpolicy is (unknown fields are
//! allowed, since Tailscale adds fields often) and precise where editors help most:
//! completion of section and field names, value types, and selector patterns.

use crate::lower::{
    ACL_FIELDS, AUTO_APPROVER_FIELDS, GRANT_FIELDS, NODE_ATTR_FIELDS, SSH_FIELDS, SSH_TEST_FIELDS,
    TEST_FIELDS, TOP_LEVEL_KEYS,
};
use serde_json::{Map, Value, json};

/// The `$id` of the schema.
pub const SCHEMA_ID: &str = "https://github.com/tailpolicy/tailpolicy/policy.schema.json";

fn strings(description: &str) -> Value {
    json!({"type": "array", "items": {"type": "string"}, "description": description})
}

/// The schema of one field of one section, or `None` when the field is unknown to the
/// schema (a test turns that into a failure).
fn field(section: &str, name: &str) -> Option<Value> {
    let v = match (section, name) {
        ("acls", "action") => {
            json!({"const": "accept", "description": "Only `accept` exists; access is the union of all rules."})
        }
        ("acls", "src" | "users") => strings(
            "Sources: users, `group:`, `tag:`, `autogroup:`, hosts, IPs, CIDRs, `ipset:`, or `*`.",
        ),
        ("acls", "dst" | "ports") => {
            json!({"type": "array", "items": {"type": "string", "pattern": ":[^:]+$"}, "description": "Destinations `selector:ports`; ports are `*`, `22`, `80,443` or `1000-2000`."})
        }
        ("acls", "proto") => {
            json!({"type": "string", "description": "IP protocol name (`tcp`, `udp`, `icmp`, …) or number 1-255."})
        }
        (_, "srcPosture") => {
            json!({"type": "array", "items": {"type": "string", "pattern": "^posture:"}})
        }
        ("grants", "src") => strings("Sources, as in ACLs."),
        ("grants", "dst") => strings("Destinations without ports."),
        ("grants", "ip") => {
            json!({"type": "array", "items": {"type": "string", "pattern": "^([A-Za-z0-9-]+:)?(\\*|[0-9]+(-[0-9]+)?)$"}, "description": "Network capabilities `[proto:]ports`, e.g. `tcp:443`, `*`, `icmp:*`."})
        }
        ("grants" | "nodeAttrs", "app") => {
            json!({"type": "object", "propertyNames": {"pattern": "^[^/\\s]+\\.[^/\\s]+/.+$"}, "additionalProperties": {"type": "array"}, "description": "Application capabilities: `domain/path` → array of JSON values."})
        }
        ("grants", "via") => {
            json!({"type": "array", "items": {"type": "string", "pattern": "^tag:"}, "description": "Tagged routers or exit nodes that must carry this traffic."})
        }
        ("ssh", "action") => json!({"enum": ["accept", "check"]}),
        ("ssh", "src") => strings("Users, groups, tags, `autogroup:member`, `autogroup:tagged`."),
        ("ssh", "dst") => strings("Tags, users, `autogroup:self`, `autogroup:tagged`."),
        ("ssh", "users") => {
            json!({"type": "array", "minItems": 1, "items": {"type": "string", "minLength": 1, "not": {"const": "*"}}, "description": "Local accounts: names, `root`, `autogroup:nonroot`, `localpart:*@domain`."})
        }
        ("ssh", "checkPeriod") => {
            json!({"type": "string", "pattern": "^(always|([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+)$"})
        }
        ("ssh", "acceptEnv") => {
            json!({"type": "array", "items": {"type": "string", "minLength": 1}})
        }
        ("ssh", "recorder") => json!({"type": "array", "items": {"type": "string"}}),
        ("ssh", "enforceRecorder") => json!({"type": "boolean"}),
        ("tests", "src" | "user") => json!({"type": "string", "minLength": 1}),
        ("tests", "proto") => json!({"type": ["string", "integer"]}),
        ("tests", "accept" | "allow" | "deny") => {
            json!({"type": "array", "items": {"type": "string", "pattern": ":[0-9]+$"}, "description": "`host:port` with exactly one port."})
        }
        ("tests" | "sshTests", "srcPostureAttrs") => json!({
            "type": "object",
            "propertyNames": {"pattern": "^[A-Za-z][A-Za-z0-9]*:[^\\s:]+$"},
            "additionalProperties": {"type": ["string", "number", "boolean"]}
        }),
        ("sshTests", "src") => json!({"type": "string", "minLength": 1}),
        ("sshTests", "dst") => json!({"type": "array", "minItems": 1, "items": {"type": "string"}}),
        ("sshTests", "accept" | "check" | "deny") => strings("Local user names."),
        ("autoApprovers", "routes") => {
            json!({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}, "description": "CIDR → approvers."})
        }
        ("autoApprovers", "exitNode") => strings("Approvers of exit nodes."),
        ("autoApprovers", "services") => {
            json!({"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}})
        }
        ("nodeAttrs", "target") => strings("Nodes the attributes apply to."),
        ("nodeAttrs", "attr") => strings("Node capabilities, e.g. `funnel`."),
        ("nodeAttrs", "ipPool") => json!({"type": "array", "items": {"type": "string"}}),
        _ => return None,
    };
    Some(v)
}

fn entry(section: &str, fields: &[&str], required: &[&str]) -> Option<Value> {
    let mut props = Map::new();
    for f in fields {
        props.insert((*f).to_owned(), field(section, f)?);
    }
    Some(json!({
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": true,
    }))
}

fn top_level(key: &str) -> Option<Value> {
    let list = |section: &str, fields: &[&str], required: &[&str]| -> Option<Value> {
        Some(json!({"type": "array", "items": entry(section, fields, required)?}))
    };
    let v = match key {
        "acls" => list("acls", ACL_FIELDS, &["action"])?,
        "grants" => list("grants", GRANT_FIELDS, &[])?,
        "ssh" => list("ssh", SSH_FIELDS, &["action", "users"])?,
        "tests" => list("tests", TEST_FIELDS, &[])?,
        "sshTests" => list("sshTests", SSH_TEST_FIELDS, &["src", "dst"])?,
        "nodeAttrs" => list("nodeAttrs", NODE_ATTR_FIELDS, &["target"])?,
        "autoApprovers" => entry("autoApprovers", AUTO_APPROVER_FIELDS, &[])?,
        "groups" => {
            json!({"type": "object", "propertyNames": {"pattern": "^group:"}, "additionalProperties": {"type": "array", "items": {"type": "string", "pattern": "@"}}})
        }
        "tagOwners" => {
            json!({"type": "object", "propertyNames": {"pattern": "^tag:[A-Za-z][A-Za-z0-9-]*$"}, "additionalProperties": {"type": "array", "items": {"type": "string"}}})
        }
        "hosts" => {
            json!({"type": "object", "additionalProperties": {"type": "string", "description": "One IP address or CIDR prefix."}})
        }
        "ipsets" => {
            json!({"type": "object", "propertyNames": {"pattern": "^ipset:"}, "additionalProperties": {"type": "array", "items": {"type": "string"}}})
        }
        "postures" => {
            json!({"type": "object", "propertyNames": {"pattern": "^posture:"}, "additionalProperties": {"type": "array", "items": {"type": "string"}}})
        }
        "defaultSrcPosture" => {
            json!({"type": "array", "items": {"type": "string", "pattern": "^posture:"}})
        }
        "derpMap" => json!({"type": ["object", "null"]}),
        "disableIPv4" | "randomizeClientPort" => json!({"type": "boolean"}),
        "OneCGNATRoute" => json!({"enum": ["", "mac-always", "mac-never"]}),
        "extraDNSRecords" => {
            json!({"type": "array", "items": {"type": "object", "properties": {"Name": {"type": "string"}, "Value": {"type": "string"}, "Type": {"type": "string"}}, "required": ["Name", "Value"]}})
        }
        _ => return None,
    };
    Some(v)
}

/// The whole schema, or the first field (section, name) it has no entry for.
pub fn try_json_schema() -> Result<Value, String> {
    let mut props = Map::new();
    for key in TOP_LEVEL_KEYS {
        let v = top_level(key)
            .ok_or_else(|| format!("no schema for section `{key}` or one of its fields"))?;
        props.insert((*key).to_owned(), v);
    }
    Ok(json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Tailscale / Headscale tailnet policy file",
        "description": "Generated by `tailpolicy schema` from the field tables of its checker.",
        "type": "object",
        "properties": props,
        "additionalProperties": true,
    }))
}

/// The whole schema (a field without an entry yields an empty schema for that field;
/// the test `every_known_field_has_a_schema` prevents that).
pub fn json_schema() -> Value {
    try_json_schema()
        .unwrap_or_else(|_| json!({"$schema": "https://json-schema.org/draft/2020-12/schema"}))
}

#[cfg(test)]
#[expect(clippy::indexing_slicing, reason = "tests")]
mod tests {
    use super::*;

    #[test]
    fn every_known_field_has_a_schema() {
        assert_eq!(try_json_schema().err(), None);
    }

    #[test]
    fn schema_lists_every_section() {
        let s = json_schema();
        for key in TOP_LEVEL_KEYS {
            assert!(s["properties"].get(*key).is_some(), "{key}");
        }
        assert_eq!(
            s["properties"]["ssh"]["items"]["properties"]["action"]["enum"][1],
            "check"
        );
    }
}
