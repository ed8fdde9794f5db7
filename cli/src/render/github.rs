//! The `github` format: GitHub Actions workflow commands.
//!
//! `::error file=F,line=L,col=C,endLine=EL,endColumn=EC,title=CODE::message`, with
//! `warning` for warnings and `notice` for infos. GitHub shows at most
//! [`ANNOTATIONS_PER_TYPE`] annotations of each type per step, so only the first ones
//! (in file, line, column order) become annotations; the rest go to the job summary
//! (`$GITHUB_STEP_SUMMARY`) as a markdown table when it is set, or to the log as
//! concise lines when it is not. Either way a log line says how many were left out.
//! Absolute file names under the working directory are made relative to it, since
//! GitHub resolves annotation paths from the repository root.

use super::{Located, concise, relative_name, safe_message};
use std::path::Path;
use tailpolicy_policy::Severity;

/// GitHub's cap on annotations of one type (error, warning, notice) per step.
pub(super) const ANNOTATIONS_PER_TYPE: usize = 10;

/// The job summary file's size cap (1 MiB); we stay below it.
const SUMMARY_LIMIT: usize = 1024 * 1024 - 4096;

pub(super) fn render(
    diagnostics: &[Located<'_>],
    base_dir: Option<&Path>,
    summary_available: bool,
) -> super::Rendered {
    let mut stdout = String::new();
    let mut overflow: Vec<&Located<'_>> = Vec::new();
    let mut shown = [0usize; 3];
    for d in diagnostics {
        let index = match d.diagnostic.severity {
            Severity::Error => 0,
            Severity::Warning => 1,
            Severity::Info => 2,
        };
        let Some(count) = shown.get_mut(index) else {
            continue;
        };
        if *count < ANNOTATIONS_PER_TYPE {
            *count += 1;
            stdout.push_str(&annotation(d, base_dir));
            stdout.push('\n');
        } else {
            overflow.push(d);
        }
    }
    let mut step_summary = None;
    if !overflow.is_empty() {
        let n = overflow.len();
        let what = if n == 1 { "finding" } else { "findings" };
        if summary_available {
            stdout.push_str(&format!(
                "tailpolicy: {n} more {what} than GitHub shows as annotations \
                 (at most {ANNOTATIONS_PER_TYPE} of each type per step); they are listed in the job summary\n"
            ));
            step_summary = Some(summary(&overflow));
        } else {
            stdout.push_str(&format!(
                "tailpolicy: {n} more {what} than GitHub shows as annotations \
                 (at most {ANNOTATIONS_PER_TYPE} of each type per step):\n"
            ));
            for d in overflow {
                stdout.push_str(&concise::line(d));
                stdout.push('\n');
            }
        }
    }
    super::Rendered {
        stdout,
        step_summary,
    }
}

fn annotation(d: &Located<'_>, base_dir: Option<&Path>) -> String {
    let command = match d.diagnostic.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "notice",
    };
    let mut message = d.diagnostic.message.clone();
    if let Some(help) = &d.diagnostic.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    format!(
        "::{command} file={},line={},col={},endLine={},endColumn={},title={}::{}",
        escape_property(&relative_name(d.file.name(), base_dir)),
        d.start.line,
        d.start.column,
        d.end.line,
        d.end.column,
        escape_property(d.diagnostic.code.as_str()),
        escape_data(&safe_message(&message)),
    )
}

/// Escapes a workflow command's message: `%`, CR and LF.
fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a workflow command property value: as [`escape_data`], plus `:` and `,`.
fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// The overflow as a markdown section for the job summary, kept under its size cap.
fn summary(overflow: &[&Located<'_>]) -> String {
    let n = overflow.len();
    let mut out = format!(
        "### tailpolicy: {n} {} not shown as annotations\n\n\
         GitHub shows at most {ANNOTATIONS_PER_TYPE} annotations of each type per step.\n\n\
         | Location | Severity | Code | Message |\n|---|---|---|---|\n",
        if n == 1 { "finding" } else { "findings" }
    );
    for (i, d) in overflow.iter().enumerate() {
        let row = format!(
            "| `{}:{}:{}` | {} | {} | {} |\n",
            cell(d.file.name()).replace('`', "'"),
            d.start.line,
            d.start.column,
            d.diagnostic.severity,
            d.diagnostic.code,
            cell(&d.diagnostic.message),
        );
        if out.len() + row.len() > SUMMARY_LIMIT {
            out.push_str(&format!(
                "\n{} more rows left out: the job summary is limited to 1 MiB.\n",
                n - i
            ));
            return out;
        }
        out.push_str(&row);
    }
    out
}

/// Escapes text for a markdown table cell: `|` and line breaks.
fn cell(s: &str) -> String {
    safe_message(s)
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_follows_the_workflow_command_rules() {
        assert_eq!(escape_data("100% a:b,c\r\nd"), "100%25 a:b,c%0D%0Ad");
        assert_eq!(
            escape_property("100% a:b,c\r\nd"),
            "100%25 a%3Ab%2Cc%0D%0Ad"
        );
        assert_eq!(escape_property("%0A"), "%250A");
    }

    #[test]
    fn summary_stays_under_the_size_cap() {
        use tailpolicy_policy::{Code, Diagnostic, SourceFile, Span};
        let file = SourceFile::new("p.hujson", "x");
        let long = "m".repeat(1000);
        let diagnostics: Vec<Diagnostic> = (0..1200)
            .map(|_| {
                Diagnostic::new(
                    Code(&crate::render::fixtures::UNUSED),
                    Span::empty(0),
                    long.clone(),
                )
            })
            .collect();
        let located: Vec<Located<'_>> = diagnostics
            .iter()
            .map(|diagnostic| {
                let (start, end) = file.span_line_cols(diagnostic.span);
                Located {
                    file: &file,
                    diagnostic,
                    start,
                    end,
                }
            })
            .collect();
        let overflow: Vec<&Located<'_>> = located.iter().collect();
        let out = summary(&overflow);
        assert!(out.len() <= SUMMARY_LIMIT + 200, "{}", out.len());
        let rows = out.matches("| `p.hujson:1:1` |").count();
        assert!(rows > 1000 && rows < 1200, "{rows}");
        assert!(out.ends_with(&format!(
            "\n{} more rows left out: the job summary is limited to 1 MiB.\n",
            1200 - rows
        )));
    }

    #[test]
    fn cells_escape_pipes_and_newlines() {
        assert_eq!(cell("a|b\nc"), "a\\|b<br>c");
    }
}
