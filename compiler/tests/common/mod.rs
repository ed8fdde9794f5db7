//! Helpers shared by this crate's evaluator tests.
#![expect(clippy::unwrap_used, reason = "tests")]

use tailpolicy_compiler::eval::TailnetNode;

/// A device of a hand-made tailnet: name, owner (None when tagged), tags, its IPv4
/// address and approved routes.
pub fn node(
    name: &str,
    user: Option<&str>,
    tags: &[&str],
    v4: &str,
    routes: &[&str],
) -> TailnetNode {
    TailnetNode {
        name: name.into(),
        user: user.map(Into::into),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
        addrs: vec![v4.parse().unwrap()],
        approved_routes: routes.iter().map(|r| r.parse().unwrap()).collect(),
        posture: Default::default(),
    }
}
