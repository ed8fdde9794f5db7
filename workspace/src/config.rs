//! `tailpolicy.toml`: the policy's fragments and their owners, the default inventory,
//! and which codes to report, at which severity, per file.
//!
//! Found by walking up from each policy file's directory (the first `tailpolicy.toml`
//! wins; [`crate::fs::discover_config`]), or given with `--config`. Without one, the
//! policy is the file given and every rule is on at its default severity. Parsing is
//! pure: [`Config::parse`] takes the text.
//!
//! ```toml
//! # Default node inventory for `--nodes`, relative to this file.
//! nodes = "inventory.json"
//!
//! [policy]
//! # The fragments of a multi-file policy, relative to this file: explicit names in
//! # order, then every glob's matches in sorted order.
//! files = ["base.hujson", "teams/*.hujson"]
//! # Unite the members of a group defined in several fragments (default: an error).
//! merge-groups = false
//!
//! # Delegation: fragments matching `files` may define only these names and grant
//! # access only to them.
//! [[policy.owners]]
//! files = "teams/data/*.hujson"
//! names = ["group:data-*", "tag:data-*", "data-*"]
//!
//! [lint]
//! # Codes or code prefixes to report (default: all). "TP1" = every TP1xxx lint.
//! select = ["TP0", "TP1001"]
//! # Codes or prefixes never to report.
//! ignore = ["TP1005"]
//!
//! [lint.severity]
//! # Per-code severity: "error", "warning" or "info".
//! TP1003 = "error"
//!
//! [lint.per-file-ignores]
//! # Glob (relative to this file's directory) = codes or prefixes to ignore there.
//! "legacy/*.hujson" = ["TP1005", "TP12"]
//! ```
//!
//! Rules:
//! - Unknown keys, unknown codes, selectors that match no rule and bad severities are
//!   errors with their line and column (exit 2).
//! - Syntax errors (`TP00xx`) are always reported as errors: naming one in `ignore`,
//!   `severity` or `per-file-ignores` is a configuration error, and prefixes skip them.
//! - Path globs (`files`, `per-file-ignores`, owners' `files`): `*` matches within a path
//!   segment, `?` one character, `**` any number of segments, `{a,b}` either; a pattern
//!   without `/` matches the file name in any directory. Name globs (owners' `names`):
//!   `*` matches any run of characters.

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};
use tailpolicy_policy::did_you_mean;
use tailpolicy_policy::is_syntax_code;
use tailpolicy_policy::{Diagnostic, Diagnostics, Rule, Severity, SourceFile};
use toml::Spanned;

/// The configuration file name looked for.
pub const FILE_NAME: &str = "tailpolicy.toml";

/// A loaded configuration (or the defaults).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Directory of the configuration file; per-file globs and `nodes` are relative to
    /// it. `None` for the defaults.
    pub dir: Option<PathBuf>,
    /// Default node inventory, already joined to [`Config::dir`].
    pub nodes: Option<PathBuf>,
    /// `dialect`: whose rules to check against (`--dialect` overrides it).
    pub dialect: Option<tailpolicy_policy::Dialect>,
    /// Codes to report; `None` means all.
    pub select: Option<Vec<Selector>>,
    /// Codes never to report.
    pub ignore: Vec<Selector>,
    /// Severity overrides by code.
    pub severity: BTreeMap<&'static str, Severity>,
    /// Ignores that apply to files matching a glob.
    pub per_file_ignores: Vec<(Glob, Vec<Selector>)>,
    /// `[policy]`: fragments, merging and ownership.
    pub policy: PolicyConfig,
}

/// The `[policy]` table.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicyConfig {
    /// `files`: fragment paths and globs as written, relative to [`Config::dir`].
    /// Empty: the policy is the one file given on the command line.
    pub files: Vec<String>,
    /// `merge-groups`: a group defined in several fragments gets the union of their
    /// members instead of an error.
    pub merge_groups: bool,
    /// `[[policy.owners]]`, in order.
    pub owners: Vec<Owner>,
}

