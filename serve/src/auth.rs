//! Authentication as Tailscale's API does it: an API key as HTTP Basic user (empty
//! password) or as a Bearer token, or an access token issued by
//! `POST /api/v2/oauth/token` to a configured OAuth client (client credentials).

use base64::Engine as _;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an issued access token lives (Tailscale's: one hour).
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// One OAuth client: id and secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OAuthClient {
    /// `client_id`.
    pub id: String,
    /// `client_secret`.
    pub secret: String,
}

/// The accepted credentials. With none configured, every request is allowed.
#[derive(Debug, Default)]
pub struct Auth {
    api_keys: Vec<String>,
    clients: Vec<OAuthClient>,
    tokens: Mutex<HashMap<String, Instant>>,
}

impl Auth {
    /// Accepts `api_keys` and tokens issued to `clients`.
    pub fn new(api_keys: Vec<String>, clients: Vec<OAuthClient>) -> Self {
        Self {
            api_keys,
            clients,
            tokens: Mutex::new(HashMap::new()),
        }
    }

    /// Whether requests need credentials.
    pub fn required(&self) -> bool {
        !self.api_keys.is_empty() || !self.clients.is_empty()
    }

    /// Whether an `Authorization` header value is accepted.
    pub fn allows(&self, authorization: Option<&str>) -> bool {
        if !self.required() {
            return true;
        }
        let Some(value) = authorization else {
            return false;
        };
        if let Some(token) = strip_scheme(value, "bearer") {
            return self.api_keys.iter().any(|k| eq(k, token)) || self.token_valid(token);
        }
        if let Some((user, _)) = basic(value) {
            return self.api_keys.iter().any(|k| eq(k, &user)) || self.token_valid(&user);
        }
        false
    }

    fn token_valid(&self, token: &str) -> bool {
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        tokens.retain(|_, expires| *expires > now);
        tokens.keys().any(|t| eq(t, token))
    }

    /// Issues an access token to the client `id` with `secret`; `None` when they are
    /// not a configured client (any client is accepted when no credentials are
    /// configured).
    pub fn issue(&self, id: &str, secret: &str) -> Option<String> {
        if self.required()
            && !self
                .clients
                .iter()
                .any(|c| eq(&c.id, id) && eq(&c.secret, secret))
        {
            return None;
        }
        let token = random_token()?;
        let mut tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.insert(token.clone(), Instant::now() + TOKEN_LIFETIME);
        Some(token)
    }
}

/// Constant-time comparison of two secrets.
fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn strip_scheme<'a>(value: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = value.trim().split_once(' ')?;
    s.eq_ignore_ascii_case(scheme).then(|| rest.trim())
}

/// The user and password of a Basic `Authorization` value.
pub fn basic(value: &str) -> Option<(String, String)> {
    let encoded = strip_scheme(value, "basic")?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':').unwrap_or((text.as_str(), ""));
    Some((user.to_owned(), password.to_owned()))
}

fn random_token() -> Option<String> {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 24];
    ring::rand::SystemRandom::new().fill(&mut bytes).ok()?;
    let mut out = String::from("tskey-api-local-");
    for b in bytes {
        out.push_str(&format!("{b:02x}"));
    }
    Some(out)
}

/// Decodes an `application/x-www-form-urlencoded` body into pairs.
pub fn form_pairs(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (url_decode(k), url_decode(v))
        })
        .collect()
}

/// Percent-decoding with `+` as space.
pub fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(v) = hex {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b);
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
