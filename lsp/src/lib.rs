//! # tailpolicy-lsp
//!
//! The language server of tailnet policy files: `tailpolicy lsp` speaks the Language
//! Server Protocol over stdio on top of the analysis host
//! ([`tailpolicy_workspace::Workspace`]), one host per policy (the fragments of a
//! multi-file policy share one), fed with the editor's buffers.
//!
//! Layout: [`line_index`] (UTF-16 positions ↔ byte offsets), [`context`] (where the
//! cursor is in a possibly broken text), [`diagnostics`], [`features`] and [`actions`]
//! (pure functions of the host), [`state`] (dispatch, buffers, roots), and [`run`] the
//! stdio loop, the only IO besides reading the policy, configuration and inventory.

pub mod actions;
pub mod context;
pub mod diagnostics;
pub mod features;
pub mod line_index;
pub mod state;
pub mod tokens;

use lsp_server::{Connection, ErrorCode, Message, Response};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionProviderCapability, CompletionOptions,
    HoverProviderCapability, InitializeResult, OneOf, RenameOptions, SemanticTokensFullOptions,
    SemanticTokensOptions, SemanticTokensServerCapabilities, ServerCapabilities, ServerInfo,
    TextDocumentSyncCapability, TextDocumentSyncKind, TextDocumentSyncOptions,
    TextDocumentSyncSaveOptions,
};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

pub use state::State;

/// What the server offers.
pub fn capabilities() -> InitializeResult {
    InitializeResult {
        capabilities: ServerCapabilities {
            text_document_sync: Some(TextDocumentSyncCapability::Options(
                TextDocumentSyncOptions {
                    open_close: Some(true),
                    change: Some(TextDocumentSyncKind::INCREMENTAL),
                    save: Some(TextDocumentSyncSaveOptions::Supported(true)),
                    ..TextDocumentSyncOptions::default()
                },
            )),
            hover_provider: Some(HoverProviderCapability::Simple(true)),
            definition_provider: Some(OneOf::Left(true)),
            references_provider: Some(OneOf::Left(true)),
            rename_provider: Some(OneOf::Right(RenameOptions {
                prepare_provider: Some(true),
                work_done_progress_options: Default::default(),
            })),
            completion_provider: Some(CompletionOptions {
                trigger_characters: Some(vec!["\"".into(), ":".into()]),
                ..CompletionOptions::default()
            }),
            document_symbol_provider: Some(OneOf::Left(true)),
            document_formatting_provider: Some(OneOf::Left(true)),
            semantic_tokens_provider: Some(
                SemanticTokensServerCapabilities::SemanticTokensOptions(SemanticTokensOptions {
                    legend: tokens::legend(),
                    full: Some(SemanticTokensFullOptions::Bool(true)),
                    ..SemanticTokensOptions::default()
                }),
            ),
            inlay_hint_provider: Some(OneOf::Left(true)),
            code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                code_action_kinds: Some(vec![
                    CodeActionKind::QUICKFIX,
                    CodeActionKind::SOURCE_FIX_ALL,
                ]),
                ..CodeActionOptions::default()
            })),
            ..ServerCapabilities::default()
        },
        server_info: Some(ServerInfo {
            name: "tailpolicy".to_owned(),
            version: Some(env!("CARGO_PKG_VERSION").to_owned()),
        }),
    }
}

/// Serves the protocol over stdin/stdout until `exit`. A panic inside a handler is
/// answered with an error (or dropped, for a notification); the server keeps running.
pub fn run() -> Result<(), String> {
    let (connection, threads) = Connection::stdio();
    let mut state = State::new();
    let send = |m: Message| connection.sender.send(m).map_err(|e| e.to_string());
    loop {
        let message = match connection.receiver.recv_timeout(Duration::from_secs(1)) {
            Ok(m) => m,
            Err(crossbeam_timeout) if crossbeam_timeout.is_timeout() => {
                for m in state.poll_files() {
                    send(m)?;
                }
                continue;
            }
            Err(_) => break,
        };
        if let Message::Notification(n) = &message
            && n.method == "exit"
        {
            break;
        }
        let id = match &message {
            Message::Request(r) => Some(r.id.clone()),
            _ => None,
        };
        match catch_unwind(AssertUnwindSafe(|| state.handle(message))) {
            Ok(out) => {
                for m in out {
                    send(m)?;
                }
            }
            Err(_) => {
                if let Some(id) = id {
                    send(Message::Response(Response::new_err(
                        id,
                        ErrorCode::InternalError as i32,
                        "internal error while answering this request (please report it)".to_owned(),
                    )))?;
                }
            }
        }
    }
    drop(connection);
    threads.join().map_err(|e| e.to_string())
}
