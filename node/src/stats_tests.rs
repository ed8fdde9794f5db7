use super::*;

#[test]
fn reason_order_matches_the_index() {
    for (i, r) in ALL_REASONS.iter().enumerate() {
        assert_eq!(r.index(), i, "{r}");
    }
    for (i, d) in ALL_NODE_DROPS.iter().enumerate() {
        assert_eq!(d.index(), i, "{}", d.as_str());
    }
}

/// A worker's tally reaches the shared counters every `TALLY_FLUSH_EVERY` verdicts and on
/// `absorb`, each count exactly once, in the right direction, action and reason.
#[test]
fn tallies_reach_the_counters_in_bulk_and_once() {
    let c = Counters::default();
    let mut t = VerdictTally::default();
    for _ in 0..TALLY_FLUSH_EVERY - 1 {
        c.count(&mut t, Direction::In, Verdict::accept(Reason::TcpNonSyn));
    }
    assert_eq!(
        c.accepted(Direction::In, Reason::TcpNonSyn),
        0,
        "not yet flushed"
    );
    c.count(&mut t, Direction::Out, Verdict::drop(Reason::NoRule));
    assert_eq!(
        c.accepted(Direction::In, Reason::TcpNonSyn),
        u64::from(TALLY_FLUSH_EVERY - 1)
    );
    assert_eq!(c.dropped(Direction::Out, Reason::NoRule), 1);
    c.count(&mut t, Direction::In, Verdict::rule(0));
    c.absorb(&mut t);
    c.absorb(&mut t);
    assert_eq!(c.accepted(Direction::In, Reason::Rule), 1, "absorbed once");
    assert_eq!(c.dropped(Direction::In, Reason::NoRule), 0);
    assert_eq!(
        c.accepted(Direction::In, Reason::TcpNonSyn),
        u64::from(TALLY_FLUSH_EVERY - 1)
    );
}

#[test]
fn counters_separate_direction_action_and_reason() {
    let c = Counters::default();
    c.verdict(Direction::In, Verdict::drop(Reason::NoRule));
    c.verdict(Direction::In, Verdict::drop(Reason::NoRule));
    c.verdict(Direction::In, Verdict::rule(3));
    c.verdict(Direction::Out, Verdict::accept(Reason::Outbound));
    c.node_drop(NodeDrop::Cryptokey);
    assert_eq!(c.dropped(Direction::In, Reason::NoRule), 2);
    assert_eq!(c.dropped(Direction::Out, Reason::NoRule), 0);
    assert_eq!(c.accepted(Direction::In, Reason::Rule), 1);
    assert_eq!(c.accepted(Direction::In, Reason::NoRule), 0);
    assert_eq!(c.accepted(Direction::Out, Reason::Outbound), 1);
    assert_eq!(c.node_dropped(NodeDrop::Cryptokey), 1);
    assert_eq!(c.node_dropped(NodeDrop::NoPeer), 0);
}

#[test]
fn log_limiter_allows_a_burst_then_one_per_period() {
    let mut l = LogLimiter::new(2, 5);
    assert_eq!(l.allow(0), Some(0));
    assert_eq!(l.allow(0), Some(0));
    assert_eq!(l.allow(1), None);
    assert_eq!(l.allow(4), None);
    assert_eq!(l.allow(5), Some(2), "reports the two suppressed lines");
    assert_eq!(l.allow(6), None);
    assert_eq!(l.allow(100), Some(1));
    assert_eq!(l.allow(100), Some(0));
    assert_eq!(l.allow(100), None);
}

/// The shared limiter allows what the plain one allows and counts the lines it suppressed
/// without the lock.
#[test]
fn shared_log_limiter_matches_the_plain_one() {
    let shared = SharedLogLimiter::new(LogLimiter::new(2, 5));
    let mut plain = LogLimiter::new(2, 5);
    for now in [0, 0, 1, 2, 4, 4, 5, 6, 7, 9, 10, 10, 10, 100, 100, 100, 101] {
        assert_eq!(shared.allow(now), plain.allow(now), "at {now}");
    }
}

/// While the bucket is empty, suppressed lines skip the lock, and the next allowed line
/// reports them.
#[test]
fn shared_log_limiter_counts_lines_suppressed_without_the_lock() {
    let shared = SharedLogLimiter::new(LogLimiter::new(1, 5));
    assert_eq!(shared.allow(0), Some(0));
    for _ in 0..1000 {
        assert_eq!(shared.allow(3), None);
    }
    assert_eq!(shared.allow(5), Some(1000));
    assert_eq!(shared.allow(5), None);
}
