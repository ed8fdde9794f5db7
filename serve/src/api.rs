//! The HTTP routes: Tailscale's API v2 policy endpoints for one tailnet.

use crate::analysis::{self, PreviewType, Verdict};
use crate::auth::{self, Auth};
use crate::error::ApiError;
use crate::store::Store;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// The server's limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The largest request body accepted (413 beyond).
    pub max_body: usize,
    /// The longest a request may take (408 beyond).
    pub request_timeout: Duration,
    /// How long a client may take to send its request headers (and, with TLS, to
    /// complete the handshake).
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body: 4 << 20,
            request_timeout: Duration::from_secs(30),
            header_timeout: Duration::from_secs(10),
        }
    }
}

/// What the routes share: the store, the credentials, the tailnet's names and limits.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The accepted policy.
    pub store: Store,
    /// The accepted credentials.
    pub auth: Arc<Auth>,
    /// Names `{tailnet}` may take besides `-`; empty: any.
    pub tailnets: Arc<Vec<String>>,
    /// The limits.
    pub limits: Limits,
}

impl AppState {
    /// State for `store` with no credentials, any tailnet name and default limits.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            auth: Arc::new(Auth::default()),
            tailnets: Arc::new(Vec::new()),
            limits: Limits::default(),
        }
    }
}

/// The API's routes with their state, without authentication or limits: merge other
/// routes into it, then pass the result to [`service`].
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v2/tailnet/{tailnet}/acl", get(get_acl).post(post_acl))
        .route("/api/v2/tailnet/{tailnet}/acl/validate", post(validate))
        .route("/api/v2/tailnet/{tailnet}/acl/preview", post(preview))
        .route("/api/v2/tailnet/{tailnet}/acl/versions", get(versions))
        .route("/api/v2/tailnet/{tailnet}/devices", get(devices))
        .route("/api/v2/oauth/token", post(oauth_token))
        .fallback(|| async { ApiError::not_found("not found") })
        .with_state(state)
}

/// `router` (plus any routes merged into it) behind authentication, the body limit and
/// the per-request time bound: what the server runs.
pub fn service(state: &AppState, routes: Router) -> Router {
    let auth = state.auth.clone();
    routes
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            let auth = auth.clone();
            async move { authenticate(&auth, req, next).await }
        }))
        .layer(DefaultBodyLimit::max(state.limits.max_body))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.limits.request_timeout,
        ))
}

async fn authenticate(auth: &Auth, req: Request, next: Next) -> Response {
    if req.uri().path() == "/api/v2/oauth/token" {
        return next.run(req).await;
    }
    let header = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if auth.allows(header) {
        next.run(req).await
    } else {
        ApiError::unauthorized().into_response()
    }
}

fn check_tailnet(state: &AppState, tailnet: &str) -> Result<(), ApiError> {
    if tailnet == "-" || state.tailnets.is_empty() || state.tailnets.iter().any(|t| t == tailnet) {
        Ok(())
    } else {
        Err(ApiError::not_found(format!(
            "tailnet {tailnet:?} not found"
        )))
    }
}

/// Runs `f` on the blocking pool.
async fn blocking<R: Send + 'static>(
    f: impl FnOnce() -> R + Send + 'static,
) -> Result<R, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::internal("the analysis failed"))
}

fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| {
            a.split(',')
                .any(|t| t.trim().starts_with("application/json"))
        })
}

fn query(raw: Option<&str>) -> HashMap<String, String> {
    raw.map(auth::form_pairs)
        .unwrap_or_default()
        .into_iter()
        .collect()
}

