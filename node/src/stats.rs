//! Counters (per filter reason, per direction, and the node's own drop reasons) and the
//! token bucket that rate-limits packet logs.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use tailpolicy_dataplane_filter::{Reason, Verdict};

/// Every filter reason, in a fixed order (the counters' index, [`Reason::index`]).
pub const ALL_REASONS: [Reason; 14] = Reason::ALL;

/// Drops decided by the node itself, before or instead of the filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum NodeDrop {
    /// Inbound: the decapsulated packet's source is outside the sending peer's AllowedIPs
    /// (cryptokey routing).
    Cryptokey,
    /// Inbound: a datagram that names no configured peer (unknown key or session index).
    UnknownPeer,
    /// Inbound: WireGuard rejected the datagram (bad MAC, replay, no session, …).
    Decapsulate,
    /// Outbound: no peer's AllowedIPs contain the destination.
    NoPeer,
    /// Outbound: the peer has no endpoint yet (it never contacted us and has none configured).
    NoEndpoint,
    /// Outbound: the TUN gave something that is not an IPv4/IPv6 packet (or a super-segment
    /// whose virtio-net header does not fit it).
    NotIp,
}

/// Every node drop reason, in counter order.
pub const ALL_NODE_DROPS: [NodeDrop; 6] = [
    NodeDrop::Cryptokey,
    NodeDrop::UnknownPeer,
    NodeDrop::Decapsulate,
    NodeDrop::NoPeer,
    NodeDrop::NoEndpoint,
    NodeDrop::NotIp,
];

impl NodeDrop {
    /// Stable kebab-case name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Cryptokey => "cryptokey",
            Self::UnknownPeer => "unknown-peer",
            Self::Decapsulate => "decapsulate",
            Self::NoPeer => "no-peer",
            Self::NoEndpoint => "no-endpoint",
            Self::NotIp => "not-ip",
        }
    }

    const fn index(self) -> usize {
        match self {
            Self::Cryptokey => 0,
            Self::UnknownPeer => 1,
            Self::Decapsulate => 2,
            Self::NoPeer => 3,
            Self::NoEndpoint => 4,
            Self::NotIp => 5,
        }
    }
}

/// Packet direction relative to the tunnel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// From a peer, after decapsulation, towards the TUN.
    In,
    /// From the TUN towards a peer.
    Out,
}

impl Direction {
    /// `in` or `out`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::In => "in",
            Self::Out => "out",
        }
    }
}

/// Verdicts a worker counts before it adds them to the shared [`Counters`].
pub const TALLY_FLUSH_EVERY: u32 = 64;

/// Filter verdicts counted by one worker in plain integers, added to the shared
/// [`Counters`] in bulk ([`Counters::absorb`]): counting a packet then costs no locked
/// instruction and touches no cache line another worker writes.
#[derive(Debug, Default)]
pub struct VerdictTally {
    accept: [[u64; 14]; 2],
    drop: [[u64; 14]; 2],
    /// Verdicts counted since the last [`Counters::absorb`].
    pending: u32,
}

impl VerdictTally {
    /// Counts one filter verdict; returns whether [`TALLY_FLUSH_EVERY`] verdicts are now
    /// waiting to be absorbed.
    #[inline]
    pub fn record(&mut self, dir: Direction, v: Verdict) -> bool {
        let table = if v.is_accept() {
            &mut self.accept
        } else {
            &mut self.drop
        };
        if let Some(c) = table
            .get_mut(dir_index(dir))
            .and_then(|row| row.get_mut(v.reason.index()))
        {
            *c += 1;
        }
        self.pending += 1;
        self.pending >= TALLY_FLUSH_EVERY
    }

    /// Counts the same verdict for `n` packets (the packets of one TUN super-segment, one
    /// five-tuple, decided once); returns whether [`TALLY_FLUSH_EVERY`] verdicts are now
    /// waiting to be absorbed.
    #[inline]
    pub fn record_n(&mut self, dir: Direction, v: Verdict, n: u32) -> bool {
        let table = if v.is_accept() {
            &mut self.accept
        } else {
            &mut self.drop
        };
        if let Some(c) = table
            .get_mut(dir_index(dir))
            .and_then(|row| row.get_mut(v.reason.index()))
        {
            *c += u64::from(n);
        }
        self.pending = self.pending.saturating_add(n);
        self.pending >= TALLY_FLUSH_EVERY
    }
}

