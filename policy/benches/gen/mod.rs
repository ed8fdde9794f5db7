//! A deterministic generator of a large, realistic policy file for benchmarks.
//!
//! [`big_policy`] writes 300 groups, 2,000 hosts, 50 tags and 15,000 ACL rules in the
//! layout `hujsonfmt` produces (tabs, one member per line, trailing commas) with a comment
//! every ten rules: about 145,000 lines, the size of the largest public policy we know
//! of. Every name the rules use is defined, so the same document can drive parse+check
//! benchmarks. Include it from another bench with `#[path = "gen/mod.rs"] mod gen;`.

use std::fmt::Write as _;

/// Sizes of the generated policy.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Number of `group:gN` entries.
    pub groups: usize,
    /// Number of `hN` hosts.
    pub hosts: usize,
    /// Number of `tag:tN` tags.
    pub tags: usize,
    /// Number of ACL rules.
    pub rules: usize,
}

/// The benchmark's default: the size of the largest public policy we know of.
pub const BIG: Sizes = Sizes {
    groups: 300,
    hosts: 2_000,
    tags: 50,
    rules: 15_000,
};

/// A small xorshift generator, so the output never changes between runs or platforms.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % u64::try_from(n.max(1)).unwrap_or(1)).unwrap_or(0)
    }
}

/// The policy text for [`BIG`].
pub fn big_policy() -> String {
    policy(BIG)
}

/// The policy text for the given sizes.
pub fn policy(sizes: Sizes) -> String {
    let mut rng = Rng(0x5EED_CAFE_F00D_D00D);
    let mut out = String::with_capacity(sizes.rules * 300);
    out.push_str("// Generated benchmark policy: deterministic, every name defined.\n{\n");

    out.push_str("\t// Teams.\n\t\"groups\": {\n");
    for g in 0..sizes.groups {
        let _ = write!(out, "\t\t\"group:g{g}\": [");
        for m in 0..1 + rng.below(4) {
            let sep = if m == 0 { "" } else { ", " };
            let _ = write!(out, "{sep}\"user{}@example.com\"", rng.below(5_000));
        }
        out.push_str("],\n");
    }
    out.push_str("\t},\n\n");

    out.push_str("\t\"tagOwners\": {\n");
    for t in 0..sizes.tags {
        let _ = writeln!(
            out,
            "\t\t\"tag:t{t}\": [\"group:g{}\"],",
            rng.below(sizes.groups)
        );
    }
    out.push_str("\t},\n\n");

    out.push_str("\t/* Addresses of\n\t   every server. */\n\t\"hosts\": {\n");
    for h in 0..sizes.hosts {
        let _ = writeln!(
            out,
            "\t\t\"h{h}\": \"10.{}.{}.{}\",",
            h / 65_536 % 256,
            h / 256 % 256,
            h % 256
        );
    }
    out.push_str("\t},\n\n");

    out.push_str("\t\"acls\": [\n");
    for r in 0..sizes.rules {
        if r % 10 == 0 {
            let _ = writeln!(out, "\t\t// Rules {r} to {}.", r + 9);
        }
        out.push_str("\t\t{\n\t\t\t\"action\": \"accept\",\n\t\t\t\"src\": [\n");
        for _ in 0..1 + rng.below(2) {
            match rng.below(3) {
                0 => {
                    let _ = writeln!(out, "\t\t\t\t\"group:g{}\",", rng.below(sizes.groups));
                }
                1 => {
                    let _ = writeln!(out, "\t\t\t\t\"tag:t{}\",", rng.below(sizes.tags));
                }
                _ => {
                    let _ = writeln!(out, "\t\t\t\t\"user{}@example.com\",", rng.below(5_000));
                }
            }
        }
        out.push_str("\t\t\t],\n\t\t\t\"dst\": [\n");
        for _ in 0..1 + rng.below(2) {
            let ports = ["*", "22", "80,443", "8000-8999", "53"];
            let port = ports.get(rng.below(ports.len())).copied().unwrap_or("*");
            if rng.below(2) == 0 {
                let _ = writeln!(out, "\t\t\t\t\"h{}:{port}\",", rng.below(sizes.hosts));
            } else {
                let _ = writeln!(out, "\t\t\t\t\"tag:t{}:{port}\",", rng.below(sizes.tags));
            }
        }
        out.push_str("\t\t\t],\n\t\t},\n");
    }
    out.push_str("\t],\n}\n");
    out
}
