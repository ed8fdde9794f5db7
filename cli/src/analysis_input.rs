//! What the analysis commands (`test`, `reach`, `matrix`, `diff`) share: reading a policy
//! and an inventory into the evaluator's view, and printing where a rule stands.

use crate::exit::Exit;
use crate::input;
use serde_json::{Value, json};
use std::path::PathBuf;
use tailpolicy_compiler::eval::Tailnet;
use tailpolicy_compiler::resolve::ResolveOptions;
use tailpolicy_policy::model::{Origin, Policy};
use tailpolicy_policy::{CheckOptions, Diagnostic, SourceFile, Span};

/// A policy read and analysed, ready for evaluation.
pub struct Loaded {
    /// The source, for positions.
    pub file: SourceFile,
    /// The lowered policy (`None` when it did not parse).
    pub policy: Option<Policy>,
    /// The front end's diagnostics.
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads and analyses a policy file. `Err` is an IO problem (exit 2).
pub fn load_policy(arg: &str, dialect: tailpolicy_policy::Dialect) -> Result<Loaded, String> {
    let input = input::read(arg).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&input.bytes).into_owned();
    let options = CheckOptions {
        dialect,
        ..CheckOptions::default()
    };
    let analysis = tailpolicy_policy::analyse(&text, &options);
    Ok(Loaded {
        file: SourceFile::new(input.name, text),
        policy: analysis.policy,
        diagnostics: analysis.diagnostics.into_vec(),
    })
}

/// Reads the node inventory into the evaluator's view (`None`: no inventory, every
/// login counts as a user). `Err` when it cannot be read or has errors (exit 2).
pub fn load_tailnet(path: Option<&PathBuf>, policy: &Policy) -> Result<Tailnet, String> {
    let Some(path) = path else {
        return Ok(Tailnet {
            open_users: true,
            ..Tailnet::default()
        });
    };
    let arg = path.to_string_lossy();
    let input = input::read(&arg).map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&input.bytes);
    let (inventory, diags) = tailpolicy_compiler::inventory::load(&text);
    let file = SourceFile::new(input.name.clone(), text.as_ref());
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Err(format!(
            "{}: inventory error[{}] {}",
            position(&file, d.span),
            d.code,
            d.message
        ));
    }
    let inventory = inventory.ok_or_else(|| format!("cannot read inventory `{arg}`"))?;
    Ok(Tailnet::from_inventory(
        policy,
        &inventory,
        ResolveOptions::default(),
    ))
}

/// `file:line:col` of a span's start.
pub fn position(file: &SourceFile, span: Span) -> String {
    let lc = file.line_col(span.start);
    format!("{}:{}:{}", file.name(), lc.line, lc.column)
}

/// A rule reference as JSON: section, index, file, line, column.
pub fn origin_json(file: &SourceFile, o: &Origin) -> Value {
    let lc = file.line_col(o.span.0.start);
    json!({
        "section": o.section.key(),
        "index": o.index,
        "file": file.name(),
        "line": lc.line,
        "column": lc.column,
    })
}

/// `acls[3] (policy.hujson:42:5)`.
pub fn origin_text(file: &SourceFile, o: &Origin) -> String {
    if o.section == tailpolicy_policy::model::Section::Default {
        return "the default allow-all (no `acls` or `grants`)".to_owned();
    }
    format!(
        "{}[{}] ({})",
        o.section.key(),
        o.index,
        position(file, o.span.0)
    )
}

/// `acls[3] policy.hujson:42:5`: a rule reference in one token run, for tables and
/// tooltips.
pub fn origin_short(file: &SourceFile, o: &Origin) -> String {
    format!(
        "{}[{}] {}",
        o.section.key(),
        o.index,
        position(file, o.span.0)
    )
}

/// Prints a command's text output (exit 0), or its error (exit 2).
pub fn print_answer(answer: Result<String, String>) -> Exit {
    match answer {
        Ok(text) => {
            let _ = crate::stdout::print_out(&text);
            Exit::Clean
        }
        Err(e) => {
            eprintln!("error: {e}");
            Exit::Failure
        }
    }
}
