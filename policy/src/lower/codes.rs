//! Structure rules (`TP01xx`): sections, field names and value types.

use crate::diagnostic::Severity;
use crate::rules::{Category, Rule};

/// TP0101.
pub static UNKNOWN_FIELD: Rule = Rule {
    code: "TP0101",
    name: "unknown-field",
    category: Category::Suspicious,
    severity: Severity::Warning,
    summary: "a field that no Tailscale policy section defines",
    explanation: "\
## What it does
Reports object keys that are not part of the section they appear in, with a \"did you mean\" suggestion when a known key is close.

## Why is this bad?
A misspelt key is silently ignored by Tailscale, so the rule it was meant to configure does not exist. It is a warning rather than an error because Tailscale adds fields often; keys starting with `#` are treated as comments and never reported.

## Example
```jsonc
{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dts\": [\"*:*\"] }] }
```

## Use instead
```jsonc
{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }
```",
};

/// TP0102.
pub static WRONG_TYPE: Rule = Rule {
    code: "TP0102",
    name: "wrong-value-type",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "a field holds a value of the wrong JSON type",
    explanation: "\
## What it does
Checks that every known field holds the JSON type Tailscale expects: arrays of strings for `src`/`dst`, an object for `groups`, a string for `action`, and so on.

## Why is this bad?
Tailscale rejects the whole policy when a field cannot be decoded into its type.

## Example
```jsonc
{ \"groups\": { \"group:dev\": \"alice@example.com\" } }
```

## Use instead
```jsonc
{ \"groups\": { \"group:dev\": [\"alice@example.com\"] } }
```",
};

/// TP0103.
pub static MISSING_FIELD: Rule = Rule {
    code: "TP0103",
    name: "missing-required-field",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "a required field is missing",
    explanation: "\
## What it does
Reports entries that lack a field Tailscale requires, such as an ACL without `action`.

## Why is this bad?
Tailscale rejects the policy.

## Example
```jsonc
{ \"acls\": [{ \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }
```

## Use instead
```jsonc
{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }
```",
};

/// TP0104.
pub static DUPLICATE_FIELD: Rule = Rule {
    code: "TP0104",
    name: "duplicate-field",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the same field appears twice in one object (names compared ignoring case)",
    explanation: "\
## What it does
Reports a field that is given twice in the same object, including spellings that differ only in case (`acls` and `ACLs`), since Tailscale matches field names case-insensitively.

## Why is this bad?
Only one of the two values takes effect, and which one depends on the decoder; the other is silently lost.

## Example
```jsonc
{ \"acls\": [], \"ACLs\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }
```

## Use instead
Merge the two values into one field.",
};

/// TP0105.
pub static NON_CANONICAL_CASE: Rule = Rule {
    code: "TP0105",
    name: "non-canonical-field-case",
    category: Category::Suspicious,
    severity: Severity::Error,
    summary: "a known field spelt with non-canonical letter case",
    explanation: "\
## What it does
Reports known fields whose spelling differs from the documented one only in letter case, such as `Groups` or `TagOwners`.

## Why is this bad?
Tailscale's decoder happens to match field names case-insensitively, but the documentation, the JSON schema, editors, other tools and reviewers do not: a reader searching for `groups` misses it, and a strict decoder drops it. tailpolicy reports it as an error by default; lower its severity in `tailpolicy.toml` if you rely on the lenient decoding.

## Example
```jsonc
{ \"Groups\": { \"group:dev\": [\"alice@example.com\"] } }
```

## Use instead
```jsonc
{ \"groups\": { \"group:dev\": [\"alice@example.com\"] } }
```",
};

/// TP0106.
pub static ROOT_NOT_OBJECT: Rule = Rule {
    code: "TP0106",
    name: "policy-not-an-object",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the policy file's top-level value is not an object",
    explanation: "\
## What it does
Checks that the file holds one JSON object.

## Why is this bad?
A tailnet policy is an object of sections; anything else is rejected.

## Example
```jsonc
[{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }]
```

## Use instead
```jsonc
{ \"acls\": [{ \"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"] }] }
```",
};
/// Every rule of this module, for the registry.
pub static RULES: &[&crate::rules::Rule] = &[
    &UNKNOWN_FIELD,
    &WRONG_TYPE,
    &MISSING_FIELD,
    &DUPLICATE_FIELD,
    &NON_CANONICAL_CASE,
    &ROOT_NOT_OBJECT,
];
