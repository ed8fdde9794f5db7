//! # tailpolicy-explorer
//!
//! The policy explorer: one page (every asset embedded, no CDN, works offline) and the
//! JSON endpoints it reads, as an [`axum::Router`] that `tailpolicy serve` mounts at
//! `/`. The page shows the access grid (rows: users, groups, tags; columns: tags, hosts,
//! subnet routes, the internet), the deciding rules of a cell with a jump to their
//! lines, "from this user" and "to this host:port" views, SSH access, the `tests`
//! results, the audit findings, and a what-if editor whose changes are saved through
//! the public policy API (`POST /api/v2/tailnet/-/acl` with `If-Match`), never here.
//!
//! Endpoints (all `GET` but `whatif`), each a pure function from the analysis host to
//! JSON in its own module: `/explorer/api/grid` ([`grid`]), `/explorer/api/fragments`
//! ([`fragments`]), `/explorer/api/from?src=`, `/explorer/api/to?dst=`,
//! `/explorer/api/ssh` ([`views`]), `/explorer/api/tests`, `/explorer/api/audit`
//! ([`checks`]), `POST /explorer/api/whatif` ([`whatif`]). Failures are
//! `{"message"}` with a 4xx status. Every answer carries the accepted policy's ETag in
//! `X-Policy-ETag`.

pub mod adapter;
pub mod checks;
pub mod fragments;
pub mod grid;
pub mod problem;
pub mod rules;
pub mod views;
pub mod whatif;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use problem::Problem;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tailpolicy_workspace::Workspace;

/// What the explorer reads: the accepted policy.
pub trait Source: Clone + Send + Sync + 'static {
    /// Runs `f` with the host holding the accepted policy and that policy's ETag.
    fn with_host<R>(&self, f: impl FnOnce(&Workspace, &str) -> R) -> R;
}

/// A [`Source`] over a host and an ETag behind a mutex: for tests and the example
/// server (the API server brings its own).
#[derive(Clone, Debug, Default)]
pub struct SharedSource(pub Arc<Mutex<(Workspace, String)>>);

impl SharedSource {
    /// A source holding `ws` with ETag `etag`.
    pub fn new(ws: Workspace, etag: impl Into<String>) -> Self {
        Self(Arc::new(Mutex::new((ws, etag.into()))))
    }
}

impl Source for SharedSource {
    fn with_host<R>(&self, f: impl FnOnce(&Workspace, &str) -> R) -> R {
        let guard = self.0.lock().unwrap_or_else(|e| e.into_inner());
        f(&guard.0, &guard.1)
    }
}

/// The page's assets, embedded.
const INDEX_HTML: &str = include_str!("../assets/index.html");
const APP_JS: &str = include_str!("../assets/app.js");
const APP_CSS: &str = include_str!("../assets/app.css");

/// The last grid answered: the ETag it was for and the JSON.
type GridCache = Arc<Mutex<Option<(String, Arc<Vec<u8>>)>>>;

/// The explorer's own copy of the accepted policy's host, per ETag: queries run on it
/// without holding the source's lock (the API's writes never wait for an analysis),
/// and its caches serve every request until the policy changes.
type Snapshot = Arc<Mutex<Option<(String, Arc<Workspace>)>>>;

/// The router's state: the source, the snapshot of its host, and the last grid
/// answered (per ETag; the grid of a large tailnet takes a while).
#[derive(Clone)]
struct Shared<S> {
    source: S,
    snapshot: Snapshot,
    grid: GridCache,
}

impl<S: Source> Shared<S> {
    /// The accepted policy's ETag and the explorer's copy of its host: copied (inputs
    /// only, cheap) under the source's lock when the ETag changed.
    fn snapshot(&self) -> (String, Arc<Workspace>) {
        self.source.with_host(|ws, etag| {
            let mut slot = self.snapshot.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((e, copy)) = slot.as_ref()
                && e == etag
            {
                return (etag.to_owned(), copy.clone());
            }
            let copy = Arc::new(whatif::copy(ws));
            *slot = Some((etag.to_owned(), copy.clone()));
            (etag.to_owned(), copy)
        })
    }
}

