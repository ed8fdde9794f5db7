//! Helpers shared by this crate's integration tests.

use std::path::PathBuf;

/// `<workspace>/../shared/<sub>`, or `None` (with a printed note) when it is absent.
/// Under `CI=true` an absent folder fails the test instead of skipping it.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared")
        .join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "{} is missing and CI=true",
        dir.display()
    );
    eprintln!("note: {} is absent; skipping", dir.display());
    None
}
