//! The per-packet logic of the node, with no IO: WireGuard sessions per peer
//! (`boringtun::noise::Tunn`), peer selection by AllowedIPs, cryptokey routing, the packet
//! filter and the counters. The caller feeds datagrams, TUN packets and timer ticks in, and
//! receives the resulting writes through a [`Sink`].

use crate::config::{Key, WgConfig};
use crate::offload::segment::Segments;
use crate::prefix::{AllowedIps, Prefix};
use crate::stats::{Counters, Direction, LogLimiter, NodeDrop, SharedLogLimiter, VerdictTally};
use crate::status::PeerReport;
use boringtun::noise::errors::WireGuardError;
use boringtun::noise::handshake::parse_handshake_anon;
use boringtun::noise::rate_limiter::RateLimiter;
use boringtun::noise::{Packet, Tunn, TunnResult};
use boringtun::x25519::{PublicKey, StaticSecret};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tailpolicy_dataplane_filter::packet::Family;
use tailpolicy_dataplane_filter::{
    Dataplane, DecisionScratch, Filter, FilterRule, FlowTable, ParsedPacket, Reason, Verdict,
};

/// Handshake messages per second accepted before the node answers with cookie replies
/// (the value boringtun's own device uses).
const HANDSHAKE_RATE_LIMIT: u64 = 100;
/// Largest datagram or packet handled (plus WireGuard overhead).
const BUF_LEN: usize = 65_536 + 148;
/// Room for a data message's header, padding and tag around a packet (16 + 15 + 16).
const SEAL_OVERHEAD: usize = 48;

/// Where the engine's output goes.
pub trait Sink {
    /// Send a UDP datagram to a peer's endpoint.
    fn to_network(&mut self, to: SocketAddr, datagram: &[u8]);
    /// Write a decapsulated, admitted IP packet to the TUN device.
    fn to_tun(&mut self, packet: &[u8]);
}

/// One configured peer and its WireGuard state (behind the peer's lock).
struct PeerState {
    /// Where to send its datagrams: configured, then the source of its last authenticated
    /// datagram (roaming).
    endpoint: Option<SocketAddr>,
    tunn: Tunn,
}

/// A peer: immutable identity plus its locked WireGuard state.
struct PeerSlot {
    public_key: Key,
    allowed_ips: Vec<Prefix>,
    state: Mutex<PeerState>,
}

impl std::fmt::Debug for PeerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeerSlot")
            .field("public_key", &self.public_key.to_base64())
            .finish_non_exhaustive()
    }
}

/// What the active filter was built from (for logs and status).
#[derive(Debug)]
struct FilterMeta {
    /// One line per FilterRule, for accept/drop logs.
    rules: Vec<String>,
    /// Where the rules came from.
    source: String,
    /// Incremented on every successful swap.
    generation: u64,
}

/// The filter: swapped atomically by [`Dataplane`]; its description under a lock that
/// only logging, status and swaps take.
#[derive(Debug)]
struct ActiveFilter {
    dataplane: Dataplane,
    meta: Mutex<FilterMeta>,
}

/// Per-task working memory: the decoded packet (with the filter's per-task cache), the
/// WireGuard output buffer and the task's verdict counts. Each task that drives the engine
/// owns one ([`Engine::scratch`]), so the packet path never allocates and never writes a
/// counter another task writes. The counts reach [`Engine::counters`] every
/// `TALLY_FLUSH_EVERY` verdicts, on [`Scratch::flush`] and when the scratch
/// is dropped.
#[derive(Debug)]
pub struct Scratch {
    parsed: DecisionScratch,
    buf: Vec<u8>,
    /// The datagrams of one super-segment, encrypted before any is sent.
    sealed: Segments,
    tally: VerdictTally,
    counters: Arc<Counters>,
}

impl Scratch {
    /// Adds the verdicts counted so far to the engine's counters.
    pub fn flush(&mut self) {
        self.counters.absorb(&mut self.tally);
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.flush();
    }
}

