//! An edit applied to the previous analysis (`Workspace::set_fragment`) reports exactly
//! what a fresh host reports for the new text: random one- and multi-character edits of
//! the test policies, chained (each on the previous incremental state), most inside
//! string values (the incremental path), the rest anywhere (syntax broken and mended).
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use std::path::Path;
use tailpolicy_workspace::{Config, FileInput, Workspace};

/// A small deterministic generator (xorshift64*), so a failure is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
    }
}

/// Byte offsets strictly inside string literals (between the quotes).
fn string_interiors(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    if b[i] == b'\\' {
                        i += 1;
                    }
                    out.push(i);
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    out.retain(|&i| text.is_char_boundary(i));
    out
}

const PLAIN: &[&str] = &[
    "a",
    "e",
    "x",
    "0",
    "9",
    ":",
    "@",
    ".",
    "*",
    "-",
    "_",
    "group:",
    "tag:",
    "é",
    "${X}",
    "",
    "22",
    "autogroup:",
    "100.64.0.1",
    " ",
];
const ANY: &[&str] = &[
    "\"", "\\", "{", "}", "[", "]", ",", "\n", "//", "/*", "\t", "",
];

fn edit(rng: &mut Rng, text: &str) -> String {
    let inside = string_interiors(text);
    let at = if !inside.is_empty() && rng.below(10) < 8 {
        inside[rng.below(inside.len())]
    } else {
        rng.below(text.len() + 1)
    };
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let mut end = (at + rng.below(4)).min(text.len());
    if rng.below(2) == 0 {
        end = at + usize::from(at < text.len());
    }
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let new = if rng.below(10) < 8 {
        PLAIN[rng.below(PLAIN.len())]
    } else {
        ANY[rng.below(ANY.len())]
    };
    format!("{}{}{}", &text[..at], new, &text[end..])
}

fn fresh(text: &str, inventory: Option<&FileInput>) -> Workspace {
    let mut ws = Workspace::new(Config::default());
    ws.set_fragments(vec![FileInput::text("policy.hujson", text.to_owned())]);
    ws.set_inventory(inventory.cloned());
    ws
}

/// Checks `edits` chained edits of `path`; returns how many took the incremental path.
fn check_file(path: &Path, inventory: Option<FileInput>, seed: u64, edits: usize) -> usize {
    check_text(
        path,
        &std::fs::read_to_string(path).unwrap(),
        inventory,
        seed,
        edits,
    )
}

fn check_text(
    path: &Path,
    original: &str,
    inventory: Option<FileInput>,
    seed: u64,
    edits: usize,
) -> usize {
    let original = original.to_owned();
    let mut rng = Rng(seed);
    let mut ws = fresh(&original, inventory.as_ref());
    let mut text = original.clone();
    for step in 0..edits {
        // Now and then start again from the original text.
        if rng.below(6) == 0 {
            text.clone_from(&original);
        } else {
            text = edit(&mut rng, &text);
        }
        ws.set_fragment(FileInput::text("policy.hujson", text.clone()));
        let got = ws.report();
        let want = fresh(&text, inventory.as_ref()).report();
        let mut got_d: Vec<_> = got
            .iter()
            .map(|(f, d)| (f.name().to_owned(), d.clone()))
            .collect();
        let mut want_d: Vec<_> = want
            .iter()
            .map(|(f, d)| (f.name().to_owned(), d.clone()))
            .collect();
        got_d.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        want_d.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
        assert_eq!(
            got_d,
            want_d,
            "{} step {step}: the incremental report differs for\n{text}",
            path.display()
        );
        // The policy itself too (equality ignores spans), and its spans through the
        // symbols' positions.
        assert_eq!(
            ws.policy(),
            fresh(&text, None).policy(),
            "{} step {step}",
            path.display()
        );
        assert_eq!(
            format!("{:?}", ws.symbols()),
            format!("{:?}", fresh(&text, None).symbols()),
            "{} step {step}: symbols",
            path.display()
        );
    }
    ws.stats().fragment_updates
}

fn testdata(rel: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(rel)
}

