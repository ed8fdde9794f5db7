//! Generators for the scale benchmark (`scale.rs`): one very long line of host aliases,
//! many hosts each used once, and rules that overlap as real ones do. Sizes come from
//! `gen/mod.rs`.

use super::generator::Sizes;
use std::fmt::Write as _;

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

/// `n` host aliases on one line and nothing else: every one unused (one warning each),
/// every diagnostic on the same, very long line.
pub fn one_line_hosts(n: usize) -> String {
    let mut out = String::with_capacity(n * 26 + 16);
    out.push_str("{\"hosts\":{");
    for h in 0..n {
        let sep = if h == 0 { "" } else { "," };
        let _ = write!(
            out,
            "{sep}\"h{h}\":\"10.{}.{}.{}\"",
            h / 65_536 % 256,
            h / 256 % 256,
            h % 256
        );
    }
    out.push_str("}}\n");
    out
}

/// `n` hosts, each used once as the destination of its own ACL rule (one per line).
pub fn used_hosts(n: usize) -> String {
    let mut out = String::with_capacity(n * 90 + 64);
    out.push_str("{\n\t\"hosts\": {\n");
    for h in 0..n {
        let _ = writeln!(
            out,
            "\t\t\"h{h}\": \"10.{}.{}.{}\",",
            h / 65_536 % 256,
            h / 256 % 256,
            h % 256
        );
    }
    out.push_str("\t},\n\t\"acls\": [\n");
    for h in 0..n {
        let _ = writeln!(
            out,
            "\t\t{{\"action\": \"accept\", \"src\": [\"user{}@example.com\"], \"dst\": [\"h{h}:22\"]}},",
            h % 500
        );
    }
    out.push_str("\t],\n}\n");
    out
}

/// Like [`policy`], but the rules overlap as real ones do: most destinations come from
/// a small set of popular servers and tags, sources from a few dozen groups, some rules
/// repeat an earlier one or widen it, a few have `*` sources. This is the shape that
/// makes the shadowed- and duplicate-rule lints compare many pairs.
pub fn overlapping_policy(sizes: Sizes) -> String {
    let mut rng = Rng(0xFEED_5EED_0BAD_CAFE);
    let mut out = String::with_capacity(sizes.rules * 200);
    out.push_str("{\n\t\"groups\": {\n");
    for g in 0..sizes.groups {
        let _ = writeln!(out, "\t\t\"group:g{g}\": [\"user{g}@example.com\"],");
    }
    out.push_str("\t},\n\t\"tagOwners\": {\n");
    for t in 0..sizes.tags {
        let _ = writeln!(
            out,
            "\t\t\"tag:t{t}\": [\"group:g{}\"],",
            t % sizes.groups.max(1)
        );
    }
    out.push_str("\t},\n\t\"hosts\": {\n");
    for h in 0..sizes.hosts {
        let _ = writeln!(
            out,
            "\t\t\"h{h}\": \"10.{}.{}.{}\",",
            h / 65_536 % 256,
            h / 256 % 256,
            h % 256
        );
    }
    out.push_str("\t},\n\t\"acls\": [\n");
    let ports = ["*", "22", "80,443", "443", "8000-8999", "53", "5432"];
    // Popular destinations: 40 hosts and 10 tags get most of the rules.
    let popular_hosts = 40.min(sizes.hosts.max(1));
    let popular_tags = 10.min(sizes.tags.max(1));
    let popular_groups = 30.min(sizes.groups.max(1));
    for r in 0..sizes.rules {
        out.push_str("\t\t{\"action\": \"accept\", \"src\": [");
        let nsrc = 1 + rng.below(3);
        for s in 0..nsrc {
            let sep = if s == 0 { "" } else { ", " };
            let src = match rng.below(20) {
                0 => "\"*\"".to_owned(),
                1..=11 => format!("\"group:g{}\"", rng.below(popular_groups)),
                12..=14 => format!("\"group:g{}\"", rng.below(sizes.groups.max(1))),
                15..=17 => format!("\"tag:t{}\"", rng.below(sizes.tags.max(1))),
                _ => format!("\"user{}@example.com\"", rng.below(200)),
            };
            let _ = write!(out, "{sep}{src}");
        }
        out.push_str("], \"dst\": [");
        let ndst = 1 + rng.below(3);
        for d in 0..ndst {
            let sep = if d == 0 { "" } else { ", " };
            let port = ports.get(rng.below(ports.len())).copied().unwrap_or("*");
            let dst = match rng.below(10) {
                0..=4 => format!("h{}", rng.below(popular_hosts)),
                5..=6 => format!("h{}", rng.below(sizes.hosts.max(1))),
                7..=8 => format!("tag:t{}", rng.below(popular_tags)),
                _ => format!("tag:t{}", rng.below(sizes.tags.max(1))),
            };
            let _ = write!(out, "{sep}\"{dst}:{port}\"");
        }
        let _ = writeln!(out, "]}}, // rule {r}");
    }
    out.push_str("\t],\n}\n");
    out
}
