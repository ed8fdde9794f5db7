//! `tailpolicy fmt`: format policy files in the canonical `hujsonfmt` layout.
//!
//! - `tailpolicy fmt FILE` (or `-` for standard input) prints the formatted text;
//! - `--write` rewrites changed files in place (atomically, keeping permissions);
//! - `--check` lists files whose formatting would change;
//! - `--diff` prints a unified diff of the changes.
//!
//! Exit codes: 0 when done (or nothing would change), 1 when `--check` or `--diff`
//! found files to reformat or a file has a syntax error (reported like `lint` does, file
//! left untouched), 2 when a file cannot be read or written. Before using any output,
//! `fmt` re-parses it and refuses (exit 2) unless it holds the same data and the same
//! number of comments as the input.

use crate::exit::Exit;
use crate::render::{self, FileDiagnostics, Format, FullStyle, RenderOptions};
use crate::stdout::print_out;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use tailpolicy_policy::hujson::{Document, format, parse, parse_bytes};
use tailpolicy_policy::{Diagnostic, SourceFile};
use tailpolicy_workspace::fs::{self, STDIN_ARG, STDIN_NAME};

/// Arguments of `tailpolicy fmt`.
#[derive(Debug, clap::Args)]
pub struct FmtArgs {
    /// Policy files to format (`-` reads standard input and writes standard output).
    /// Default: the fragments listed under `[policy] files` in tailpolicy.toml.
    #[arg(value_name = "FILE")]
    pub files: Vec<String>,
    /// Rewrite files whose formatting changes, in place.
    #[arg(long, short = 'w', conflicts_with = "check")]
    pub write: bool,
    /// List files whose formatting would change and exit 1 if there are any.
    #[arg(long, short = 'l')]
    pub check: bool,
    /// Print a unified diff of the changes and exit 1 if there are any.
    #[arg(long, short = 'd')]
    pub diff: bool,
}

/// Runs `tailpolicy fmt`.
pub fn run(args: &FmtArgs) -> Exit {
    let files = if args.files.is_empty() {
        match configured_fragments() {
            Ok(files) => files,
            Err(e) => {
                eprintln!("error: {e}");
                return Exit::Failure;
            }
        }
    } else {
        args.files.clone()
    };
    let mut exit = Exit::Clean;
    for arg in &files {
        let outcome = format_one(arg, args);
        exit = worse(exit, outcome);
    }
    exit
}

fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Clean => 0,
        Exit::Findings => 1,
        Exit::Failure => 2,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// The fragments of the multi-file policy configured above the working directory.
fn configured_fragments() -> Result<Vec<String>, fs::LoadError> {
    let cwd = std::env::current_dir().unwrap_or_default();
    let (config, path) = fs::config_for(None, None, &cwd).map_err(fs::LoadError::Config)?;
    let Some(path) = path.filter(|_| !config.policy.files.is_empty()) else {
        return Err(fs::LoadError::NoPolicy);
    };
    Ok(fs::fragment_paths(&config, &path)?
        .iter()
        .map(|p| p.strip_prefix(&cwd).unwrap_or(p).display().to_string())
        .collect())
}

/// One file read for formatting.
struct Input {
    name: String,
    path: Option<PathBuf>,
    bytes: Vec<u8>,
}

fn read(arg: &str) -> Result<Input, fs::LoadError> {
    let (path, bytes) = fs::read(arg)?;
    let name = if arg == STDIN_ARG {
        STDIN_NAME.to_owned()
    } else {
        arg.to_owned()
    };
    Ok(Input { name, path, bytes })
}

fn format_one(arg: &str, args: &FmtArgs) -> Exit {
    let input = match read(arg) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("error: {e}");
            return Exit::Failure;
        }
    };
    let (document, diagnostics) = parse_bytes(&input.bytes);
    let Some(document) = document else {
        report_syntax_errors(&input, diagnostics.iter().cloned().collect());
        return Exit::Findings;
    };
    let formatted = format(&document);
    if let Err(problem) = check_sound(&document, &formatted) {
        eprintln!(
            "error: internal error: formatting `{}` would {problem}; the file is left untouched (please report this with the file)",
            input.name
        );
        return Exit::Failure;
    }
    let changed = formatted != document.source;
    let mut exit = Exit::Clean;
    // Output that did not reach stdout fails the run (as a failed flush did before).
    let mut printed = Ok(());
    if args.check && changed {
        printed = printed.and(print_out(&format!("{}\n", input.name)));
        exit = Exit::Findings;
    }
    if args.diff && changed {
        printed = printed.and(print_out(&unified_diff(
            &input.name,
            &document.source,
            &formatted,
        )));
        if !args.write {
            exit = Exit::Findings;
        }
    }
    if args.write {
        match &input.path {
            Some(path) if changed => {
                if let Err(e) = write_atomically(path, &formatted) {
                    eprintln!("error: cannot write `{}`: {e}", input.name);
                    return Exit::Failure;
                }
            }
            Some(_) => {}
            None => printed = printed.and(print_out(&formatted)),
        }
    } else if !args.check && !args.diff {
        printed = printed.and(print_out(&formatted));
    }
    if printed.is_err() {
        return Exit::Failure;
    }
    exit
}

/// The formatted text must parse to the same data with the same number of comments.
fn check_sound(original: &Document, formatted: &str) -> Result<(), &'static str> {
    let (Some(again), _) = parse(formatted) else {
        return Err("produce invalid HuJSON");
    };
    if !again.root.same_data(&original.root) {
        return Err("change its data");
    }
    if again.comment_count() != original.comment_count() {
        return Err("lose or add comments");
    }
    Ok(())
}

/// Reports syntax errors on stderr, as `lint` renders them. **The one place to change
/// how `fmt` shows diagnostics.**
fn report_syntax_errors(input: &Input, diagnostics: Vec<Diagnostic>) {
    use std::io::IsTerminal as _;
    let name = if input.path.is_none() {
        STDIN_NAME
    } else {
        input.name.as_str()
    };
    let file = SourceFile::new(name, String::from_utf8_lossy(&input.bytes).into_owned());
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let mut options = RenderOptions::from_environment();
    options.full_style = FullStyle::detect(std::io::stderr().is_terminal(), no_color);
    options.step_summary = None;
    let files = [FileDiagnostics {
        file: &file,
        diagnostics: &diagnostics,
    }];
    let rendered = render::render(Format::Full, &files, &options);
    eprint!("{}", rendered.stdout);
}

/// A unified diff (3 lines of context) from `old` to `new`.
fn unified_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{name} (original)"),
            &format!("{name} (formatted)"),
        )
        .to_string()
}

/// Writes `text` to `path` through a temporary file in the same directory and a
/// rename, so that readers never see a half-written file; keeps the permissions.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let permissions = std::fs::metadata(path).ok().map(|m| m.permissions());
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let file_name = path
        .file_name()
        .map_or_else(|| "policy".into(), |n| n.to_string_lossy());
    let temp = dir.join(format!(
        ".{file_name}.tailpolicy-fmt.{}.tmp",
        std::process::id()
    ));
    let result = (|| {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        drop(file);
        if let Some(permissions) = permissions {
            std::fs::set_permissions(&temp, permissions)?;
        }
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}
