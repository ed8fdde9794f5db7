//! The binary search of the matcher's sorted arrays.
//!
//! Each step is one load, one compare and one conditional move (no branch to mispredict on
//! the data). The loop stops at three elements or fewer, and those are counted directly: a
//! loop down to one element ends after a number of steps that varies with the slice's
//! length, and with it the branch that leaves the loop, which the CPU then mispredicts on
//! most lookups of maps of varying sizes.
//!
//! Measured against the alternatives with the paired comparison of `examples/hot_path.rs`
//! (`ab`), on new flows (`syn-*` modes): a binary loop down to one element was 14–28 %
//! slower; four-way steps (three loads and two levels of conditional moves per step, half
//! as many steps, with the same counted tail) 12–25 % slower; eight-way steps slower
//! still. More instructions on every step cost more than the shorter chain of loads saves.

use std::hint::select_unpredictable;

/// `v.partition_point(|e| key(e) <= x)` for `v` sorted by `key`: the number of leading
/// elements whose key is at most `x`.
#[inline(always)]
pub(crate) fn count_at_most<T, K: Ord + Copy>(v: &[T], x: K, key: impl Fn(&T) -> K) -> usize {
    // Whether element `i` is at most `x` (`false` past the end, where only the read of an
    // empty slice goes: its count is then 0 with no separate test).
    let at_most = |i: usize| v.get(i).is_some_and(|e| key(e) <= x);
    // Invariant (as in the standard library's binary search): if any element is at most `x`,
    // the last such one is in `base..base + size`; otherwise `base` is 0.
    let mut base = 0usize;
    let mut size = v.len();
    while size > 3 {
        let half = size / 2;
        let mid = base + half;
        base = select_unpredictable(at_most(mid), mid, base);
        size -= half;
    }
    // At most three elements left: the last one at most `x`, if any, is among them.
    base + usize::from(at_most(base))
        + usize::from(size > 1 && at_most(base + 1))
        + usize::from(size > 2 && at_most(base + 2))
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
