//! Documented exit codes, shared by every subcommand.

use std::process::ExitCode;

/// How a run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// 0: nothing to report (warnings allowed unless denied), or access unchanged.
    Clean,
    /// 1: findings: errors in a policy, failed tests, a changed diff, files to reformat.
    Findings,
    /// 2: the tool could not run: bad arguments, unreadable files, invalid configuration.
    Failure,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        match e {
            Exit::Clean => ExitCode::SUCCESS,
            Exit::Findings => ExitCode::from(1),
            Exit::Failure => ExitCode::from(2),
        }
    }
}
