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

/// The router's state: the source and the last grid answered (per ETag; the grid of a
/// large tailnet takes a while).
#[derive(Clone)]
struct Shared<S> {
    source: S,
    grid: GridCache,
}

/// The explorer's page and endpoints over `source`.
pub fn router<S: Source>(source: S) -> Router {
    let state = Shared {
        source,
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

/// Runs a query on a blocking thread (the evaluator is CPU work) and answers it.
async fn answer<S: Source>(
    source: S,
    f: impl FnOnce(&Workspace, &str) -> Result<Value, Problem> + Send + 'static,
) -> Response {
    let joined = tokio::task::spawn_blocking(move || {
        source.with_host(|ws, etag| (etag.to_owned(), encode(f(ws, etag))))
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

async fn grid_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    let cache = state.grid.clone();
    let joined = tokio::task::spawn_blocking(move || {
        state.source.with_host(|ws, etag| {
            let mut slot = cache.lock().unwrap_or_else(|e| e.into_inner());
            if let Some((e, body)) = slot.as_ref()
                && e == etag
            {
                return (etag.to_owned(), Ok(body.as_ref().clone()));
            }
            let body = encode(grid::grid_json(ws));
            if let Ok(b) = &body {
                *slot = Some((etag.to_owned(), Arc::new(b.clone())));
            }
            (etag.to_owned(), body)
        })
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
    answer(state.source, |ws, etag| {
        Ok(fragments::fragments_json(ws, etag))
    })
    .await
}

async fn from_handler<S: Source>(
    State(state): State<Shared<S>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let src = q.get("src").cloned().unwrap_or_default();
    answer(state.source, move |ws, _| views::from_json(ws, &src)).await
}

async fn to_handler<S: Source>(
    State(state): State<Shared<S>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let dst = q.get("dst").cloned().unwrap_or_default();
    answer(state.source, move |ws, _| views::to_json(ws, &dst)).await
}

async fn ssh_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state.source, |ws, _| views::ssh_json(ws)).await
}

async fn tests_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state.source, |ws, _| checks::tests_json(ws)).await
}

async fn audit_handler<S: Source>(State(state): State<Shared<S>>) -> Response {
    answer(state.source, |ws, _| checks::audit_json(ws)).await
}

/// The what-if request.
#[derive(Debug, Deserialize)]
struct WhatIf {
    fragment: String,
    text: String,
}

async fn whatif_handler<S: Source>(State(state): State<Shared<S>>, body: String) -> Response {
    let req: Result<WhatIf, _> = serde_json::from_str(&body);
    answer(state.source, move |ws, _| {
        let req = req.map_err(|e| Problem::bad_request(format!("bad request body: {e}")))?;
        whatif::whatif_json(ws, &req.fragment, &req.text)
    })
    .await
}

#[cfg(test)]
mod tests;
