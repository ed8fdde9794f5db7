//! `tailpolicy matrix POLICY --nodes FILE`: the whole source × destination access
//! matrix, folded onto the policy's names (see `tailpolicy_compiler::eval::fold`):
//! rows are users (with the groups they belong to), tag sets and address ranges;
//! columns are a user's devices, tag sets, host aliases, subnet routes with their router
//! (`10.0.0.0/16 (via vpc-router)`) and `autogroup:internet (via EXIT)`; cells are the
//! ports as policies spell them (`tcp:443`, `tcp:22, icmp`, `*`) with the deciding
//! rules. Any access also allows ping (ICMP echo), as Tailscale's filter does; `icmp`
//! shows only where a rule grants it. A name covering devices that rules treat
//! differently is split, each part naming its devices (`tag:k8s: k8s-1, k8s-2`).
//!
//! Formats: `table` (aligned text, one block per source), `json` (compact, one line:
//! `{"rules": [RULE], "rows": [PRINCIPAL], "columns": [PRINCIPAL], "cells": [{"src",
//! "dst", "access": "tcp:22, icmp", "protos": [{"proto", "ports"}], "rules": [N]}]}`
//! where a cell's rules are indices into the top-level `rules` (every network rule in
//! compilation order: grants, then ACLs; `RULE` is `{"section", "index", "file",
//! "line", "column"}`) and `PRINCIPAL` is `{"name", "kind", "via", "members",
//! "groups"}`, `kind` one of `user`, `tag`, `host`, `subnet`, `internet`, `address`,
//! `node`), `csv` (`src,dst,access,rules`), `dot` (Graphviz) and `html` (one
//! self-contained, searchable page; the allowing rules show on hover).
//!
//! `--expand` gives the unfolded matrix: destinations as address ranges (every
//! internet range an exit node carries), in the formats and JSON shape of before
//! (`{"principals": {NAME: [DEVICE…]}, "cells": [{"src", "dst", "access": "tcp 22;
//! udp 53", "protos", "rules"}]}`, csv `src,dst,proto,ports,rules`).

use crate::exit::Exit;
use crate::load::{
    PolicyArgs, open, origin_json, origin_short, print_answer, require_inventory, require_valid,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use tailpolicy_compiler::eval::matrix::{
    PrincipalAccess, all_rules, matrix, ports_of, ports_text, summary,
};
use tailpolicy_policy::model::{Origin, Proto};
use tailpolicy_workspace::{SourceMap, Workspace};

/// Output formats of `tailpolicy matrix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum MatrixFormat {
    /// Aligned text, one line per (source, destination) pair with access.
    Table,
    /// JSON (see the module documentation).
    Json,
    /// `src,dst,proto,ports,rules`.
    Csv,
    /// Graphviz `digraph`.
    Dot,
    /// One self-contained HTML page.
    Html,
}

/// Arguments of `tailpolicy matrix`.
#[derive(Debug, clap::Args)]
pub struct MatrixArgs {
    /// The policy and the node inventory.
    #[command(flatten)]
    pub input: PolicyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Table)]
    pub format: MatrixFormat,
    /// Addresses instead of the policy's names: one row per source principal and
    /// address range (every internet range an exit node carries), as before folding.
    #[arg(long)]
    pub expand: bool,
}

/// Runs `tailpolicy matrix`.
pub fn run(args: &MatrixArgs) -> Exit {
    let ws = match open(&args.input).and_then(|ws| {
        require_valid(&ws)?;
        require_inventory(&ws, "matrix")?;
        Ok(ws)
    }) {
        Ok(ws) => ws,
        Err(exit) => return exit,
    };
    if args.expand {
        print_answer(answer(args, &ws))
    } else {
        print_answer(super::matrix_fold::answer(args.format, &ws))
    }
}

/// `grants[0]@34:3`: a rule in a table or CSV cell.
pub(crate) fn rule_short(file: &SourceMap, o: &Origin) -> String {
    let lc = file.line_col(o.span.0.start);
    if file.len() > 1 {
        let name = file.file_name(o.span.0.start);
        return format!(
            "{}[{}]@{name}:{}:{}",
            o.section.key(),
            o.index,
            lc.line,
            lc.column
        );
    }
    format!("{}[{}]@{}:{}", o.section.key(), o.index, lc.line, lc.column)
}

