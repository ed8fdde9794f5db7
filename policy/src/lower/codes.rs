//! Structure rules (`TP01xx`): sections, field names and value types.

use crate::declare_rule;

declare_rule!(
    UNKNOWN_FIELD,
    "TP0101",
    "unknown-field",
    Suspicious,
    Warning,
    "a field that no Tailscale policy section defines",
    what = r#"Reports object keys that are not part of the section they appear in, with a "did you mean" suggestion when a known key is close."#,
    why = r#"A misspelt key is silently ignored by Tailscale, so the rule it was meant to configure does not exist. It is a warning rather than an error because Tailscale adds fields often; keys starting with `#` are treated as comments and never reported."#,
    example = r#"{ "acls": [{ "action": "accept", "src": ["*"], "dts": ["*:*"] }] }"#,
    fix = r#"```jsonc
{ "acls": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }
```"#,
);

declare_rule!(
    WRONG_TYPE,
    "TP0102",
    "wrong-value-type",
    Correctness,
    Error,
    "a field holds a value of the wrong JSON type",
    what = r#"Checks that every known field holds the JSON type Tailscale expects: arrays of strings for `src`/`dst`, an object for `groups`, a string for `action`, and so on."#,
    why = r#"Tailscale rejects the whole policy when a field cannot be decoded into its type."#,
    example = r#"{ "groups": { "group:dev": "alice@example.com" } }"#,
    fix = r#"```jsonc
{ "groups": { "group:dev": ["alice@example.com"] } }
```"#,
);

declare_rule!(
    MISSING_FIELD,
    "TP0103",
    "missing-required-field",
    Correctness,
    Error,
    "a required field is missing",
    what =
        r#"Reports entries that lack a field Tailscale requires, such as an ACL without `action`."#,
    why = r#"Tailscale rejects the policy."#,
    example = r#"{ "acls": [{ "src": ["*"], "dst": ["*:*"] }] }"#,
    fix = r#"```jsonc
{ "acls": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }
```"#,
);

declare_rule!(
    DUPLICATE_FIELD,
    "TP0104",
    "duplicate-field",
    Correctness,
    Error,
    "the same field appears twice in one object (names compared ignoring case)",
    what = r#"Reports a field that is given twice in the same object, including spellings that differ only in case (`acls` and `ACLs`), since Tailscale matches field names case-insensitively."#,
    why = r#"Only one of the two values takes effect, and which one depends on the decoder; the other is silently lost."#,
    example = r#"{ "acls": [], "ACLs": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }"#,
    fix = r#"Merge the two values into one field."#,
);

declare_rule!(
    NON_CANONICAL_CASE,
    "TP0105",
    "non-canonical-field-case",
    Suspicious,
    Error,
    "a known field spelt with non-canonical letter case",
    what = r#"Reports known fields whose spelling differs from the documented one only in letter case, such as `Groups` or `TagOwners`."#,
    why = r#"Tailscale's decoder happens to match field names case-insensitively, but the documentation, the JSON schema, editors, other tools and reviewers do not: a reader searching for `groups` misses it, and a strict decoder drops it. tailpolicy reports it as an error by default; lower its severity in `tailpolicy.toml` if you rely on the lenient decoding."#,
    example = r#"{ "Groups": { "group:dev": ["alice@example.com"] } }"#,
    fix = r#"```jsonc
{ "groups": { "group:dev": ["alice@example.com"] } }
```"#,
);

declare_rule!(
    ROOT_NOT_OBJECT,
    "TP0106",
    "policy-not-an-object",
    Correctness,
    Error,
    "the policy file's top-level value is not an object",
    what = r#"Checks that the file holds one JSON object."#,
    why = r#"A tailnet policy is an object of sections; anything else is rejected."#,
    example = r#"[{ "action": "accept", "src": ["*"], "dst": ["*:*"] }]"#,
    fix = r#"```jsonc
{ "acls": [{ "action": "accept", "src": ["*"], "dst": ["*:*"] }] }
```"#,
);
/// Every rule of this module, for the registry.
pub static RULES: &[&crate::rules::Rule] = &[
    &UNKNOWN_FIELD,
    &WRONG_TYPE,
    &MISSING_FIELD,
    &DUPLICATE_FIELD,
    &NON_CANONICAL_CASE,
    &ROOT_NOT_OBJECT,
];
