//! `GET /explorer/api/fragments`: the policy's fragments for the read-only view, and
//! the accepted policy's ETag.

use serde_json::{Value, json};
use tailpolicy_workspace::Workspace;

/// `{"etag", "fragments": [{"name", "text"}]}`.
pub fn fragments_json(ws: &Workspace, etag: &str) -> Value {
    let fragments: Vec<Value> = ws
        .fragment_inputs()
        .map(|f| json!({"name": f.name, "text": f.contents.to_text()}))
        .collect();
    json!({"etag": etag, "fragments": fragments})
}
