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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ranges: &[(u32, u32)]) -> LocalSet<u32> {
        LocalSet::new(Some(RangeSet::new(ranges.to_vec())))
    }

    /// Every size from empty to past the fixed arrays agrees with the range list.
    #[test]
    fn agrees_with_the_ranges() {
        let all = [
            (10, 10),
            (20, 29),
            (100, 100),
            (u32::MAX - 1, u32::MAX),
            (0, 3),
            (50, 60),
        ];
        for n in 0..=all.len() {
            let ranges = all.get(..n).unwrap_or(&[]);
            let s = set(ranges);
            for a in (0..130).chain([u32::MAX - 2, u32::MAX - 1, u32::MAX]) {
                let want = ranges.iter().any(|(f, l)| *f <= a && a <= *l);
                assert_eq!(s.contains(a), want, "{n} ranges, address {a}");
            }
        }
        assert!(LocalSet::<u128>::new(None).contains(7));
    }
}
