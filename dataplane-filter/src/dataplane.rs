//! A filter that can be swapped atomically while traffic flows, with flow state that outlives
//! swaps.

use crate::filter::Filter;
use crate::flow::FlowTable;
use crate::packet::ParsedPacket;
use crate::verdict::Verdict;
use arc_swap::ArcSwap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

/// Source of [`Dataplane`] identities (so a [`DecisionScratch`] never uses one dataplane's
/// cached filter for another).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The filter a fresh [`DecisionScratch`] holds (with stamp 0, which no dataplane has, so
/// it is replaced before its first use): the scratch then always has a filter, and the
/// per-packet check is one comparison.
static NO_FILTER: LazyLock<Arc<Filter>> = LazyLock::new(|| Arc::new(Filter::empty()));

/// The current [`Filter`] behind an atomic pointer, plus the [`FlowTable`] every filter
/// generation shares.
///
/// Readers never lock: [`Dataplane::run_in`] finds the current filter (one atomic load, see
/// below; no allocation) and decides. [`Dataplane::swap`] publishes a new filter; packets already
/// being decided finish on the old one. The flow table is not part of the filter, so UDP/SCTP
/// flows survive policy changes (as in Tailscale). The table is held inline, not behind an
/// `Arc`: the per-packet lookup reads its keys and bucket pointer straight from the
/// dataplane, one dependent load fewer. A failed rebuild simply never calls `swap`,
/// so the last good filter stays in place.
///
/// [`Dataplane::run_in`] / [`Dataplane::run_out`] keep the filter they used in the caller's
/// [`DecisionScratch`] together with the dataplane's *stamp* (changed by every swap): a
/// decision costs one plain atomic load to notice a swap, not an `arc-swap` guard (whose
/// load and release are two locked instructions, a large part of a packet's filter cost).
#[derive(Debug)]
pub struct Dataplane {
    filter: ArcSwap<Filter>,
    flows: FlowTable,
    /// An identity (unique in the process) in the high 32 bits and a generation in the low
    /// 32, advanced after each swap has published its filter: one comparison tells a scratch
    /// whether its cached filter is this dataplane's current one. When the generation would
    /// overflow, the swap takes a fresh identity instead, so a stamp never repeats, within
    /// one dataplane or across dataplanes.
    stamp: AtomicU64,
}

/// A worker's working memory for [`Dataplane::run_in`] / [`Dataplane::run_out`]: the decoded
/// packet and the filter the last decision used. Keep one per task and reuse it; it holds
/// the previous filter alive until its next decision after a swap.
#[derive(Clone, Debug)]
pub struct DecisionScratch {
    packet: ParsedPacket,
    /// The dataplane stamp of `filter` (0 before the first decision: never current).
    stamp: u64,
    /// The filter of the last decision.
    filter: Arc<Filter>,
}

impl Default for DecisionScratch {
    fn default() -> Self {
        Self {
            packet: ParsedPacket::default(),
            stamp: 0,
            filter: Arc::clone(&NO_FILTER),
        }
    }
}

impl DecisionScratch {
    /// The packet decoded by the last decision that decoded one: after
    /// [`Dataplane::run_out`] and after every [`Dataplane::run_in`] verdict except the
    /// raw-bytes fast accepts (reason [`crate::Reason::TcpNonSyn`] or
    /// [`crate::Reason::Flow`] for an IPv4 packet), for which it is left unchanged (an
    /// earlier packet). Drops and rule accepts always have their packet here.
    #[must_use]
    pub fn packet(&self) -> &ParsedPacket {
        &self.packet
    }
}

impl Dataplane {
    /// Starts with `filter` and the given flow table.
    #[must_use]
    pub fn new(filter: Filter, flows: FlowTable) -> Self {
        Self {
            filter: ArcSwap::from_pointee(filter),
            flows,
            stamp: AtomicU64::new(NEXT_ID.fetch_add(1, Ordering::Relaxed) << 32),
        }
    }

