//! The accepted policy: in memory ([`Store`]) and on disk ([`StateDir`], every accepted
//! version kept).
//!
//! On disk a state directory holds `versions/NNNNNNNN.hujson`, one file per accepted
//! version, numbered from 1; the current policy is the highest number. A version is
//! written to a temporary file, synced, renamed into place and the directory synced, so
//! a crash mid-write leaves at worst a stray temporary file (ignored on start) and the
//! last accepted version intact.

use crate::analysis::{self, Context, DEFAULT_POLICY};
use crate::error::ApiError;
use std::fs::{self, File};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::UNIX_EPOCH;
use tailpolicy_workspace::Workspace;

/// One stored version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// Its number (1 is the first accepted).
    pub number: u64,
    /// Seconds since the Unix epoch when it was written.
    pub created: u64,
    /// Its file.
    pub path: PathBuf,
}

/// A `--state` directory.
#[derive(Clone, Debug)]
pub struct StateDir {
    dir: PathBuf,
}

impl StateDir {
    /// Opens (creating it if needed) the state directory `dir`.
    pub fn open(dir: &Path) -> io::Result<Self> {
        fs::create_dir_all(dir.join("versions"))?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    fn versions_dir(&self) -> PathBuf {
        self.dir.join("versions")
    }

    /// Every stored version, oldest first.
    pub fn versions(&self) -> io::Result<Vec<Version>> {
        let mut out = Vec::new();
        for entry in fs::read_dir(self.versions_dir())? {
            let entry = entry?;
            let name = entry.file_name();
            let Some(number) = name
                .to_str()
                .and_then(|n| n.strip_suffix(".hujson"))
                .and_then(|n| n.parse::<u64>().ok())
            else {
                continue;
            };
            let created = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |d| d.as_secs());
            out.push(Version {
                number,
                created,
                path: entry.path(),
            });
        }
        out.sort_by_key(|v| v.number);
        Ok(out)
    }

    /// The text of version `number`.
    pub fn read(&self, number: u64) -> io::Result<String> {
        fs::read_to_string(self.path(number))
    }

    fn path(&self, number: u64) -> PathBuf {
        self.versions_dir().join(format!("{number:08}.hujson"))
    }

    /// The newest version and its text.
    pub fn latest(&self) -> io::Result<Option<(u64, String)>> {
        match self.versions()?.last() {
            Some(v) => Ok(Some((v.number, self.read(v.number)?))),
            None => Ok(None),
        }
    }

    /// Stores `text` as the next version, atomically; returns its number.
    pub fn save(&self, text: &str) -> io::Result<u64> {
        let number = self.versions()?.last().map_or(1, |v| v.number + 1);
        let dir = self.versions_dir();
        let tmp = dir.join(format!(".{number:08}.hujson.tmp"));
        {
            let mut file = File::create(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
        }
        fs::rename(&tmp, self.path(number))?;
        File::open(&dir)?.sync_all()?;
        Ok(number)
    }

    /// Stores a copy of version `number` as the newest; returns the new number.
    pub fn rollback(&self, number: u64) -> io::Result<u64> {
        let text = self.read(number)?;
        self.save(&text)
    }
}

/// The current accepted policy.
struct Current {
    workspace: Workspace,
    text: String,
    etag: String,
}

/// The served tailnet's accepted state: the policy (as a [`Workspace`]), its text and
/// ETag, and the optional state directory. Cheap to clone (shared).
///
/// The explorer reads it with [`Store::read`]; only the API changes it.
#[derive(Clone)]
pub struct Store {
    current: Arc<Mutex<Current>>,
    context: Arc<Context>,
    state: Option<StateDir>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("state", &self.state).finish()
    }
}

/// The text GET serves for a workspace: its one file, or (a multi-file policy) the
/// fragments combined as `tailpolicy merge` prints them.
pub fn served_text(ws: &Workspace) -> String {
    let inputs: Vec<_> = ws.fragment_inputs().collect();
    match inputs.as_slice() {
        [one] => one.contents.to_text(),
        [] => DEFAULT_POLICY.to_owned(),
        _ => tailpolicy_workspace::combine::combined_source(ws)
            .unwrap_or_else(|_| ws.merged().text.clone()),
    }
}

impl Store {
    /// A store starting from the newest version in `state` if there is one, else from
    /// `initial` (the configured policy and inventory; `None`: the default policy).
    /// `context` is the configuration and inventory every candidate is checked with.
    pub fn new(
        context: Context,
        initial: Option<Workspace>,
        state: Option<StateDir>,
    ) -> io::Result<Self> {
        let stored = match &state {
            Some(s) => s.latest()?,
            None => None,
        };
        let (workspace, text) = match (stored, initial) {
            (Some((_, text)), _) => (context.workspace(&text), text),
            (None, Some(ws)) => {
                let text = served_text(&ws);
                (ws, text)
            }
            (None, None) => (context.workspace(DEFAULT_POLICY), DEFAULT_POLICY.to_owned()),
        };
        let etag = analysis::etag(&text);
        Ok(Self {
            current: Arc::new(Mutex::new(Current {
                workspace,
                text,
                etag,
            })),
            context: Arc::new(context),
            state,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `f` with the current accepted workspace and its ETag (quoted), under the
    /// store's lock: keep `f` short, and call it off the async executor
    /// (`tokio::task::spawn_blocking`) when it analyses.
    pub fn read<R>(&self, f: impl FnOnce(&Workspace, &str) -> R) -> R {
        let current = self.lock();
        f(&current.workspace, &current.etag)
    }

    /// The current policy text and ETag.
    pub fn current(&self) -> (String, String) {
        let current = self.lock();
        (current.text.clone(), current.etag.clone())
    }

    /// The configuration and inventory candidates are checked with.
    pub fn context(&self) -> &Context {
        &self.context
    }

    /// The state directory, if any.
    pub fn state(&self) -> Option<&StateDir> {
        self.state.as_ref()
    }

    /// Replaces the policy with `text` (already checked into `workspace`) when
    /// `if_match` (a quoted ETag or `"ts-default"`) holds; stores it first. Returns the
    /// new ETag.
    pub fn replace(
        &self,
        text: String,
        workspace: Workspace,
        if_match: Option<&str>,
    ) -> Result<String, ApiError> {
        let mut current = self.lock();
        if let Some(expected) = if_match {
            let expected = expected.trim();
            let ok = if expected == "\"ts-default\"" || expected == "ts-default" {
                current.etag == analysis::etag(DEFAULT_POLICY)
            } else {
                expected == "*" || unquote(expected) == unquote(&current.etag)
            };
            if !ok {
                return Err(ApiError::precondition_failed());
            }
        }
        if let Some(state) = &self.state {
            state
                .save(&text)
                .map_err(|e| ApiError::internal(format!("cannot store the policy: {e}")))?;
        }
        let etag = analysis::etag(&text);
        *current = Current {
            workspace,
            text,
            etag: etag.clone(),
        };
        Ok(etag)
    }
}

fn unquote(s: &str) -> &str {
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"')
}
