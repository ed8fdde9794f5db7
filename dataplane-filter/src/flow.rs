//! The bounded UDP/SCTP flow table: replies to flows this node opened are admitted.
//!
//! * **Bounded and preallocated**: a fixed power-of-two number of slots, allocated once;
//!   inserting never allocates. A full bucket evicts its oldest entry.
//! * **TTL**: an entry is valid for `ttl` seconds after the last outbound packet of its flow
//!   (default 180 s, Nebula's UDP timeout). Tailscale keeps 512 LRU entries with no expiry.
//! * **Sans-IO time**: callers pass `now` in seconds from any monotonic origin; the table never
//!   reads a clock.
//! * **Lock-free reads**: each slot is a small seqlock made of atomics (no `unsafe`). A reader
//!   that races a writer retries a few times and then reports a miss, so a concurrent update can
//!   at worst send one reply through full rule evaluation.
//! * **Shared across filter swaps**: the table lives outside the immutable [`crate::Filter`],
//!   in the [`crate::Dataplane`], which keeps it when it swaps filters.
//! * **Active flows first**: the IPv4 fast path reads only a bucket's first slot inline (the
//!   other slots cost a mispredicted branch and a call). A flow that records an outbound
//!   packet takes the first slot over from one quiet for a second or more, which moves to the
//!   sender's slot, so the flows exchanging packets are the ones found inline.
//! * **Hashing**: per-table random keys (foldhash/wyhash style folded 64×64→128-bit
//!   multiplies). An IPv4 key is two words — both addresses in one, ports/protocol/family in
//!   the other — and takes one multiply; an IPv6 key takes three. A lookup first compares a
//!   slot's ports/protocol/family word and reads the key under the seqlock only for a
//!   candidate (two words for IPv4, five for IPv6). A hit costs one cache line; with a table
//!   larger than the CPU caches that line usually comes from DRAM.
//!
//! Keys are the *reversed* tuple of an outbound packet, i.e. exactly the inbound reply's
//! (protocol, family, source, destination, source port, destination port).

use crate::packet::{Decoded, Family, ParsedPacket};
use crate::rules::proto;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

/// Default flow lifetime after the last outbound packet, seconds.
pub const DEFAULT_TTL_SECS: u32 = 180;
/// Default capacity (slots).
pub const DEFAULT_CAPACITY: usize = 4096;
/// Slots probed per bucket.
const WAYS: usize = 4;
/// Read attempts before a racing reader gives up.
const READ_RETRIES: usize = 4;
/// A flow recording an outbound packet takes its bucket's first slot over from a flow
/// quiet for at least this long (seconds): two busy flows of one bucket trade places at most
/// once a second.
const PROMOTE_AFTER_SECS: u32 = 1;

/// One slot: a seqlock version plus the key and the expiry time, in one cache line. An
/// IPv4 key has both addresses in `src_lo` (see [`v4_addrs`]) and zeros in the other
/// address words.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot {
    /// Even: stable; odd: being written.
    version: AtomicU64,
    src_hi: AtomicU64,
    src_lo: AtomicU64,
    dst_hi: AtomicU64,
    dst_lo: AtomicU64,
    /// Ports, protocol and family: [`v4_meta`] for IPv4, the same with [`FAMILY_V6`] set
    /// for IPv6.
    meta: AtomicU64,
    /// The time from which the entry is no longer live: last outbound time + TTL (0 for an
    /// empty slot, which is therefore never live).
    expires: AtomicU32,
}

impl Slot {
    /// Whether the slot's key words equal `k` (relaxed loads; callers validate under the
    /// seqlock when it matters).
    #[inline(always)]
    fn holds(&self, k: &FlowKey) -> bool {
        // An IPv4 key's other address words are zero in every consistent snapshot of a slot
        // whose `meta` says IPv4 (the family is part of `meta`), so two words decide.
        let v4 = (self.meta.load(Ordering::Relaxed) == k.meta)
            & (self.src_lo.load(Ordering::Relaxed) == k.src_lo);
        if k.is_v4() {
            return v4;
        }
        // Non-short-circuit: three more loads and compares, one branch.
        v4 & (self.dst_lo.load(Ordering::Relaxed) == k.dst_lo)
            & (self.src_hi.load(Ordering::Relaxed) == k.src_hi)
            & (self.dst_hi.load(Ordering::Relaxed) == k.dst_hi)
    }
}