/// All counters of a node. Increments are relaxed atomics; readers may see a slightly
/// stale mix, which is fine for monitoring. Workers count verdicts in a [`VerdictTally`]
/// and add them here in bulk, so the shared counts lag by at most a batch.
#[derive(Debug, Default)]
pub struct Counters {
    accept: [[AtomicU64; 14]; 2],
    drop: [[AtomicU64; 14]; 2],
    node: [AtomicU64; 6],
}

const fn dir_index(d: Direction) -> usize {
    match d {
        Direction::In => 0,
        Direction::Out => 1,
    }
}

impl Counters {
    /// Counts one filter verdict at once (the packet path counts in a [`VerdictTally`]
    /// instead, see [`Self::count`]).
    pub fn verdict(&self, dir: Direction, v: Verdict) {
        let mut one = VerdictTally::default();
        one.record(dir, v);
        self.absorb(&mut one);
    }

    /// Counts `v` in `tally`, and adds the tally here every [`TALLY_FLUSH_EVERY`] verdicts.
    #[inline]
    pub fn count(&self, tally: &mut VerdictTally, dir: Direction, v: Verdict) {
        if tally.record(dir, v) {
            self.absorb(tally);
        }
    }

    /// Counts `v` for `n` packets in `tally` (see [`VerdictTally::record_n`]), and adds the
    /// tally here every [`TALLY_FLUSH_EVERY`] verdicts.
    #[inline]
    pub fn count_n(&self, tally: &mut VerdictTally, dir: Direction, v: Verdict, n: u32) {
        if tally.record_n(dir, v, n) {
            self.absorb(tally);
        }
    }

    /// Adds `tally`'s counts and clears it.
    pub fn absorb(&self, tally: &mut VerdictTally) {
        for (shared, local) in [
            (&self.accept, &mut tally.accept),
            (&self.drop, &mut tally.drop),
        ] {
            for (shared_row, local_row) in shared.iter().zip(local.iter_mut()) {
                for (c, n) in shared_row.iter().zip(local_row.iter_mut()) {
                    if *n != 0 {
                        c.fetch_add(*n, Ordering::Relaxed);
                        *n = 0;
                    }
                }
            }
        }
        tally.pending = 0;
    }

