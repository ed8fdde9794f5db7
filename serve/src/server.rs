//! The listener: HTTP/1 over TCP or TLS, one task per connection, header and
//! handshake timeouts, and what `--print-client-env` prints.

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;

use crate::api::Limits;

/// Why TLS could not be set up.
#[derive(Debug)]
pub struct TlsError(pub String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// The certificate and key files `--tls-self-signed DIR` uses (`DIR/cert.pem`,
/// `DIR/key.pem`), created on first use for `localhost`, `127.0.0.1` and `::1`, kept
/// afterwards so clients can trust them once (`SSL_CERT_FILE=DIR/cert.pem`).
pub fn self_signed(dir: &Path) -> Result<(PathBuf, PathBuf), TlsError> {
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| TlsError(format!("cannot create `{}`: {e}", dir.display())))?;
    let names = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|e| TlsError(format!("cannot generate a certificate: {e}")))?;
    let write = |path: &Path, text: &str| {
        std::fs::write(path, text)
            .map_err(|e| TlsError(format!("cannot write `{}`: {e}", path.display())))
    };
    write(&key, &generated.signing_key.serialize_pem())?;
    write(&cert, &generated.cert.pem())?;
    Ok((cert, key))
}

/// A TLS acceptor for the PEM certificate chain and key (ring provider, TLS 1.2 and
/// 1.3, HTTP/1.1 by ALPN).
pub fn tls_acceptor(cert: &Path, key: &Path) -> Result<TlsAcceptor, TlsError> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|i| i.collect::<Result<Vec<_>, _>>())
        .map_err(|e| TlsError(format!("cannot read `{}`: {e}", cert.display())))?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| TlsError(format!("cannot read `{}`: {e}", key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(format!("bad certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Whether serving on `addr` is allowed: a non-loopback address needs credentials
/// unless `insecure` says otherwise.
pub fn check_listen(addr: SocketAddr, auth_required: bool, insecure: bool) -> Result<(), String> {
    if addr.ip().is_loopback() || auth_required || insecure {
        Ok(())
    } else {
        Err(format!(
            "refusing to serve on `{addr}` without authentication: pass `--api-key-file` (or `--oauth-clients-file`), listen on a loopback address, or pass `--insecure-no-auth`"
        ))
    }
}

/// Serves `app` on `listener` until the task is dropped: each connection in its own
/// task, so a slow or broken client never holds up another.
pub async fn run(
    listener: TcpListener,
    app: Router,
    tls: Option<TlsAcceptor>,
    limits: Limits,
) -> io::Result<()> {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or a connection reset before accept: wait, go on.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => {
                    let handshake =
                        tokio::time::timeout(limits.header_timeout, acceptor.accept(stream)).await;
                    if let Ok(Ok(stream)) = handshake {
                        connection(stream, app, limits).await;
                    }
                }
                None => connection(stream, app, limits).await,
            }
        });
    }
}

async fn connection<S>(stream: S, app: Router, limits: Limits)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(app);
    let _ = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .await;
}

/// What `--print-client-env` prints: how to point gitops-pusher, the Terraform
/// provider and tscli at a server on `addr`.
pub fn client_env(addr: SocketAddr, tls_cert: Option<&Path>, tailnet: &str) -> String {
    let host = if addr.ip().is_unspecified() || addr.ip().is_loopback() {
        format!("localhost:{}", addr.port())
    } else {
        addr.to_string()
    };
    let scheme = if tls_cert.is_some() { "https" } else { "http" };
    let base = format!("{scheme}://{host}");
    let mut out = String::new();
    out.push_str("# Terraform / Pulumi provider\n");
    out.push_str(&format!("export TAILSCALE_BASE_URL={base}\n"));
    out.push_str(&format!("export TAILSCALE_TAILNET={tailnet}\n"));
    out.push_str("# gitops-pusher (https only)\n");
    out.push_str(&format!("export TS_TAILNET={tailnet}\n"));
    match tls_cert {
        Some(cert) => {
            out.push_str(&format!("export SSL_CERT_FILE={}\n", cert.display()));
            out.push_str(&format!(
                "# gitops-pusher --api-server={host} --policy-file=policy.hujson test\n"
            ));
        }
        None => out.push_str(
            "# gitops-pusher needs https: restart with --tls-self-signed DIR (or --tls-cert/--tls-key)\n",
        ),
    }
    out.push_str("# tscli\n");
    out.push_str(&format!("# tscli --base-url {base} get policy\n"));
    out
}

/// Everything `tailpolicy serve` needs once its arguments are read.
pub struct ServeConfig {
    /// The address to listen on.
    pub listen: SocketAddr,
    /// The routes, state included (see [`crate::service`]).
    pub app: Router,
    /// TLS, if any.
    pub tls: Option<TlsAcceptor>,
    /// The limits.
    pub limits: Limits,
    /// Called with the bound address before serving (to print it).
    pub on_listen: fn(SocketAddr),
}

/// Serves `config` on a multi-threaded runtime of its own until the process ends.
pub fn serve_blocking(config: ServeConfig) -> io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(config.listen).await?;
        (config.on_listen)(listener.local_addr()?);
        run(listener, config.app, config.tls, config.limits).await
    })
}