/// The bit of `meta` that marks an IPv6 key (clear for IPv4).
const FAMILY_V6: u64 = 1 << 48;

/// A flow key: the inbound packet's tuple, as the words a slot stores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FlowKey {
    src_hi: u64,
    src_lo: u64,
    dst_hi: u64,
    dst_lo: u64,
    meta: u64,
}

impl FlowKey {
    /// The key of a packet from `src` to `dst` (IPv4 addresses in the low 32 bits).
    #[inline]
    fn new(family: Family, src: u128, dst: u128, proto: u8, sport: u16, dport: u16) -> Self {
        match family {
            Family::V4 => Self::v4(src as u32, dst as u32, v4_meta_of(proto, sport, dport)),
            Family::V6 => Self {
                src_hi: (src >> 64) as u64,
                src_lo: src as u64,
                dst_hi: (dst >> 64) as u64,
                dst_lo: dst as u64,
                meta: v4_meta_of(proto, sport, dport) | FAMILY_V6,
            },
        }
    }

    /// An IPv4 key: both addresses in one word (see [`v4_addrs`]).
    #[inline]
    fn v4(src: u32, dst: u32, meta: u64) -> Self {
        Self {
            src_hi: 0,
            src_lo: v4_addrs(src, dst),
            dst_hi: 0,
            dst_lo: 0,
            meta,
        }
    }

    /// Whether this is an IPv4 key.
    #[inline]
    fn is_v4(&self) -> bool {
        self.meta & FAMILY_V6 == 0
    }

    #[inline]
    fn inbound(p: &ParsedPacket) -> Self {
        Self::new(p.family, p.src, p.dst, p.proto, p.sport, p.dport)
    }

    #[inline]
    fn reply_to(p: &ParsedPacket) -> Self {
        Self::new(p.family, p.dst, p.src, p.proto, p.dport, p.sport)
    }
}

/// The address word of an IPv4 key: the packet's eight address bytes (source, then
/// destination) read as one little-endian word, so the raw-bytes path loads it with one
/// plain read.
#[inline(always)]
fn v4_addrs(src: u32, dst: u32) -> u64 {
    (u64::from(dst.swap_bytes()) << 32) | u64::from(src.swap_bytes())
}

/// The `meta` word of an IPv4 key, from `ports`: the packet's four port bytes (source,
/// then destination) read as one little-endian word, and the protocol (as `proto ^ UDP`,
/// so a UDP key's word is the port bytes alone: the raw-bytes path loads it with one plain
/// read). No real key's word equals another family's or protocol's.
#[inline(always)]
pub(crate) fn v4_meta(proto: u8, ports: u32) -> u64 {
    u64::from(ports) | (u64::from(proto ^ proto::UDP) << 32)
}

/// [`v4_meta`] from the two port numbers. Computed in 64 bits: in 32, the compiler reads
/// the decoded packet's two adjacent `u16` ports with one wider load, which the CPU cannot
/// forward from the decoder's two narrower stores (a stall on every packet).
#[inline(always)]
fn v4_meta_of(proto: u8, sport: u16, dport: u16) -> u64 {
    u64::from(sport.swap_bytes())
        | (u64::from(dport.swap_bytes()) << 16)
        | (u64::from(proto ^ proto::UDP) << 32)
}

/// The high and low halves of the full 128-bit product (a "folded multiply", as in
/// foldhash and wyhash): every input bit affects many output bits, in one multiplication.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// `WAYS` slots probed together.
type Bucket = [Slot; WAYS];

/// The bounded, TTL'd flow table. A [`crate::Dataplane`] holds one and keeps it across
/// filter swaps.
#[derive(Debug)]
pub struct FlowTable {
    buckets: Box<[Bucket]>,
    /// Number of buckets − 1 (a power of two − 1).
    mask: usize,
    ttl: u32,
    /// Per-table random hash keys.
    seeds: [u64; 5],
}