    /// Counts one node drop.
    #[inline]
    pub fn node_drop(&self, d: NodeDrop) {
        if let Some(c) = self.node.get(d.index()) {
            c.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Counts `n` node drops for `d` (the packets of one TUN super-segment).
    #[inline]
    pub fn node_drop_n(&self, d: NodeDrop, n: u64) {
        if let Some(c) = self.node.get(d.index()) {
            c.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Filter accepts for `reason` in `dir`.
    #[must_use]
    pub fn accepted(&self, dir: Direction, reason: Reason) -> u64 {
        get(&self.accept, dir, reason)
    }

    /// Filter drops for `reason` in `dir`.
    #[must_use]
    pub fn dropped(&self, dir: Direction, reason: Reason) -> u64 {
        get(&self.drop, dir, reason)
    }

    /// Node drops for `d`.
    #[must_use]
    pub fn node_dropped(&self, d: NodeDrop) -> u64 {
        self.node
            .get(d.index())
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }
}

fn get(table: &[[AtomicU64; 14]; 2], dir: Direction, reason: Reason) -> u64 {
    table
        .get(dir_index(dir))
        .and_then(|row| row.get(reason.index()))
        .map_or(0, |c| c.load(Ordering::Relaxed))
}

/// Frames (system calls), packets and bytes moved through the TUN in one direction. With
/// offloads a frame is a super-segment of many packets; without, every frame is one packet.
#[derive(Debug, Default)]
#[repr(align(64))]
pub struct TunTraffic {
    frames: AtomicU64,
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl TunTraffic {
    /// Counts one or more frames holding `packets` packets of `bytes` bytes in all.
    #[inline]
    pub fn add(&self, frames: u64, packets: u64, bytes: u64) {
        self.frames.fetch_add(frames, Ordering::Relaxed);
        self.packets.fetch_add(packets, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// `(frames, packets, bytes)` so far.
    #[must_use]
    pub fn get(&self) -> (u64, u64, u64) {
        (
            self.frames.load(Ordering::Relaxed),
            self.packets.load(Ordering::Relaxed),
            self.bytes.load(Ordering::Relaxed),
        )
    }
}

/// TUN traffic both ways: each direction written by one task, on its own cache line.
#[derive(Debug, Default)]
pub struct TunStats {
    /// Read from the TUN (outbound).
    pub read: TunTraffic,
    /// Written to the TUN (inbound).
    pub written: TunTraffic,
}

/// A token bucket for log lines: `burst` lines at once, then one per `every_secs`.
/// Time is passed in (seconds from any monotonic origin), so it is testable.
#[derive(Clone, Debug)]
pub struct LogLimiter {
    burst: u32,
    every_secs: u64,
    tokens: u32,
    last_refill: u64,
    suppressed: u64,
}

impl LogLimiter {
    /// Tailscale's drop-log limits: burst 10, one per 5 s.
    #[must_use]
    pub const fn drops() -> Self {
        Self::new(10, 5)
    }

    /// Tailscale's accept-log limits: burst 3, one per 10 s.
    #[must_use]
    pub const fn accepts() -> Self {
        Self::new(3, 10)
    }

    /// A bucket with `burst` tokens refilled one per `every_secs` seconds.
    #[must_use]
    pub const fn new(burst: u32, every_secs: u64) -> Self {
        Self {
            burst,
            every_secs,
            tokens: burst,
            last_refill: 0,
            suppressed: 0,
        }
    }

    /// Whether a line may be logged at `now`. When it may, also returns how many lines were
    /// suppressed since the last one that was allowed.
    pub fn allow(&mut self, now: u64) -> Option<u64> {
        let elapsed = now.saturating_sub(self.last_refill);
        if let Some(refill) = elapsed.checked_div(self.every_secs)
            && refill > 0
        {
            let add = u32::try_from(refill).unwrap_or(u32::MAX);
            self.tokens = self.tokens.saturating_add(add).min(self.burst);
            self.last_refill = self.last_refill.saturating_add(refill * self.every_secs);
        }
        if self.tokens == 0 {
            self.suppressed = self.suppressed.saturating_add(1);
            return None;
        }
        self.tokens -= 1;
        Some(std::mem::take(&mut self.suppressed))
    }

    /// While the bucket is empty: the time of its next refill (no line can be allowed
    /// before it). `None` while it has tokens.
    #[must_use]
    pub fn closed_until(&self) -> Option<u64> {
        (self.tokens == 0).then(|| self.last_refill.saturating_add(self.every_secs))
    }
}

/// A [`LogLimiter`] shared by the worker tasks. While its bucket is empty, a suppressed line
/// costs one atomic load and one atomic add instead of a mutex: a flood of refused packets
/// from both tasks never queues them on a lock.
#[derive(Debug)]
pub struct SharedLogLimiter {
    /// Before this time the bucket is known to be empty (0: not known).
    closed_until: AtomicU64,
    /// Lines suppressed without the lock since the last allowed line.
    suppressed: AtomicU64,
    bucket: Mutex<LogLimiter>,
}

impl SharedLogLimiter {
    /// Shares `limiter`.
    #[must_use]
    pub const fn new(limiter: LogLimiter) -> Self {
        Self {
            closed_until: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
            bucket: Mutex::new(limiter),
        }
    }

    /// [`LogLimiter::allow`] for any task: the suppressed count it returns includes the
    /// lines suppressed without the lock. (A line suppressed while another task is being
    /// allowed one may be counted with the next allowed line instead.)
    pub fn allow(&self, now: u64) -> Option<u64> {
        if now < self.closed_until.load(Ordering::Relaxed) {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
            return None;
        }
        // A panic while holding this lock cannot leave the bucket in a state worse than a
        // wrong count of log lines, so a poisoned lock is taken over.
        let mut bucket = self.bucket.lock().unwrap_or_else(PoisonError::into_inner);
        let allowed = bucket.allow(now);
        self.closed_until
            .store(bucket.closed_until().unwrap_or(0), Ordering::Relaxed);
        allowed.map(|s| s.saturating_add(self.suppressed.swap(0, Ordering::Relaxed)))
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;
