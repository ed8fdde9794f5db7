//! The IO edge of the workspace: finding `tailpolicy.toml`, expanding `[policy] files`,
//! reading policy fragments (or standard input) and the inventory, and feeding them to
//! a [`Workspace`]. The CLI, the node and the servers load through here; the
//! [`Workspace`] itself never touches the file system.

use crate::config::{Config, ConfigError, FILE_NAME, Glob};
use crate::files::{Contents, FileInput};
use crate::host::Workspace;
use std::fmt;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use tailpolicy_policy::rules::ALL_RULES;

/// The name standing for standard input on the command line.
pub const STDIN_ARG: &str = "-";

/// The display name given to standard input.
pub const STDIN_NAME: &str = "<stdin>";

/// The largest file accepted: spans are `u32` byte offsets.
const MAX_LEN: u64 = u32::MAX as u64;

/// Why a workspace could not be loaded: the tool cannot run (exit code 2).
#[derive(Debug)]
pub enum LoadError {
    /// A file could not be read.
    Read {
        /// The path as given.
        name: String,
        /// Why.
        reason: String,
    },
    /// The configuration is invalid.
    Config(ConfigError),
    /// No policy was given and the configuration names none.
    NoPolicy,
    /// A `[policy] files` entry matches no file.
    NoFragment {
        /// The configuration file.
        config: PathBuf,
        /// The entry.
        pattern: String,
    },
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read { name, reason } => write!(f, "cannot read `{name}`: {reason}"),
            LoadError::Config(e) => write!(f, "{e}"),
            LoadError::NoPolicy => f.write_str(
                "no policy given: name a policy file, or list the fragments under `[policy] files` in tailpolicy.toml",
            ),
            LoadError::NoFragment { config, pattern } => write!(
                f,
                "`{pattern}` in `[policy] files` of `{}` matches no file",
                config.display()
            ),
        }
    }
}

impl std::error::Error for LoadError {}

/// What to load: the command line's view.
#[derive(Clone, Debug, Default)]
pub struct LoadRequest {
    /// The policy file (`-` for standard input). `None`: the configuration's
    /// `[policy] files`.
    pub policy: Option<String>,
    /// `--nodes`; `None`: the configuration's `nodes`, if any.
    pub nodes: Option<PathBuf>,
    /// `--config`; `None`: discovered by walking up from the policy's directory (or
    /// the working directory).
    pub config: Option<PathBuf>,
    /// The working directory relative paths are resolved against.
    pub cwd: PathBuf,
    /// `--dialect`, overriding the configuration's `dialect`.
    pub dialect: Option<tailpolicy_policy::Dialect>,
}

/// A loaded workspace and where its configuration came from.
#[derive(Debug)]
pub struct Loaded {
    /// The workspace, fed with every input.
    pub workspace: Workspace,
    /// The configuration file, if one was found or given.
    pub config_path: Option<PathBuf>,
}

/// Reads one input: a path, or `-` for standard input.
pub fn read(arg: &str) -> Result<(Option<PathBuf>, Vec<u8>), LoadError> {
    let error = |reason: String| LoadError::Read {
        name: arg.to_owned(),
        reason,
    };
    if arg == STDIN_ARG {
        let mut bytes = Vec::new();
        std::io::stdin()
            .lock()
            .take(MAX_LEN + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| error(e.to_string()))?;
        check_len(bytes.len()).map_err(error)?;
        return Ok((None, bytes));
    }
    let path = Path::new(arg);
    let metadata = std::fs::metadata(path).map_err(|e| error(io_reason(&e)))?;
    if metadata.is_dir() {
        return Err(error("it is a directory".to_owned()));
    }
    if metadata.len() > MAX_LEN {
        return Err(error("it is larger than 4 GiB".to_owned()));
    }
    let bytes = std::fs::read(path).map_err(|e| error(io_reason(&e)))?;
    check_len(bytes.len()).map_err(error)?;
    Ok((Some(path.to_owned()), bytes))
}

