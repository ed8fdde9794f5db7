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
//! * **Shared across filter swaps**: the table lives outside the immutable [`crate::Filter`].
//! * **Hashing**: three folded 64×64→128-bit multiplies over the key words with per-table
//!   random keys (foldhash/wyhash style); a lookup first compares a slot's ports/protocol
//!   word and reads the full key under the seqlock only for a candidate. A hit costs one
//!   cache line; with a table larger than the CPU caches that line usually comes from DRAM.
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

/// One slot: a seqlock version plus the key and the last-seen time, in one cache line.
#[derive(Debug, Default)]
#[repr(align(64))]
struct Slot {
    /// Even: stable; odd: being written. 0 with `seen == 0` means empty.
    version: AtomicU64,
    src_hi: AtomicU64,
    src_lo: AtomicU64,
    dst_hi: AtomicU64,
    dst_lo: AtomicU64,
    /// `sport << 32 | dport << 16 | proto << 8 | family`.
    meta: AtomicU64,
    /// Last outbound time + 1 (0 = empty).
    seen: AtomicU32,
}

impl Slot {
    /// Whether the slot's key words equal `k` (relaxed loads; callers validate under the
    /// seqlock when it matters).
    #[inline]
    fn holds(&self, k: &FlowKey) -> bool {
        // Non-short-circuit: five loads and compares, one branch.
        (self.meta.load(Ordering::Relaxed) == k.meta)
            & (self.src_lo.load(Ordering::Relaxed) == k.src_lo)
            & (self.dst_lo.load(Ordering::Relaxed) == k.dst_lo)
            & (self.src_hi.load(Ordering::Relaxed) == k.src_hi)
            & (self.dst_hi.load(Ordering::Relaxed) == k.dst_hi)
    }
}

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
    #[inline]
    fn new(src: u128, dst: u128, meta: u64) -> Self {
        Self {
            src_hi: (src >> 64) as u64,
            src_lo: src as u64,
            dst_hi: (dst >> 64) as u64,
            dst_lo: dst as u64,
            meta,
        }
    }

    #[inline]
    fn inbound(p: &ParsedPacket) -> Self {
        Self::new(p.src, p.dst, meta(p.family, p.proto, p.sport, p.dport))
    }

    #[inline]
    fn reply_to(p: &ParsedPacket) -> Self {
        Self::new(p.dst, p.src, meta(p.family, p.proto, p.dport, p.sport))
    }
}

#[inline]
fn meta(family: Family, proto: u8, sport: u16, dport: u16) -> u64 {
    let fam = match family {
        Family::V4 => 4u64,
        Family::V6 => 6u64,
    };
    (u64::from(sport) << 32) | (u64::from(dport) << 16) | (u64::from(proto) << 8) | fam
}

/// The high and low halves of the full 128-bit product (a "folded multiply", as in
/// foldhash and wyhash): every input bit affects many output bits, in one multiplication.
#[inline]
fn fold_mul(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    (p as u64) ^ ((p >> 64) as u64)
}