/// The node's packet engine. `Sync`: the inbound and outbound directions run in parallel,
/// each with its own [`Scratch`]; a peer's WireGuard state is locked only while its packet
/// is encrypted or decrypted.
pub struct Engine {
    private: StaticSecret,
    public: PublicKey,
    peers: Vec<PeerSlot>,
    by_key: HashMap<[u8; 32], usize>,
    routes: AllowedIps,
    rate_limiter: Arc<RateLimiter>,
    filter: Option<ActiveFilter>,
    counters: Arc<Counters>,
    drop_log: SharedLogLimiter,
    accept_log: SharedLogLimiter,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("peers", &self.peers)
            .field("filter", &self.filter)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave a Tunn or a counter half-updated in a way
    // that matters more than losing the node, so a poisoned lock is simply taken over.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Engine {
    /// Builds the engine for `config`. `filter`: the initial filter with its rules and a
    /// description of their source, or `None` to run without a filter (`--no-filter`).
    #[must_use]
    pub fn new(config: &WgConfig, filter: Option<(Filter, &[FilterRule], String)>) -> Self {
        let private = StaticSecret::from(config.interface.private_key.0);
        let public = PublicKey::from(&private);
        let rate_limiter = Arc::new(RateLimiter::new(&public, HANDSHAKE_RATE_LIMIT));
        let mut peers = Vec::with_capacity(config.peers.len());
        let mut by_key = HashMap::new();
        let mut routes = AllowedIps::default();
        for (i, p) in config.peers.iter().enumerate() {
            let tunn = Tunn::new(
                private.clone(),
                PublicKey::from(p.public_key.0),
                p.preshared_key.map(|k| k.0),
                p.persistent_keepalive,
                u32::try_from(i).unwrap_or(u32::MAX) & 0x00ff_ffff,
                Some(Arc::clone(&rate_limiter)),
            );
            by_key.insert(p.public_key.0, i);
            for prefix in &p.allowed_ips {
                routes.insert(*prefix, i);
            }
            peers.push(PeerSlot {
                public_key: p.public_key,
                allowed_ips: p.allowed_ips.clone(),
                state: Mutex::new(PeerState {
                    endpoint: p.endpoint,
                    tunn,
                }),
            });
        }
        let filter = filter.map(|(f, rules, source)| ActiveFilter {
            dataplane: Dataplane::new(f, FlowTable::default()),
            meta: Mutex::new(FilterMeta {
                rules: describe_rules(rules),
                source,
                generation: 1,
            }),
        });
        Self {
            private,
            public,
            peers,
            by_key,
            routes,
            rate_limiter,
            filter,
            counters: Arc::new(Counters::default()),
            drop_log: SharedLogLimiter::new(LogLimiter::drops()),
            accept_log: SharedLogLimiter::new(LogLimiter::accepts()),
        }
    }

    /// The node's public key.
    #[must_use]
    pub fn public_key(&self) -> Key {
        Key(self.public.to_bytes())
    }

    /// Working memory for one task that drives this engine.
    #[must_use]
    pub fn scratch(&self) -> Scratch {
        Scratch {
            parsed: DecisionScratch::default(),
            buf: vec![0; BUF_LEN],
            sealed: Segments::default(),
            tally: VerdictTally::default(),
            counters: Arc::clone(&self.counters),
        }
    }

    /// The counters (shared; cheap to clone).
    #[must_use]
    pub fn counters(&self) -> &Arc<Counters> {
        &self.counters
    }

    /// Whether a filter is enforced.
    #[must_use]
    pub fn filter_enabled(&self) -> bool {
        self.filter.is_some()
    }

    /// `(generation, rule count, source)` of the active filter.
    #[must_use]
    pub fn filter_info(&self) -> Option<(u64, usize, String)> {
        self.filter.as_ref().map(|a| {
            let m = lock(&a.meta);
            (m.generation, m.rules.len(), m.source.clone())
        })
    }

    /// Publishes a new filter atomically (flow state is kept). Does nothing when the node
    /// runs without a filter. Returns the new generation.
    pub fn swap_filter(&self, filter: Filter, rules: &[FilterRule], source: String) -> u64 {
        let Some(active) = self.filter.as_ref() else {
            return 0;
        };
        let mut meta = lock(&active.meta);
        active.dataplane.swap(filter);
        meta.rules = describe_rules(rules);
        meta.source = source;
        meta.generation = meta.generation.saturating_add(1);
        meta.generation
    }

    /// Snapshots of every peer.
    #[must_use]
    pub fn peer_status(&self) -> Vec<PeerReport> {
        self.peers
            .iter()
            .map(|p| {
                let st = lock(&p.state);
                let (since, tx, rx, _, _) = st.tunn.stats();
                PeerReport {
                    public_key: p.public_key.to_base64(),
                    endpoint: st.endpoint.map(|e| e.to_string()),
                    allowed_ips: p.allowed_ips.iter().map(ToString::to_string).collect(),
                    latest_handshake_secs: since.map(|d| d.as_secs()),
                    rx_bytes: u64::try_from(rx).unwrap_or(u64::MAX),
                    tx_bytes: u64::try_from(tx).unwrap_or(u64::MAX),
                }
            })
            .collect()
    }

