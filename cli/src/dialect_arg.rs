//! `--dialect`, shared by every command that reads a policy.

use tailpolicy_policy::Dialect;

/// The `--dialect` option.
#[derive(Clone, Copy, Debug, Default, clap::Args)]
pub struct DialectArgs {
    /// Whose rules the policy is read and checked by: `tailscale` (default) or
    /// `headscale` (0.29). Overrides `dialect` in tailpolicy.toml.
    #[arg(long, value_name = "DIALECT")]
    pub dialect: Option<Dialect>,
}
