//! Rendering diagnostic sets in every `--format`.
//!
//! Renderers are pure functions from [`FileDiagnostics`] (a source file paired with its
//! diagnostics) and [`RenderOptions`] to a [`Rendered`] (what goes to stdout and, for
//! GitHub Actions, to the job summary). Commands do the IO with [`emit`]. Every format
//! orders findings by file name, line, column, then code.

mod concise;
mod full;
mod github;
mod json;
mod sarif;

use std::io::Write as _;
use std::path::PathBuf;
use tailpolicy_policy::{Diagnostic, LineCol, Severity, SourceFile};
use tailpolicy_workspace::text::{is_unsafe_char, safe_message};

pub use full::FullStyle;

/// The output formats of `--format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets with carets, labels and help; colour and unicode on a terminal
    /// (unless `NO_COLOR` is set), plain ASCII otherwise.
    Full,
    /// One line per finding: `file:line:col: severity[CODE] message`.
    Concise,
    /// `{"diagnostics": [...]}` with 1-based positions.
    Json,
    /// GitHub Actions workflow commands (annotations), overflow to the job summary.
    Github,
    /// SARIF 2.1.0 for GitHub code scanning.
    Sarif,
}

/// The `--format` argument, shared by every command that reports diagnostics.
#[derive(Clone, Copy, Debug, clap::Args)]
pub struct FormatArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Full)]
    pub format: Format,
}

/// One file and its diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct FileDiagnostics<'a> {
    /// The file the diagnostics' spans point into.
    pub file: &'a SourceFile,
    /// Its diagnostics, in any order.
    pub diagnostics: &'a [Diagnostic],
}

/// Everything a renderer needs besides the diagnostics; built from the process
/// environment by [`RenderOptions::from_environment`], or by hand in tests.
#[derive(Clone, Debug)]
pub struct RenderOptions {
    /// Glyphs and colour of the `full` format.
    pub full_style: FullStyle,
    /// Version reported as the SARIF tool version.
    pub tool_version: String,
    /// Directory that relative SARIF paths are relative to; absolute file names under
    /// it are made relative.
    pub base_dir: Option<PathBuf>,
    /// Where the GitHub job summary goes (`$GITHUB_STEP_SUMMARY`), if anywhere.
    pub step_summary: Option<PathBuf>,
}

impl RenderOptions {
    /// Options for this process: `full` style from whether stdout is a terminal and
    /// `NO_COLOR`, base directory from the working directory, job summary from
    /// `$GITHUB_STEP_SUMMARY`.
    pub fn from_environment() -> Self {
        use std::io::IsTerminal as _;
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self {
            full_style: FullStyle::detect(std::io::stdout().is_terminal(), no_color),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            base_dir: std::env::current_dir().ok(),
            step_summary: std::env::var_os("GITHUB_STEP_SUMMARY")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }
}

/// A rendered report.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Written to standard output.
    pub stdout: String,
    /// Appended to the GitHub job summary file, when there is one and this is set.
    pub step_summary: Option<String>,
}