fn check_len(len: usize) -> Result<(), String> {
    if u64::try_from(len).unwrap_or(u64::MAX) > MAX_LEN {
        Err("it is larger than 4 GiB".to_owned())
    } else {
        Ok(())
    }
}

fn io_reason(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_owned(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_owned(),
        _ => e.to_string(),
    }
}

/// The nearest `tailpolicy.toml` in `dir` or its ancestors.
pub fn discover_config(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .map(|d| d.join(FILE_NAME))
        .find(|p| p.is_file())
}

/// Reads and parses the configuration file at `path`.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
        path: path.to_owned(),
        position: None,
        message: format!("cannot read it: {e}"),
    })?;
    Config::parse(path, &text, ALL_RULES)
}

/// The configuration for a policy at `policy` (or, for `None`, the working directory):
/// `explicit` when given, else discovered. Returns the defaults when there is none.
pub fn config_for(
    explicit: Option<&Path>,
    policy: Option<&Path>,
    cwd: &Path,
) -> Result<(Config, Option<PathBuf>), ConfigError> {
    let path = match explicit {
        Some(p) => Some(p.to_owned()),
        None => {
            let dir = match policy {
                Some(p) => cwd.join(p).parent().map(Path::to_owned).unwrap_or_default(),
                None => cwd.to_owned(),
            };
            discover_config(&dir)
        }
    };
    match path {
        Some(path) => Ok((load_config(&path)?, Some(path))),
        None => Ok((Config::default(), None)),
    }
}

/// The fragment paths `[policy] files` names: explicit names in order, then every
/// glob's matches (files under the configuration's directory) in sorted order, each
/// once. Paths are joined to the configuration's directory.
pub fn fragment_paths(config: &Config, config_path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let dir = config.dir.clone().unwrap_or_default();
    let mut explicit = Vec::new();
    let mut globbed = Vec::new();
    for pattern in &config.policy.files {
        if Glob::is_literal(pattern) {
            let path = dir.join(pattern);
            if !explicit.contains(&path) {
                explicit.push(path);
            }
            continue;
        }
        let glob = Glob::new(pattern).map_err(|message| {
            LoadError::Config(ConfigError {
                path: config_path.to_owned(),
                position: None,
                message,
            })
        })?;
        let mut found = Vec::new();
        walk(&dir, &dir, &mut |relative, path| {
            if glob.matches(relative) {
                found.push(path.to_owned());
            }
        });
        if found.is_empty() {
            return Err(LoadError::NoFragment {
                config: config_path.to_owned(),
                pattern: pattern.clone(),
            });
        }
        found.sort();
        globbed.extend(found);
    }
    for path in globbed {
        if !explicit.contains(&path) {
            explicit.push(path);
        }
    }
    Ok(explicit)
}

/// Calls `visit(relative, path)` for every file under `dir` (skipping hidden
/// directories and `target`), relative paths `/`-separated.
fn walk(root: &Path, dir: &Path, visit: &mut dyn FnMut(&str, &Path)) {
    let Ok(entries) = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    }) else {
        return;
    };
    let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = dir.join(&*name);
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            if !name.starts_with('.') && name != "target" && name != "node_modules" {
                walk(root, &path, visit);
            }
        } else if kind.is_file() {
            let relative = path
                .strip_prefix(root)
                .unwrap_or(&path)
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            visit(&relative, &path);
        }
    }
}

