//! The status report (peers, handshakes, transfer, filter and counters) a running node serves
//! as JSON on its status socket, its text rendering for `--status`, and the reload
//! bookkeeping it shows.

use crate::engine::Engine;
use crate::rules_source::Stamp;
use crate::stats::{ALL_NODE_DROPS, ALL_REASONS, Direction};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// What happened to policy reloads so far, and the file times last seen.
#[derive(Clone, Debug, Default)]
pub struct ReloadState {
    seen: Vec<Stamp>,
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
    pub fn new(seen: Vec<Stamp>) -> Self {
        Self {
            seen,
            ..Self::default()
        }
    }

    /// Whether `now` differs from the files and times last seen.
    #[must_use]
    pub fn files_changed(&self, now: &[Stamp]) -> bool {
        self.seen != now
    }

    /// Records the times a reload is about to read.
    pub fn observed(&mut self, now: Vec<Stamp>) {
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

/// What a running node reports on its status socket, as JSON. This is the stable,
/// machine-readable form; [`render_text`] turns it into the `--status` text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusReport {
    /// The TUN interface.
    pub interface: String,
    /// The node's public key, base64.
    pub public_key: String,
    /// The UDP port the node listens on.
    pub listening_port: u16,
    /// The filter in force; `None` when filtering is disabled (`--no-filter`).
    pub filter: Option<FilterReport>,
    /// Policy reloads so far.
    pub reloads: ReloadReport,
    /// One entry per configured peer.
    pub peers: Vec<PeerReport>,
    /// Every non-zero counter.
    pub counters: Vec<CounterReport>,
    /// The TUN device's offload state and traffic (`None` from a report made without a
    /// device, e.g. in tests).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tun: Option<TunReport>,
}

/// The TUN device: offloads and how many packets each system call moved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TunReport {
    /// Whether packets cross the TUN with a virtio-net header (and in super-segments).
    pub offload: bool,
    /// What the kernel granted, or why offloads are off.
    pub offload_state: String,
    /// Read from the TUN (outbound).
    pub read: TunTrafficReport,
    /// Written to the TUN (inbound).
    pub written: TunTrafficReport,
}

/// TUN traffic in one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TunTrafficReport {
    /// System calls (one frame each).
    pub frames: u64,
    /// IP packets in them.
    pub packets: u64,
    /// Bytes of the IP packets.
    pub bytes: u64,
}

impl TunTrafficReport {
    /// `(frames, packets, bytes)` as a report.
    #[must_use]
    pub const fn new((frames, packets, bytes): (u64, u64, u64)) -> Self {
        Self {
            frames,
            packets,
            bytes,
        }
    }

    /// Average bytes per frame (the TUN segment size); 0 before the first frame.
    #[must_use]
    pub fn avg_frame_bytes(&self) -> u64 {
        self.bytes.checked_div(self.frames).unwrap_or(0)
    }

    /// Average packets per frame, in hundredths.
    #[must_use]
    pub fn avg_packets_x100(&self) -> u64 {
        self.packets
            .saturating_mul(100)
            .checked_div(self.frames)
            .unwrap_or(0)
    }
}

/// The filter in force.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FilterReport {
    /// Generation: 1 at start, one more per successful reload.
    pub generation: u64,
    /// FilterRules in the filter.
    pub rules: usize,
    /// Where the rules came from.
    pub source: String,
}

/// Policy reloads so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReloadReport {
    /// Successful reloads.
    pub ok: u64,
    /// Rejected reloads.
    pub failed: u64,
    /// The last reload, if any.
    pub last: Option<LastReload>,
}

/// The outcome of the last reload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LastReload {
    /// Whether the new filter was installed.
    pub ok: bool,
    /// The generation in force after the reload (the new one, or the one kept).
    pub generation: u64,
    /// Why the reload was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One peer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerReport {
    /// Public key, base64.
    pub public_key: String,
    /// Current endpoint (`ip:port`), if known.
    pub endpoint: Option<String>,
    /// AllowedIPs.
    pub allowed_ips: Vec<String>,
    /// Seconds since the last completed handshake; `None`: never.
    pub latest_handshake_secs: Option<u64>,
    /// Data bytes received from the peer.
    pub rx_bytes: u64,
    /// Data bytes sent to the peer.
    pub tx_bytes: u64,
}

/// One non-zero counter.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CounterReport {
    /// `in` (from the tunnel) or `out` (from the TUN); `None` for node-level drops.
    pub direction: Option<String>,
    /// `accept`, `drop`, or `node-drop` (dropped before the filter: unknown peer,
    /// cryptokey routing, no route…).
    pub verdict: String,
    /// The reason, e.g. `no-rule`, `tcp-established`, `not-allowed-ip`.
    pub reason: String,
    /// Packets.
    pub count: u64,
}

