//! `tailpolicy serve`: Tailscale's policy API (acl, validate, preview, devices) served
//! offline for one tailnet, backed by the analysis host (crate `tailpolicy-serve`).
//!
//! Starts from the newest version in `--state`, else the configured (or given) policy
//! and inventory, else Tailscale's default policy. `--rollback N` stores version N
//! again as the newest and exits. Exit 2 when it cannot start.

use crate::exit::Exit;
use crate::load::PolicyArgs;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tailpolicy_serve::server::{self, ServeConfig};
use tailpolicy_serve::{AppState, Auth, Context, Limits, OAuthClient, StateDir, Store};
use tailpolicy_workspace::Workspace;
use tailpolicy_workspace::fs::{self, LoadError};

/// Arguments of `tailpolicy serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// The policy and the node inventory it starts from (when `--state` has no version).
    #[command(flatten)]
    pub input: PolicyArgs,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// TLS certificate chain (PEM); with `--tls-key`.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM); with `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Serve TLS with a self-signed certificate for localhost kept in DIR (created on
    /// first use: `DIR/cert.pem`, `DIR/key.pem`).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["tls_cert", "tls_key"])]
    pub tls_self_signed: Option<PathBuf>,
    /// Keep every accepted policy version in DIR and start from the newest.
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
    /// Store version N of `--state` again as the newest, then exit.
    #[arg(long, value_name = "N", requires = "state")]
    pub rollback: Option<u64>,
    /// API keys accepted (one per line; `#` comments): as Basic user or Bearer token.
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// OAuth clients accepted by `POST /api/v2/oauth/token` (one `ID SECRET` per line).
    #[arg(long, value_name = "FILE")]
    pub oauth_clients_file: Option<PathBuf>,
    /// The tailnet's name, accepted as `{tailnet}` besides `-` (repeatable; default:
    /// the inventory's tailnet domain, or any name).
    #[arg(long, value_name = "NAME")]
    pub tailnet: Vec<String>,
    /// Allow listening on a non-loopback address without authentication.
    #[arg(long)]
    pub insecure_no_auth: bool,
    /// The largest request body accepted, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 4 << 20)]
    pub max_body_bytes: usize,
    /// The longest a request may take, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub request_timeout: u64,
    /// Print the settings that point gitops-pusher, Terraform and tscli at the server,
    /// then exit.
    #[arg(long)]
    pub print_client_env: bool,
}

fn lines(path: &PathBuf) -> Result<Vec<String>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect())
}

