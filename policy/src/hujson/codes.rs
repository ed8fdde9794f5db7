//! The syntax rules (`TP00xx`) reported by the HuJSON parser.

use crate::declare_rule;

declare_rule!(
    SYNTAX_ERROR,
    "TP0001",
    "syntax-error",
    Correctness,
    Error,
    "the file is not valid HuJSON",
    what = r#"Checks that the file is HuJSON (also called JWCC): standard JSON plus `//` and `/* */` comments and
a trailing comma after the last element of an array or the last member of an object. The
message says what was expected at the reported line and column and what was found instead."#,
    why = r#"Tailscale and headscale refuse a policy file that does not parse; nothing else in it is
checked until it does."#,
    example = r#"{
  "groups": {
    "group:eng": ["alice@example.com"]
    "group:ops": ["bob@example.com"],
  },
}"#,
    fix = r#"A `,` is missing after the first group.

Insert or remove the token named in the message. Other codes cover the common special cases:
`TP0003` (syntax from JSON5, YAML or JavaScript), `TP0004` (strings), `TP0005` (comments)."#,
);

declare_rule!(
    EMPTY_DOCUMENT,
    "TP0002",
    "empty-document",
    Correctness,
    Error,
    "the file contains no value",
    what = r#"Checks that the file contains a value, not only whitespace and comments."#,
    why = r#"A policy file must be one JSON object. (headscale treats a zero-byte file as "no policy",
which allows all traffic; an empty file is far more often a mistake than a decision.)"#,
    example_text = r#"An empty `policy.hujson`, or one that has only comments."#,
    fix = r#"Write the policy object, e.g. `{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}`
for allow-all, or `{}` to deny everything."#,
);

declare_rule!(
    UNSUPPORTED_SYNTAX,
    "TP0003",
    "non-hujson-syntax",
    Correctness,
    Error,
    "syntax that other JSON dialects accept but HuJSON does not",
    what = r#"Common constructs from JSON5, YAML, JavaScript or Python that HuJSON rejects:
`#` comments, single-quoted strings, unquoted member names, numbers with a leading `+`,
leading zeros, a leading or trailing `.`, hexadecimal numbers, `NaN` and `Infinity`, and
`True`/`False`/`None`-style literals."#,
    why = r#"HuJSON is JSON with comments and trailing commas, nothing more. Editors in "JSON5" or
"JavaScript" mode accept these constructs silently, and the policy is then rejected on upload."#,
    example = r#"{
  # admins
  groups: {'group:admin': ['alice@example.com']},
}"#,
    fix = r#"Use `//` or `/* */` comments, double-quoted strings and member names, and plain decimal
numbers: `{"groups": {"group:admin": ["alice@example.com"]}}`."#,
);

declare_rule!(
    INVALID_STRING,
    "TP0004",
    "invalid-string",
    Correctness,
    Error,
    "a string is unterminated or contains a control character or invalid escape",
    what = r#"Checks that every string ends with `"` on the line where it starts, contains no raw control
characters (U+0000 to U+001F, e.g. a tab), and uses only the JSON escapes `\"`, `\\`, `\/`,
`\b`, `\f`, `\n`, `\r`, `\t` and `\uXXXX`."#,
    why = r#"JSON strings cannot span lines and cannot hold raw control characters; Tailscale rejects the
file. A missing closing quote also makes every later error confusing."#,
    example = r#"{"hosts": {"nas": "192.168.1.10}}"#,
    fix = r#"Close the string, replace raw tabs with `\t`, and escape backslashes as `\\`."#,
);

declare_rule!(
    INVALID_COMMENT,
    "TP0005",
    "invalid-comment",
    Correctness,
    Error,
    "a block comment is not closed, or a `/` does not start a comment",
    what = r#"Checks that every `/*` has a matching `*/` and that a `/` outside strings starts `//` or `/*`."#,
    why = r#"An unclosed block comment swallows the rest of the file."#,
    example = r#"{
  /* temporarily disabled
  "acls": [],
}"#,
    fix = r#"Close the comment with `*/`, or use `//` line comments."#,
);

declare_rule!(
    DUPLICATE_KEY,
    "TP0006",
    "duplicate-key",
    Correctness,
    Error,
    "an object contains the same member name twice",
    what = r#"Checks that no object contains two members with exactly the same name. (Names that differ only in
case, such as `"acls"` and `"ACLs"`, are reported by the policy checker, because Tailscale
matches field names case-insensitively.)"#,
    why = r#"headscale rejects duplicate names; Go's `encoding/json` silently keeps the last one, so the
first is ignored without a word. Either way the file does not mean what it seems to."#,
    example = r#"{
  "hosts": {
    "nas": "192.168.1.10",
    "nas": "192.168.1.11",
  },
}"#,
    fix = r#"Remove or rename one of the members, or merge their values."#,
);

declare_rule!(
    NESTING_TOO_DEEP,
    "TP0007",
    "nesting-too-deep",
    Correctness,
    Error,
    "objects and arrays are nested more than 256 levels deep",
    what =
        r#"That objects and arrays nest at most 256 levels deep (the top-level value is level 1)."#,
    why = r#"No policy needs more than a handful of levels; very deep nesting is a generated or corrupted
file, and bounding it keeps the parser from exhausting its stack."#,
    example_text = r#"`[[[[[[ … ]]]]]]` with 257 or more `[`."#,
    fix = r#"Check how the file was produced."#,
);

declare_rule!(
    INVALID_ENCODING,
    "TP0008",
    "invalid-encoding",
    Correctness,
    Error,
    "the file is not UTF-8 text",
    what = r#"Checks that the file is UTF-8 text without a byte order mark and without NUL bytes."#,
    why = r#"HuJSON is UTF-8. Invalid UTF-8 usually means the file was saved as UTF-16 or Latin-1, and NUL
bytes mean a binary file was passed by mistake."#,
    example_text =
        r#"A policy saved by an editor as "UTF-16 LE", or `tailpolicy lint policy.tar.gz`."#,
    fix = r#"Re-save the file as UTF-8 (without BOM), or pass the right file."#,
);

declare_rule!(
    FILE_TOO_LARGE,
    "TP0009",
    "file-too-large",
    Correctness,
    Error,
    "the file is 4 GiB or larger",
    what = r#"Checks that the file is smaller than 4 GiB, the most that byte offsets in diagnostics can address."#,
    why = r#"The largest public policy files are a few megabytes; a file this large is not a policy."#,
    example_text = r#"Passing a disk image or log file as the policy."#,
    fix = r#"Pass the right file."#,
);
