//! A branch-free search of a sorted slice in four-way steps.
//!
//! A lookup in the matcher is a chain of searches whose every step waits for the load of the
//! step before it, so their cost is the *latency* of that chain, not the instructions. A
//! binary step is one load, one compare and one conditional move. A four-way step loads three
//! elements at once (independent loads, which the CPU overlaps), compares each, and picks one
//! of four quarters with two levels of conditional moves: the chain gets half as many links
//! for about one and a half times the instructions.

use std::hint::select_unpredictable;

/// `v.partition_point(|e| key(e) <= x)` for `v` sorted by `key`: the number of leading
/// elements whose key is at most `x`.
#[inline(always)]
pub(crate) fn count_at_most<T, K: Ord + Copy>(v: &[T], x: K, key: impl Fn(&T) -> K) -> usize {
    // Whether element `i` is at most `x` (`false` past the end, which no step reaches).
    let at_most = |i: usize| v.get(i).is_some_and(|e| key(e) <= x);
    // Invariant (as in the standard library's binary search): if any element is at most `x`,
    // the last such one is in `base..base + size`; otherwise `base` is 0.
    let mut base = 0usize;
    let mut size = v.len();
    if size == 0 {
        return 0;
    }
    while size > 3 {
        let q = size / 4;
        let (b1, b2, b3) = (base + q, base + 2 * q, base + 3 * q);
        let (c1, c2, c3) = (at_most(b1), at_most(b2), at_most(b3));
        // The last element at most `x` is in the quarter starting at `base`, `b1`, `b2` or
        // `b3`; each quarter but the last has `q` elements, the last `size - 3q >= q`.
        let low = select_unpredictable(c1, b1, base);
        let high = select_unpredictable(c3, b3, b2);
        base = select_unpredictable(c2, high, low);
        size -= 3 * q;
    }
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        base = select_unpredictable(at_most(mid), mid, base);
        size -= half;
    }
    base + usize::from(at_most(base))
}

#[cfg(test)]
mod tests {
    #![expect(clippy::unwrap_used, reason = "tests")]
    use super::*;
    use proptest::prelude::*;

    /// Every length up to 70 (all remainders of every step), with duplicates, against the
    /// standard library at every key in and around the values.
    #[test]
    fn agrees_with_partition_point_exhaustively() {
        for len in 0..70usize {
            for dup in [1usize, 3] {
                let v: Vec<u32> = (0..len).map(|i| (i / dup * 2 + 1) as u32).collect();
                let top = v.last().copied().unwrap_or(0) + 2;
                for x in 0..=top {
                    assert_eq!(
                        count_at_most(&v, x, |e| *e),
                        v.partition_point(|e| *e <= x),
                        "len {len}, dup {dup}, x {x}"
                    );
                }
            }
        }
    }

    proptest! {
        /// Random sorted slices of pairs (as the arena stores them) and random keys.
        #[test]
        fn agrees_with_partition_point(
            mut starts in proptest::collection::vec(any::<u32>(), 0..3000),
            x in any::<u32>(),
        ) {
            starts.sort_unstable();
            let v: Vec<(u32, u32)> = starts.iter().map(|s| (*s, 7)).collect();
            prop_assert_eq!(
                count_at_most(&v, x, |e| e.0),
                v.partition_point(|e| e.0 <= x)
            );
            if let Some(&(pick, _)) = v.get(usize::try_from(x).unwrap() % v.len().max(1)) {
                prop_assert_eq!(
                    count_at_most(&v, pick, |e| e.0),
                    v.partition_point(|e| e.0 <= pick)
                );
            }
        }
    }
}
