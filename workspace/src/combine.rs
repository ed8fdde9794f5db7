//! `tailpolicy merge`: the fragments of a multi-file policy combined into one HuJSON
//! file, every entry preceded by `// from <fragment>:<line>`, in `hujsonfmt` layout,
//! ready to upload to Tailscale or headscale.
//!
//! Entries are copied as written (comments inside them kept); list sections are
//! concatenated in fragment order and map sections merged by key, as the analysis host
//! merges them, so the output compiles to the same filters as the fragments.

use crate::host::{Unavailable, Workspace};
use std::collections::HashMap;
use tailpolicy_policy::hujson::{self, Value};
use tailpolicy_policy::{SourceFile, Span};

/// Top-level keys in their canonical spelling.
const CANONICAL: &[&str] = tailpolicy_policy::TOP_LEVEL_KEYS;

const LISTS: &[&str] = &["acls", "grants", "ssh", "nodeAttrs", "tests", "sshTests"];
const MAPS: &[&str] = &["groups", "tagOwners", "hosts", "ipsets", "postures"];

/// One entry copied from a fragment: where it is from and its text.
struct Entry {
    from: String,
    key: Option<String>,
    text: String,
}

/// A section of the output, in order of first appearance.
enum Section {
    List(Vec<Entry>),
    Map(Vec<Entry>),
    AutoApprovers {
        routes: Vec<Entry>,
        exit_node: Vec<Entry>,
        services: Vec<Entry>,
    },
    Setting(Entry),
}

/// The combined policy text. Refuses a workspace with errors.
pub fn combined_source(ws: &Workspace) -> Result<String, Unavailable> {
    ws.checked_policy()?;
    let merge_groups = ws.config().policy.merge_groups;
    let mut order: Vec<String> = Vec::new();
    let mut sections: HashMap<String, Section> = HashMap::new();
    let merged = ws.merged();
    for fragment in &merged.fragments {
        let (Some(doc), _) = hujson::parse(fragment.file.text()) else {
            return Err(Unavailable::NoPolicy);
        };
        let Some(root) = doc.root.as_object() else {
            continue;
        };
        let file = &fragment.file;
        for member in &root.members {
            let key = canonical(member.key());
            if !sections.contains_key(&key) {
                order.push(key.clone());
            }
            let from = |span: Span| from(file, span);
            if LISTS.contains(&key.as_str()) {
                let entries = elements(file, &member.value, from);
                if let Section::List(list) = sections
                    .entry(key.clone())
                    .or_insert(Section::List(Vec::new()))
                {
                    list.extend(entries);
                }
            } else if MAPS.contains(&key.as_str()) {
                let entries = members(file, &member.value, from);
                if let Section::Map(map) = sections
                    .entry(key.clone())
                    .or_insert(Section::Map(Vec::new()))
                {
                    for e in entries {
                        add_to_map(map, e, key == "groups" && merge_groups);
                    }
                }
            } else if key == "autoApprovers" {
                let section = sections
                    .entry(key.clone())
                    .or_insert(Section::AutoApprovers {
                        routes: Vec::new(),
                        exit_node: Vec::new(),
                        services: Vec::new(),
                    });
                if let (
                    Section::AutoApprovers {
                        routes,
                        exit_node,
                        services,
                    },
                    Some(obj),
                ) = (section, member.value.as_object())
                {
                    for m in &obj.members {
                        match m.key().to_ascii_lowercase().as_str() {
                            "routes" => routes.extend(members(file, &m.value, from)),
                            "exitnode" => exit_node.extend(elements(file, &m.value, from)),
                            "services" => services.extend(members(file, &m.value, from)),
                            _ => {}
                        }
                    }
                }
            } else {
                sections.insert(
                    key.clone(),
                    Section::Setting(Entry {
                        from: from(member.name.span),
                        key: Some(key.clone()),
                        text: raw(file, member.value.span).to_owned(),
                    }),
                );
            }
        }
    }
    let mut out = String::from("// Combined by `tailpolicy merge` from:\n");
    for f in &merged.fragments {
        out.push_str(&format!("//   {}\n", f.file.name()));
    }
    out.push_str("{\n");
    for key in &order {
        let Some(section) = sections.get(key) else {
            continue;
        };
        match section {
            Section::List(list) => write_list(&mut out, key, list),
            Section::Map(map) => write_map(&mut out, key, map),
            Section::AutoApprovers {
                routes,
                exit_node,
                services,
            } => {
                out.push_str(&format!("{}: {{\n", quote("autoApprovers")));
                if !routes.is_empty() {
                    write_map(&mut out, "routes", routes);
                }
                if !exit_node.is_empty() {
                    write_list(&mut out, "exitNode", exit_node);
                }
                if !services.is_empty() {
                    write_map(&mut out, "services", services);
                }
                out.push_str("},\n");
            }
            Section::Setting(e) => {
                out.push_str(&format!(
                    "// from {}\n{}: {},\n",
                    e.from,
                    quote(key),
                    e.text
                ));
            }
        }
    }
    out.push_str("}\n");
    let (Some(doc), _) = hujson::parse(&out) else {
        return Err(Unavailable::Errors);
    };
    Ok(hujson::format(&doc))
}

