//! # tailpolicy-serve
//!
//! Tailscale's API v2 policy endpoints served offline from the analysis host
//! (`tailpolicy serve`), and the Model Context Protocol server (`tailpolicy mcp`).
//!
//! Routes (`{tailnet}` is `-` or one of the configured names):
//!
//! | route | answer |
//! |---|---|
//! | `GET /api/v2/tailnet/{tailnet}/acl` | the stored policy (HuJSON; JSON with `Accept: application/json`; `?details=true` or `1`: `{"acl": base64, "warnings", "errors"}`), `ETag` = quoted sha256 hex of its hujsonfmt formatting |
//! | `POST /api/v2/tailnet/{tailnet}/acl` | replace it (`If-Match`: an ETag or `"ts-default"`, else 412); invalid or failing tests: 400, nothing stored; empty body: the default policy |
//! | `POST /api/v2/tailnet/{tailnet}/acl/validate` | a policy (its own tests) or a JSON array of tests (against the stored policy): `200 {}` or `200 {"message":"test(s) failed","data":[…]}` |
//! | `POST /api/v2/tailnet/{tailnet}/acl/preview?type=user\|ipport&previewFor=…` | the rules that apply, with their own aliases and line |
//! | `GET /api/v2/tailnet/{tailnet}/acl/versions` | the versions kept in `--state` |
//! | `GET /api/v2/tailnet/{tailnet}/devices` | the inventory in the API's device shape |
//! | `POST /api/v2/oauth/token` | client-credentials access tokens |
//!
//! A multi-file policy (`[policy] files`) is served as one file: GET returns the
//! fragments combined as `tailpolicy merge` prints them (so its ETag is that text's),
//! and a POST replaces the whole policy with the one file posted (stored in `--state`;
//! the fragments on disk are never written).
//!
//! ## Mounting more routes (the explorer)
//!
//! ```no_run
//! # async fn demo(store: tailpolicy_serve::Store) {
//! use tailpolicy_serve::{AppState, router, service};
//! let state = AppState::new(store.clone());
//! let explorer = axum::Router::new().route("/", axum::routing::get(move || {
//!     let store = store.clone();
//!     async move { store.read(|ws, etag| format!("{etag}: {} files", ws.report().files.len())) }
//! }));
//! let app = service(&state, router(state.clone()).merge(explorer));
//! # let _ = app;
//! # }
//! ```
//!
//! [`Store::read`] runs a closure with the accepted [`tailpolicy_workspace::Workspace`]
//! and its ETag; [`service`] adds authentication, the body limit and the time bound to
//! every route, merged ones included. [`server::run`] serves the result.
//!
//! **Invariant:** the workspace stays pure; the server feeds it, and every analysis
//! runs on the blocking pool (`spawn_blocking`), a candidate policy in its own
//! workspace without holding the store's lock, so a slow request never stalls the others.

pub mod analysis;
pub mod api;
pub mod auth;
pub mod error;
mod explorer;
pub mod mcp;
pub mod server;
pub mod store;

pub use analysis::Context;
pub use api::{AppState, Limits, router, service};
pub use auth::{Auth, OAuthClient};
pub use error::{ApiError, UserData};
pub use explorer::explorer;
pub use store::{StateDir, Store, Version};
