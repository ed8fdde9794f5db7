//! The syntax rules (`TP00xx`) reported by the HuJSON parser.

use crate::diagnostic::Severity;
use crate::rules::{Category, Rule};

/// `TP0001`: the text is not HuJSON at some point.
pub static SYNTAX_ERROR: Rule = Rule {
    code: "TP0001",
    name: "syntax-error",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the file is not valid HuJSON",
    explanation: r#"## What it checks
That the file is HuJSON (also called JWCC): standard JSON plus `//` and `/* */` comments and
a trailing comma after the last element of an array or the last member of an object. The
message says what was expected at the reported line and column and what was found instead.

## Why
Tailscale and headscale refuse a policy file that does not parse; nothing else in it is
checked until it does.

## Example
```jsonc
{
  "groups": {
    "group:eng": ["alice@example.com"]
    "group:ops": ["bob@example.com"],
  },
}
```
A `,` is missing after the first group.

## Fix
Insert or remove the token named in the message. Other codes cover the common special cases:
`TP0003` (syntax from JSON5, YAML or JavaScript), `TP0004` (strings), `TP0005` (comments).
"#,
};

/// `TP0002`: the file has no value at all.
pub static EMPTY_DOCUMENT: Rule = Rule {
    code: "TP0002",
    name: "empty-document",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the file contains no value",
    explanation: r#"## What it checks
That the file contains a value, not only whitespace and comments.

## Why
A policy file must be one JSON object. (headscale treats a zero-byte file as "no policy",
which allows all traffic; an empty file is far more often a mistake than a decision.)

## Example
An empty `policy.hujson`, or one that has only comments.

## Fix
Write the policy object, e.g. `{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}`
for allow-all, or `{}` to deny everything.
"#,
};

/// `TP0003`: syntax from JSON5, YAML, JavaScript or Python that HuJSON does not accept.
pub static UNSUPPORTED_SYNTAX: Rule = Rule {
    code: "TP0003",
    name: "non-hujson-syntax",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "syntax that other JSON dialects accept but HuJSON does not",
    explanation: r#"## What it checks
Common constructs from JSON5, YAML, JavaScript or Python that HuJSON rejects:
`#` comments, single-quoted strings, unquoted member names, numbers with a leading `+`,
leading zeros, a leading or trailing `.`, hexadecimal numbers, `NaN` and `Infinity`, and
`True`/`False`/`None`-style literals.

## Why
HuJSON is JSON with comments and trailing commas, nothing more. Editors in "JSON5" or
"JavaScript" mode accept these constructs silently, and the policy is then rejected on upload.

## Example
```jsonc
{
  # admins
  groups: {'group:admin': ['alice@example.com']},
}
```

## Fix
Use `//` or `/* */` comments, double-quoted strings and member names, and plain decimal
numbers: `{"groups": {"group:admin": ["alice@example.com"]}}`.
"#,
};

/// `TP0004`: a malformed string literal.
pub static INVALID_STRING: Rule = Rule {
    code: "TP0004",
    name: "invalid-string",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "a string is unterminated or contains a control character or invalid escape",
    explanation: r#"## What it checks
That every string ends with `"` on the line where it starts, contains no raw control
characters (U+0000 to U+001F, e.g. a tab), and uses only the JSON escapes `\"`, `\\`, `\/`,
`\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX`.

## Why
JSON strings cannot span lines and cannot hold raw control characters; Tailscale rejects the
file. A missing closing quote also makes every later error confusing.

## Example
```jsonc
{"hosts": {"nas": "192.168.1.10}}
```

## Fix
Close the string, replace raw tabs with `\t`, and escape backslashes as `\\`.
"#,
};

/// `TP0005`: a `/*` comment that is never closed, or a stray `/`.
pub static INVALID_COMMENT: Rule = Rule {
    code: "TP0005",
    name: "invalid-comment",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "a block comment is not closed, or a `/` does not start a comment",
    explanation: r#"## What it checks
That every `/*` has a matching `*/` and that a `/` outside strings starts `//` or `/*`.

## Why
An unclosed block comment swallows the rest of the file.

## Example
```jsonc
{
  /* temporarily disabled
  "acls": [],
}
```

## Fix
Close the comment with `*/`, or use `//` line comments.
"#,
};

/// `TP0006`: an object has the same member name twice.
pub static DUPLICATE_KEY: Rule = Rule {
    code: "TP0006",
    name: "duplicate-key",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "an object contains the same member name twice",
    explanation: r#"## What it checks
That no object contains two members with exactly the same name. (Names that differ only in
case, such as `"acls"` and `"ACLs"`, are reported by the policy checker, because Tailscale
matches field names case-insensitively.)

## Why
headscale rejects duplicate names; Go's `encoding/json` silently keeps the last one, so the
first is ignored without a word. Either way the file does not mean what it seems to.

## Example
```jsonc
{
  "hosts": {
    "nas": "192.168.1.10",
    "nas": "192.168.1.11",
  },
}
```

## Fix
Remove or rename one of the members, or merge their values.
"#,
};

/// `TP0007`: objects and arrays nested deeper than the parser allows.
pub static NESTING_TOO_DEEP: Rule = Rule {
    code: "TP0007",
    name: "nesting-too-deep",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "objects and arrays are nested more than 256 levels deep",
    explanation: r#"## What it checks
That objects and arrays nest at most 256 levels deep (the top-level value is level 1).

## Why
No policy needs more than a handful of levels; very deep nesting is a generated or corrupted
file, and bounding it keeps the parser from exhausting its stack.

## Example
`[[[[[[ … ]]]]]]` with 257 or more `[`.

## Fix
Check how the file was produced.
"#,
};

/// `TP0008`: the bytes are not UTF-8 text.
pub static INVALID_ENCODING: Rule = Rule {
    code: "TP0008",
    name: "invalid-encoding",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the file is not UTF-8 text",
    explanation: r#"## What it checks
That the file is UTF-8 text without a byte order mark and without NUL bytes.

## Why
HuJSON is UTF-8. Invalid UTF-8 usually means the file was saved as UTF-16 or Latin-1, and NUL
bytes mean a binary file was passed by mistake.

## Example
A policy saved by an editor as "UTF-16 LE", or `tailpolicy lint policy.tar.gz`.

## Fix
Re-save the file as UTF-8 (without BOM), or pass the right file.
"#,
};

/// `TP0009`: the file is too large to parse.
pub static FILE_TOO_LARGE: Rule = Rule {
    code: "TP0009",
    name: "file-too-large",
    category: Category::Correctness,
    severity: Severity::Error,
    summary: "the file is 4 GiB or larger",
    explanation: r#"## What it checks
That the file is smaller than 4 GiB, the most that byte offsets in diagnostics can address.

## Why
The largest public policy files are a few megabytes; a file this large is not a policy.

## Example
Passing a disk image or log file as the policy.

## Fix
Pass the right file.
"#,
};