impl Default for FlowTable {
    fn default() -> Self {
        Self::new(DEFAULT_CAPACITY, DEFAULT_TTL_SECS)
    }
}

impl FlowTable {
    /// Allocates a table of `capacity` slots (rounded up to a power of two, at least one
    /// bucket's four) whose entries live `ttl_secs` seconds after their last outbound packet.
    #[must_use]
    pub fn new(capacity: usize, ttl_secs: u32) -> Self {
        let cap = capacity
            .max(WAYS)
            .checked_next_power_of_two()
            .unwrap_or(1 << 20);
        let buckets: Box<[Bucket]> = (0..cap / WAYS).map(|_| Bucket::default()).collect();
        // Per-table random keys (from the std hasher's random keys; no clock) keep bucket
        // placement unpredictable to peers.
        let random = std::collections::hash_map::RandomState::new();
        let mut seeds = [0u64; 5];
        for (i, s) in (0u64..).zip(seeds.iter_mut()) {
            let mut h = random.build_hasher();
            h.write_u64(i);
            *s = h.finish() | 1;
        }
        Self {
            mask: buckets.len() - 1,
            buckets,
            ttl: ttl_secs,
            seeds,
        }
    }

    /// Number of slots.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buckets.len() * WAYS
    }

    /// The bucket of `k` (`None` only if the table had no bucket, which [`Self::new`]
    /// prevents).
    #[inline(always)]
    fn bucket(&self, k: &FlowKey) -> Option<&Bucket> {
        let [k0, k1, k2, k3, k4] = self.seeds;
        let h = if k.is_v4() {
            fold_mul(k.src_lo ^ k0, k.meta ^ k1)
        } else {
            let lo = fold_mul(k.src_lo ^ k0, k.dst_lo ^ k1);
            let hi = fold_mul(k.src_hi ^ k2, k.dst_hi ^ k3);
            fold_mul(lo ^ k.meta, hi ^ k4)
        };
        self.buckets.get((h as usize) & self.mask)
    }

    /// Whether an entry expiring at `expires` is live at `now`.
    #[inline(always)]
    fn live(expires: u32, now: u32) -> bool {
        now < expires
    }

    /// Whether an inbound UDP/SCTP packet is a reply to a live outbound flow.
    ///
    /// Per slot of the key's bucket: a cheap unsynchronised look at the ports/protocol/family
    /// word skips slots holding other flows; a candidate is then read consistently under its
    /// seqlock. A torn first look can only cause a miss, never a false hit.
    #[inline]
    pub fn contains_reply(&self, p: &ParsedPacket, now: u32) -> bool {
        let k = FlowKey::inbound(p);
        if k.is_v4() {
            self.contains_v4_words(k.src_lo, k.meta, now)
        } else {
            self.contains(&k, now)
        }
    }

    /// [`Self::contains_reply`] for an IPv4 packet given by its fields (what
    /// [`crate::Filter::check_in`] has at hand on its IPv4 path).
    #[inline]
    pub(crate) fn contains_reply_v4(
        &self,
        src: u32,
        dst: u32,
        proto: u8,
        sport: u16,
        dport: u16,
        now: u32,
    ) -> bool {
        self.contains_v4_words(v4_addrs(src, dst), v4_meta_of(proto, sport, dport), now)
    }

    /// Whether the table holds `k`, live at `now`.
    #[inline(always)]
    fn contains(&self, k: &FlowKey, now: u32) -> bool {
        self.bucket(k)
            .is_some_and(|bucket| Self::probe(bucket, k, now))
    }

    /// Whether `bucket` holds `k`, live at `now`.
    #[inline(always)]
    fn probe(bucket: &Bucket, k: &FlowKey, now: u32) -> bool {
        for slot in bucket {
            if slot.meta.load(Ordering::Relaxed) != k.meta {
                continue;
            }
            // First attempt inline; a slot being written is retried out of line.
            let v1 = slot.version.load(Ordering::Acquire);
            let read = if v1 & 1 == 0 {
                Self::read_once(slot, k, v1, now)
            } else {
                None
            };
            // A slot with the same ports but other addresses: look on.
            if read.or_else(|| Self::read_retrying(slot, *k, now)) == Some(true) {
                return true;
            }
        }
        false
    }

    /// [`Self::contains`] for an IPv4 key given as its two words (see [`v4_addrs`] and
    /// [`v4_meta`]), as the raw-bytes path reads them from the packet.
    ///
    /// Only the first slot of the bucket is read inline, with one seqlock read: inserts fill
    /// a bucket's slots in order, so a flow is usually there. Anything else (another slot, a
    /// miss, a slot being written) goes to the general probe out of line.
    #[inline(always)]
    pub(crate) fn contains_v4_words(&self, addrs: u64, meta: u64, now: u32) -> bool {
        let k = FlowKey {
            src_hi: 0,
            src_lo: addrs,
            dst_hi: 0,
            dst_lo: 0,
            meta,
        };
        let Some(bucket) = self.bucket(&k) else {
            return false;
        };
        let [first, ..] = bucket;
        // An IPv4 key in a slot whose `meta` (which holds the family) matches has zero
        // IPv6 words, so two key words decide (see `Slot::holds`).
        let v1 = first.version.load(Ordering::Acquire);
        let hit = (first.meta.load(Ordering::Relaxed) == meta)
            && (first.src_lo.load(Ordering::Relaxed) == addrs)
            && Self::live(first.expires.load(Ordering::Relaxed), now);
        fence(Ordering::Acquire);
        // Consistent if the version was even and has not moved.
        if hit && (v1 & 1 == 0) && first.version.load(Ordering::Relaxed) == v1 {
            return true;
        }
        self.contains_out_of_line(bucket, k, now)
    }

    /// [`Self::contains_v4_words`]'s general probe of the whole bucket.
    #[inline(never)]
    fn contains_out_of_line(&self, bucket: &Bucket, k: FlowKey, now: u32) -> bool {
        Self::probe(bucket, &k, now)
    }

    /// One seqlock read of `slot` begun at even version `v1`: `Some(hit)` when consistent,
    /// `None` when a writer interfered.
    #[inline(always)]
    fn read_once(slot: &Slot, k: &FlowKey, v1: u64, now: u32) -> Option<bool> {
        let same = slot.holds(k);
        let expires = slot.expires.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        (slot.version.load(Ordering::Relaxed) == v1).then(|| same && Self::live(expires, now))
    }

    /// Up to [`READ_RETRIES`] further seqlock reads of a slot that is being written. (`k` by
    /// value: the inline path then never has to store the key to memory.)
    #[cold]
    #[inline(never)]
    fn read_retrying(slot: &Slot, k: FlowKey, now: u32) -> Option<bool> {
        for _ in 0..READ_RETRIES {
            let v1 = slot.version.load(Ordering::Acquire);
            if v1 & 1 == 1 {
                std::hint::spin_loop();
                continue;
            }
            if let Some(hit) = Self::read_once(slot, &k, v1, now) {
                return Some(hit);
            }
        }
        None
    }

    /// Records the reply direction of an outbound packet if it is UDP or SCTP with ports.
    /// Call this on **every** outbound path, including packets the node generates itself.
    /// (The protocol test is inline; recording is out of line.)
    #[inline]
    pub fn record_outbound(&self, p: &ParsedPacket, now: u32) {
        if p.decoded == Decoded::Ip && (p.proto == proto::UDP || p.proto == proto::SCTP) {
            self.record(p, now);
        }
    }

    /// [`Self::record_outbound`] for a decoded UDP/SCTP packet.
    #[inline(never)]
    fn record(&self, p: &ParsedPacket, now: u32) {
        // With a zero TTL no entry is ever live (and `expires` would not be after `now`).
        if self.ttl == 0 {
            return;
        }
        let k = FlowKey::reply_to(p);
        let Some(bucket) = self.bucket(&k) else {
            return;
        };
        let expires = now.saturating_add(self.ttl);
        // Pick: the slot already holding the key, else an empty or expired one, else the
        // one closest to expiry (the least recently used: the TTL is the same for all).
        let mut target = None;
        let mut oldest: Option<(usize, u32)> = None;
        for (i, slot) in bucket.iter().enumerate() {
            let e = slot.expires.load(Ordering::Relaxed);
            if slot.holds(&k) && e != 0 {
                target = Some(i);
                break;
            }
            if target.is_none() && !Self::live(e, now) {
                target = Some(i);
            }
            if oldest.is_none_or(|(_, o)| e < o) {
                oldest = Some((i, e));
            }
        }
        let Some(i) = target.or(oldest.map(|(i, _)| i)) else {
            return;
        };
        let [first, ..] = bucket;
        let Some(slot) = bucket.get(i) else {
            return;
        };
        // The IPv4 fast path reads only a bucket's first slot inline: a flow that sends
        // takes it over from one that has been quiet for `PROMOTE_AFTER_SECS`, which moves
        // to this flow's slot.
        let first_quiet = first
            .expires
            .load(Ordering::Relaxed)
            .saturating_add(PROMOTE_AFTER_SECS)
            <= expires;
        if i > 0 && first_quiet {
            Self::write_swapping(first, slot, &k, expires);
        } else if let Some(v) = Self::lock(slot) {
            Self::write(slot, &k, expires);
            slot.version.store(v.wrapping_add(2), Ordering::Release);
        }
    }

    /// Takes `slot`'s write lock (odd version) and returns the version it had, or `None`
    /// if another writer holds it: the caller then skips its write (the next outbound
    /// packet of the flow records it again).
    fn lock(slot: &Slot) -> Option<u64> {
        let v = slot.version.load(Ordering::Relaxed);
        if v & 1 == 1
            || slot
                .version
                .compare_exchange(v, v.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return None;
        }
        fence(Ordering::Release);
        Some(v)
    }

    /// Writes `k` live until `expires` into `slot`, whose write lock the caller holds.
    fn write(slot: &Slot, k: &FlowKey, expires: u32) {
        slot.src_hi.store(k.src_hi, Ordering::Relaxed);
        slot.src_lo.store(k.src_lo, Ordering::Relaxed);
        slot.dst_hi.store(k.dst_hi, Ordering::Relaxed);
        slot.dst_lo.store(k.dst_lo, Ordering::Relaxed);
        slot.meta.store(k.meta, Ordering::Relaxed);
        slot.expires.store(expires, Ordering::Relaxed);
    }

    /// Writes `k` into the bucket's `first` slot and that slot's entry into `other`, under
    /// both write locks (taken first slot first, so two writers never wait on each other;
    /// if either is held, nothing is written). A reader of either entry may miss it during
    /// the swap, as with any write.
    fn write_swapping(first: &Slot, other: &Slot, k: &FlowKey, expires: u32) {
        let Some(v_first) = Self::lock(first) else {
            return;
        };
        let Some(v_other) = Self::lock(other) else {
            first
                .version
                .store(v_first.wrapping_add(2), Ordering::Release);
            return;
        };
        let moved = FlowKey {
            src_hi: first.src_hi.load(Ordering::Relaxed),
            src_lo: first.src_lo.load(Ordering::Relaxed),
            dst_hi: first.dst_hi.load(Ordering::Relaxed),
            dst_lo: first.dst_lo.load(Ordering::Relaxed),
            meta: first.meta.load(Ordering::Relaxed),
        };
        let moved_expires = first.expires.load(Ordering::Relaxed);
        Self::write(other, &moved, moved_expires);
        Self::write(first, k, expires);
        other
            .version
            .store(v_other.wrapping_add(2), Ordering::Release);
        first
            .version
            .store(v_first.wrapping_add(2), Ordering::Release);
    }

    /// Number of live entries at `now` (walks the table; for tests and metrics).
    #[must_use]
    pub fn live_entries(&self, now: u32) -> usize {
        self.buckets
            .iter()
            .flatten()
            .filter(|s| Self::live(s.expires.load(Ordering::Relaxed), now))
            .count()
    }
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
