//! Where a rule is: its section and index, and the fragment, lines and column of its
//! text, so the page can jump to it.

use serde_json::{Value, json};
use tailpolicy_policy::Span;
use tailpolicy_policy::model::{Origin, Section};
use tailpolicy_workspace::SourceMap;

/// `{"section", "index", "fragment", "line", "column", "endLine"}` for a rule; the
/// implicit allow-all of a policy without `acls` and `grants` has no fragment.
pub fn rule_json(map: &SourceMap, o: &Origin) -> Value {
    if o.section == Section::Default {
        return json!({"section": "default", "index": 0, "fragment": null, "line": null,
            "column": null, "endLine": null});
    }
    let (fragment, line, column, end_line) = position(map, o.span.0);
    json!({
        "section": o.section.key(), "index": o.index, "fragment": fragment,
        "line": line, "column": column, "endLine": end_line,
    })
}

/// The fragment name, first line, first column and last line of a span.
pub fn position(map: &SourceMap, span: Span) -> (String, u32, u32, u32) {
    let start = map.line_col(span.start);
    let last = span.end.saturating_sub(1).max(span.start);
    let end = map.line_col(last);
    (
        map.file_name(span.start).to_owned(),
        start.line,
        start.column,
        end.line,
    )
}

/// Every rule's reference, in order.
pub fn rules_json(map: &SourceMap, rules: &[Origin]) -> Vec<Value> {
    rules.iter().map(|o| rule_json(map, o)).collect()
}
