//! `tailpolicy matrix POLICY --nodes FILE`: the whole source × destination access
//! matrix, folded onto principals (users, tag sets, address ranges behind routers) so
//! it stays readable at 1,000 nodes.
//!
//! Formats: `table` (aligned text), `json` (`{"principals": {NAME: [DEVICE…]},
//! "cells": [{"src", "dst", "access": "tcp 22; udp 53", "protos": [{"proto", "ports"}],
//! "rules": [RULE]}]}`), `csv` (`src,dst,proto,ports,rules`), `dot` (Graphviz) and
//! `html` (one self-contained, searchable page; the allowing rules show on hover).

use crate::analysis_input::{load_policy, load_tailnet, origin_json, origin_short, print_answer};
use crate::exit::Exit;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tailpolicy_compiler::eval::matrix::{
    PrincipalAccess, all_rules, matrix, ports_of, ports_text, summary,
};
use tailpolicy_policy::SourceFile;
use tailpolicy_policy::model::{Origin, Proto};

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
    /// The policy file.
    #[arg(value_name = "POLICY")]
    pub policy: String,
    /// Node inventory.
    #[arg(long, value_name = "FILE")]
    pub nodes: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = MatrixFormat::Table)]
    pub format: MatrixFormat,
    #[command(flatten)]
    pub dialect: crate::dialect_arg::DialectArgs,
}

/// Runs `tailpolicy matrix`.
pub fn run(args: &MatrixArgs) -> Exit {
    print_answer(answer(args))
}

fn rule_short(file: &SourceFile, o: &Origin) -> String {
    let lc = file.line_col(o.span.0.start);
    format!("{}[{}]@{}:{}", o.section.key(), o.index, lc.line, lc.column)
}

fn answer(args: &MatrixArgs) -> Result<String, String> {
    let loaded = load_policy(&args.policy, args.dialect.or(None))?;
    let policy = loaded
        .policy
        .as_ref()
        .ok_or_else(|| format!("`{}` does not parse; see `tailpolicy lint`", args.policy))?;
    let tailnet = load_tailnet(Some(&args.nodes), policy)?;
    let m = matrix(policy, &tailnet);
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
    let file = &loaded.file;
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

fn csv(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn table(file: &SourceFile, cells: &PrincipalAccess) -> String {
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

fn dot_id(s: &str) -> String {
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

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn html(
    file: &SourceFile,
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
        name = html_escape(file.name()),
        count = cells.len(),
    )
}