    /// Publishes a new filter and returns the previous one. Decisions that start after this
    /// returns use the new filter.
    pub fn swap(&self, filter: Filter) -> Arc<Filter> {
        let old = self.filter.swap(Arc::new(filter));
        // A read-modify-write, so a reader that sees the newest stamp also sees every filter
        // published before it (the release sequence continues through concurrent swaps).
        let _ = self
            .stamp
            .fetch_update(Ordering::Release, Ordering::Relaxed, |s| {
                Some(if s & u64::from(u32::MAX) == u64::from(u32::MAX) {
                    NEXT_ID.fetch_add(1, Ordering::Relaxed) << 32
                } else {
                    s + 1
                })
            });
        old
    }

    /// Makes `scratch`'s filter the current one: reloaded only when this dataplane has
    /// swapped since (or `scratch` is fresh or last served another dataplane).
    #[inline(always)]
    fn refresh(&self, scratch: &mut DecisionScratch) {
        let stamp = self.stamp.load(Ordering::Acquire);
        if scratch.stamp != stamp {
            self.reload(scratch, stamp);
        }
    }

    /// Loads the current filter into `scratch` (after a swap or on a fresh scratch): out of
    /// line, so the per-packet path stays short.
    #[cold]
    #[inline(never)]
    fn reload(&self, scratch: &mut DecisionScratch, stamp: u64) {
        scratch.filter = self.filter.load_full();
        scratch.stamp = stamp;
    }

    /// The current filter (cloning the `Arc`; hold it to decide a batch without reloading).
    #[must_use]
    pub fn filter(&self) -> Arc<Filter> {
        self.filter.load_full()
    }

    /// The flow table (shared by every filter generation).
    #[must_use]
    pub fn flows(&self) -> &FlowTable {
        &self.flows
    }

    /// Decides `packet` as inbound. Never allocates.
    ///
    /// Established traffic is decided straight from the bytes: a complete, unfragmented
    /// IPv4 packet with a 20-byte header and no trailing bytes to a local unicast address
    /// that is TCP without a pure SYN (`accept(TcpNonSyn)`) or a UDP reply to a live flow
    /// (`accept(Flow)`).
    /// For those accepts `scratch` is **not** updated: [`DecisionScratch::packet`] still
    /// holds an earlier packet. Every other packet is decoded into `scratch` and decided by
    /// [`Filter::check_in`]; in particular every drop and every rule accept leaves the
    /// decoded packet in [`DecisionScratch::packet`]. The verdict is always exactly the one
    /// `decode` + [`Filter::check_in`] give (property-tested).
    ///
    /// Only the raw-bytes checks are inlined into the caller; decoding and the full decision
    /// are out of line, so the established path pays no function call and no register
    /// spills.
    #[inline(always)]
    pub fn run_in(&self, packet: &[u8], scratch: &mut DecisionScratch, now: u32) -> Verdict {
        self.refresh(scratch);
        match scratch
            .filter
            .accept_established_v4(packet, &self.flows, now)
        {
            Some(v) => v,
            None => decide_in(
                &scratch.filter,
                &self.flows,
                packet,
                &mut scratch.packet,
                now,
            ),
        }
    }

    /// Decodes `packet` into `scratch`, runs the outbound pre-checks and records UDP/SCTP
    /// flow state. Never allocates.
    #[inline]
    pub fn run_out(&self, packet: &[u8], scratch: &mut DecisionScratch, now: u32) -> Verdict {
        scratch.packet.decode(packet);
        self.refresh(scratch);
        scratch.filter.check_out(&scratch.packet, &self.flows, now)
    }
}

/// The rest of [`Dataplane::run_in`]: decodes `packet` into `parsed` and decides it.
#[inline(never)]
fn decide_in(
    filter: &Filter,
    flows: &FlowTable,
    packet: &[u8],
    parsed: &mut ParsedPacket,
    now: u32,
) -> Verdict {
    parsed.decode(packet);
    filter.check_in(parsed, flows, now)
}

#[cfg(test)]
#[path = "dataplane_tests.rs"]
mod tests;
