//! The node's local addresses (its own addresses and the routes it serves), checked on every
//! inbound packet.
//!
//! A node usually has one address per family, so up to [`SMALL`] ranges are kept in
//! fixed arrays and tested all at once without branches (`dst - first <= last - first`, with
//! wrapping arithmetic, per range); larger sets use a binary search.

use crate::interval::{Key, RangeSet};

/// Ranges held in the fixed arrays.
const SMALL: usize = 2;

/// A set of local addresses of one family.
#[derive(Clone, Debug)]
pub(crate) enum LocalSet<A> {
    /// Every address is local (no `local_nets` configured).
    Any,
    /// At most [`SMALL`] ranges as `(first, last - first)`; unused entries repeat the first.
    Small {
        firsts: [A; SMALL],
        spans: [A; SMALL],
    },
    /// More ranges (or none).
    Large(RangeSet<A>),
}

impl<A: Key> LocalSet<A> {
    /// Builds the set from merged ranges (`None`: every address is local).
    pub(crate) fn new(ranges: Option<RangeSet<A>>) -> Self {
        let Some(set) = ranges else {
            return Self::Any;
        };
        let list: Vec<(A, A)> = set.iter().collect();
        match list.first() {
            Some(&(f0, l0)) if list.len() <= SMALL => {
                let mut firsts = [f0; SMALL];
                let mut spans = [l0.wrapping_sub(f0); SMALL];
                for ((f, s), (first, last)) in firsts.iter_mut().zip(spans.iter_mut()).zip(list) {
                    *f = first;
                    *s = last.wrapping_sub(first);
                }
                Self::Small { firsts, spans }
            }
            _ => Self::Large(set),
        }
    }

    /// Whether `addr` is local.
    #[inline]
    pub(crate) fn contains(&self, addr: A) -> bool {
        match self {
            Self::Any => true,
            Self::Small { firsts, spans } => {
                let mut hit = false;
                for (f, s) in firsts.iter().zip(spans) {
                    hit |= addr.wrapping_sub(*f) <= *s;
                }
                hit
            }
            Self::Large(set) => set.contains(addr),
        }
    }
}

/// The first [`SMALL`] ranges of an IPv4 set as `(first, count)` in 64 bits (a count of 0
/// is an empty entry, so every set has a form without a variant to dispatch on): a test that
/// answers "certainly local" for the commonest sets in a few branch-free instructions, for
/// the raw-bytes fast path. [`Self::contains_some`] false means "not in these ranges";
/// [`Self::partial`] says whether the set has more.
///
/// Before the ranges, one address of the set may be tested by equality ([`Self::is_exact`]):
/// the node's own address, the first /32 of its configured local addresses. Most packets a
/// node receives are for it, and the raw-bytes path compares it with the packet's four
/// address bytes as they lie, with no byte swap or range arithmetic.
#[derive(Clone, Debug)]
pub(crate) struct LeadingRangesV4 {
    ranges: [(u64, u64); SMALL],
    partial: bool,
    /// The address tested by equality, zero-extended (`u64::MAX`, which no address
    /// equals, when there is none).
    exact: u64,
    /// The same address's bytes in network order read as a little-endian word (see
    /// [`Self::is_exact_raw`]), zero-extended (`u64::MAX` when there is none).
    exact_raw: u64,
}

impl LeadingRangesV4 {
    /// The leading ranges of `set`, and `exact` (if it is in `set`) for the equality test.
    pub(crate) fn new(set: &RangeSet<u32>, exact: Option<u32>) -> Self {
        let mut ranges = [(0, 0); SMALL];
        let mut n = 0;
        for (slot, (first, last)) in ranges.iter_mut().zip(set.iter()) {
            *slot = (u64::from(first), u64::from(last) - u64::from(first) + 1);
            n += 1;
        }
        let exact = exact.filter(|a| set.contains(*a));
        Self {
            ranges,
            partial: set.iter().nth(n).is_some(),
            exact: exact.map_or(u64::MAX, u64::from),
            exact_raw: exact.map_or(u64::MAX, |a| u64::from(u32::from_le_bytes(a.to_be_bytes()))),
        }
    }

    /// Whether `addr` is the set's address tested by equality (so certainly in the set).
    #[inline(always)]
    pub(crate) fn is_exact(&self, addr: u32) -> bool {
        u64::from(addr) == self.exact
    }

