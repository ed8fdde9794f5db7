//! The tailpolicy extension for Zed: starts `tailpolicy lsp` for HuJSON policy files.
//!
//! The binary is, in order: `lsp.tailpolicy.binary.path` from the Zed settings (with
//! its `arguments`, default `["lsp"]`), else `tailpolicy` found on the worktree's
//! `PATH`. Nothing is downloaded: install `tailpolicy` as the README says.

use zed_extension_api::{self as zed, LanguageServerId, Result, settings::LspSettings};

/// The extension's state: none; every start reads the settings afresh.
struct Tailpolicy;

impl zed::Extension for Tailpolicy {
    fn new() -> Self {
        Tailpolicy
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let binary = LspSettings::for_worktree("tailpolicy", worktree)
            .ok()
            .and_then(|s| s.binary);
        let configured = binary.as_ref().and_then(|b| b.path.clone());
        let args = binary
            .and_then(|b| b.arguments)
            .unwrap_or_else(|| vec!["lsp".to_owned()]);
        let command = match configured {
            Some(path) => path,
            None => worktree.which("tailpolicy").ok_or_else(|| {
                "`tailpolicy` is not on PATH: install it (see the tailpolicy README) or set \
                 lsp.tailpolicy.binary.path in the Zed settings"
                    .to_owned()
            })?,
        };
        Ok(zed::Command {
            command,
            args,
            env: worktree.shell_env(),
        })
    }
}

zed::register_extension!(Tailpolicy);