fn answer(args: &MatrixArgs, ws: &Workspace) -> Result<String, String> {
    let (Some(policy), Ok(tailnet)) = (ws.policy(), ws.tailnet()) else {
        return Err("the policy does not parse; see `tailpolicy lint`".to_owned());
    };
    let m = matrix(&policy, &tailnet);
    let cells = m.by_principal();
    let mut members: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in &m.classes.srcs {
        let v = members.entry(p.principal.clone()).or_default();
        if !v.contains(&p.name) {
            v.push(p.name.clone());
        }
    }
    for p in &m.classes.dsts {
        let v = members.entry(p.principal.clone()).or_default();
        if !v.contains(&p.name) {
            v.push(p.name.clone());
        }
    }
    let map = ws.source_map();
    let file = &map;
    Ok(match args.format {
        MatrixFormat::Table => table(file, &cells),
        MatrixFormat::Json => {
            let cells: Vec<Value> = cells
                .iter()
                .map(|((s, d), a)| {
                    let protos: Vec<Value> = a
                        .keys()
                        .map(|p| json!({"proto": Proto(*p).to_string(), "ports": ports_text(&ports_of(a, *p))}))
                        .collect();
                    json!({
                        "src": s, "dst": d, "access": summary(a), "protos": protos,
                        "rules": all_rules(a).iter().map(|o| origin_json(file, o)).collect::<Vec<_>>(),
                    })
                })
                .collect();
            let mut s =
                serde_json::to_string_pretty(&json!({"principals": members, "cells": cells}))
                    .map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
        MatrixFormat::Csv => {
            let mut s = String::from("src,dst,proto,ports,rules\n");
            for ((src, dst), a) in &cells {
                let rules: Vec<String> = all_rules(a).iter().map(|o| rule_short(file, o)).collect();
                for p in a.keys() {
                    s.push_str(&format!(
                        "{},{},{},{},{}\n",
                        csv(src),
                        csv(dst),
                        Proto(*p),
                        csv(&ports_text(&ports_of(a, *p))),
                        csv(&rules.join(" "))
                    ));
                }
            }
            s
        }
        MatrixFormat::Dot => dot(&cells),
        MatrixFormat::Html => html(file, &cells, &members),
    })
}

/// A CSV field, quoted when needed.
pub(crate) fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn table(file: &SourceMap, cells: &PrincipalAccess) -> String {
    let w1 = cells
        .keys()
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(6)
        .max(6);
    let w2 = cells
        .keys()
        .map(|(_, d)| d.chars().count())
        .max()
        .unwrap_or(11)
        .max(11);
    let mut out = format!("{:w1$}  {:w2$}  access  (rules)\n", "source", "destination");
    for ((s, d), a) in cells {
        let rules: Vec<String> = all_rules(a).iter().map(|o| rule_short(file, o)).collect();
        out.push_str(&format!(
            "{s:w1$}  {d:w2$}  {}  ({})\n",
            summary(a),
            rules.join(", ")
        ));
    }
    if cells.is_empty() {
        out.push_str("(no access)\n");
    }
    out
}

/// A Graphviz identifier.
pub(crate) fn dot_id(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn dot(cells: &PrincipalAccess) -> String {
    let mut out = String::from(
        "digraph tailnet {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n",
    );
    let mut names: Vec<&String> = cells.keys().flat_map(|(s, d)| [s, d]).collect();
    names.sort();
    names.dedup();
    for n in names {
        let shape = if n.contains('@') {
            "ellipse"
        } else if n.starts_with("tag:") {
            "box"
        } else {
            "note"
        };
        out.push_str(&format!("  {} [shape={shape}];\n", dot_id(n)));
    }
    for ((s, d), a) in cells {
        out.push_str(&format!(
            "  {} -> {} [label={}];\n",
            dot_id(s),
            dot_id(d),
            dot_id(&summary(a))
        ));
    }
    out.push_str("}\n");
    out
}

/// Text escaped for HTML.
pub(crate) fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(
    file: &SourceMap,
    cells: &PrincipalAccess,
    members: &BTreeMap<String, Vec<String>>,
) -> String {
    let mut rows = String::new();
    for ((s, d), a) in cells {
        let rules: Vec<String> = all_rules(a).iter().map(|o| origin_short(file, o)).collect();
        let devices = |p: &str| members.get(p).map(|v| v.join("\n")).unwrap_or_default();
        rows.push_str(&format!(
            "<tr><td title=\"{}\">{}</td><td title=\"{}\">{}</td><td title=\"{}\">{}</td></tr>\n",
            html_escape(&devices(s)),
            html_escape(s),
            html_escape(&devices(d)),
            html_escape(d),
            html_escape(&rules.join("\n")),
            html_escape(&summary(a)),
        ));
    }
    page(&file.name(), cells.len(), &rows)
}

/// The self-contained page around table rows (source, destination, access).
pub(crate) fn page(name: &str, count: usize, rows: &str) -> String {
    format!(
        r##"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>tailpolicy access matrix: {name}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5em; }}
input {{ font-size: 1em; padding: .3em; width: 24em; margin-right: 1em; }}
table {{ border-collapse: collapse; margin-top: 1em; }}
th, td {{ border: 1px solid #ccc; padding: .25em .6em; text-align: left; }}
th {{ background: #f3f3f3; cursor: pointer; position: sticky; top: 0; }}
tr:hover td {{ background: #fff8dc; }}
td[title] {{ cursor: help; }}
</style></head><body>
<h1>Access matrix</h1>
<p>Policy <code>{name}</code>: {count} source/destination pairs with access. Hover a source or destination for its devices, an access for the rules that allow it. Click a column to sort.</p>
<input id="src" placeholder="filter source…"><input id="dst" placeholder="filter destination…"><input id="acc" placeholder="filter access (e.g. tcp 22)…">
<table id="m"><thead><tr><th>source</th><th>destination</th><th>access</th></tr></thead><tbody>
{rows}</tbody></table>
<script>
const ins = ["src", "dst", "acc"].map(id => document.getElementById(id));
const rows = Array.from(document.querySelectorAll("#m tbody tr"));
function apply() {{
  const q = ins.map(i => i.value.toLowerCase());
  for (const r of rows) {{
    const c = r.children;
    r.style.display = q.every((v, i) => !v || c[i].textContent.toLowerCase().includes(v) || (c[i].title || "").toLowerCase().includes(v)) ? "" : "none";
  }}
}}
ins.forEach(i => i.addEventListener("input", apply));
document.querySelectorAll("#m th").forEach((th, i) => th.addEventListener("click", () => {{
  const body = document.querySelector("#m tbody");
  const dir = th.dataset.dir === "asc" ? -1 : 1; th.dataset.dir = dir === 1 ? "asc" : "desc";
  rows.sort((a, b) => dir * a.children[i].textContent.localeCompare(b.children[i].textContent));
  rows.forEach(r => body.appendChild(r));
}}));
</script></body></html>
"##,
        name = html_escape(name),
    )
}
