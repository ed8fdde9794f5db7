//! The `sarif` format: SARIF 2.1.0 for GitHub code scanning (`upload-sarif`).
//!
//! - One run; `tool.driver.rules` describes every rule that has a result, sorted by
//!   code, with the summary, the full explanation (markdown), the docs URL, the default
//!   level and the category as a tag. `ruleId` is the stable code.
//! - Paths are URIs relative to `%SRCROOT%` (the working directory): absolute file
//!   names under [`RenderOptions::base_dir`] are made relative; others stay absolute
//!   `file://` URIs.
//! - Columns count Unicode code points (`columnKind: unicodeCodePoints`); `endColumn`
//!   is exclusive, as SARIF defines it.
//! - `partialFingerprints["tailpolicy/v1"]` hashes the code, the path, the message and
//!   the flagged text (not the line number), so alerts survive unrelated edits.

use super::{Located, RenderOptions, rule_url};
use serde_json::{Value, json};
use std::path::{Component, Path};
use tailpolicy_policy::{Rule, Severity};

pub(super) fn render(diagnostics: &[Located<'_>], options: &RenderOptions) -> String {
    let mut rules: Vec<&'static Rule> = diagnostics
        .iter()
        .map(|d| d.diagnostic.code.rule())
        .collect();
    rules.sort_by_key(|r| r.code);
    rules.dedup_by_key(|r| r.code);
    let rule_index = |code: &str| rules.iter().position(|r| r.code == code).unwrap_or(0);

    let results: Vec<Value> = diagnostics
        .iter()
        .map(|d| {
            let diagnostic = d.diagnostic;
            let uri = artifact_location(d.file.name(), options.base_dir.as_deref());
            let mut message = diagnostic.message.clone();
            if let Some(help) = &diagnostic.help {
                message.push_str("\nhelp: ");
                message.push_str(help);
            }
            let mut result = json!({
                "ruleId": diagnostic.code.as_str(),
                "ruleIndex": rule_index(diagnostic.code.as_str()),
                "level": level(diagnostic.severity),
                "message": { "text": message },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": uri.clone(),
                        "region": {
                            "startLine": d.start.line,
                            "startColumn": d.start.column,
                            "endLine": d.end.line,
                            "endColumn": d.end.column,
                        }
                    }
                }],
                "partialFingerprints": {
                    "tailpolicy/v1": fingerprint(&[
                        diagnostic.code.as_str(),
                        d.file.name(),
                        &diagnostic.message,
                        d.file.snippet(diagnostic.span),
                    ]),
                },
            });
            if !diagnostic.labels.is_empty() {
                let related: Vec<Value> = diagnostic
                    .labels
                    .iter()
                    .enumerate()
                    .map(|(id, label)| {
                        let (start, end) = d.file.span_line_cols(label.span);
                        json!({
                            "id": id,
                            "message": { "text": label.message },
                            "physicalLocation": {
                                "artifactLocation": uri.clone(),
                                "region": {
                                    "startLine": start.line,
                                    "startColumn": start.column,
                                    "endLine": end.line,
                                    "endColumn": end.column,
                                }
                            }
                        })
                    })
                    .collect();
                if let Some(object) = result.as_object_mut() {
                    object.insert("relatedLocations".to_owned(), Value::Array(related));
                }
            }
            result
        })
        .collect();

    let rules_json: Vec<Value> = rules
        .iter()
        .map(|rule| {
            json!({
                "id": rule.code,
                "name": rule.name,
                "shortDescription": { "text": rule.summary },
                "fullDescription": { "text": rule.summary },
                "help": { "text": rule.explanation, "markdown": rule.explanation },
                "helpUri": rule_url(rule.code),
                "defaultConfiguration": { "level": level(rule.severity) },
                "properties": { "tags": [rule.category.as_str()] },
            })
        })
        .collect();

    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "tailpolicy",
                    "version": options.tool_version,
                    "informationUri": env!("CARGO_PKG_REPOSITORY"),
                    "rules": rules_json,
                }
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    });
    let mut out = serde_json::to_string_pretty(&sarif).unwrap_or_default();
    out.push('\n');
    out
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "note",
    }
}

/// The `artifactLocation` of a file name: relative to `%SRCROOT%` when possible.
fn artifact_location(name: &str, base_dir: Option<&Path>) -> Value {
    let path = Path::new(name);
    let relative = if path.is_absolute() {
        base_dir.and_then(|base| path.strip_prefix(base).ok())
    } else {
        Some(path)
    };
    match relative {
        Some(relative) => {
            let parts: Vec<String> = relative
                .components()
                .filter_map(|c| match c {
                    Component::Normal(part) => Some(encode(&part.to_string_lossy())),
                    Component::ParentDir => Some("..".to_owned()),
                    _ => None,
                })
                .collect();
            json!({ "uri": parts.join("/"), "uriBaseId": "%SRCROOT%" })
        }
        None => {
            let absolute = path.to_string_lossy().replace('\\', "/");
            let encoded: Vec<String> = absolute.split('/').map(encode).collect();
            let joined = encoded.join("/");
            let uri = if joined.starts_with('/') {
                format!("file://{joined}")
            } else {
                format!("file:///{joined}")
            };
            json!({ "uri": uri })
        }
    }
}

/// Percent-encodes everything but RFC 3986 unreserved characters (and `:` for drive
/// letters).
fn encode(segment: &str) -> String {
    let mut out = String::new();
    for byte in segment.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// 64-bit FNV-1a over the parts (separated by a zero byte), as 16 hex digits. Stable
/// across Rust versions and platforms, unlike `DefaultHasher`.
fn fingerprint(parts: &[&str]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for byte in part.bytes().chain(std::iter::once(0)) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_relative_uris() {
        let base = Path::new("/repo");
        assert_eq!(
            artifact_location("/repo/dir/my policy.hujson", Some(base)),
            json!({"uri": "dir/my%20policy.hujson", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("./policy.hujson", Some(base)),
            json!({"uri": "policy.hujson", "uriBaseId": "%SRCROOT%"})
        );
        assert_eq!(
            artifact_location("/elsewhere/p.hujson", Some(base)),
            json!({"uri": "file:///elsewhere/p.hujson"})
        );
    }

    #[test]
    fn fingerprint_is_fnv1a() {
        // FNV-1a 64 of the single byte 0 (empty part plus separator).
        assert_eq!(fingerprint(&[""]), "af63bd4c8601b7df");
        assert_ne!(fingerprint(&["a", "b"]), fingerprint(&["ab", ""]));
    }
}