/// Runs `tailpolicy serve`.
pub fn run(args: &ServeArgs) -> Exit {
    match start(args) {
        Ok(()) => Exit::Clean,
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}

fn start(args: &ServeArgs) -> Result<(), String> {
    let tls_files = match (&args.tls_self_signed, &args.tls_cert, &args.tls_key) {
        (Some(dir), _, _) => Some(server::self_signed(dir).map_err(|e| e.to_string())?),
        (None, Some(cert), Some(key)) => Some((cert.clone(), key.clone())),
        _ => None,
    };
    let tailnet = args
        .tailnet
        .first()
        .cloned()
        .unwrap_or_else(|| "-".to_owned());
    if args.print_client_env {
        let cert = tls_files.as_ref().map(|(c, _)| c.as_path());
        let _ = crate::stdout::print_out(&server::client_env(args.listen, cert, &tailnet));
        return Ok(());
    }
    let state = match &args.state {
        Some(dir) => {
            Some(StateDir::open(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?)
        }
        None => None,
    };
    if let (Some(n), Some(dir)) = (args.rollback, &state) {
        let new = dir
            .rollback(n)
            .map_err(|e| format!("cannot roll back to version {n}: {e}"))?;
        eprintln!("restored version {n} as version {new}");
        return Ok(());
    }
    let (context, initial) = load_context(&args.input)?;
    let mut tailnets = args.tailnet.clone();
    if tailnets.is_empty()
        && let Some(domain) = context
            .workspace("{}")
            .inventory()
            .and_then(|i| i.inventory.as_ref()?.tailnet_domain().map(str::to_owned))
    {
        tailnets.push(domain);
    }
    let keys = match &args.api_key_file {
        Some(p) => lines(p)?,
        None => Vec::new(),
    };
    let clients = match &args.oauth_clients_file {
        Some(p) => lines(p)?
            .into_iter()
            .filter_map(|l| {
                let (id, secret) = l.split_once(char::is_whitespace)?;
                Some(OAuthClient {
                    id: id.to_owned(),
                    secret: secret.trim().to_owned(),
                })
            })
            .collect(),
        None => Vec::new(),
    };
    let auth = Auth::new(keys, clients);
    server::check_listen(args.listen, auth.required(), args.insecure_no_auth)?;
    let store = Store::new(context, initial, state).map_err(|e| e.to_string())?;
    let limits = Limits {
        max_body: args.max_body_bytes,
        request_timeout: Duration::from_secs(args.request_timeout),
        ..Limits::default()
    };
    let app_state = AppState {
        store,
        auth: Arc::new(auth),
        tailnets: Arc::new(tailnets),
        limits,
    };
    let routes = tailpolicy_serve::router(app_state.clone())
        .merge(tailpolicy_serve::explorer(app_state.store.clone()));
    let app = tailpolicy_serve::service(&app_state, routes);
    let tls = match &tls_files {
        Some((cert, key)) => Some(server::tls_acceptor(cert, key).map_err(|e| e.to_string())?),
        None => None,
    };
    let on_listen: fn(SocketAddr) = if tls.is_some() {
        |addr| eprintln!("serving Tailscale's policy API on https://{addr}")
    } else {
        |addr| eprintln!("serving Tailscale's policy API on http://{addr}")
    };
    server::serve_blocking(ServeConfig {
        listen: args.listen,
        app,
        tls,
        limits,
        on_listen,
    })
    .map_err(|e| format!("cannot serve on `{}`: {e}", args.listen))
}

/// The configuration, inventory and starting workspace `input` names (no workspace when
/// no policy is configured: the default policy then).
pub fn load_context(input: &PolicyArgs) -> Result<(Context, Option<Workspace>), String> {
    let request = input.request();
    let (context, initial) = match fs::load(&request) {
        Ok(loaded) => {
            let ws = loaded.workspace;
            let context = Context {
                config: ws.config().clone(),
                inventory: ws.inventory_input().cloned(),
                dialect: request.dialect,
            };
            (context, Some(ws))
        }
        Err(LoadError::NoPolicy) => {
            let (config, _) = fs::config_for(request.config.as_deref(), None, &request.cwd)
                .map_err(|e| e.to_string())?;
            let nodes = request.nodes.clone().or_else(|| config.nodes.clone());
            let inventory = match nodes {
                Some(p) => {
                    let arg = p.to_string_lossy().into_owned();
                    Some(
                        fs::file_input(&arg, arg.clone(), &config, &request.cwd)
                            .map_err(|e| e.to_string())?,
                    )
                }
                None => None,
            };
            let context = Context {
                config,
                inventory,
                dialect: request.dialect,
            };
            (context, None)
        }
        Err(e) => return Err(e.to_string()),
    };
    Ok((context, initial))
}

/// The store `tailpolicy serve` and `tailpolicy mcp` start from: the newest version in
/// `state`, else what `input` names.
pub fn open_store(input: &PolicyArgs, state: Option<&PathBuf>) -> Result<Store, String> {
    let state = match state {
        Some(dir) => {
            Some(StateDir::open(dir).map_err(|e| format!("cannot open `{}`: {e}", dir.display()))?)
        }
        None => None,
    };
    let (context, initial) = load_context(input)?;
    Store::new(context, initial, state).map_err(|e| e.to_string())
}
