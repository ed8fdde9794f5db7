//! The filter's share of a per-packet cost, from batches with and without the filter run
//! interleaved in one process. Shared by `dataplane-filter/benches/wireguard.rs` and
//! `node/benches/engine.rs`.

/// Runs `rounds` batches of each variant, alternating which goes first so that neither
/// always runs on a cache the other has just warmed, and prints one line for `label`: the
/// fastest and median batch time (ns per packet, as the closures return it) with and
/// without the filter, the share the filter adds by each, and the median (and quartiles) of
/// the share within each back-to-back pair: the figure least moved by the host's drift.
pub fn print_share(
    label: &str,
    rounds: usize,
    mut without: impl FnMut() -> f64,
    mut with: impl FnMut() -> f64,
) {
    let (mut times_without, mut times_with) = (Vec::new(), Vec::new());
    // The share each back-to-back pair of batches gives: both batches of a pair see the same
    // state of the machine (a shared host's speed drifts between runs and within one).
    let mut paired = Vec::new();
    for round in 0..rounds {
        let (wo, w) = if round % 2 == 0 {
            let wo = without();
            (wo, with())
        } else {
            let w = with();
            (without(), w)
        };
        times_without.push(wo);
        times_with.push(w);
        paired.push(share(w, wo));
    }
    times_without.sort_by(f64::total_cmp);
    times_with.sort_by(f64::total_cmp);
    paired.sort_by(f64::total_cmp);
    let (fw, fwo) = (at(&times_with, 0), at(&times_without, 0));
    let (mw, mwo) = (at(&times_with, rounds / 2), at(&times_without, rounds / 2));
    println!(
        "  {label}: fastest {fw:.0} ns with / {fwo:.0} ns without = {:+.1} %; \
         median {mw:.0} / {mwo:.0} = {:+.1} %; \
         paired median {:+.1} % (quartiles {:+.1} / {:+.1} %)",
        share(fw, fwo),
        share(mw, mwo),
        at(&paired, rounds / 2),
        at(&paired, rounds / 4),
        at(&paired, rounds * 3 / 4),
    );
}

/// Element `i` of `v`, NaN past its end.
fn at(v: &[f64], i: usize) -> f64 {
    v.get(i).copied().unwrap_or(f64::NAN)
}

/// The share `with` adds to `without`, in percent.
fn share(with: f64, without: f64) -> f64 {
    (with / without - 1.0) * 100.0
}
