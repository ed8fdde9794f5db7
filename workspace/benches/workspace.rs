//! The analysis host on a large multi-file policy: the 15,000-rule synthetic tailnet
//! (2,000 nodes, 300 groups; rules overlapping as real ones do) split into 30
//! fragments.
//!
//! - `full_analysis`: a new workspace, every fragment parsed, merged, checked, linted
//!   and its tests run: the baseline.
//! - `edit_one_fragment`: one fragment's text replaced (alternating two versions), then
//!   every diagnostic asked for again. Goal: under a quarter of `full_analysis`.
//! - `replace_inventory`: a node joins (the inventory text replaced), then every
//!   diagnostic and the compiled filters: no policy is parsed again (asserted in the
//!   setup, from the host's counters).
//!
//! `cargo bench -p tailpolicy-workspace --bench workspace`
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use divan::Bencher;
use serde_json::{Map, Value, json};
use tailpolicy_compiler::inventory::Inventory;
use tailpolicy_compiler::synth::{self, Shape};
use tailpolicy_workspace::{Config, FileInput, Workspace};

fn main() {
    divan::main();
}

const L: Shape = Shape::L;

const FRAGMENTS: usize = 30;

/// The synthetic policy as 30 fragments: the definitions in the first, the rules of
/// every list section spread over the others.
fn fragments() -> Vec<FileInput> {
    let (text, _) = synth::tailnet(L);
    let Value::Object(root) = serde_json::from_str::<Value>(&text).expect("synthetic JSON") else {
        panic!("synthetic policy is an object");
    };
    let mut base = Map::new();
    let mut parts: Vec<Map<String, Value>> = vec![Map::new(); FRAGMENTS - 1];
    for (key, value) in root {
        match value {
            Value::Array(items) if ["acls", "grants", "ssh", "tests"].contains(&key.as_str()) => {
                let chunk = items.len().div_ceil(FRAGMENTS - 1).max(1);
                for (i, c) in items.chunks(chunk).enumerate() {
                    parts[i].insert(key.clone(), Value::Array(c.to_vec()));
                }
            }
            other => {
                base.insert(key, other);
            }
        }
    }
    std::iter::once(base)
        .chain(parts)
        .enumerate()
        .map(|(i, m)| {
            FileInput::text(
                format!("fragments/{i:02}.hujson"),
                serde_json::to_string_pretty(&Value::Object(m)).unwrap(),
            )
        })
        .collect()
}

/// The inventory in tailpolicy's format, with `joined` extra nodes.
fn inventory_text(inv: &Inventory, joined: usize) -> String {
    let mut v = synth::inventory_json(inv);
    if let Some(nodes) = v.get_mut("nodes").and_then(Value::as_array_mut) {
        for j in 0..joined {
            let i = inv.nodes.len() + j;
            nodes.push(json!({
                "name": format!("joining{j}"), "user": "user1@example.com", "tags": [],
                "addresses": [synth::node_v4(i).to_string(), synth::node_v6(i).to_string()],
            }));
        }
    }
    v.to_string()
}

fn loaded() -> (Workspace, Vec<FileInput>, Inventory) {
    let (_, inv) = synth::tailnet(L);
    let inputs = fragments();
    let mut ws = Workspace::new(Config::default());
    ws.set_fragments(inputs.clone());
    ws.set_inventory(Some(FileInput::text("nodes.json", inventory_text(&inv, 0))));
    assert!(!ws.report().has_errors(), "synthetic policy is valid");
    (ws, inputs, inv)
}

#[divan::bench(sample_count = 10)]
fn full_analysis(b: Bencher<'_, '_>) {
    let (_, inputs, inv) = loaded();
    let nodes = inventory_text(&inv, 0);
    b.bench(|| {
        let mut ws = Workspace::new(Config::default());
        ws.set_fragments(inputs.clone());
        ws.set_inventory(Some(FileInput::text("nodes.json", nodes.clone())));
        ws.report().files.len()
    });
}

#[divan::bench(sample_count = 10)]
fn edit_one_fragment(b: Bencher<'_, '_>) {
    let (mut ws, inputs, _) = loaded();
    let original = inputs[FRAGMENTS / 2].clone();
    let mut edited = original.clone();
    edited.contents =
        tailpolicy_workspace::Contents::Text(format!("// edited\n{}", original.contents.to_text()));
    let mut flip = false;
    b.bench_local(|| {
        flip = !flip;
        ws.set_fragment(if flip {
            edited.clone()
        } else {
            original.clone()
        });
        ws.report().files.len()
    });
}

#[divan::bench(sample_count = 10)]
fn replace_inventory(b: Bencher<'_, '_>) {
    let (mut ws, _, inv) = loaded();
    ws.compiler().unwrap();
    let texts = [inventory_text(&inv, 0), inventory_text(&inv, 1)];
    let parses = ws.stats().fragment_parses;
    let mut flip = false;
    b.bench_local(|| {
        flip = !flip;
        let text = &texts[usize::from(flip)];
        ws.set_inventory(Some(FileInput::text("nodes.json", text.clone())));
        ws.report();
        ws.compiler().unwrap().nodes().len()
    });
    assert_eq!(ws.stats().fragment_parses, parses, "no policy parsed again");
}
