use super::*;

#[test]
fn min_cover_keeps_the_smallest_value_at_each_point() {
    // Rule 1 covers 10..=20, rule 0 covers 15..=30 (nested/overlapping), rule 2 covers 0..=5.
    let m: IntervalMap<u32> = IntervalMap::min_cover(&[(10, 20, 1), (15, 30, 0), (0, 5, 2)]);
    assert_eq!(m.get(0), 2);
    assert_eq!(m.get(5), 2);
    assert_eq!(m.get(6), NONE);
    assert_eq!(m.get(10), 1);
    assert_eq!(m.get(14), 1);
    assert_eq!(m.get(15), 0);
    assert_eq!(m.get(30), 0);
    assert_eq!(m.get(31), NONE);
    assert_eq!(m.get(u32::MAX), NONE);
}

#[test]
fn min_cover_handles_the_top_of_the_space() {
    let m: IntervalMap<u128> = IntervalMap::min_cover(&[(0, u128::MAX, 7), (5, u128::MAX, 3)]);
    assert_eq!(m.get(0), 7);
    assert_eq!(m.get(5), 3);
    assert_eq!(m.get(u128::MAX), 3);
    let empty: IntervalMap<u16> = IntervalMap::min_cover(&[]);
    assert_eq!(empty.get(0), NONE);
    assert_eq!(empty.get(u16::MAX), NONE);
}

#[test]
fn from_cuts_merges_equal_neighbours() {
    let m: IntervalMap<u16> = IntervalMap::from_cuts(&[(0, 4), (10, 4), (20, NONE), (30, 1)]);
    assert_eq!(m.get(0), 4);
    assert_eq!(m.get(19), 4);
    assert_eq!(m.get(20), NONE);
    assert_eq!(m.get(65535), 1);
}

#[test]
fn range_set_merges_and_searches() {
    let small = RangeSet::new(vec![(5u32, 9), (1, 3), (4, 4), (20, 25)]);
    assert_eq!(small.len(), 2, "1-3, 4, 5-9 merge into one range");
    assert!(small.contains(1) && small.contains(9) && small.contains(22));
    assert!(!small.contains(0) && !small.contains(10) && !small.contains(26));
    let big = RangeSet::new((0..100u32).map(|i| (i * 10, i * 10 + 2)).collect());
    assert_eq!(big.len(), 100);
    assert!(big.contains(992) && big.contains(0) && !big.contains(3) && !big.contains(1000));
    let top = RangeSet::new(vec![(u16::MAX - 1, u16::MAX), (0, 0)]);
    assert!(top.contains(u16::MAX) && top.contains(0) && !top.contains(1));
}

#[test]
fn valued_intervals_are_inclusive() {
    let m: IntervalMap<u32> =
        IntervalMap::min_cover(&[(10, 20, 1), (15, 30, 0), (40, u32::MAX, 5)]);
    let entries: Vec<(u32, u32)> = m.entries().collect();
    let got: Vec<(u32, u32, u32)> = valued_intervals(&entries).collect();
    assert_eq!(got, vec![(10, 14, 1), (15, 30, 0), (40, u32::MAX, 5)]);
    assert_eq!(m.value_count(), 3);
}

/// The byte-indexed port map answers exactly like the plain map, at every port, for maps with
/// cuts on byte boundaries, inside bytes, at 0 and at 65535, and for an empty map.
#[test]
fn port_map_agrees_with_the_interval_map_at_every_port() {
    let mut x: u32 = 12345;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut shapes: Vec<Vec<(u16, u16, u32)>> = vec![
        vec![],
        vec![(0, 65535, 1)],
        vec![(255, 256, 0), (65535, 65535, 2), (0, 0, 3), (512, 767, 4)],
    ];
    for n in [10u32, 300, 3000] {
        shapes.push(
            (0..n)
                .map(|i| {
                    let a = (next() & 0xffff) as u16;
                    let w = (next() % 40) as u16;
                    (a, a.saturating_add(w), i % 7)
                })
                .collect(),
        );
    }
    for items in shapes {
        let m = IntervalMap::min_cover(&items);
        let p = PortMap::new(m.clone());
        for port in 0..=u16::MAX {
            assert_eq!(
                p.get(port),
                m.get(port),
                "port {port}, {} items",
                items.len()
            );
        }
    }
}