    /// Which peer a datagram belongs to (`None`: unknown). Handshake initiations are opened
    /// with the node's key to learn the sender; the other messages carry our session index.
    fn peer_for(&self, packet: &Packet<'_>) -> Option<usize> {
        match packet {
            Packet::HandshakeInit(p) => parse_handshake_anon(&self.private, &self.public, p)
                .ok()
                .and_then(|h| self.by_key.get(&h.peer_static_public).copied()),
            Packet::HandshakeResponse(p) => usize::try_from(p.receiver_idx >> 8).ok(),
            Packet::PacketCookieReply(p) => usize::try_from(p.receiver_idx >> 8).ok(),
            Packet::PacketData(p) => usize::try_from(p.receiver_idx >> 8).ok(),
        }
        .filter(|i| *i < self.peers.len())
    }

    /// Handles one UDP datagram received from `from`. `now` is seconds from any monotonic
    /// origin (for the flow table).
    pub fn handle_datagram(
        &self,
        scratch: &mut Scratch,
        from: SocketAddr,
        datagram: &[u8],
        now: u32,
        sink: &mut impl Sink,
    ) {
        let parsed = match Tunn::parse_incoming_packet(datagram) {
            Ok(p) => p,
            Err(_) => {
                self.counters.node_drop(NodeDrop::UnknownPeer);
                return;
            }
        };
        if matches!(parsed, Packet::HandshakeInit(_)) {
            // Rate-limit before the expensive anonymous handshake parsing; under load this
            // answers with a cookie reply.
            let mut cookie = [0u8; 64];
            match self
                .rate_limiter
                .verify_packet(Some(from.ip()), datagram, &mut cookie)
            {
                Ok(_) => {}
                Err(TunnResult::WriteToNetwork(reply)) => {
                    sink.to_network(from, reply);
                    return;
                }
                Err(_) => {
                    self.counters.node_drop(NodeDrop::Decapsulate);
                    return;
                }
            }
        }
        let Some(idx) = self.peer_for(&parsed) else {
            self.counters.node_drop(NodeDrop::UnknownPeer);
            return;
        };
        let Some(peer) = self.peers.get(idx) else {
            return;
        };
        let Scratch {
            parsed,
            buf,
            tally,
            counters,
            ..
        } = scratch;
        let (packet, src) = {
            let mut st = lock(&peer.state);
            match st.tunn.decapsulate(Some(from.ip()), datagram, buf) {
                TunnResult::Done => {
                    st.endpoint = Some(from);
                    return;
                }
                TunnResult::Err(e) => {
                    drop(st);
                    self.counters.node_drop(NodeDrop::Decapsulate);
                    tracing::debug!(peer = %short(&peer.public_key), %from, error = ?e, "datagram rejected");
                    return;
                }
                TunnResult::WriteToNetwork(reply) => {
                    st.endpoint = Some(from);
                    sink.to_network(from, reply);
                    // Flush packets queued while the handshake was in progress.
                    while let TunnResult::WriteToNetwork(queued) =
                        st.tunn.decapsulate(None, &[], buf)
                    {
                        sink.to_network(from, queued);
                    }
                    return;
                }
                TunnResult::WriteToTunnelV4(packet, src) => {
                    st.endpoint = Some(from);
                    (packet, IpAddr::V4(src))
                }
                TunnResult::WriteToTunnelV6(packet, src) => {
                    st.endpoint = Some(from);
                    (packet, IpAddr::V6(src))
                }
            }
        };
        // Cryptokey routing: the inner source must belong to the sending peer.
        if self.routes.lookup(src) != Some(idx) {
            self.counters.node_drop(NodeDrop::Cryptokey);
            if let Some(suppressed) = self.drop_log.allow(u64::from(now)) {
                tracing::info!(
                    peer = %short(&peer.public_key), %src, suppressed,
                    "dropped inbound packet: source outside the peer's AllowedIPs (cryptokey routing)"
                );
            }
            return;
        }
        let Some(active) = self.filter.as_ref() else {
            sink.to_tun(packet);
            return;
        };
        let verdict = active.dataplane.run_in(packet, parsed, now);
        counters.count(tally, Direction::In, verdict);
        if verdict.is_accept() {
            if verdict.reason == Reason::Rule
                && let Some(suppressed) = self.accept_log.allow(u64::from(now))
            {
                log_accept(
                    active,
                    &peer.public_key,
                    parsed.packet(),
                    verdict,
                    suppressed,
                );
            }
            sink.to_tun(packet);
        } else if let Some(suppressed) = self.drop_log.allow(u64::from(now)) {
            log_drop(
                active,
                &peer.public_key,
                parsed.packet(),
                verdict,
                suppressed,
            );
        }
    }

