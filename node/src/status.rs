//! The `--status` report (peers, handshakes, transfer, filter and counters) and the reload
//! bookkeeping it shows.

use crate::engine::Engine;
use crate::stats::{ALL_NODE_DROPS, ALL_REASONS, Direction};
use std::fmt::Write as _;
use std::time::SystemTime;

/// What happened to policy reloads so far, and the file times last seen.
#[derive(Clone, Debug, Default)]
pub struct ReloadState {
    seen: Vec<Option<SystemTime>>,
    /// Successful reloads.
    pub ok: u64,
    /// Rejected reloads.
    pub failed: u64,
    /// The last reload's outcome: `Ok(generation)` or `Err((message, generation kept))`.
    pub last: Option<Result<u64, (String, u64)>>,
}

impl ReloadState {
    /// Starts with the files' current modification times.
    #[must_use]
    pub fn new(seen: Vec<Option<SystemTime>>) -> Self {
        Self {
            seen,
            ..Self::default()
        }
    }

    /// Whether `now` differs from the times last seen.
    #[must_use]
    pub fn files_changed(&self, now: &[Option<SystemTime>]) -> bool {
        self.seen != now
    }

    /// Records the times a reload is about to read.
    pub fn observed(&mut self, now: Vec<Option<SystemTime>>) {
        self.seen = now;
    }

    /// Records a successful reload.
    pub fn succeeded(&mut self, generation: u64) {
        self.ok = self.ok.saturating_add(1);
        self.last = Some(Ok(generation));
    }

    /// Records a rejected reload.
    pub fn failed(&mut self, message: String, kept: u64) {
        self.failed = self.failed.saturating_add(1);
        self.last = Some(Err((message, kept)));
    }
}

/// Renders the status report. Line-oriented, `key: value` and `  in drop no-rule 3` lines,
/// so scripts can grep it.
#[must_use]
pub fn render_status(interface: &str, port: u16, engine: &Engine, reload: &ReloadState) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "interface: {interface}");
    let _ = writeln!(out, "  public key: {}", engine.public_key().to_base64());
    let _ = writeln!(out, "  listening port: {port}");
    match engine.filter_info() {
        Some((generation, rules, source)) => {
            let _ = writeln!(
                out,
                "  filter: generation {generation}, {rules} rules from {source}"
            );
        }
        None => {
            let _ = writeln!(out, "  filter: disabled (--no-filter)");
        }
    }
    let _ = writeln!(out, "  reloads: {} ok, {} failed", reload.ok, reload.failed);
    match &reload.last {
        None => {}
        Some(Ok(g)) => {
            let _ = writeln!(out, "  last reload: ok, generation {g}");
        }
        Some(Err((msg, kept))) => {
            let msg = msg.replace('\n', "; ");
            let _ = writeln!(
                out,
                "  last reload: failed, keeping generation {kept}: {msg}"
            );
        }
    }
    for p in engine.peer_status() {
        let _ = writeln!(out, "\npeer: {}", p.public_key);
        let endpoint = p
            .endpoint
            .map_or_else(|| "(none)".to_owned(), |e| e.to_string());
        let _ = writeln!(out, "  endpoint: {endpoint}");
        let allowed: Vec<String> = p.allowed_ips.iter().map(ToString::to_string).collect();
        let _ = writeln!(out, "  allowed ips: {}", allowed.join(", "));
        match p.since_handshake {
            Some(d) => {
                let _ = writeln!(out, "  latest handshake: {} seconds ago", d.as_secs());
            }
            None => {
                let _ = writeln!(out, "  latest handshake: never");
            }
        }
        let _ = writeln!(
            out,
            "  transfer: {} B received, {} B sent",
            p.rx_bytes, p.tx_bytes
        );
    }
    let c = engine.counters();
    let _ = writeln!(out, "\ncounters (non-zero):");
    for dir in [Direction::In, Direction::Out] {
        for r in ALL_REASONS {
            let a = c.accepted(dir, r);
            if a > 0 {
                let _ = writeln!(out, "  {} accept {} {a}", dir.as_str(), r.as_str());
            }
        }
        for r in ALL_REASONS {
            let d = c.dropped(dir, r);
            if d > 0 {
                let _ = writeln!(out, "  {} drop {} {d}", dir.as_str(), r.as_str());
            }
        }
    }
    for d in ALL_NODE_DROPS {
        let n = c.node_dropped(d);
        if n > 0 {
            let _ = writeln!(out, "  node drop {} {n}", d.as_str());
        }
    }
    out
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