/// The bounded, TTL'd flow table. Share it (e.g. in an `Arc`) between filter generations.
#[derive(Debug)]
pub struct FlowTable {
    slots: Box<[Slot]>,
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
    /// Allocates a table of `capacity` slots (rounded up to a power of two, at least
    /// [`WAYS`]) whose entries live `ttl_secs` seconds after their last outbound packet.
    #[must_use]
    pub fn new(capacity: usize, ttl_secs: u32) -> Self {
        let cap = capacity
            .max(WAYS)
            .checked_next_power_of_two()
            .unwrap_or(1 << 20);
        let slots: Box<[Slot]> = (0..cap).map(|_| Slot::default()).collect();
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
            slots,
            mask: cap - 1,
            ttl: ttl_secs,
            seeds,
        }
    }

    /// Number of slots.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// The bucket of `k`: its slots, `WAYS` in a row (empty only if the table were smaller
    /// than a bucket, which [`Self::new`] prevents).
    #[inline]
    fn bucket(&self, k: &FlowKey) -> &[Slot] {
        let [k0, k1, k2, k3, k4] = self.seeds;
        let lo = fold_mul(k.src_lo ^ k0, k.dst_lo ^ k1);
        let hi = fold_mul(k.src_hi ^ k2, k.dst_hi ^ k3);
        let h = fold_mul(lo ^ k.meta, hi ^ k4);
        // Bucket start, aligned to WAYS so buckets do not overlap.
        let start = (h as usize) & self.mask & !(WAYS - 1);
        self.slots.get(start..start + WAYS).unwrap_or(&[])
    }

    #[inline]
    fn fresh(&self, seen: u32, now: u32) -> bool {
        seen != 0 && now.saturating_sub(seen - 1) < self.ttl
    }

    /// Whether an inbound UDP/SCTP packet is a reply to a live outbound flow.
    ///
    /// Per slot of the key's bucket: a cheap unsynchronised look at the ports and protocol
    /// word skips slots holding other flows; a candidate is then read consistently under its
    /// seqlock. A torn first look can only cause a miss, never a false hit.
    #[inline]
    pub fn contains_reply(&self, p: &ParsedPacket, now: u32) -> bool {
        let k = FlowKey::inbound(p);
        for slot in self.bucket(&k) {
            if slot.meta.load(Ordering::Relaxed) != k.meta {
                continue;
            }
            for _ in 0..READ_RETRIES {
                let v1 = slot.version.load(Ordering::Acquire);
                if v1 & 1 == 1 {
                    std::hint::spin_loop();
                    continue;
                }
                let same = slot.holds(&k);
                let seen = slot.seen.load(Ordering::Relaxed);
                fence(Ordering::Acquire);
                if slot.version.load(Ordering::Relaxed) != v1 {
                    continue;
                }
                if same && self.fresh(seen, now) {
                    return true;
                }
                break;
            }
        }
        false
    }

    /// Records the reply direction of an outbound packet if it is UDP or SCTP with ports.
    /// Call this on **every** outbound path, including packets the node generates itself.
    pub fn record_outbound(&self, p: &ParsedPacket, now: u32) {
        if p.decoded != Decoded::Ip || !(p.proto == proto::UDP || p.proto == proto::SCTP) {
            return;
        }
        let k = FlowKey::reply_to(p);
        let bucket = self.bucket(&k);
        let stamp = now.saturating_add(1);
        // Pick: the slot already holding the key, else an empty or expired one, else the
        // oldest.
        let mut target = None;
        let mut oldest: Option<(usize, u32)> = None;
        for (i, slot) in bucket.iter().enumerate() {
            let seen = slot.seen.load(Ordering::Relaxed);
            if slot.holds(&k) && seen != 0 {
                target = Some(i);
                break;
            }
            if target.is_none() && !self.fresh(seen, now) {
                target = Some(i);
            }
            if oldest.is_none_or(|(_, s)| seen < s) {
                oldest = Some((i, seen));
            }
        }
        let Some(i) = target.or(oldest.map(|(i, _)| i)) else {
            return;
        };
        let Some(slot) = bucket.get(i) else {
            return;
        };
        // Take the slot's write lock (odd version); if another writer holds it, skip: the next
        // outbound packet of the flow records it again.
        let v = slot.version.load(Ordering::Relaxed);
        if v & 1 == 1
            || slot
                .version
                .compare_exchange(v, v.wrapping_add(1), Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return;
        }
        fence(Ordering::Release);
        slot.src_hi.store(k.src_hi, Ordering::Relaxed);
        slot.src_lo.store(k.src_lo, Ordering::Relaxed);
        slot.dst_hi.store(k.dst_hi, Ordering::Relaxed);
        slot.dst_lo.store(k.dst_lo, Ordering::Relaxed);
        slot.meta.store(k.meta, Ordering::Relaxed);
        slot.seen.store(stamp, Ordering::Relaxed);
        slot.version.store(v.wrapping_add(2), Ordering::Release);
    }

    /// Number of live entries at `now` (walks the table; for tests and metrics).
    #[must_use]
    pub fn live_entries(&self, now: u32) -> usize {
        self.slots
            .iter()
            .filter(|s| self.fresh(s.seen.load(Ordering::Relaxed), now))
            .count()
    }
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