    /// Handles one IP packet read from the TUN: records flow state, picks the peer whose
    /// AllowedIPs contain the destination, encrypts and sends.
    pub fn handle_tun_packet(
        &self,
        scratch: &mut Scratch,
        packet: &[u8],
        now: u32,
        sink: &mut impl Sink,
    ) {
        let Some(dst) = Tunn::dst_address(packet) else {
            self.counters.node_drop(NodeDrop::NotIp);
            return;
        };
        let Some(idx) = self.routes.lookup(dst) else {
            self.counters.node_drop(NodeDrop::NoPeer);
            return;
        };
        if let Some(active) = self.filter.as_ref() {
            let verdict = active.dataplane.run_out(packet, &mut scratch.parsed, now);
            scratch
                .counters
                .count(&mut scratch.tally, Direction::Out, verdict);
            if !verdict.is_accept() {
                return;
            }
        }
        let Some(peer) = self.peers.get(idx) else {
            return;
        };
        let mut st = lock(&peer.state);
        let endpoint = st.endpoint;
        match st.tunn.encapsulate(packet, &mut scratch.buf) {
            TunnResult::WriteToNetwork(datagram) => {
                drop(st);
                match endpoint {
                    Some(to) => sink.to_network(to, datagram),
                    None => self.counters.node_drop(NodeDrop::NoEndpoint),
                }
            }
            TunnResult::Err(e) => {
                drop(st);
                tracing::debug!(peer = %short(&peer.public_key), error = ?e, "encapsulate failed");
            }
            TunnResult::Done
            | TunnResult::WriteToTunnelV4(..)
            | TunnResult::WriteToTunnelV6(..) => {}
        }
    }

    /// Handles the packets cut from one TUN super-segment (the offload module's `segment`):
    /// they share one five-tuple, so the peer is chosen and the filter runs once, on the
    /// first packet, and the verdict applies to all of them (counted once per packet). The
    /// peer's lock is taken once for the whole run, and the datagrams leave back to back,
    /// so the sink sends them as one GSO run.
    pub fn handle_tun_segments(
        &self,
        scratch: &mut Scratch,
        packets: &Segments,
        now: u32,
        sink: &mut impl Sink,
    ) {
        let n = u32::try_from(packets.len()).unwrap_or(u32::MAX);
        let Some(first) = packets.first() else {
            return;
        };
        let Some(dst) = Tunn::dst_address(first) else {
            self.counters.node_drop_n(NodeDrop::NotIp, u64::from(n));
            return;
        };
        let Some(idx) = self.routes.lookup(dst) else {
            self.counters.node_drop_n(NodeDrop::NoPeer, u64::from(n));
            return;
        };
        if let Some(active) = self.filter.as_ref() {
            let verdict = active.dataplane.run_out(first, &mut scratch.parsed, now);
            scratch
                .counters
                .count_n(&mut scratch.tally, Direction::Out, verdict, n);
            if !verdict.is_accept() {
                return;
            }
        }
        let Some(peer) = self.peers.get(idx) else {
            return;
        };
        // Encrypt under the peer's lock into the scratch's datagram buffer; send after
        // releasing it, so the other direction never waits for a system call.
        let Scratch { sealed, .. } = scratch;
        sealed.clear();
        let endpoint = {
            let mut st = lock(&peer.state);
            for packet in packets.iter() {
                sealed.push_with(packet.len() + SEAL_OVERHEAD, |dst| {
                    match st.tunn.encapsulate(packet, dst) {
                        TunnResult::WriteToNetwork(datagram) => Some(datagram.len()),
                        TunnResult::Err(e) => {
                            tracing::debug!(peer = %short(&peer.public_key), error = ?e, "encapsulate failed");
                            None
                        }
                        TunnResult::Done
                        | TunnResult::WriteToTunnelV4(..)
                        | TunnResult::WriteToTunnelV6(..) => None,
                    }
                });
            }
            st.endpoint
        };
        match endpoint {
            Some(to) => {
                for datagram in sealed.iter() {
                    sink.to_network(to, datagram);
                }
            }
            None => self.counters.node_drop_n(
                NodeDrop::NoEndpoint,
                u64::try_from(sealed.len()).unwrap_or(u64::MAX),
            ),
        }
    }

