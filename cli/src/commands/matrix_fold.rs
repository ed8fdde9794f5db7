//! The folded matrix of `tailpolicy matrix` in every format (the formats are documented
//! in [`super::matrix`]).

use super::matrix::{MatrixFormat, csv, dot_id, html_escape, rule_short};
use crate::load::{origin_json, origin_short};
use serde_json::{Value, json};
use tailpolicy_compiler::eval::fold::{Cell, FoldedMatrix, Principal, folded_matrix};
use tailpolicy_compiler::eval::matrix::ports_text;
use tailpolicy_policy::model::Proto;
use tailpolicy_workspace::{SourceMap, Workspace};

/// The folded matrix of the workspace's policy, in `format`.
pub fn answer(format: MatrixFormat, ws: &Workspace) -> Result<String, String> {
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Err("the policy does not parse; see `tailpolicy lint`".to_owned());
    };
    let m = folded_matrix(&policy, &tailnet);
    let map = ws.source_map();
    Ok(match format {
        MatrixFormat::Table => table(&map, &m),
        MatrixFormat::Json => {
            // Compact: a large tailnet has hundreds of thousands of cells.
            let mut s = serde_json::to_string(&to_json(&map, &m)).map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
        MatrixFormat::Csv => {
            let mut s = String::from("src,dst,access,rules\n");
            for (src, dst, c) in named(&m) {
                let rules: Vec<String> = m.origins(c).map(|o| rule_short(&map, o)).collect();
                s.push_str(&format!(
                    "{},{},{},{}\n",
                    csv(src),
                    csv(dst),
                    csv(&c.ports.text()),
                    csv(&rules.join(" "))
                ));
            }
            s
        }
        MatrixFormat::Dot => dot(&m),
        MatrixFormat::Html => html(&map, &m),
    })
}

/// Every cell with its row's and column's names.
fn named(m: &FoldedMatrix) -> impl Iterator<Item = (&str, &str, &Cell)> {
    m.cells.iter().filter_map(|c| {
        Some((
            m.rows.get(c.row)?.name.as_str(),
            m.columns.get(c.column)?.name.as_str(),
            c,
        ))
    })
}

/// The principal as JSON.
pub fn principal_json(p: &Principal) -> Value {
    json!({
        "name": p.name, "kind": p.kind().as_str(), "via": p.label.via,
        "members": p.members, "groups": p.groups,
    })
}

/// The JSON document of a folded matrix.
pub fn to_json(map: &SourceMap, m: &FoldedMatrix) -> Value {
    let cells: Vec<Value> = named(m)
        .map(|(s, d, c)| {
            json!({
                "src": s, "dst": d, "access": c.ports.text(),
                "protos": c.ports.protos.iter()
                    .map(|(p, ports)| json!({"proto": Proto(*p).to_string(), "ports": ports_text(ports)}))
                    .collect::<Vec<_>>(),
                "rules": c.rules,
            })
        })
        .collect();
    json!({
        "rules": m.rules.iter().map(|o| origin_json(map, o)).collect::<Vec<_>>(),
        "rows": m.rows.iter().map(principal_json).collect::<Vec<_>>(),
        "columns": m.columns.iter().map(principal_json).collect::<Vec<_>>(),
        "cells": cells,
    })
}

/// One block per source: its name (and groups), then one line per destination.
fn table(map: &SourceMap, m: &FoldedMatrix) -> String {
    let w_dst = m
        .cells
        .iter()
        .filter_map(|c| m.columns.get(c.column))
        .map(|p| p.name.chars().count())
        .max()
        .unwrap_or(0);
    let w_acc = m
        .cells
        .iter()
        .map(|c| c.ports.text().chars().count())
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (i, row) in m.rows.iter().enumerate() {
        let mut cells = m.row_cells(i).peekable();
        if cells.peek().is_none() {
            continue;
        }
        out.push_str(&row.name);
        if !row.groups.is_empty() {
            out.push_str(&format!(" ({})", row.groups.join(", ")));
        }
        out.push('\n');
        for c in cells {
            let dst = m.columns.get(c.column).map_or("", |p| p.name.as_str());
            let rules: Vec<String> = m.origins(c).map(|o| rule_short(map, o)).collect();
            out.push_str(&format!(
                "  -> {dst:w_dst$}  {:w_acc$}  {}\n",
                c.ports.text(),
                rules.join(", ")
            ));
        }
    }
    if out.is_empty() {
        out.push_str("(no access)\n");
    }
    out
}

fn dot(m: &FoldedMatrix) -> String {
    let mut out = String::from(
        "digraph tailnet {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
    );
    let mut names: Vec<(&str, &str)> = Vec::new();
    for c in &m.cells {
        for p in [m.rows.get(c.row), m.columns.get(c.column)]
            .into_iter()
            .flatten()
        {
            let shape = match p.kind().as_str() {
                "user" => "ellipse",
                "tag" => "box",
                _ => "note",
            };
            if !names.iter().any(|(n, _)| *n == p.name) {
                names.push((&p.name, shape));
            }
        }
    }
    names.sort_unstable();
    for (n, shape) in names {
        out.push_str(&format!("  {} [shape={shape}];\n", dot_id(n)));
    }
    for (s, d, c) in named(m) {
        out.push_str(&format!(
            "  {} -> {} [label={}];\n",
            dot_id(s),
            dot_id(d),
            dot_id(&c.ports.text())
        ));
    }
    out.push_str("}\n");
    out
}

fn html(map: &SourceMap, m: &FoldedMatrix) -> String {
    let mut rows = String::new();
    for c in &m.cells {
        let (Some(s), Some(d)) = (m.rows.get(c.row), m.columns.get(c.column)) else {
            continue;
        };
        let rules: Vec<String> = m.origins(c).map(|o| origin_short(map, o)).collect();
        let mut src_title = s.members.join("\n");
        if !s.groups.is_empty() {
            src_title = format!("{}\n{src_title}", s.groups.join(", "));
        }
        rows.push_str(&format!(
            "<tr><td title=\"{}\">{}</td><td title=\"{}\">{}</td><td title=\"{}\">{}</td></tr>\n",
            html_escape(&src_title),
            html_escape(&s.name),
            html_escape(&d.members.join("\n")),
            html_escape(&d.name),
            html_escape(&rules.join("\n")),
            html_escape(&c.ports.text()),
        ));
    }
    super::matrix::page(&map.name(), m.cells.len(), &rows)
}