/// The explorer's page and endpoints over `source`.
pub fn router<S: Source>(source: S) -> Router {
    let state = Shared {
        source,
        snapshot: Arc::new(Mutex::new(None)),
        grid: Arc::new(Mutex::new(None)),
    };
    Router::new()
        .route("/", get(index))
        .route("/explorer/", get(index))
        .route("/explorer/app.js", get(app_js))
        .route("/explorer/app.css", get(app_css))
        .route("/explorer/api/grid", get(grid_handler::<S>))
        .route("/explorer/api/fragments", get(fragments_handler::<S>))
        .route("/explorer/api/from", get(from_handler::<S>))
        .route("/explorer/api/to", get(to_handler::<S>))
        .route("/explorer/api/ssh", get(ssh_handler::<S>))
        .route("/explorer/api/tests", get(tests_handler::<S>))
        .route("/explorer/api/audit", get(audit_handler::<S>))
        .route("/explorer/api/whatif", post(whatif_handler::<S>))
        .with_state(state)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn index() -> Response {
    asset("text/html; charset=utf-8", INDEX_HTML)
}

async fn app_js() -> Response {
    asset("text/javascript; charset=utf-8", APP_JS)
}

async fn app_css() -> Response {
    asset("text/css; charset=utf-8", APP_CSS)
}

/// A JSON body with the policy's ETag, or the problem.
fn respond(etag: &str, answer: Result<Vec<u8>, Problem>) -> Response {
    let (status, body) = match answer {
        Ok(body) => (StatusCode::OK, body),
        Err(p) => (
            StatusCode::from_u16(p.status).unwrap_or(StatusCode::BAD_REQUEST),
            serde_json::to_vec(&serde_json::json!({"message": p.message})).unwrap_or_default(),
        ),
    };
    let mut r = (status, [(header::CONTENT_TYPE, "application/json")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(etag) {
        r.headers_mut().insert("x-policy-etag", v);
    }
    r
}

fn encode(v: Result<Value, Problem>) -> Result<Vec<u8>, Problem> {
    v.and_then(|v| {
        serde_json::to_vec(&v).map_err(|e| Problem {
            status: 500,
            message: e.to_string(),
        })
    })
}

/// Runs a query on a blocking thread (the evaluator is CPU work), on the snapshot of the
/// accepted policy, and answers it.
async fn answer<S: Source>(
    state: Shared<S>,
    f: impl FnOnce(&Workspace, &str) -> Result<Value, Problem> + Send + 'static,
) -> Response {
    answer_bytes(state, move |ws, etag| encode(f(ws, etag))).await
}

async fn grid_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    let cache = state.grid.clone();
    answer_bytes(state, move |ws, etag| {
        if let Some((e, body)) = cache.lock().unwrap_or_else(|e| e.into_inner()).as_ref()
            && e == etag
        {
            return Ok(body.as_ref().clone());
        }
        let body = encode(grid::grid_json(ws))?;
        *cache.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((etag.to_owned(), Arc::new(body.clone())));
        Ok(body)
    })
    .await
}

/// [`answer`] for a query that encodes its own answer.
async fn answer_bytes<S: Source>(
    state: Shared<S>,
    f: impl FnOnce(&Workspace, &str) -> Result<Vec<u8>, Problem> + Send + 'static,
) -> Response {
    let joined = tokio::task::spawn_blocking(move || {
        let (etag, ws) = state.snapshot();
        let body = f(&ws, &etag);
        (etag, body)
    })
    .await;
    match joined {
        Ok((etag, body)) => respond(&etag, body),
        Err(e) => respond(
            "",
            Err(Problem {
                status: 500,
                message: format!("the query failed: {e}"),
            }),
        ),
    }
}

async fn fragments_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state, |ws, etag| Ok(fragments::fragments_json(ws, etag))).await
}

async fn from_handler<S: Source>(
    State(state): State<Shared<S>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let src = q.get("src").cloned().unwrap_or_default();
    answer(state, move |ws, _| views::from_json(ws, &src)).await
}

async fn to_handler<S: Source>(
    State(state): State<Shared<S>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let dst = q.get("dst").cloned().unwrap_or_default();
    answer(state, move |ws, _| views::to_json(ws, &dst)).await
}

async fn ssh_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state, |ws, _| views::ssh_json(ws)).await
}

async fn tests_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state, |ws, _| checks::tests_json(ws)).await
}

async fn audit_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state, |ws, _| checks::audit_json(ws)).await
}

/// The what-if request.
#[derive(Debug, Deserialize)]
struct WhatIf {
    fragment: String,
    text: String,
}

async fn whatif_handler<S: Source>(State(state): State<Shared<S>>, body: String) -> Response {
    let req: Result<WhatIf, _> = serde_json::from_str(&body);
    answer(state, move |ws, _| {
        let req = req.map_err(|e| Problem::bad_request(format!("bad request body: {e}")))?;
        whatif::whatif_json(ws, &req.fragment, &req.text)
    })
    .await
}

#[cfg(test)]
mod tests;
