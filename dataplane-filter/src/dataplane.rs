//! A filter that can be swapped atomically while traffic flows, with flow state that outlives
//! swaps.

use crate::filter::Filter;
use crate::flow::FlowTable;
use crate::packet::ParsedPacket;
use crate::verdict::Verdict;
use arc_swap::{ArcSwap, Cache};
use std::sync::Arc;

/// The current [`Filter`] behind an atomic pointer plus the shared [`FlowTable`].
///
/// Readers never lock: [`Dataplane::run_in`] loads the current filter (an `arc-swap` guard,
/// no allocation) and decides. [`Dataplane::swap`] publishes a new filter; packets already
/// being decided finish on the old one. The flow table is not part of the filter, so UDP/SCTP
/// flows survive policy changes (as in Tailscale). A failed rebuild simply never calls `swap`,
/// so the last good filter stays in place.
#[derive(Debug)]
pub struct Dataplane {
    filter: ArcSwap<Filter>,
    flows: Arc<FlowTable>,
}

impl Dataplane {
    /// Starts with `filter` and the given flow table.
    #[must_use]
    pub fn new(filter: Filter, flows: Arc<FlowTable>) -> Self {
        Self {
            filter: ArcSwap::from_pointee(filter),
            flows,
        }
    }

    /// Publishes a new filter and returns the previous one.
    pub fn swap(&self, filter: Filter) -> Arc<Filter> {
        self.filter.swap(Arc::new(filter))
    }

    /// The current filter (cloning the `Arc`; hold it to decide a batch without reloading).
    #[must_use]
    pub fn filter(&self) -> Arc<Filter> {
        self.filter.load_full()
    }

    /// The shared flow table.
    #[must_use]
    pub fn flows(&self) -> &Arc<FlowTable> {
        &self.flows
    }

    /// A per-thread (or per-task) reader that caches the current filter: each decision costs
    /// one atomic load to notice a swap instead of an `arc-swap` guard. Use one per worker.
    #[must_use]
    pub fn reader(&self) -> DataplaneReader<'_> {
        DataplaneReader {
            cache: Cache::new(&self.filter),
            flows: &self.flows,
            scratch: ParsedPacket::default(),
        }
    }

    /// Decodes `packet` into `scratch` and decides it as inbound. Never allocates.
    pub fn run_in(&self, packet: &[u8], scratch: &mut ParsedPacket, now: u32) -> Verdict {
        scratch.decode(packet);
        self.filter.load().check_in(scratch, &self.flows, now)
    }

    /// Decodes `packet` into `scratch`, runs the outbound pre-checks and records UDP/SCTP
    /// flow state. Never allocates.
    pub fn run_out(&self, packet: &[u8], scratch: &mut ParsedPacket, now: u32) -> Verdict {
        scratch.decode(packet);
        self.filter.load().check_out(scratch, &self.flows, now)
    }
}

/// A worker's view of a [`Dataplane`]: a cached filter pointer that follows swaps, the shared
/// flow table, and a reusable [`ParsedPacket`].
pub struct DataplaneReader<'d> {
    cache: Cache<&'d ArcSwap<Filter>, Arc<Filter>>,
    flows: &'d FlowTable,
    scratch: ParsedPacket,
}

impl std::fmt::Debug for DataplaneReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DataplaneReader").finish_non_exhaustive()
    }
}

impl DataplaneReader<'_> {
    /// Decodes and decides an inbound packet. Never allocates.
    pub fn run_in(&mut self, packet: &[u8], now: u32) -> Verdict {
        self.scratch.decode(packet);
        self.cache.load().check_in(&self.scratch, self.flows, now)
    }

    /// Decodes an outbound packet, runs the pre-checks and records UDP/SCTP flow state.
    /// Never allocates.
    pub fn run_out(&mut self, packet: &[u8], now: u32) -> Verdict {
        self.scratch.decode(packet);
        self.cache.load().check_out(&self.scratch, self.flows, now)
    }

    /// The packet decoded by the last call.
    #[must_use]
    pub fn last_packet(&self) -> &ParsedPacket {
        &self.scratch
    }
}
