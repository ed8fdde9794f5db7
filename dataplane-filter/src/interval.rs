//! Sorted interval structures over integer keys (`u16` ports, `u32`/`u128` addresses), built
//! once and queried with one binary search.
//!
//! * [`IntervalMap`]: the whole key space cut into intervals, each with a `u32` value
//!   ([`NONE`] for "nothing"). Built from overlapping `(range, value)` items by keeping, at
//!   every point, the **smallest** value covering it — with rule indices as values this is
//!   "first matching rule wins", and covering prefixes are merged into more specific ones at
//!   build time (the bug class `dataplane.md` §1.14 warns about cannot occur).
//! * [`RangeSet`]: merged disjoint ranges for plain membership, linear when tiny.

use crate::search::count_at_most;
use std::fmt::Debug;
use std::hash::Hash;

/// "No value" in an [`IntervalMap`].
pub const NONE: u32 = u32::MAX;

/// An unsigned integer key type.
pub trait Key: Copy + Ord + Hash + Debug + Default + Send + Sync + 'static {
    /// `self + 1`, or `None` at the largest value.
    fn succ(self) -> Option<Self>;
    /// `self - 1`, or `None` at 0.
    fn pred(self) -> Option<Self>;
    /// The largest value.
    const MAX_VALUE: Self;
    /// `self - other`, wrapping around.
    fn wrapping_sub(self, other: Self) -> Self;
}

impl Key for u16 {
    const MAX_VALUE: Self = u16::MAX;
    #[inline]
    fn wrapping_sub(self, other: Self) -> Self {
        u16::wrapping_sub(self, other)
    }
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}
impl Key for u32 {
    const MAX_VALUE: Self = u32::MAX;
    #[inline]
    fn wrapping_sub(self, other: Self) -> Self {
        u32::wrapping_sub(self, other)
    }
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}
impl Key for u128 {
    const MAX_VALUE: Self = u128::MAX;
    #[inline]
    fn wrapping_sub(self, other: Self) -> Self {
        u128::wrapping_sub(self, other)
    }
    fn succ(self) -> Option<Self> {
        self.checked_add(1)
    }
    fn pred(self) -> Option<Self> {
        self.checked_sub(1)
    }
}

/// A total map from keys to `u32` values, stored as interval starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IntervalMap<K> {
    /// Interval starts, ascending; the first is always 0.
    starts: Box<[K]>,
    /// Value of each interval.
    vals: Box<[u32]>,
}

impl<K: Key> IntervalMap<K> {
    /// Looks up the value at `key`.
    #[inline]
    pub fn get(&self, key: K) -> u32 {
        let idx = count_at_most(&self.starts, key, |s| *s);
        self.vals.get(idx.wrapping_sub(1)).copied().unwrap_or(NONE)
    }

    /// The intervals as `(start, value)`, ascending.
    pub fn entries(&self) -> impl Iterator<Item = (K, u32)> + '_ {
        self.starts.iter().copied().zip(self.vals.iter().copied())
    }

    /// Number of intervals that have a value.
    pub fn value_count(&self) -> usize {
        self.vals.iter().filter(|v| **v != NONE).count()
    }

    /// Builds the map: at each key, the minimum value among the items covering it.
    pub fn min_cover(items: &[(K, K, u32)]) -> Self {
        let mut events: Vec<(K, bool, u32)> = Vec::with_capacity(items.len() * 2);
        for &(first, last, val) in items {
            if first > last {
                continue;
            }
            events.push((first, true, val));
            if let Some(end) = last.succ() {
                events.push((end, false, val));
            }
        }
        // Removals before additions at the same point do not matter: the value is read after
        // all events at a point are applied.
        events.sort_unstable_by_key(|e| e.0);
        // Active values as a sorted multiset (value, count); small in practice, and a
        // sorted vector beats a tree at these sizes.
        let mut active: Vec<(u32, u32)> = Vec::new();
        let mut starts = vec![K::default()];
        let mut vals = vec![NONE];
        let mut i = 0;
        while let Some(&(point, _, _)) = events.get(i) {
            while let Some(&(p, add, val)) = events.get(i) {
                if p != point {
                    break;
                }
                let pos = active.partition_point(|(v, _)| *v < val);
                match active.get_mut(pos) {
                    Some((v, c)) if *v == val => {
                        if add {
                            *c += 1;
                        } else {
                            *c -= 1;
                            if *c == 0 {
                                active.remove(pos);
                            }
                        }
                    }
                    _ => {
                        if add {
                            active.insert(pos, (val, 1));
                        }
                    }
                }
                i += 1;
            }
            let v = active.first().map_or(NONE, |(v, _)| *v);
            push_interval(&mut starts, &mut vals, point, v);
        }
        Self {
            starts: starts.into_boxed_slice(),
            vals: vals.into_boxed_slice(),
        }
    }

    /// Builds the map from disjoint, ascending `(first, value)` cut points where each value
    /// holds until the next start (gaps are given explicitly as [`NONE`]).
    pub fn from_cuts(cuts: &[(K, u32)]) -> Self {
        let mut starts = vec![K::default()];
        let mut vals = vec![NONE];
        for &(p, v) in cuts {
            push_interval(&mut starts, &mut vals, p, v);
        }
        Self {
            starts: starts.into_boxed_slice(),
            vals: vals.into_boxed_slice(),
        }
    }
}