/// The display name of a path: as the user would write it relative to `cwd`.
fn display_name(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

/// Reads a file into a [`FileInput`] for `config`.
pub fn file_input(
    arg: &str,
    name: String,
    config: &Config,
    cwd: &Path,
) -> Result<FileInput, LoadError> {
    let (path, bytes) = read(arg)?;
    let relative = path
        .as_deref()
        .map(|p| config.relative_path(p, cwd))
        .unwrap_or_default();
    Ok(FileInput {
        name,
        relative,
        path,
        contents: Contents::Bytes(bytes),
        version: 0,
    })
}

/// Whether `policy` is one of the fragments of `config`'s multi-file policy.
fn is_fragment(policy: &Path, fragments: &[PathBuf], cwd: &Path) -> bool {
    let target = normalise(&cwd.join(policy));
    fragments.iter().any(|f| normalise(&cwd.join(f)) == target)
}

fn normalise(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Every file a [`load`] of `request` reads, for a caller that reloads when one changes:
/// the configuration file, every fragment its `[policy] files` names (globs expanded
/// now, so a fragment created later is in the next call's list), the policy given and
/// the inventory. Best effort: what cannot be resolved (an unreadable configuration) is
/// left out, and the load itself reports it. Standard input is never listed.
pub fn watched_files(request: &LoadRequest) -> Vec<PathBuf> {
    let cwd = &request.cwd;
    let policy_path = request
        .policy
        .as_deref()
        .filter(|p| *p != STDIN_ARG)
        .map(Path::new);
    let mut files: Vec<PathBuf> = Vec::new();
    let mut config = None;
    if let Ok((c, Some(path))) = config_for(request.config.as_deref(), policy_path, cwd) {
        files.push(path.clone());
        if !c.policy.files.is_empty()
            && let Ok(fragments) = fragment_paths(&c, &path)
        {
            files.extend(fragments);
        }
        config = Some(c);
    }
    if let Some(p) = policy_path {
        files.push(cwd.join(p));
    }
    let nodes = request
        .nodes
        .clone()
        .or_else(|| config.and_then(|c| c.nodes));
    if let Some(n) = nodes {
        files.push(cwd.join(n));
    }
    let mut seen = std::collections::HashSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}

/// Loads what `request` names: the configuration, the policy (the file given, all of
/// its multi-file policy when it is one of the configured fragments, or the configured
/// fragments when none is given) and the inventory (`--nodes`, else the configuration's
/// `nodes`).
pub fn load(request: &LoadRequest) -> Result<Loaded, LoadError> {
    let cwd = &request.cwd;
    let policy_path = request
        .policy
        .as_deref()
        .filter(|p| *p != STDIN_ARG)
        .map(Path::new);
    let (config, config_path) =
        config_for(request.config.as_deref(), policy_path, cwd).map_err(LoadError::Config)?;
    let fragments = match &config_path {
        Some(path) if !config.policy.files.is_empty() => fragment_paths(&config, path)?,
        _ => Vec::new(),
    };
    let use_fragments = match (&request.policy, policy_path) {
        (None, _) => true,
        (Some(_), Some(p)) => is_fragment(p, &fragments, cwd),
        (Some(_), None) => false,
    };
    let inputs = if use_fragments {
        if fragments.is_empty() {
            return Err(LoadError::NoPolicy);
        }
        fragments
            .iter()
            .map(|p| file_input(&p.to_string_lossy(), display_name(p, cwd), &config, cwd))
            .collect::<Result<Vec<_>, _>>()?
    } else {
        let arg = request.policy.clone().unwrap_or_default();
        let name = if arg == STDIN_ARG {
            STDIN_NAME.to_owned()
        } else {
            arg.clone()
        };
        vec![file_input(&arg, name, &config, cwd)?]
    };
    let nodes = request.nodes.clone().or_else(|| config.nodes.clone());
    let inventory = match nodes {
        Some(path) => {
            let arg = path.to_string_lossy().into_owned();
            let name = if request.nodes.is_some() {
                arg.clone()
            } else {
                display_name(&path, cwd)
            };
            Some(file_input(&arg, name, &config, cwd)?)
        }
        None => None,
    };
    let mut workspace = Workspace::new(config);
    workspace.set_dialect(request.dialect);
    workspace.set_fragments(inputs);
    workspace.set_inventory(inventory);
    Ok(Loaded {
        workspace,
        config_path,
    })
}