/// Shadowed, duplicate and allow-all rules (the rule lints kept across edits elsewhere),
/// unused definitions, placeholders.
const RULES: &str = r#"{
  "groups": {"group:eng": ["alice@example.com", "bob@example.com"], "group:ops": ["carol@example.com"]},
  "hosts": {"db": "100.64.0.9", "web": "100.64.0.10/24"},
  "tagOwners": {"tag:web": ["group:eng"], "tag:x": ["${OWNER}"]},
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["db:5432"]},
    {"action": "accept", "src": ["group:eng"], "dst": ["db:5432"]},
    {"action": "accept", "src": ["*"], "dst": ["*:*"]},
    {"action": "accept", "src": ["group:ops"], "dst": ["tag:web:443", "db:*"]},
  ],
  "grants": [
    {"src": ["*"], "dst": ["*"], "ip": ["*"]},
    {"src": ["group:eng"], "dst": ["tag:web"], "ip": ["tcp:443"]},
  ],
  "ssh": [{"action": "accept", "src": ["group:eng"], "dst": ["tag:web"], "users": ["root"], "checkPeriod": "1h"}],
  "tests": [{"src": "alice@example.com", "accept": ["db:5432"]}],
}"#;

#[test]
fn edits_of_rules_and_definitions_keep_the_rule_lints_exact() {
    let updates = check_text(Path::new("rules.hujson"), RULES, None, 100, 600);
    assert!(
        updates > 50,
        "only {updates} edits took the incremental path"
    );
}

#[test]
fn edits_report_what_a_fresh_analysis_reports() {
    let nodes = FileInput::text(
        "nodes.json",
        std::fs::read_to_string(testdata("example/nodes.json")).unwrap(),
    );
    let mut updates = check_file(&testdata("example/policy.hujson"), Some(nodes), 1, 400);
    updates += check_file(&testdata("example/policy.hujson"), None, 2, 400);
    updates += check_file(&testdata("broken/policy.hujson"), None, 3, 200);
    let mut seed = 10;
    for dir in ["policies/valid", "policies/invalid"] {
        let mut paths: Vec<_> = std::fs::read_dir(testdata(dir))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "hujson"))
            .collect();
        paths.sort();
        for p in paths {
            seed += 1;
            updates += check_file(&p, None, seed, 150);
        }
    }
    // The incremental path is exercised, not only the fallback.
    assert!(
        updates > 300,
        "only {updates} edits took the incremental path"
    );
    eprintln!("{updates} edits applied incrementally");
}

/// A policy with many rules drawn from few selectors and ports: shadowed and duplicate
/// rules, more than the lint's window of rules under one pair, allow-all rules.
fn many_rules() -> String {
    let mut rng = Rng(77);
    let srcs = [
        "group:eng",
        "group:ops",
        "*",
        "alice@example.com",
        "tag:web",
    ];
    let dsts = ["db", "web", "*", "tag:web", "100.64.0.0/10"];
    let ports = ["22", "443", "*", "80-90", "5432", "1-1000"];
    let mut acls = Vec::new();
    for _ in 0..200 {
        let src: Vec<String> = (0..=rng.below(2))
            .map(|_| format!("\"{}\"", srcs[rng.below(srcs.len())]))
            .collect();
        let dst: Vec<String> = (0..=rng.below(2))
            .map(|_| {
                format!(
                    "\"{}:{}\"",
                    dsts[rng.below(dsts.len())],
                    ports[rng.below(ports.len())]
                )
            })
            .collect();
        let proto = ["", "\"proto\": \"tcp\", ", "\"proto\": \"udp\", "][rng.below(3)];
        acls.push(format!(
            "    {{\"action\": \"accept\", {proto}\"src\": [{}], \"dst\": [{}]}},",
            src.join(", "),
            dst.join(", ")
        ));
    }
    // Many rules under one pair (more than the lint's window), differing in ports.
    for _ in 0..150 {
        let src = [
            "\"group:eng\"",
            "\"group:ops\"",
            "\"group:eng\", \"group:ops\"",
        ][rng.below(3)];
        let port = if rng.below(3) == 0 {
            format!("{}-{}", 1 + rng.below(20), 20 + rng.below(20))
        } else {
            format!("{}", 1 + rng.below(40))
        };
        acls.push(format!(
            "    {{\"action\": \"accept\", \"src\": [{src}], \"dst\": [\"db:{port}\"]}},"
        ));
    }
    let mut grants = Vec::new();
    for _ in 0..90 {
        let src = srcs[rng.below(srcs.len())];
        let dst = dsts[rng.below(dsts.len())];
        let ip = ["*", "tcp:443", "tcp:22", "udp:53", "tcp:80-90"][rng.below(5)];
        let app = if rng.below(8) == 0 {
            ", \"app\": {\"example.com/cap\": [{}]}"
        } else {
            ""
        };
        grants.push(format!(
            "    {{\"src\": [\"{src}\"], \"dst\": [\"{dst}\"], \"ip\": [\"{ip}\"]{app}}},"
        ));
    }
    format!(
        "{{\n  \"groups\": {{\"group:eng\": [\"alice@example.com\"], \"group:ops\": [\"bob@example.com\"]}},\n  \"hosts\": {{\"db\": \"100.64.0.9\", \"web\": \"100.64.0.10\"}},\n  \"tagOwners\": {{\"tag:web\": [\"group:eng\"]}},\n  \"acls\": [\n{}\n  ],\n  \"grants\": [\n{}\n  ],\n}}\n",
        acls.join("\n"),
        grants.join("\n")
    )
}