/// Renders `files` in `format`.
pub fn render(format: Format, files: &[FileDiagnostics<'_>], options: &RenderOptions) -> Rendered {
    let ordered = ordered(files);
    match format {
        Format::Full => stdout_only(full::render(&ordered, options.full_style)),
        Format::Concise => stdout_only(concise::render(&ordered)),
        Format::Json => stdout_only(json::render(&ordered)),
        Format::Github => github::render(
            &ordered,
            options.base_dir.as_deref(),
            options.step_summary.is_some(),
        ),
        Format::Sarif => stdout_only(sarif::render(&ordered, options)),
    }
}

/// Renders and writes: the report to stdout, the job summary (appended) to
/// `options.step_summary`. Errors are IO errors of those two.
pub fn emit(
    format: Format,
    files: &[FileDiagnostics<'_>],
    options: &RenderOptions,
) -> std::io::Result<()> {
    let rendered = render(format, files, options);
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(rendered.stdout.as_bytes())?;
    stdout.flush()?;
    if let (Some(summary), Some(path)) = (rendered.step_summary, &options.step_summary) {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        file.write_all(summary.as_bytes())?;
    }
    Ok(())
}

/// `found 2 errors and 1 warning in 3 files`-style summary, or `no problems found in
/// 1 file`. For human formats, printed to stderr.
pub fn summary_line(files: &[FileDiagnostics<'_>]) -> String {
    let count = |severity: Severity| {
        files
            .iter()
            .flat_map(|f| f.diagnostics)
            .filter(|d| d.severity == severity)
            .count()
    };
    let parts: Vec<String> = [
        (count(Severity::Error), "error"),
        (count(Severity::Warning), "warning"),
        (count(Severity::Info), "info"),
    ]
    .into_iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| plural(n, what))
    .collect();
    let in_files = plural(files.len(), "file");
    match parts.as_slice() {
        [] => format!("no problems found in {in_files}"),
        [one] => format!("found {one} in {in_files}"),
        [init @ .., last] => format!("found {} and {last} in {in_files}", init.join(", ")),
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 || what == "info" {
        format!("{n} {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn stdout_only(stdout: String) -> Rendered {
    Rendered {
        stdout,
        step_summary: None,
    }
}

/// A diagnostic with its file and resolved positions.
#[derive(Clone, Copy, Debug)]
struct Located<'a> {
    file: &'a SourceFile,
    diagnostic: &'a Diagnostic,
    start: LineCol,
    end: LineCol,
}

/// All diagnostics, ordered by file name, line, column, code, then end and message.
fn ordered<'a>(files: &[FileDiagnostics<'a>]) -> Vec<Located<'a>> {
    let mut all: Vec<Located<'a>> = files
        .iter()
        .flat_map(|f| {
            f.diagnostics.iter().map(|diagnostic| {
                let (start, end) = f.file.span_line_cols(diagnostic.span);
                Located {
                    file: f.file,
                    diagnostic,
                    start,
                    end,
                }
            })
        })
        .collect();
    all.sort_by(|a, b| {
        (
            a.file.name(),
            a.start,
            a.diagnostic.code,
            a.end,
            &a.diagnostic.message,
        )
            .cmp(&(
                b.file.name(),
                b.start,
                b.diagnostic.code,
                b.end,
                &b.diagnostic.message,
            ))
    });
    all
}

/// `name` relative to `base_dir` when it is an absolute path under it, else as given;
/// `/`-separated, without a leading `./`.
fn relative_name(name: &str, base_dir: Option<&std::path::Path>) -> String {
    let path = std::path::Path::new(name);
    let relative = match base_dir {
        Some(base) if path.is_absolute() => path.strip_prefix(base).unwrap_or(path),
        _ => path,
    };
    let text = relative.to_string_lossy().replace('\\', "/");
    let mut text = text.as_str();
    while let Some(rest) = text.strip_prefix("./") {
        text = rest;
    }
    text.to_owned()
}

/// Source text safe to print: every unsafe character is replaced by one of the same
/// UTF-8 length (`?`, `¿` or `�`), so byte offsets and columns stay valid.
fn safe_source(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match (is_unsafe_char(c), c.len_utf8()) {
            (false, _) => c,
            (true, 1) => '?',
            (true, 2) => '\u{bf}',
            (true, _) => '\u{fffd}',
        })
        .collect::<String>()
        .into()
}

/// The documentation URL of `code` on the generated rules page.
fn rule_url(code: &str) -> String {
    format!(
        "{}/blob/main/docs/rules.md#{}",
        env!("CARGO_PKG_REPOSITORY"),
        code.to_ascii_lowercase()
    )
}

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
#[test]
fn unsafe_characters_are_neutralised() {
    let text = "a\u{1b}[31mb\u{85}c\u{202e}d\u{feff}\t\n";
    let safe = safe_source(text);
    assert_eq!(safe, "a?[31mb\u{bf}c\u{fffd}d\u{fffd}\t\n");
    assert_eq!(safe.len(), text.len());
    assert_eq!(safe_message("x\u{1b}y\u{202e}"), "x\\u{1b}y\\u{202e}");
    assert!(matches!(
        safe_message("plain `é`\n"),
        std::borrow::Cow::Borrowed(_)
    ));
}

#[cfg(test)]
#[test]
fn relative_names() {
    let base = Some(std::path::Path::new("/repo"));
    assert_eq!(relative_name("/repo/a/p.hujson", base), "a/p.hujson");
    assert_eq!(relative_name("././a/p.hujson", base), "a/p.hujson");
    assert_eq!(relative_name("/other/p.hujson", base), "/other/p.hujson");
    assert_eq!(relative_name("../p.hujson", None), "../p.hujson");
}
#[cfg(test)]
mod tests;
