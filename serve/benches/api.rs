//! Requests per second of `tailpolicy serve`: the real server on a loopback port,
//! driven over keep-alive HTTP/1.1 by one client, as gitops-pusher and the Terraform
//! provider call it.
//!
//! - `get_acl`: `GET …/acl` (the stored policy from memory): the baseline, the cost of
//!   HTTP itself.
//! - `validate`: `POST …/acl/validate` with the whole policy (parse, check, lint, run
//!   its tests) on the example (`testdata/example/`) and on the M tailnet
//!   (`compiler::synth`, 1,000 nodes, 500 rules).
//! - `preview`: `POST …/acl/preview?type=user` with the whole policy.
//!
//! `cargo bench -p tailpolicy-serve --bench api`
#![expect(clippy::unwrap_used, reason = "benchmark setup")]

use divan::Bencher;
use std::sync::{Arc, OnceLock};
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_serve::{AppState, Auth, Context, Limits, Store, server};
use tailpolicy_workspace::FileInput;

fn main() {
    divan::main();
}

const M: Shape = Shape::M;

struct Served {
    base: String,
    policy: String,
    preview_for: &'static str,
}

fn inventory_text(inv: &Inventory) -> String {
    synth::inventory_json(inv).to_string()
}

fn start(policy: String, nodes: String, preview_for: &'static str) -> Served {
    let context = Context {
        inventory: Some(FileInput::text("nodes.json", nodes)),
        ..Context::default()
    };
    let ws = context.workspace(&policy);
    assert!(!ws.report().has_errors(), "the benchmark policy is valid");
    let store = Store::new(context, Some(ws), None).unwrap();
    let state = AppState {
        store,
        auth: Arc::new(Auth::default()),
        tailnets: Arc::new(Vec::new()),
        limits: Limits {
            max_body: 64 << 20,
            ..Limits::default()
        },
    };
    let app = tailpolicy_serve::service(&state, tailpolicy_serve::router(state.clone()));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = state.limits;
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let _ = server::run(listener, app, None, limits).await;
        });
    });
    Served {
        base: format!("http://{addr}/api/v2/tailnet/-/acl"),
        policy,
        preview_for,
    }
}

fn example() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/example/");
        let policy = std::fs::read_to_string(format!("{dir}policy.hujson")).unwrap();
        let nodes = std::fs::read_to_string(format!("{dir}nodes.json")).unwrap();
        start(policy, nodes, "alice@example.com")
    })
}

fn m_tailnet() -> &'static Served {
    static S: OnceLock<Served> = OnceLock::new();
    S.get_or_init(|| {
        let (policy, inv) = synth::tailnet(M);
        start(policy, inventory_text(&inv), "user1@example.com")
    })
}

fn agent() -> ureq::Agent {
    ureq::AgentBuilder::new().build()
}

fn post(agent: &ureq::Agent, url: &str, body: &str) -> usize {
    let r = agent
        .post(url)
        .set("Content-Type", "application/hujson")
        .send_string(body)
        .unwrap();
    assert_eq!(r.status(), 200);
    r.into_string().unwrap().len()
}

fn served(tailnet: &str) -> &'static Served {
    match tailnet {
        "example" => example(),
        _ => m_tailnet(),
    }
}

#[divan::bench(args = ["example", "M"], sample_count = 20)]
fn get_acl(b: Bencher<'_, '_>, tailnet: &str) {
    let s = served(tailnet);
    let agent = agent();
    b.bench_local(|| {
        agent
            .get(&s.base)
            .call()
            .unwrap()
            .into_string()
            .unwrap()
            .len()
    });
}

#[divan::bench(args = ["example", "M"], sample_count = 20)]
fn validate(b: Bencher<'_, '_>, tailnet: &str) {
    let s = served(tailnet);
    let agent = agent();
    let url = format!("{}/validate", s.base);
    b.bench_local(|| post(&agent, &url, &s.policy));
}

#[divan::bench(args = ["example", "M"], sample_count = 20)]
fn preview(b: Bencher<'_, '_>, tailnet: &str) {
    let s = served(tailnet);
    let agent = agent();
    let url = format!("{}/preview?type=user&previewFor={}", s.base, s.preview_for);
    b.bench_local(|| post(&agent, &url, &s.policy));
}