fn canonical(key: &str) -> String {
    CANONICAL
        .iter()
        .find(|c| c.eq_ignore_ascii_case(key))
        .map_or_else(|| key.to_owned(), |c| (*c).to_owned())
}

fn from(file: &SourceFile, span: Span) -> String {
    format!("{}:{}", file.name(), file.line_col(span.start).line)
}

fn raw(file: &SourceFile, span: Span) -> &str {
    file.snippet(span)
}

fn quote(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_else(|_| format!("\"{key}\""))
}

fn elements(file: &SourceFile, value: &Value, from: impl Fn(Span) -> String) -> Vec<Entry> {
    value
        .as_array()
        .map(|a| {
            a.elements
                .iter()
                .map(|e| Entry {
                    from: from(e.span),
                    key: None,
                    text: raw(file, e.span).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

fn members(file: &SourceFile, value: &Value, from: impl Fn(Span) -> String) -> Vec<Entry> {
    value
        .as_object()
        .map(|o| {
            o.members
                .iter()
                .map(|m| Entry {
                    from: from(m.name.span),
                    key: Some(m.key().to_owned()),
                    text: raw(file, m.value.span).to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Adds a map entry; a group defined again (with `merge-groups`) gets the union of
/// the members.
fn add_to_map(map: &mut Vec<Entry>, entry: Entry, unite: bool) {
    let Some(existing) = map.iter_mut().find(|e| e.key == entry.key) else {
        map.push(entry);
        return;
    };
    if !unite {
        return;
    }
    let parse = |t: &str| -> Vec<String> {
        let (doc, _) = hujson::parse(t);
        doc.and_then(|d| {
            d.root.as_array().map(|a| {
                a.elements
                    .iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect()
            })
        })
        .unwrap_or_default()
    };
    let mut members = parse(&existing.text);
    for m in parse(&entry.text) {
        if !members.contains(&m) {
            members.push(m);
        }
    }
    existing.text = serde_json::to_string(&members).unwrap_or_default();
    existing.from = format!("{}, {}", existing.from, entry.from);
}

fn write_list(out: &mut String, key: &str, list: &[Entry]) {
    out.push_str(&format!("{}: [\n", quote(key)));
    for e in list {
        out.push_str(&format!("// from {}\n{},\n", e.from, e.text));
    }
    out.push_str("],\n");
}

fn write_map(out: &mut String, key: &str, map: &[Entry]) {
    out.push_str(&format!("{}: {{\n", quote(key)));
    for e in map {
        let k = e.key.as_deref().unwrap_or_default();
        out.push_str(&format!("// from {}\n{}: {},\n", e.from, quote(k), e.text));
    }
    out.push_str("},\n");
}
