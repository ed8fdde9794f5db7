//! What `tailpolicy --version` prints: the version, and the Tailscale behaviour it was
//! verified against.

/// The date of the newest Tailscale control-plane capture in `testdata/conformance/` (the
/// latest `source.captured_at`), a macro so that [`VERSION`] can be built with `concat!`.
/// `cli/tests/packaging_cli.rs` checks it against the corpus.
macro_rules! corpus_date {
    () => {
        "2026-05-18"
    };
}

/// The version string after `tailpolicy ` in `tailpolicy --version`.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (verified against Tailscale's control plane as captured up to ",
    corpus_date!(),
    ")"
);