/// Collects the status report of a running node.
#[must_use]
pub fn status_report(
    interface: &str,
    port: u16,
    engine: &Engine,
    reload: &ReloadState,
) -> StatusReport {
    let filter = engine
        .filter_info()
        .map(|(generation, rules, source)| FilterReport {
            generation,
            rules,
            source,
        });
    let last = reload.last.as_ref().map(|l| match l {
        Ok(generation) => LastReload {
            ok: true,
            generation: *generation,
            error: None,
        },
        Err((message, kept)) => LastReload {
            ok: false,
            generation: *kept,
            error: Some(message.clone()),
        },
    });
    let peers = engine.peer_status();
    let c = engine.counters();
    let mut counters = Vec::new();
    let mut push = |direction: Option<Direction>, verdict: &str, reason: &str, count: u64| {
        if count > 0 {
            counters.push(CounterReport {
                direction: direction.map(|d| d.as_str().to_owned()),
                verdict: verdict.to_owned(),
                reason: reason.to_owned(),
                count,
            });
        }
    };
    for dir in [Direction::In, Direction::Out] {
        for r in ALL_REASONS {
            push(Some(dir), "accept", r.as_str(), c.accepted(dir, r));
        }
        for r in ALL_REASONS {
            push(Some(dir), "drop", r.as_str(), c.dropped(dir, r));
        }
    }
    for d in ALL_NODE_DROPS {
        push(None, "node-drop", d.as_str(), c.node_dropped(d));
    }
    StatusReport {
        interface: interface.to_owned(),
        public_key: engine.public_key().to_base64(),
        listening_port: port,
        filter,
        reloads: ReloadReport {
            ok: reload.ok,
            failed: reload.failed,
            last,
        },
        peers,
        counters,
        tun: None,
    }
}

/// Renders a report as the `--status` text: `key: value` lines and `  in drop no-rule 3`
/// counter lines, so scripts can grep it.
#[must_use]
pub fn render_text(r: &StatusReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "interface: {}", r.interface);
    let _ = writeln!(out, "  public key: {}", r.public_key);
    let _ = writeln!(out, "  listening port: {}", r.listening_port);
    match &r.filter {
        Some(f) => {
            let _ = writeln!(
                out,
                "  filter: generation {}, {} rules from {}",
                f.generation, f.rules, f.source
            );
        }
        None => {
            let _ = writeln!(out, "  filter: disabled (--no-filter)");
        }
    }
    let _ = writeln!(
        out,
        "  reloads: {} ok, {} failed",
        r.reloads.ok, r.reloads.failed
    );
    match &r.reloads.last {
        None => {}
        Some(LastReload {
            ok: true,
            generation,
            ..
        }) => {
            let _ = writeln!(out, "  last reload: ok, generation {generation}");
        }
        Some(LastReload {
            generation, error, ..
        }) => {
            let msg = error.as_deref().unwrap_or("").replace('\n', "; ");
            let _ = writeln!(
                out,
                "  last reload: failed, keeping generation {generation}: {msg}"
            );
        }
    }
    if let Some(t) = &r.tun {
        let _ = writeln!(out, "  tun offload: {}", t.offload_state);
        for (what, d) in [("read", &t.read), ("written", &t.written)] {
            let x = d.avg_packets_x100();
            let _ = writeln!(
                out,
                "  tun {what}: {} packets in {} frames, average segment {} B ({}.{:02} packets)",
                d.packets,
                d.frames,
                d.avg_frame_bytes(),
                x / 100,
                x % 100
            );
        }
    }
    for p in &r.peers {
        let _ = writeln!(out, "\npeer: {}", p.public_key);
        let _ = writeln!(
            out,
            "  endpoint: {}",
            p.endpoint.as_deref().unwrap_or("(none)")
        );
        let _ = writeln!(out, "  allowed ips: {}", p.allowed_ips.join(", "));
        match p.latest_handshake_secs {
            Some(s) => {
                let _ = writeln!(out, "  latest handshake: {s} seconds ago");
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
    let _ = writeln!(out, "\ncounters (non-zero):");
    for c in &r.counters {
        match &c.direction {
            Some(d) => {
                let _ = writeln!(out, "  {d} {} {} {}", c.verdict, c.reason, c.count);
            }
            None => {
                let _ = writeln!(out, "  node drop {} {}", c.reason, c.count);
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "status_tests.rs"]
mod tests;
