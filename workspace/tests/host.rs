//! The analysis host's caching and queries: an edit recomputes only what depends on it.
#![expect(clippy::unwrap_used, clippy::indexing_slicing, reason = "tests")]

use tailpolicy_workspace::{Config, FileId, FileInput, SymbolKind, Workspace};

const BASE: &str = r#"{
  "groups": {"group:eng": ["alice@example.com"]},
  "tagOwners": {"tag:web": ["group:eng"]},
  "hosts": {"db": "100.64.0.9"},
}"#;

const TEAM: &str = r#"{
  "acls": [
    {"action": "accept", "src": ["group:eng"], "dst": ["tag:web:443", "db:5432"]},
  ],
}"#;

fn inventory(extra_node: bool) -> FileInput {
    let extra = if extra_node {
        r#", {"name": "web2", "tags": ["tag:web"], "addresses": ["100.64.0.3"]}"#
    } else {
        ""
    };
    FileInput::text(
        "nodes.json",
        format!(
            r#"{{"users": [{{"login": "alice@example.com"}}],
"nodes": [{{"name": "alice-mac", "user": "alice@example.com", "addresses": ["100.64.0.1"]}},
          {{"name": "web1", "tags": ["tag:web"], "addresses": ["100.64.0.2"]}}{extra}]}}"#
        ),
    )
}

fn workspace() -> Workspace {
    let mut ws = Workspace::new(Config::default());
    ws.set_fragments(vec![
        FileInput::text("base.hujson", BASE),
        FileInput::text("team.hujson", TEAM),
    ]);
    ws.set_inventory(Some(inventory(false)));
    ws
}

#[test]
fn editing_one_fragment_parses_only_that_fragment() {
    let mut ws = workspace();
    assert!(!ws.report().has_errors());
    let before = ws.stats();
    assert_eq!(before.fragment_parses, 2);
    ws.set_fragment(FileInput::text("team.hujson", TEAM.replace("443", "8443")));
    assert!(!ws.report().has_errors());
    let after = ws.stats();
    assert_eq!(
        after.fragment_parses, 3,
        "only the edited fragment is parsed again"
    );
    assert_eq!(after.checks, before.checks + 1);
    // Setting the same text again changes nothing.
    ws.set_fragment(FileInput::text("team.hujson", TEAM.replace("443", "8443")));
    let _ = ws.report();
    assert_eq!(ws.stats().checks, after.checks);
}

#[test]
fn replacing_the_inventory_parses_no_policy_and_joins_incrementally() {
    let mut ws = workspace();
    let compiler = ws.compiler().unwrap();
    assert_eq!(compiler.nodes().len(), 2);
    let before = ws.stats();
    ws.set_inventory(Some(inventory(true)));
    let compiler = ws.compiler().unwrap();
    assert_eq!(compiler.nodes().len(), 3);
    let web2 = compiler.node("web2").unwrap();
    assert_eq!(web2.packet_filter.len(), 1);
    let after = ws.stats();
    assert_eq!(
        after.fragment_parses, before.fragment_parses,
        "no policy re-parsed"
    );
    assert_eq!(after.merges, before.merges);
    assert_eq!(
        after.checks, before.checks,
        "same tailnet domain: no re-check"
    );
    assert_eq!(after.full_compiles, before.full_compiles);
    assert_eq!(after.incremental_compiles, before.incremental_compiles + 1);
    // The node leaves again: the incremental path gives what a full compile gives.
    ws.set_inventory(Some(inventory(false)));
    let incremental = ws.compiler().unwrap();
    let mut fresh = workspace();
    fresh.set_inventory(Some(inventory(false)));
    assert_eq!(incremental.nodes(), fresh.compiler().unwrap().nodes());
}

#[test]
fn diagnostics_point_into_their_fragment() {
    let mut ws = workspace();
    ws.set_fragment(FileInput::text(
        "team.hujson",
        TEAM.replace("tag:web:443", "tag:nope:443"),
    ));
    let report = ws.report();
    let team = &report.files[1];
    assert_eq!(team.file.name(), "team.hujson");
    let d = team.diagnostics.iter().find(|d| d.is_error()).unwrap();
    assert_eq!(team.file.snippet(d.span), "\"tag:nope:443\"");
    assert!(report.files[0].diagnostics.iter().all(|d| !d.is_error()));
    assert!(ws.compiler().is_err(), "nothing compiles with errors");
}

#[test]
fn symbols_are_indexed_across_fragments() {
    let ws = workspace();
    let team = ws.fragment_id("team.hujson").unwrap();
    let offset = u32::try_from(TEAM.find("group:eng").unwrap()).unwrap() + 3;
    let at = ws.symbol_at(team, offset).unwrap();
    assert_eq!(at.symbol.kind, SymbolKind::Group);
    assert_eq!(at.symbol.name, "group:eng");
    let symbols = ws.symbols();
    let defs: Vec<_> = symbols.definitions(&at.symbol).collect();
    assert_eq!(defs.len(), 1);
    assert_eq!(defs[0].file, FileId(0));
    let base_offset = BASE.find("\"group:eng\"").unwrap() + 1;
    assert_eq!(defs[0].span.start as usize, base_offset);
    assert_eq!(defs[0].span.len() as usize, "group:eng".len());
    // The group is used twice: as a tag owner in base, as a source in team.
    assert_eq!(symbols.occurrences_of(&at.symbol).count(), 3);
    let host = ws
        .symbol_at(team, u32::try_from(TEAM.find("db:5432").unwrap()).unwrap())
        .unwrap();
    assert_eq!(
        (host.symbol.kind, host.symbol.name.as_str()),
        (SymbolKind::Host, "db")
    );
    assert_eq!(host.span.len(), 2, "the name without the port");
    assert_eq!(symbols.symbols(SymbolKind::Tag), ["tag:web"]);
}
