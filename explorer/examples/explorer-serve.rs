//! A stand-alone explorer for development and the browser test, until `tailpolicy
//! serve` mounts it:
//!
//! ```text
//! cargo run -p tailpolicy-explorer --example explorer-serve -- \
//!     [--listen 127.0.0.1:8080] [--config FILE] [--nodes FILE] [POLICY]
//! cargo run -p tailpolicy-explorer --example explorer-serve -- --synth-out DIR [--synth-nodes 1000]
//! ```
//!
//! The second form writes a synthetic tailnet (`compiler::synth`, the benchmarks' M
//! shape by default) to `DIR/policy.hujson` and `DIR/nodes.json` and exits.
//!
//! Besides the explorer it answers a minimal stand-in for the policy API's
//! `GET`/`POST /api/v2/tailnet/-/acl` (one-fragment policies; the ETag is a hash of the
//! text, not Tailscale's; `If-Match` checked, 412 on a mismatch, 400 with the first
//! error when the policy has errors), so the page's save path can be tried without
//! the real server.

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::PathBuf;
use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_explorer::{SharedSource, router};
use tailpolicy_workspace::fs::{LoadRequest, load};
use tailpolicy_workspace::{Contents, Workspace};

fn etag(ws: &Workspace) -> String {
    let mut h = DefaultHasher::new();
    for f in ws.fragment_inputs() {
        f.contents.as_bytes().hash(&mut h);
    }
    format!("\"{:016x}\"", h.finish())
}

fn synth_out(dir: &str, nodes: usize) -> Result<(), String> {
    let shape = Shape {
        nodes,
        users: nodes * 3 / 10,
        groups: nodes * 3 / 10,
        rules: nodes / 2,
        routers: 10,
        tags: 40,
        seed: 1,
    };
    let (policy, inv) = synth::tailnet(shape);
    let inventory = synth::inventory_json(&inv);
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("policy.hujson"), policy).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("nodes.json"), inventory.to_string()).map_err(|e| e.to_string())?;
    Ok(())
}

async fn acl_get(State(source): State<SharedSource>) -> Response {
    let (text, tag) = {
        let guard = source.0.lock().unwrap_or_else(|e| e.into_inner());
        let text: String = guard
            .0
            .fragment_inputs()
            .map(|f| f.contents.to_text())
            .collect();
        (text, guard.1.clone())
    };
    (
        [
            (header::ETAG, tag),
            (header::CONTENT_TYPE, "application/hujson".to_owned()),
        ],
        text,
    )
        .into_response()
}

async fn acl_post(State(source): State<SharedSource>, headers: HeaderMap, body: Bytes) -> Response {
    let mut guard = source.0.lock().unwrap_or_else(|e| e.into_inner());
    let wanted = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    if let Some(w) = wanted
        && w != guard.1
        && w != "\"ts-default\""
    {
        return (
            StatusCode::PRECONDITION_FAILED,
            axum::Json(json!({"message": "precondition failed, invalid old hash"})),
        )
            .into_response();
    }
    let Some(first) = guard.0.fragment_inputs().next().cloned() else {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "no policy"})),
        )
            .into_response();
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let mut candidate = tailpolicy_explorer::whatif::edited(&guard.0, &first.name, &text);
    if let Some((file, d)) = candidate.report().iter().find(|(_, d)| d.is_error()) {
        let lc = file.line_col(d.span.start);
        let message = format!("line {}, column {}: {}", lc.line, lc.column, d.message);
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": message})),
        )
            .into_response();
    }
    let mut input = first;
    input.contents = Contents::Text(text);
    candidate.set_fragment(input);
    let tag = etag(&candidate);
    *guard = (candidate, tag.clone());
    ([(header::ETAG, tag)], "{}").into_response()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let mut listen = "127.0.0.1:8080".to_owned();
    let mut request = LoadRequest {
        cwd: std::env::current_dir().map_err(|e| e.to_string())?,
        ..LoadRequest::default()
    };
    let mut synth: Option<String> = None;
    let mut synth_nodes = 1_000;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--listen" => listen = args.next().ok_or("--listen needs an address")?,
            "--nodes" => request.nodes = args.next().map(PathBuf::from),
            "--config" => request.config = args.next().map(PathBuf::from),
            "--synth-out" => synth = args.next(),
            "--synth-nodes" => {
                synth_nodes = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or("--synth-nodes needs a number")?;
            }
            _ => request.policy = Some(a),
        }
    }
    if let Some(dir) = synth {
        return synth_out(&dir, synth_nodes);
    }
    let ws = load(&request).map_err(|e| e.to_string())?.workspace;
    let tag = etag(&ws);
    let source = SharedSource::new(ws, tag);
    let api = Router::new()
        .route("/api/v2/tailnet/-/acl", get(acl_get).post(acl_post))
        .with_state(source.clone());
    let app = router(source).merge(api);
    let listener = tokio::net::TcpListener::bind(&listen)
        .await
        .map_err(|e| e.to_string())?;
    eprintln!("explorer on http://{listen}/");
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}