/// The policy in the format `Accept` asks for, with its ETag.
fn policy_response(text: &str, etag: &str, json: bool) -> Response {
    let (content_type, body) = if json {
        match analysis::to_json(text) {
            Ok(v) => (
                "application/json",
                serde_json::to_string_pretty(&v).unwrap_or_default(),
            ),
            Err(e) => return e.into_response(),
        }
    } else {
        ("application/hujson", text.to_owned())
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(etag) {
        headers.insert(header::ETAG, v);
    }
    response
}

async fn get_acl(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let q = query(raw.as_deref());
    let details = q.get("details").is_some_and(|v| v == "true" || v == "1");
    if details {
        let store = state.store.clone();
        let (text, etag, warnings) = blocking(move || {
            store.read(|ws, etag| {
                let (_, warnings) = analysis::problems(ws);
                (crate::store::served_text(ws), etag.to_owned(), warnings)
            })
        })
        .await?;
        let body = json!({
            "acl": base64::engine::general_purpose::STANDARD.encode(text.as_bytes()),
            "warnings": warnings,
            "errors": Value::Null,
        });
        let mut response = axum::Json(body).into_response();
        if let Ok(v) = HeaderValue::from_str(&etag) {
            response.headers_mut().insert(header::ETAG, v);
        }
        return Ok(response);
    }
    let (text, etag) = state.store.current();
    Ok(policy_response(&text, &etag, wants_json(&headers)))
}

async fn post_acl(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let text = analysis::body_text(&body)?;
    let text = if text.trim().is_empty() {
        analysis::DEFAULT_POLICY.to_owned()
    } else {
        text
    };
    let if_match = headers
        .get(header::IF_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let store = state.store.clone();
    let json = wants_json(&headers);
    blocking(move || {
        analysis::parse(&text)?;
        let ws = store.context().workspace(&text);
        match analysis::verdict(&ws) {
            Verdict::Accepted { .. } => {}
            Verdict::Invalid(e) => return Err(e),
            Verdict::TestsFailed(data) => {
                return Err(ApiError::bad_request("test(s) failed").with_data(data));
            }
        }
        // Warm the caches outside the lock.
        let _ = ws.tailnet();
        let etag = store.replace(text.clone(), ws, if_match.as_deref())?;
        Ok(policy_response(&text, &etag, json))
    })
    .await?
}

async fn validate(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let text = analysis::body_text(&body)?;
    let store = state.store.clone();
    blocking(move || {
        let doc = analysis::parse(&text)?;
        let failures = if doc.root.as_array().is_some() {
            let (stored, _) = store.current();
            analysis::validate_tests(store.context(), &stored, &doc.root.to_json())?
        } else {
            let ws = store.context().workspace(&text);
            match analysis::verdict(&ws) {
                Verdict::Accepted { .. } => Vec::new(),
                Verdict::Invalid(e) => return Err(e),
                Verdict::TestsFailed(data) => data,
            }
        };
        let body = if failures.is_empty() {
            json!({})
        } else {
            json!({"message": "test(s) failed", "data": failures})
        };
        Ok(axum::Json(body).into_response())
    })
    .await?
}

async fn preview(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
    body: Bytes,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let q = query(raw.as_deref());
    let kind = q
        .get("type")
        .and_then(|t| PreviewType::parse(t))
        .ok_or_else(|| ApiError::bad_request("type must be \"user\" or \"ipport\""))?;
    let preview_for = q
        .get("previewFor")
        .filter(|v| !v.is_empty())
        .cloned()
        .ok_or_else(|| ApiError::bad_request("previewFor is required"))?;
    let text = analysis::body_text(&body)?;
    let store = state.store.clone();
    blocking(move || {
        let value = if text.trim().is_empty() {
            store.read(|ws, _| analysis::preview(ws, kind, &preview_for))?
        } else {
            analysis::parse(&text)?;
            let ws = store.context().workspace(&text);
            analysis::preview(&ws, kind, &preview_for)?
        };
        Ok(axum::Json(value).into_response())
    })
    .await?
}

async fn versions(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let store = state.store.clone();
    blocking(move || {
        let (_, current) = store.current();
        let Some(dir) = store.state() else {
            return Ok(axum::Json(json!({"versions": [], "current": current})).into_response());
        };
        let versions = dir
            .versions()
            .map_err(|e| ApiError::internal(format!("cannot list versions: {e}")))?;
        let list: Vec<Value> = versions
            .iter()
            .map(|v| {
                let etag = dir
                    .read(v.number)
                    .map(|t| analysis::etag(&t))
                    .unwrap_or_default();
                json!({"version": v.number, "created": v.created, "etag": etag})
            })
            .collect();
        Ok(axum::Json(json!({"versions": list, "current": current})).into_response())
    })
    .await?
}

async fn devices(
    State(state): State<AppState>,
    Path(tailnet): Path<String>,
) -> Result<Response, ApiError> {
    check_tailnet(&state, &tailnet)?;
    let store = state.store.clone();
    let value = blocking(move || store.read(|ws, _| analysis::devices(ws))).await?;
    Ok(axum::Json(value).into_response())
}

async fn oauth_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let form: HashMap<String, String> = auth::form_pairs(&String::from_utf8_lossy(&body))
        .into_iter()
        .collect();
    let from_header = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(auth::basic)
        .map(|(id, secret)| (auth::url_decode(&id), auth::url_decode(&secret)));
    let (id, secret) = from_header.unwrap_or_else(|| {
        (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        )
    });
    let Some(token) = state.auth.issue(&id, &secret) else {
        return Err(ApiError::new(401, "invalid client credentials"));
    };
    let scope = form
        .get("scope")
        .cloned()
        .unwrap_or_else(|| "all".to_owned());
    Ok(axum::Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": auth::TOKEN_LIFETIME.as_secs(),
        "scope": scope,
    }))
    .into_response())
}