/// One `[[policy.owners]]` entry: fragments delegated to a team, and the names they own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owner {
    /// Which fragments (paths relative to [`Config::dir`]).
    pub files: Vec<Glob>,
    /// The names those fragments may define and grant access to.
    pub names: Vec<NameGlob>,
    /// `line:column` of the entry in the configuration file, for messages.
    pub position: (u32, u32),
}

impl Owner {
    /// Whether the fragment at `relative_path` is delegated by this entry.
    pub fn covers(&self, relative_path: &str) -> bool {
        self.files.iter().any(|g| g.matches(relative_path))
    }

    /// Whether `name` (`group:…`, `tag:…`, a host or ipset name) is owned.
    pub fn owns(&self, name: &str) -> bool {
        self.names.iter().any(|g| g.matches(name))
    }

    /// The `names` patterns, for messages.
    pub fn describe_names(&self) -> String {
        self.names
            .iter()
            .map(|n| format!("`{}`", n.pattern()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// A code or code prefix (`TP1001`, `TP1`, `TP`), upper-cased.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Selector(String);

impl Selector {
    /// Whether `code` is selected. Syntax codes are never matched by a prefix.
    pub fn matches(&self, code: &str) -> bool {
        code.starts_with(&self.0) && (self.0.len() == code.len() || !is_syntax_code(code))
    }
}

/// A compiled glob with the pattern as written; equal when the patterns are.
#[derive(Clone, Debug)]
struct Pattern {
    written: String,
    matcher: GlobMatcher,
}

impl PartialEq for Pattern {
    fn eq(&self, other: &Self) -> bool {
        self.written == other.written
    }
}
impl Eq for Pattern {}

impl Pattern {
    /// Compiles `compiled` (standing for `written`); `paths`: `*` stops at `/`.
    fn new(written: &str, compiled: &str, paths: bool, what: &str) -> Result<Self, String> {
        let matcher = GlobBuilder::new(compiled)
            .literal_separator(paths)
            .backslash_escape(true)
            .build()
            .map_err(|e| format!("invalid {what} `{written}`: {}", e.kind()))?
            .compile_matcher();
        Ok(Self {
            written: written.to_owned(),
            matcher,
        })
    }
}

/// A path glob (`per-file-ignores`, `[policy] files`, owners' `files`), matched on
/// `/`-separated paths relative to the configuration's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Glob(Pattern);

impl Glob {
    /// Compiles `pattern`. A pattern without `/` matches the file name in any directory.
    pub fn new(pattern: &str) -> Result<Self, String> {
        let anchored = if pattern.contains('/') {
            pattern.to_owned()
        } else {
            format!("**/{pattern}")
        };
        Pattern::new(pattern, &anchored, true, "glob").map(Self)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.0.written
    }

    /// Whether `path` (relative, `/`-separated) matches.
    pub fn matches(&self, path: &str) -> bool {
        self.0.matcher.is_match(path)
    }

    /// Whether the pattern has glob metacharacters (else it names one file).
    pub fn is_literal(pattern: &str) -> bool {
        !pattern.contains(['*', '?', '[', '{'])
    }
}

/// A name glob of an owner's `names`: `*` matches any run of characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameGlob(Pattern);

impl NameGlob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Self, String> {
        Pattern::new(pattern, pattern, false, "name pattern").map(Self)
    }

    /// The pattern as written.
    pub fn pattern(&self) -> &str {
        &self.0.written
    }

    /// Whether `name` matches.
    pub fn matches(&self, name: &str) -> bool {
        self.0.matcher.is_match(name)
    }
}

/// An invalid configuration: where and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The configuration file.
    pub path: PathBuf,
    /// `line:column` (1-based) of the problem, when known.
    pub position: Option<(u32, u32)>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.position {
            Some((line, column)) => write!(
                f,
                "invalid configuration: {}:{line}:{column}: {}",
                self.path.display(),
                self.message
            ),
            None => write!(
                f,
                "invalid configuration: {}: {}",
                self.path.display(),
                self.message
            ),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    nodes: Option<String>,
    dialect: Option<Spanned<String>>,
    #[serde(default)]
    lint: RawLint,
    #[serde(default)]
    policy: RawPolicy,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawPolicy {
    #[serde(default)]
    files: Vec<Spanned<String>>,
    #[serde(default)]
    merge_groups: bool,
    #[serde(default)]
    owners: Vec<Spanned<RawOwner>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOwner {
    files: Spanned<toml::Value>,
    names: Vec<Spanned<String>>,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLint {
    select: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    ignore: Vec<Spanned<String>>,
    #[serde(default)]
    severity: BTreeMap<Spanned<String>, Spanned<String>>,
    #[serde(default)]
    per_file_ignores: BTreeMap<String, Vec<Spanned<String>>>,
}

impl Config {
    /// Parses the text of the configuration file at `path` against the registry
    /// `rules`.
    pub fn parse(path: &Path, text: &str, rules: &[&'static Rule]) -> Result<Self, ConfigError> {
        let source = SourceFile::new(path.display().to_string(), text);
        let error = |span: Option<Range<usize>>, message: String| ConfigError {
            path: path.to_owned(),
            position: span.map(|s| {
                let at = source.line_col(u32::try_from(s.start).unwrap_or(u32::MAX));
                (at.line, at.column)
            }),
            message,
        };
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| error(e.span(), e.message().trim().to_owned()))?;
        let dir = path.parent().map(Path::to_owned);
        let selectors = |list: Vec<Spanned<String>>, field: &str, ignoring: bool| {
            list.into_iter()
                .map(|s| selector(&s, field, ignoring, rules).map_err(|m| error(Some(s.span()), m)))
                .collect::<Result<Vec<_>, _>>()
        };
        let select = raw
            .lint
            .select
            .map(|l| selectors(l, "select", false))
            .transpose()?;
        let ignore = selectors(raw.lint.ignore, "ignore", true)?;
        let mut severity = BTreeMap::new();
        for (code, level) in raw.lint.severity {
            let rule = rules
                .iter()
                .find(|r| r.code.eq_ignore_ascii_case(code.get_ref()))
                .ok_or_else(|| {
                    error(
                        Some(code.span()),
                        format!(
                            "unknown code `{}` in `severity`{}",
                            code.get_ref(),
                            suggestion(code.get_ref(), rules)
                        ),
                    )
                })?;
            if is_syntax_code(rule.code) {
                return Err(error(
                    Some(code.span()),
                    format!(
                        "the severity of syntax error `{}` cannot be changed",
                        rule.code
                    ),
                ));
            }
            let level_value = match level.get_ref().as_str() {
                "error" => Severity::Error,
                "warning" => Severity::Warning,
                "info" => Severity::Info,
                other => {
                    return Err(error(
                        Some(level.span()),
                        format!(
                            "unknown severity `{other}`; expected `error`, `warning` or `info`"
                        ),
                    ));
                }
            };
            severity.insert(rule.code, level_value);
        }
        let dialect = raw
            .dialect
            .map(|d| {
                d.get_ref()
                    .parse::<tailpolicy_policy::Dialect>()
                    .map_err(|e| error(Some(d.span()), e.to_string()))
            })
            .transpose()?;
        let mut per_file_ignores = Vec::new();
        for (glob, codes) in raw.lint.per_file_ignores {
            let glob = Glob::new(&glob).map_err(|m| error(None, m))?;
            per_file_ignores.push((glob, selectors(codes, "per-file-ignores", true)?));
        }
        let mut files = Vec::new();
        for file in raw.policy.files {
            if !Glob::is_literal(file.get_ref()) {
                Glob::new(file.get_ref()).map_err(|m| error(Some(file.span()), m))?;
            }
            files.push(file.into_inner());
        }
        let mut owners = Vec::new();
        for owner in raw.policy.owners {
            let span = owner.span();
            let owner = owner.into_inner();
            let file_patterns: Vec<Spanned<String>> = match owner.files.get_ref() {
                toml::Value::String(s) => vec![Spanned::new(owner.files.span(), s.clone())],
                toml::Value::Array(items) => items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| Spanned::new(owner.files.span(), s.to_owned()))
                    .collect(),
                _ => Vec::new(),
            };
            if file_patterns.is_empty() {
                return Err(error(
                    Some(owner.files.span()),
                    "`files` of an owner must be a glob or a list of globs".to_owned(),
                ));
            }
            let files = file_patterns
                .iter()
                .map(|p| Glob::new(p.get_ref()).map_err(|m| error(Some(p.span()), m)))
                .collect::<Result<Vec<_>, _>>()?;
            if owner.names.is_empty() {
                return Err(error(
                    Some(span.clone()),
                    "an owner needs `names`: the names its fragments own".to_owned(),
                ));
            }
            let names = owner
                .names
                .iter()
                .map(|n| NameGlob::new(n.get_ref()).map_err(|m| error(Some(n.span()), m)))
                .collect::<Result<Vec<_>, _>>()?;
            let at = source.line_col(u32::try_from(span.start).unwrap_or(u32::MAX));
            owners.push(Owner {
                files,
                names,
                position: (at.line, at.column),
            });
        }
        Ok(Self {
            dialect,
            nodes: raw
                .nodes
                .map(|n| dir.as_deref().unwrap_or(Path::new("")).join(n)),
            dir,
            select,
            ignore,
            severity,
            per_file_ignores,
            policy: PolicyConfig {
                files,
                merge_groups: raw.policy.merge_groups,
                owners,
            },
        })
    }

    /// `file` relative to the configuration's directory (or `cwd` for the defaults),
    /// `/`-separated, for per-file globs. Both are made absolute against `cwd` and
    /// normalised lexically; a file outside the directory keeps its absolute path.
    pub fn relative_path(&self, file: &Path, cwd: &Path) -> String {
        let file = normalise(&cwd.join(file));
        let dir = normalise(&cwd.join(self.dir.as_deref().unwrap_or(Path::new(""))));
        let relative = file.strip_prefix(&dir).map(Path::to_owned).unwrap_or(file);
        relative
            .components()
            .filter_map(|c| match c {
                Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// Replaces `select` with the codes or prefixes of `--select` (validated against
    /// `rules`). Errors name the first bad one.
    pub fn with_select(
        mut self,
        codes: &[String],
        rules: &[&'static Rule],
    ) -> Result<Self, String> {
        let selected = codes
            .iter()
            .map(|c| selector(&Spanned::new(0..0, c.clone()), "--select", false, rules))
            .collect::<Result<Vec<_>, _>>()?;
        self.select = Some(selected);
        Ok(self)
    }

    /// Whether the security audit (`TP11xx`) is selected.
    pub fn selects_audit(&self) -> bool {
        self.select.as_ref().is_some_and(|selected| {
            selected.iter().any(|s| {
                tailpolicy_policy::codes::audit::RULES
                    .iter()
                    .any(|r| s.matches(r.code))
            })
        })
    }

    /// Applies `select`, `ignore`, `per-file-ignores` (for the file at `relative_path`,
    /// as given by [`Config::relative_path`]) and severity overrides. Syntax errors
    /// pass through unchanged.
    pub fn apply(&self, relative_path: &str, diagnostics: Diagnostics) -> Diagnostics {
        let file_ignores: Vec<&Selector> = self
            .per_file_ignores
            .iter()
            .filter(|(glob, _)| glob.matches(relative_path))
            .flat_map(|(_, selectors)| selectors)
            .collect();
        diagnostics
            .into_iter()
            .filter_map(|d: Diagnostic| {
                let code = d.code.as_str();
                if is_syntax_code(code) {
                    return Some(d);
                }
                let selected = self
                    .select
                    .as_ref()
                    .is_none_or(|s| s.iter().any(|s| s.matches(code)));
                let ignored = self
                    .ignore
                    .iter()
                    .chain(file_ignores.iter().copied())
                    .any(|s| s.matches(code));
                if !selected || ignored {
                    return None;
                }
                Some(match self.severity.get(code) {
                    Some(&severity) => d.with_severity(severity),
                    None => d,
                })
            })
            .collect()
    }
}

/// Validates one selector of `field`. `ignoring`: whether it removes diagnostics (then
/// naming a syntax code is an error).
fn selector(
    s: &Spanned<String>,
    field: &str,
    ignoring: bool,
    rules: &[&'static Rule],
) -> Result<Selector, String> {
    let upper = s.get_ref().to_ascii_uppercase();
    let well_formed = upper.len() <= 6
        && upper.starts_with("TP")
        && upper
            .get(2..)
            .is_some_and(|d| d.bytes().all(|b| b.is_ascii_digit()));
    if !well_formed {
        return Err(format!(
            "`{}` in `{field}` is not a code or code prefix (like `TP1001` or `TP1`)",
            s.get_ref()
        ));
    }
    let selector = Selector(upper);
    if ignoring && is_syntax_code(&selector.0) {
        return Err(format!("syntax error `{}` cannot be ignored", selector.0));
    }
    if !rules.iter().any(|r| r.code.starts_with(&selector.0)) {
        let what = if selector.0.len() == 6 {
            "unknown code"
        } else {
            "no code starts with"
        };
        return Err(format!(
            "{what} `{}` in `{field}`{}",
            s.get_ref(),
            suggestion(&selector.0, rules)
        ));
    }
    Ok(selector)
}

/// `"; did you mean `TP1001`?"` for a full-length code close to a registered one, or
/// nothing.
fn suggestion(code: &str, rules: &[&'static Rule]) -> String {
    if code.len() != 6 {
        return String::new();
    }
    did_you_mean(code, rules.iter().map(|r| r.code))
        .map(|close| format!("; did you mean `{close}`?"))
        .unwrap_or_default()
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tailpolicy_policy::{Code, Span};

    static SYNTAX: Rule = Rule {
        code: "TP0001",
        name: "test-syntax",
        category: tailpolicy_policy::Category::Correctness,
        severity: Severity::Error,
        summary: "s",
        explanation: "s",
    };
    static UNDEFINED: Rule = Rule {
        code: "TP0298",
        name: "test-undefined-tag",
        category: tailpolicy_policy::Category::Correctness,
        severity: Severity::Error,
        summary: "s",
        explanation: "s",
    };
    static UNUSED: Rule = Rule {
        code: "TP1998",
        name: "test-unused-group",
        category: tailpolicy_policy::Category::Suspicious,
        severity: Severity::Warning,
        summary: "s",
        explanation: "s",
    };
    static NOTE: Rule = Rule {
        code: "TP1999",
        name: "test-note",
        category: tailpolicy_policy::Category::Style,
        severity: Severity::Info,
        summary: "s",
        explanation: "s",
    };
    static RULES: &[&Rule] = &[&SYNTAX, &UNDEFINED, &UNUSED, &NOTE];

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(Path::new("conf/tailpolicy.toml"), text, RULES).map_err(|e| e.to_string())
    }

    fn diagnostics() -> Diagnostics {
        [&SYNTAX, &UNDEFINED, &UNUSED, &NOTE]
            .into_iter()
            .map(|r| Diagnostic::new(Code(r), Span::empty(0), "m"))
            .collect()
    }

    fn codes_and_severities(d: &Diagnostics) -> Vec<(&'static str, Severity)> {
        d.iter().map(|d| (d.code.as_str(), d.severity)).collect()
    }

    #[test]
    fn empty_config_changes_nothing() -> Result<(), String> {
        let config = parse("")?;
        assert_eq!(config.apply("p.hujson", diagnostics()), diagnostics());
        Ok(())
    }

    #[test]
    fn select_ignore_severity_and_per_file() -> Result<(), String> {
        let config = parse(
            "nodes = \"inv.json\"\n[lint]\nselect = [\"TP1\", \"tp0298\"]\nignore = [\"TP1999\"]\n\
             [lint.severity]\nTP1998 = \"error\"\nTP0298 = \"info\"\n\
             [lint.per-file-ignores]\n\"legacy/**/*.hujson\" = [\"TP02\"]\n",
        )?;
        assert_eq!(config.nodes, Some(PathBuf::from("conf/inv.json")));
        assert_eq!(
            codes_and_severities(&config.apply("p.hujson", diagnostics())),
            vec![
                ("TP0001", Severity::Error),
                ("TP0298", Severity::Info),
                ("TP1998", Severity::Error)
            ]
        );
        assert_eq!(
            codes_and_severities(&config.apply("legacy/a/b/p.hujson", diagnostics())),
            vec![("TP0001", Severity::Error), ("TP1998", Severity::Error)]
        );
        Ok(())
    }

    #[test]
    fn prefix_selectors_never_drop_syntax_errors() -> Result<(), String> {
        let config = parse("[lint]\nselect = [\"TP1\"]\nignore = [\"TP\"]\n")?;
        assert_eq!(
            codes_and_severities(&config.apply("p", diagnostics())),
            vec![("TP0001", Severity::Error)]
        );
        Ok(())
    }

    #[test]
    fn errors_have_positions() {
        let cases = [
            (
                "[lint]\nignor = []\n",
                "conf/tailpolicy.toml:2:1: unknown field `ignor`",
            ),
            (
                "bogus = 1\n",
                "conf/tailpolicy.toml:1:1: unknown field `bogus`",
            ),
            (
                "[lint]\nignore = [\"TP1998\", \"TP9999\"]\n",
                "conf/tailpolicy.toml:2:21: unknown code `TP9999` in `ignore`",
            ),
            (
                "[lint]\nselect = [\"TP3\"]\n",
                "conf/tailpolicy.toml:2:11: no code starts with `TP3` in `select`",
            ),
            (
                "[lint]\nignore = [\"F401\"]\n",
                "conf/tailpolicy.toml:2:11: `F401` in `ignore` is not a code",
            ),
            (
                "[lint]\nignore = [\"TP0001\"]\n",
                "conf/tailpolicy.toml:2:11: syntax error `TP0001` cannot be ignored",
            ),
            (
                "[lint.severity]\nTP1998 = \"fatal\"\n",
                "conf/tailpolicy.toml:2:10: unknown severity `fatal`",
            ),
            (
                "[lint]\nignore = [\"TP1988\"]\n",
                "conf/tailpolicy.toml:2:11: unknown code `TP1988` in `ignore`; did you mean `TP1998`?",
            ),
            (
                "[lint.severity]\nTP1990 = \"error\"\n",
                "conf/tailpolicy.toml:2:1: unknown code `TP1990` in `severity`",
            ),
            (
                "[lint.severity]\nTP0001 = \"info\"\n",
                "conf/tailpolicy.toml:2:1: the severity of syntax error `TP0001`",
            ),
            (
                "[lint.per-file-ignores]\n\"*.hujson\" = [\"TP7\"]\n",
                "conf/tailpolicy.toml:2:15: no code starts with `TP7`",
            ),
            ("[lint\n", "conf/tailpolicy.toml:1:"),
        ];
        for (text, expected) in cases {
            let got = parse(text).err().unwrap_or_default();
            assert!(
                got.starts_with(&format!("invalid configuration: {expected}")),
                "{text:?}: got {got:?}, expected {expected:?}"
            );
        }
    }

    #[test]
    fn globs() {
        let m = |p: &str, s: &str| Glob::new(p).is_ok_and(|g| g.matches(s));
        assert!(m("*.hujson", "a/b/policy.hujson"));
        assert!(m("legacy/*.hujson", "legacy/p.hujson"));
        assert!(!m("legacy/*.hujson", "legacy/x/p.hujson"));
        assert!(m("legacy/**/*.hujson", "legacy/p.hujson"));
        assert!(m("legacy/**/*.hujson", "legacy/x/y/p.hujson"));
        assert!(m("**", "a/b"));
        assert!(m("p?.hujson", "p1.hujson"));
        assert!(!m("p?.hujson", "p12.hujson"));
        assert!(!m("a/*", "b/a/x"));
    }

    #[test]
    fn relative_paths_are_from_the_config_directory() -> Result<(), String> {
        let config = parse("")?;
        let cwd = Path::new("/work/repo");
        assert_eq!(
            config.relative_path(Path::new("conf/legacy/./p.hujson"), cwd),
            "legacy/p.hujson"
        );
        assert_eq!(
            config.relative_path(Path::new("/work/repo/conf/p.hujson"), cwd),
            "p.hujson"
        );
        let defaults = Config::default();
        assert_eq!(
            defaults.relative_path(Path::new("x/../p.hujson"), cwd),
            "p.hujson"
        );
        Ok(())
    }
}