    /// Runs the WireGuard timers of every peer (handshake retries, rekeys, keepalives).
    /// Call about every 250 ms.
    pub fn tick(&self, scratch: &mut Scratch, sink: &mut impl Sink) {
        for peer in &self.peers {
            let mut st = lock(&peer.state);
            let endpoint = st.endpoint;
            match st.tunn.update_timers(&mut scratch.buf) {
                TunnResult::WriteToNetwork(datagram) => match endpoint {
                    Some(to) => sink.to_network(to, datagram),
                    None => self.counters.node_drop(NodeDrop::NoEndpoint),
                },
                TunnResult::Err(WireGuardError::ConnectionExpired) => {
                    tracing::debug!(peer = %short(&peer.public_key), "session expired");
                }
                TunnResult::Err(e) => {
                    tracing::debug!(peer = %short(&peer.public_key), error = ?e, "timer error");
                }
                TunnResult::Done
                | TunnResult::WriteToTunnelV4(..)
                | TunnResult::WriteToTunnelV6(..) => {}
            }
        }
    }

    /// Resets the handshake rate limiter's count; call once per second.
    pub fn reset_rate_limiter(&self) {
        self.rate_limiter.reset_count();
    }
}

/// The first 8 characters of a key's base64, enough to tell peers apart in logs.
fn short(key: &Key) -> String {
    key.to_base64().chars().take(8).collect()
}

fn addr_of(family: Family, v: u128) -> IpAddr {
    match family {
        Family::V4 => IpAddr::V4(Ipv4Addr::from(
            u32::try_from(v & u128::from(u32::MAX)).unwrap_or(0),
        )),
        Family::V6 => IpAddr::V6(Ipv6Addr::from(v)),
    }
}

fn log_drop(
    active: &ActiveFilter,
    peer: &Key,
    p: &ParsedPacket,
    verdict: Verdict,
    suppressed: u64,
) {
    let meta = lock(&active.meta);
    tracing::info!(
        peer = %short(peer),
        src = %addr_of(p.family, p.src),
        dst = %addr_of(p.family, p.dst),
        proto = p.proto,
        dport = p.dport,
        reason = verdict.reason.as_str(),
        filter = meta.generation,
        suppressed,
        "dropped inbound packet: {} (none of the {} rules from {} admits it)",
        verdict.reason.as_str(),
        meta.rules.len(),
        meta.source,
    );
}

fn log_accept(
    active: &ActiveFilter,
    peer: &Key,
    p: &ParsedPacket,
    verdict: Verdict,
    suppressed: u64,
) {
    let meta = lock(&active.meta);
    let rule = verdict
        .rule_index()
        .and_then(|i| usize::try_from(i).ok())
        .and_then(|i| meta.rules.get(i))
        .map_or("?", String::as_str);
    tracing::info!(
        peer = %short(peer),
        src = %addr_of(p.family, p.src),
        dst = %addr_of(p.family, p.dst),
        proto = p.proto,
        dport = p.dport,
        filter = meta.generation,
        suppressed,
        "accepted new inbound flow by {rule}",
    );
}

fn describe_rules(rules: &[FilterRule]) -> Vec<String> {
    rules
        .iter()
        .enumerate()
        .map(|(i, r)| format!("rule #{i}: {}", describe_rule(r)))
        .collect()
}

/// A one-line description of a FilterRule: `SrcIPs [..] -> DstPorts [..]`.
#[must_use]
pub fn describe_rule(rule: &FilterRule) -> String {
    let dsts: Vec<String> = rule
        .dst_ports
        .iter()
        .map(|d| {
            // IPv6 in brackets, so the port cannot be read as part of the address.
            let ip = if d.ip.contains(':') {
                format!("[{}]", d.ip)
            } else {
                d.ip.clone()
            };
            if d.ports.first == d.ports.last {
                format!("{ip}:{}", d.ports.first)
            } else if d.ports.first == 0 && d.ports.last == u16::MAX {
                format!("{ip}:*")
            } else {
                format!("{ip}:{}-{}", d.ports.first, d.ports.last)
            }
        })
        .collect();
    let proto = if rule.ip_proto.is_empty() {
        String::new()
    } else {
        format!(" proto {:?}", rule.ip_proto)
    };
    format!(
        "SrcIPs [{}] -> DstPorts [{}]{proto}",
        rule.src_ips.join(", "),
        dsts.join(", ")
    )
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
