//! `tailpolicy node` on platforms other than Linux: the node needs a TUN device, `SO_MARK`
//! and `ip` routes (see `tailpolicy-node`), so here the command only says so. Every other
//! command works everywhere.

use crate::exit::Exit;
use std::ffi::OsString;

/// Arguments of `tailpolicy node` where it cannot run: whatever is given, the answer is the
/// same.
#[derive(Debug, clap::Args)]
pub struct NodeArgs {
    /// Ignored: `tailpolicy node` needs Linux.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        num_args = 0..,
        hide = true
    )]
    pub args: Vec<OsString>,
}

/// Says that `tailpolicy node` needs Linux, on stderr, and exits 2.
pub fn run(_args: &NodeArgs) -> Exit {
    eprintln!("{}", message(std::env::consts::OS));
    Exit::Failure
}

/// The error printed on `os` (a [`std::env::consts::OS`] value).
fn message(os: &str) -> String {
    format!(
        "error: `tailpolicy node` needs Linux (a TUN device, `SO_MARK` and `ip` routes); this \
         build is for {os}. Every other command works here; run the node on a Linux host"
    )
}

#[cfg(test)]
mod tests {
    use super::message;

    #[test]
    fn names_the_platform_and_what_the_node_needs() {
        assert_eq!(
            message("windows"),
            "error: `tailpolicy node` needs Linux (a TUN device, `SO_MARK` and `ip` routes); \
             this build is for windows. Every other command works here; run the node on a \
             Linux host"
        );
    }
}
