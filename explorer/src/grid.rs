//! `GET /explorer/api/grid`: the access grid, folded onto the policy's names.
//!
//! `{"policy", "rows": [AXIS], "cols": [AXIS], "cells": [[ROW, COL, PORTS,
//! [RULE_INDEX]]], "rules": [RULE]}` (see [`adapter`]): an axis is `{"name", "kind",
//! "select", "members", "memberCount", "groups"}` (`members` the first
//! [`MEMBERS_SHOWN`] of `memberCount`; `select` the name for the "from" and "to"
//! views); `PORTS` is the fold's spelling (`tcp:443`, `tcp:22, icmp`, `*`). Cells are
//! compact arrays (a 1,000-node tailnet has tens of thousands), rules a shared table of
//! `{"section", "index", "fragment", "line", "column", "endLine"}`.

use crate::adapter;
use crate::problem::{Problem, evaluable};
use crate::rules::rule_json;
use serde_json::{Value, json};
use std::collections::HashMap;
use tailpolicy_policy::model::Origin;
use tailpolicy_workspace::Workspace;

/// How many members of a row or column the answer lists (the internet through an exit
/// node has dozens of ranges, a tag hundreds of devices).
pub const MEMBERS_SHOWN: usize = 20;

/// The grid of the workspace's policy.
pub fn grid_json(ws: &Workspace) -> Result<Value, Problem> {
    let (policy, tailnet) = evaluable(ws)?;
    let g = adapter::grid(&policy, &tailnet);
    let map = ws.source_map();
    let mut rule_ids: HashMap<Origin, usize> = HashMap::new();
    let mut rules: Vec<Value> = Vec::new();
    let cells: Vec<Value> = g
        .cells
        .iter()
        .map(|c| {
            let ids: Vec<usize> = c
                .rules
                .iter()
                .map(|o| {
                    *rule_ids.entry(*o).or_insert_with(|| {
                        rules.push(rule_json(&map, o));
                        rules.len() - 1
                    })
                })
                .collect();
            json!([c.row, c.col, c.ports.text(), ids])
        })
        .collect();
    let axis = |v: &[adapter::Axis]| -> Vec<Value> {
        v.iter()
            .map(|a| {
                let shown: Vec<&String> = a.members.iter().take(MEMBERS_SHOWN).collect();
                json!({"name": a.name, "kind": a.kind, "select": a.select,
                    "members": shown, "memberCount": a.members.len(), "groups": a.groups})
            })
            .collect()
    };
    Ok(json!({
        "policy": map.name(),
        "rows": axis(&g.rows),
        "cols": axis(&g.cols),
        "cells": cells,
        "rules": rules,
    }))
}
