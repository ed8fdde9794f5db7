//! The filter's share of a per-packet cost, from batches with and without the filter run
//! interleaved in one process. Shared by `dataplane-filter/benches/wireguard.rs` and
//! `node/benches/engine.rs`.

/// Runs `rounds` batches of each variant, alternating which goes first so that neither
/// always runs on a cache the other has just warmed, and prints one line for `label`: the
/// fastest and median batch time (ns per packet, as the closures return it) with and
/// without the filter, and the share the filter adds.
pub fn print_share(
    label: &str,
    rounds: usize,
    mut without: impl FnMut() -> f64,
    mut with: impl FnMut() -> f64,
) {
    let (mut times_without, mut times_with) = (Vec::new(), Vec::new());
    for round in 0..rounds {
        if round % 2 == 0 {
            times_without.push(without());
            times_with.push(with());
        } else {
            times_with.push(with());
            times_without.push(without());
        }
    }
    times_without.sort_by(f64::total_cmp);
    times_with.sort_by(f64::total_cmp);
    let at = |v: &[f64], i: usize| v.get(i).copied().unwrap_or(f64::NAN);
    let share = |w: f64, wo: f64| (w / wo - 1.0) * 100.0;
    let (fw, fwo) = (at(&times_with, 0), at(&times_without, 0));
    let (mw, mwo) = (at(&times_with, rounds / 2), at(&times_without, rounds / 2));
    println!(
        "  {label}: fastest {fw:.0} ns with / {fwo:.0} ns without = {:+.1} %; \
         median {mw:.0} / {mwo:.0} = {:+.1} %",
        share(fw, fwo),
        share(mw, mwo),
    );
}