/// An edit inside a string of `acls` or `grants` (a selector, a port, a protocol): the
/// new text, and where the replaced bytes were (start, end) and how long the new ones
/// are.
fn rule_edit(rng: &mut Rng, text: &str) -> (String, usize, usize, usize) {
    const RULE_PLAIN: &[&str] = &[
        "1",
        "2",
        "*",
        ":",
        "22",
        "443",
        "",
        "e",
        "group:eng",
        "db",
        "-",
        "0",
        "tcp",
        "web",
    ];
    let from = text.find("\"acls\"").unwrap_or(0);
    let inside: Vec<usize> = string_interiors(text)
        .into_iter()
        .filter(|&i| i > from)
        .collect();
    if inside.is_empty() {
        return (text.to_owned(), 0, 0, 0);
    }
    let at = inside[rng.below(inside.len())];
    let mut end = (at + rng.below(3)).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    // Within the string.
    if text[at..end].contains('"') {
        end = at;
    }
    let new = RULE_PLAIN[rng.below(RULE_PLAIN.len())];
    (
        format!("{}{}{}", &text[..at], new, &text[end..]),
        at,
        end,
        new.len(),
    )
}

fn moved(s: tailpolicy_policy::Span, at: u32, by: i64) -> tailpolicy_policy::Span {
    let offset = |x: u32| {
        if x < at {
            x
        } else {
            u32::try_from(i64::from(x) + by).unwrap()
        }
    };
    tailpolicy_policy::Span::new(offset(s.start), offset(s.end))
}

#[test]
fn edits_inside_rules_update_the_rule_lints_exactly() {
    use tailpolicy_policy::RuleLints;
    let original = many_rules();
    let mut rng = Rng(5);
    let mut ws = fresh(&original, None);
    let mut text = original.clone();
    ws.report();
    // `RuleLints` updated alongside, compared in order with a fresh one.
    let mut policy = ws.policy().unwrap();
    let mut lints = RuleLints::new(&policy);
    let mut direct_updates = 0;
    for step in 0..500 {
        let reset = rng.below(25) == 0;
        let (start, end, len) = if reset {
            text.clone_from(&original);
            (0, 0, 0)
        } else {
            let (t, start, end, len) = rule_edit(&mut rng, &text);
            text = t;
            (start, end, len)
        };
        ws.set_fragment(FileInput::text("policy.hujson", text.clone()));
        let got: Vec<_> = ws
            .report()
            .iter()
            .map(|(f, d)| (f.name().to_owned(), d.clone()))
            .collect();
        let want: Vec<_> = fresh(&text, None)
            .report()
            .iter()
            .map(|(f, d)| (f.name().to_owned(), d.clone()))
            .collect();
        // The same diagnostics in the same order, related locations included.
        assert_eq!(
            got, want,
            "step {step}: the incremental report differs for\n{text}"
        );
        let Some(new_policy) = ws.policy() else {
            continue;
        };
        let element = policy
            .acls
            .iter()
            .flatten()
            .map(|a| ("acls", a.origin.index, a.origin.span.0))
            .chain(
                policy
                    .grants
                    .iter()
                    .flatten()
                    .map(|g| ("grants", g.origin.index, g.origin.span.0)),
            )
            .find(|(_, _, s)| s.start as usize <= start && end <= s.end as usize);
        let (at, by) = (
            u32::try_from(end).unwrap(),
            i64::try_from(len).unwrap() - i64::try_from(end - start).unwrap(),
        );
        for d in lints.diagnostics_mut() {
            d.span = moved(d.span, at, by);
            for l in &mut d.labels {
                l.span = moved(l.span, at, by);
            }
        }
        if !reset
            && let Some((section, e, _)) = element
            && lints.update(&new_policy, section, e)
        {
            direct_updates += 1;
        } else {
            lints = RuleLints::new(&new_policy);
        }
        assert_eq!(
            lints.diagnostics(),
            RuleLints::new(&new_policy).diagnostics(),
            "step {step}: the updated rule lints differ"
        );
        policy = new_policy;
    }
    let stats = ws.stats();
    assert!(
        stats.rule_lint_updates > 250 && direct_updates > 250,
        "only {} rule-lint updates ({stats:?}), {direct_updates} direct",
        stats.rule_lint_updates
    );
    eprintln!("{stats:?}, {direct_updates} direct updates");
}