/// An [`IntervalMap`] over ports with an index by the port's high byte: a lookup binary
/// searches only the intervals starting in that byte's 256 ports instead of all of them (a
/// port table with thousands of single-port rules needs 4–5 steps instead of 13).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortMap {
    map: IntervalMap<u16>,
    /// `by_high[b]`: the number of interval starts below `b << 8`; 257 entries.
    by_high: Box<[u32]>,
}

impl PortMap {
    /// Indexes `map`.
    pub fn new(map: IntervalMap<u16>) -> Self {
        let by_high = (0u32..=256)
            .map(|b| {
                let n = map.starts.partition_point(|s| u32::from(*s) < b << 8);
                u32::try_from(n).unwrap_or(u32::MAX)
            })
            .collect();
        Self { map, by_high }
    }

    /// Looks up the value at `port` (the same as [`IntervalMap::get`]).
    #[inline]
    pub fn get(&self, port: u16) -> u32 {
        let b = usize::from(port >> 8);
        let lo = self.by_high.get(b).map_or(0, |x| *x as usize);
        let hi = self.by_high.get(b + 1).map_or(0, |x| *x as usize);
        let below = self
            .map
            .starts
            .get(lo..hi)
            .map_or(0, |part| count_at_most(part, port, |s| *s));
        // The interval holding `port` is the last one starting at or below it: before `lo`
        // every start is below this byte's first port, from `hi` on every start is above it.
        self.map
            .vals
            .get((lo + below).wrapping_sub(1))
            .copied()
            .unwrap_or(NONE)
    }
}

/// The intervals of a map given as its `(start, value)` entries (see
/// [`IntervalMap::entries`]) that have a value, as `(first, last, value)`.
pub fn valued_intervals<K: Key>(entries: &[(K, u32)]) -> impl Iterator<Item = (K, K, u32)> + '_ {
    entries
        .iter()
        .enumerate()
        .filter(|(_, (_, v))| *v != NONE)
        .map(move |(i, &(s, v))| {
            let last = entries
                .get(i + 1)
                .and_then(|(n, _)| n.pred())
                .unwrap_or(K::MAX_VALUE);
            (s, last, v)
        })
}

fn push_interval<K: Key>(starts: &mut Vec<K>, vals: &mut Vec<u32>, point: K, v: u32) {
    if starts.last() == Some(&point) {
        if let Some(last) = vals.last_mut() {
            *last = v;
        }
        // Merge with the interval before if it now has the same value.
        let n = vals.len();
        if n >= 2 && vals.get(n - 2) == Some(&v) {
            starts.pop();
            vals.pop();
        }
        return;
    }
    if vals.last() == Some(&v) {
        return;
    }
    starts.push(point);
    vals.push(v);
}

/// Merged, disjoint, ascending inclusive ranges for membership tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RangeSet<K> {
    firsts: Box<[K]>,
    lasts: Box<[K]>,
}

/// Sets with at most this many ranges are scanned linearly.
const LINEAR_MAX: usize = 8;

impl<K: Key> RangeSet<K> {
    /// Builds a set from arbitrary (overlapping, unsorted) inclusive ranges.
    pub fn new(mut ranges: Vec<(K, K)>) -> Self {
        ranges.retain(|(a, b)| a <= b);
        ranges.sort_unstable();
        let mut firsts: Vec<K> = Vec::with_capacity(ranges.len());
        let mut lasts: Vec<K> = Vec::with_capacity(ranges.len());
        for (a, b) in ranges {
            if let Some(last) = lasts.last_mut() {
                // Merge overlapping or adjacent ranges.
                if last.succ().is_none_or(|n| a <= n) {
                    if b > *last {
                        *last = b;
                    }
                    continue;
                }
            }
            firsts.push(a);
            lasts.push(b);
        }
        Self {
            firsts: firsts.into_boxed_slice(),
            lasts: lasts.into_boxed_slice(),
        }
    }

    /// Whether `key` is in the set.
    #[inline]
    pub fn contains(&self, key: K) -> bool {
        if self.firsts.len() <= LINEAR_MAX {
            return self
                .firsts
                .iter()
                .zip(self.lasts.iter())
                .any(|(a, b)| *a <= key && key <= *b);
        }
        let idx = count_at_most(&self.firsts, key, |s| *s);
        self.lasts
            .get(idx.wrapping_sub(1))
            .is_some_and(|last| key <= *last)
    }

    /// Number of merged ranges.
    pub fn len(&self) -> usize {
        self.firsts.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.firsts.is_empty()
    }

    /// The merged ranges.
    pub fn iter(&self) -> impl Iterator<Item = (K, K)> + '_ {
        self.firsts.iter().copied().zip(self.lasts.iter().copied())
    }
}

#[cfg(test)]
#[path = "interval_tests.rs"]
mod tests;