    /// [`Self::is_exact`] for `raw`, the address's four bytes in network order read as a
    /// little-endian word (`u32::from_le_bytes` of the packet's bytes).
    #[inline(always)]
    pub(crate) fn is_exact_raw(&self, raw: u32) -> bool {
        u64::from(raw) == self.exact_raw
    }

    /// Whether `addr` is in one of the leading ranges.
    #[inline(always)]
    pub(crate) fn contains_some(&self, addr: u32) -> bool {
        let [(f0, c0), (f1, c1)] = self.ranges;
        let a = u64::from(addr);
        (a.wrapping_sub(f0) < c0) | (a.wrapping_sub(f1) < c1)
    }

    /// Whether the set has ranges beyond the leading ones.
    #[inline(always)]
    pub(crate) fn partial(&self) -> bool {
        self.partial
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u32, u32)]) -> LocalSet<u32> {
        LocalSet::new(Some(RangeSet::new(ranges.to_vec())))
    }

    /// Ranges in no particular order, including both ends of the key space.
    const RANGES: [(u32, u32); 6] = [
        (10, 10),
        (20, 29),
        (100, 100),
        (u32::MAX - 1, u32::MAX),
        (0, 3),
        (50, 60),
    ];

    /// Calls `check(ranges, address, in_set)` for `ranges` the first `n` of [`RANGES`], for
    /// every `n` and every address in and around them.
    fn for_each_prefix_set(mut check: impl FnMut(&[(u32, u32)], u32, bool)) {
        for n in 0..=RANGES.len() {
            let ranges = RANGES.get(..n).unwrap_or(&[]);
            for a in (0..130).chain([u32::MAX - 2, u32::MAX - 1, u32::MAX]) {
                check(ranges, a, ranges.iter().any(|(f, l)| *f <= a && a <= *l));
            }
        }
    }

    /// Every size from empty to past the fixed arrays agrees with the range list.
    #[test]
    fn agrees_with_the_ranges() {
        for_each_prefix_set(|ranges, a, want| {
            assert_eq!(set(ranges).contains(a), want, "{ranges:?}, address {a}");
        });
        assert!(LocalSet::<u128>::new(None).contains(7));
    }

    /// The leading ranges answer exactly for sets of up to two ranges, and never claim an
    /// address outside the set.
    #[test]
    fn leading_ranges_are_a_subset() {
        for_each_prefix_set(|ranges, a, want| {
            let lead = LeadingRangesV4::new(&RangeSet::new(ranges.to_vec()), None);
            assert_eq!(lead.partial(), ranges.len() > SMALL, "{ranges:?}");
            if ranges.len() <= SMALL {
                assert_eq!(lead.contains_some(a), want, "{ranges:?}, address {a}");
            } else {
                assert!(!lead.contains_some(a) || want, "{ranges:?}, address {a}");
            }
        });
        let everything = LeadingRangesV4::new(&RangeSet::new(vec![(0, u32::MAX)]), None);
        assert!(everything.contains_some(0) && everything.contains_some(u32::MAX));
    }

    /// The address tested by equality is the one given if the set holds it, and none
    /// otherwise; the raw form agrees with it.
    #[test]
    fn exact_address_is_in_the_set() {
        for given in [None, Some(0), Some(10), Some(25), Some(70), Some(u32::MAX)] {
            for_each_prefix_set(|ranges, a, want| {
                let lead = LeadingRangesV4::new(&RangeSet::new(ranges.to_vec()), given);
                assert!(!lead.is_exact(a) || want, "{ranges:?}, address {a}");
                assert_eq!(
                    lead.is_exact(a),
                    want && given == Some(a),
                    "{ranges:?}, {a}"
                );
                assert_eq!(
                    lead.is_exact(a),
                    lead.is_exact_raw(u32::from_le_bytes(a.to_be_bytes())),
                    "{ranges:?}, address {a}"
                );
            });
        }
        let none = LeadingRangesV4::new(&RangeSet::new(vec![]), Some(5));
        assert!(!(0..=9).chain([u32::MAX]).any(|a| none.is_exact(a)));
        assert!(!none.is_exact_raw(u32::MAX));
    }
}
