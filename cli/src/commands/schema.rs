//! `tailpolicy schema`: print the JSON Schema (draft 2020-12) of the policy file,
//! generated from the checker's field tables.

use crate::exit::Exit;

/// Arguments of `tailpolicy schema`.
#[derive(Debug, clap::Args)]
pub struct SchemaArgs {}

/// Prints the schema to stdout.
pub fn run(_args: &SchemaArgs) -> Exit {
    match tailpolicy_policy::try_json_schema()
        .and_then(|s| serde_json::to_string_pretty(&s).map_err(|e| e.to_string()))
    {
        Ok(text) => {
            let _ = crate::stdout::print_out(&format!("{text}\n"));
            Exit::Clean
        }
        Err(e) => {
            eprintln!("error: internal error, please report: {e}");
            Exit::Failure
        }
    }
}
