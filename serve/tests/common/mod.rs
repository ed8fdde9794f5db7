//! The test harness: the real server on `127.0.0.1:0` in a thread of its own, and a
//! blocking client.

#![allow(dead_code, reason = "each test binary uses part of the harness")]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tailpolicy_serve::api::Limits;
use tailpolicy_serve::{AppState, Auth, Context, StateDir, Store, server};
use tailpolicy_workspace::FileInput;

/// The repository's `testdata/`.
pub fn testdata(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// A fixture's text.
pub fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata(rel)).unwrap()
}

/// A fresh empty temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tailpolicy-serve-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// How to start a server.
#[derive(Default)]
pub struct Setup {
    /// The starting policy (`None`: the default policy).
    pub policy: Option<String>,
    /// With the example's inventory.
    pub inventory: bool,
    /// `--state`.
    pub state: Option<PathBuf>,
    /// Credentials.
    pub auth: Option<Auth>,
    /// TLS certificate and key.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Limits.
    pub limits: Option<Limits>,
    /// Tailnet names.
    pub tailnets: Vec<String>,
}

/// The example's context (its inventory when asked).
pub fn context(inventory: bool) -> Context {
    Context {
        inventory: inventory.then(|| FileInput::text("nodes.json", read("example/nodes.json"))),
        ..Context::default()
    }
}

/// Starts the server; returns its address and store.
pub fn start(setup: Setup) -> (SocketAddr, Store) {
    let context = context(setup.inventory);
    let initial = setup.policy.as_deref().map(|p| context.workspace(p));
    let state = setup.state.as_deref().map(|d| StateDir::open(d).unwrap());
    let store = Store::new(context, initial, state).unwrap();
    let limits = setup.limits.unwrap_or_default();
    let state = AppState {
        store: store.clone(),
        auth: Arc::new(setup.auth.unwrap_or_default()),
        tailnets: Arc::new(setup.tailnets),
        limits,
    };
    let app = tailpolicy_serve::service(&state, tailpolicy_serve::router(state.clone()));
    let tls = setup
        .tls
        .map(|(c, k)| server::tls_acceptor(&c, &k).unwrap());
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = server::run(listener, app, tls, limits).await;
        });
    });
    (addr, store)
}

/// A response: status, headers (lowercase names), body.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: String,
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }

    /// A header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// Sends a request with `agent`.
pub fn send_with(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let mut req = agent.request(method, url);
    for (k, v) in headers {
        req = req.set(k, v);
    }
    let result = match body {
        Some(b) => req.send_string(b),
        None => req.call(),
    };
    let response = match result {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let status = response.status();
    let headers = response
        .headers_names()
        .into_iter()
        .filter_map(|n| {
            let v = response.header(&n)?.to_owned();
            Some((n.to_ascii_lowercase(), v))
        })
        .collect();
    let body = response.into_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// Sends a request over plain HTTP.
pub fn send(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Reply {
    send_with(&ureq::agent(), method, url, headers, body)
}

/// The ETag gitops-pusher computes for a local file: sha256 of its hujsonfmt form.
pub fn local_etag(text: &str) -> String {
    use sha2::Digest as _;
    let (doc, _) = tailpolicy_policy::hujson::parse(text);
    let formatted = tailpolicy_policy::hujson::format(&doc.unwrap());
    let digest = sha2::Sha256::digest(formatted.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}
