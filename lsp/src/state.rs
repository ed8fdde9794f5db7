//! The server's state: open buffers and one analysis host per policy (a multi-file
//! policy's fragments share one), and the dispatch of every protocol message to the
//! features. [`State::handle`] takes a message and returns the messages to send; the
//! stdio loop ([`crate::run`]) is the only IO besides reading policy files, the
//! configuration and the inventory from disk.

use crate::actions;
use crate::diagnostics;
use crate::features::{self, Doc};
use crate::line_index::LineIndex;
use lsp_server::{ErrorCode, Message, Notification, Request, Response};
use lsp_types::notification::{self as notif, Notification as _};
use lsp_types::request::{self as req, Request as _};
use lsp_types::{
    CodeActionParams, CompletionParams, DidChangeTextDocumentParams, DidCloseTextDocumentParams,
    DidOpenTextDocumentParams, DocumentFormattingParams, DocumentSymbolParams,
    DocumentSymbolResponse, GotoDefinitionParams, GotoDefinitionResponse, HoverParams,
    InlayHintParams, Location, PublishDiagnosticsParams, ReferenceParams, RenameParams,
    SemanticTokens, SemanticTokensParams, TextDocumentPositionParams, Url,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use tailpolicy_workspace::{Config, Contents, FileId, FileInput, Workspace, fs};

/// One analysis host and where its inputs come from.
#[derive(Debug)]
struct Root {
    /// The fragments' URIs, in order (index = [`FileId`]).
    uris: Vec<Url>,
    /// The host; fragments are named by their URI.
    ws: Workspace,
    /// The inventory on disk and its modification time when read.
    inventory: Option<(PathBuf, Option<SystemTime>)>,
    /// The configuration file and every fragment it names, with their modification
    /// times when the root was made: a change (an edited `tailpolicy.toml`, a fragment
    /// created, removed or changed on disk) rebuilds the root.
    sources: Vec<(PathBuf, Option<SystemTime>)>,
    /// Whether it was made for one buffer (dropped when it closes).
    single: bool,
}

/// The configuration found above `path` (if any), what it says, and the fragment
/// paths it names (globs expanded now).
fn configuration(path: Option<&Path>) -> (Option<PathBuf>, Config, Vec<PathBuf>) {
    let config_path = path.and_then(Path::parent).and_then(fs::discover_config);
    let config = config_path
        .as_deref()
        .and_then(|p| fs::load_config(p).ok())
        .unwrap_or_default();
    let fragments = match &config_path {
        Some(cp) if !config.policy.files.is_empty() => {
            fs::fragment_paths(&config, cp).unwrap_or_default()
        }
        _ => Vec::new(),
    };
    (config_path, config, fragments)
}

/// The configuration and fragment files of a root, stamped with their times.
fn stamp_sources(
    config_path: Option<&Path>,
    fragments: &[PathBuf],
) -> Vec<(PathBuf, Option<SystemTime>)> {
    config_path
        .into_iter()
        .chain(fragments.iter().map(PathBuf::as_path))
        .map(|p| (p.to_owned(), mtime(p)))
        .collect()
}

/// The server state.
#[derive(Debug, Default)]
pub struct State {
    roots: Vec<Root>,
    open: HashMap<Url, ()>,
    published: HashMap<Url, Vec<lsp_types::Diagnostic>>,
    /// Set by `shutdown`.
    pub shutdown: bool,
}

fn read_text(path: &Path) -> String {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn input(uri: &Url, text: String, version: i32, config: &Config) -> FileInput {
    let mut input = FileInput::text(uri.as_str(), text);
    input.version = version;
    if let Ok(path) = uri.to_file_path() {
        let cwd = config.dir.clone().unwrap_or_default();
        input.relative = config.relative_path(&path, &cwd);
        input.path = Some(path);
    }
    input
}

fn params<P: DeserializeOwned>(value: Value) -> Result<P, String> {
    serde_json::from_value(value).map_err(|e| format!("invalid parameters: {e}"))
}

impl State {
    /// An empty state.
    pub fn new() -> Self {
        Self::default()
    }

    /// The root serving `uri`, and the fragment it is.
    fn find(&self, uri: &Url) -> Option<(usize, FileId)> {
        self.roots
            .iter()
            .enumerate()
            .find_map(|(i, r)| r.uris.iter().position(|u| u == uri).map(|f| (i, FileId(f))))
    }

    /// The root for a newly opened `uri`: the multi-file policy it belongs to, or a
    /// host of its own with the configuration found above it.
    fn open_root(&mut self, uri: &Url) -> usize {
        let path = uri.to_file_path().ok();
        let (config_path, config, fragments) = configuration(path.as_deref());
        let sources = stamp_sources(config_path.as_deref(), &fragments);
        let is_fragment = path
            .as_ref()
            .is_some_and(|p| fragments.iter().any(|f| f == p));
        let inventory = config.nodes.clone().map(|p| (p.clone(), mtime(&p)));
        let (uris, inputs): (Vec<Url>, Vec<FileInput>) = if is_fragment {
            fragments
                .iter()
                .filter_map(|p| {
                    let u = Url::from_file_path(p).ok()?;
                    let i = input(&u, read_text(p), 0, &config);
                    Some((u, i))
                })
                .unzip()
        } else {
            (
                vec![uri.clone()],
                vec![input(uri, String::new(), 0, &config)],
            )
        };
        let inv_input = inventory.as_ref().map(|(p, _)| {
            let mut i = FileInput::text(
                Url::from_file_path(p).map(String::from).unwrap_or_default(),
                read_text(p),
            );
            i.path = Some(p.clone());
            i
        });
        let mut ws = Workspace::new(config);
        ws.set_fragments(inputs);
        ws.set_inventory(inv_input);
        self.roots.push(Root {
            uris,
            ws,
            inventory,
            sources,
            single: !is_fragment,
        });
        self.roots.len() - 1
    }

    /// Handles one message; returns what to send back.
    pub fn handle(&mut self, message: Message) -> Vec<Message> {
        match message {
            Message::Request(r) => vec![Message::Response(self.request(r))],
            Message::Notification(n) => self.notification(n),
            Message::Response(_) => Vec::new(),
        }
    }

    fn notification(&mut self, n: Notification) -> Vec<Message> {
        match n.method.as_str() {
            notif::DidOpenTextDocument::METHOD => {
                let Ok(p) = params::<DidOpenTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                let root = match self.find(&uri) {
                    Some((r, _)) => r,
                    None => self.open_root(&uri),
                };
                self.open.insert(uri.clone(), ());
                self.set_text(root, &uri, p.text_document.text, p.text_document.version);
                self.publish(root)
            }
            notif::DidChangeTextDocument::METHOD => {
                let Ok(p) = params::<DidChangeTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                let Some((root, file)) = self.find(&uri) else {
                    return Vec::new();
                };
                let mut text = self.text(root, file);
                for change in p.content_changes {
                    match change.range {
                        Some(range) => {
                            let span = LineIndex::new(&text).span(range);
                            if text.is_char_boundary(span.start as usize)
                                && text.is_char_boundary(span.end as usize)
                            {
                                text.replace_range(span.range(), &change.text);
                            }
                        }
                        None => text = change.text,
                    }
                }
                self.set_text(root, &uri, text, p.text_document.version);
                self.publish(root)
            }
            notif::DidCloseTextDocument::METHOD => {
                let Ok(p) = params::<DidCloseTextDocumentParams>(n.params) else {
                    return Vec::new();
                };
                let uri = p.text_document.uri;
                self.open.remove(&uri);
                let Some((root, _)) = self.find(&uri) else {
                    return Vec::new();
                };
                let single = self.roots.get(root).is_some_and(|r| r.single);
                if single {
                    self.roots.remove(root);
                    self.published.remove(&uri);
                    return vec![publish(uri, Vec::new(), None)];
                }
                if let Ok(path) = uri.to_file_path() {
                    self.set_text(root, &uri, read_text(&path), 0);
                }
                self.publish(root)
            }
            notif::DidSaveTextDocument::METHOD | notif::DidChangeWatchedFiles::METHOD => {
                self.poll_files()
            }
            notif::Exit::METHOD => Vec::new(),
            _ => Vec::new(),
        }
    }

    fn text(&self, root: usize, file: FileId) -> String {
        self.text_ref(root, file).into_owned()
    }

    /// A fragment's text, borrowed when the host holds it as text (editor buffers).
    fn text_ref(&self, root: usize, file: FileId) -> Cow<'_, str> {
        match self
            .roots
            .get(root)
            .and_then(|r| r.ws.fragment_inputs().nth(file.0))
            .map(|i| &i.contents)
        {
            Some(Contents::Text(t)) => Cow::Borrowed(t.as_str()),
            Some(other) => Cow::Owned(other.to_text()),
            None => Cow::Borrowed(""),
        }
    }

    fn set_text(&mut self, root: usize, uri: &Url, text: String, version: i32) {
        if let Some(r) = self.roots.get_mut(root) {
            let i = input(uri, text, version, r.ws.config());
            r.ws.set_fragment(i);
        }
    }

    /// Re-reads inventories whose file changed on disk, and rebuilds the roots whose
    /// configuration or set of fragments changed; returns the diagnostics to publish
    /// again.
    pub fn poll_files(&mut self) -> Vec<Message> {
        let mut out = self.rebuild_stale_roots();
        out.extend(self.poll_inventories());
        out
    }

    /// Rebuilds every root whose configuration file or fragment files changed on disk
    /// (including a fragment added or removed under a glob): open buffers keep their
    /// text and version, the rest is read again, and each open buffer then belongs to
    /// the root its new configuration gives it.
    fn rebuild_stale_roots(&mut self) -> Vec<Message> {
        let stale: Vec<usize> = self
            .roots
            .iter()
            .enumerate()
            .filter(|(_, r)| {
                let anchor = r.uris.first().and_then(|u| u.to_file_path().ok());
                let (config_path, _, fragments) = configuration(anchor.as_deref());
                let now = stamp_sources(config_path.as_deref(), &fragments);
                // An open buffer's file changes when it is saved: the buffer is
                // already what the host analyses, so only its presence counts.
                let is_open =
                    |p: &Path| Url::from_file_path(p).is_ok_and(|u| self.open.contains_key(&u));
                now.len() != r.sources.len()
                    || now
                        .iter()
                        .zip(&r.sources)
                        .any(|((p, t), (q, u))| p != q || (t != u && !is_open(p)))
            })
            .map(|(i, _)| i)
            .collect();
        if stale.is_empty() {
            return Vec::new();
        }
        // The open buffers of the stale roots, with their text and version.
        let mut buffers: Vec<(Url, String, i32)> = Vec::new();
        let mut previous: Vec<Url> = Vec::new();
        for &i in stale.iter().rev() {
            let root = self.roots.remove(i);
            for (uri, input) in root.uris.iter().zip(root.ws.fragment_inputs()) {
                previous.push(uri.clone());
                if self.open.contains_key(uri) {
                    buffers.push((uri.clone(), input.contents.to_text(), input.version));
                }
            }
        }
        let mut touched: Vec<usize> = Vec::new();
        for (uri, text, version) in buffers {
            let root = match self.find(&uri) {
                Some((r, _)) => r,
                None => self.open_root(&uri),
            };
            self.set_text(root, &uri, text, version);
            if !touched.contains(&root) {
                touched.push(root);
            }
        }
        let mut out: Vec<Message> = touched.into_iter().flat_map(|r| self.publish(r)).collect();
        // Files no longer analysed by any root lose their diagnostics.
        for uri in previous {
            if self.find(&uri).is_none() && self.published.get(&uri).is_some_and(|d| !d.is_empty())
            {
                self.published.insert(uri.clone(), Vec::new());
                out.push(publish(uri, Vec::new(), None));
            }
        }
        out
    }

    /// Re-reads inventories whose file changed on disk.
    fn poll_inventories(&mut self) -> Vec<Message> {
        let mut changed = Vec::new();
        for (i, r) in self.roots.iter_mut().enumerate() {
            let Some((path, seen)) = &mut r.inventory else {
                continue;
            };
            let now = mtime(path);
            if now != *seen {
                *seen = now;
                let mut input = FileInput::text(
                    Url::from_file_path(&*path)
                        .map(String::from)
                        .unwrap_or_default(),
                    read_text(path),
                );
                input.path = Some(path.clone());
                r.ws.set_inventory(Some(input));
                changed.push(i);
            }
        }
        changed.into_iter().flat_map(|i| self.publish(i)).collect()
    }

    /// The diagnostics of every file of root `root` that changed since last published.
    fn publish(&mut self, root: usize) -> Vec<Message> {
        let Some(r) = self.roots.get(root) else {
            return Vec::new();
        };
        let report = r.ws.report();
        let merged = r.ws.merged();
        let map = &merged.map;
        let by_name: HashMap<&str, (Url, &str)> = map
            .files()
            .filter_map(|(id, f)| Some((f.name(), (r.uris.get(id.0)?.clone(), f.text()))))
            .collect();
        let related = |rel: &tailpolicy_policy::Related| {
            let (uri, text) = by_name.get(rel.file.as_str())?;
            Some(Location::new(
                uri.clone(),
                LineIndex::new(text).range(rel.span),
            ))
        };
        let mut out = Vec::new();
        let mut seen: Vec<Url> = Vec::new();
        for f in &report.files {
            let uri = match f.fragment {
                Some(id) => r.uris.get(id.0).cloned(),
                None => Url::parse(f.file.name()).ok(),
            };
            let Some(uri) = uri else { continue };
            let index = LineIndex::new(f.file.text());
            let diags: Vec<lsp_types::Diagnostic> = f
                .diagnostics
                .iter()
                .map(|d| diagnostics::to_lsp(d, &uri, &index, &related))
                .collect();
            seen.push(uri.clone());
            if self.published.get(&uri) != Some(&diags) {
                let version = f
                    .fragment
                    .and_then(|id| r.ws.fragment_inputs().nth(id.0))
                    .map(|i| i.version);
                self.published.insert(uri.clone(), diags.clone());
                out.push(publish(uri, diags, version));
            }
        }
        // An inventory whose diagnostics are gone.
        if let Some((path, _)) = &r.inventory
            && let Ok(uri) = Url::from_file_path(path)
            && !seen.contains(&uri)
            && self.published.get(&uri).is_some_and(|d| !d.is_empty())
        {
            self.published.insert(uri.clone(), Vec::new());
            out.push(publish(uri, Vec::new(), None));
        }
        out
    }

    fn request(&mut self, r: Request) -> Response {
        let id = r.id.clone();
        match self.dispatch(r) {
            Ok(value) => Response::new_ok(id, value),
            Err((code, message)) => Response::new_err(id, code as i32, message),
        }
    }

    fn doc(&self, uri: &Url) -> Result<(Doc<'_>, Cow<'_, str>), (ErrorCode, String)> {
        let (root, file) = self
            .find(uri)
            .ok_or((ErrorCode::InvalidParams, format!("`{uri}` is not open")))?;
        let r = self
            .roots
            .get(root)
            .ok_or((ErrorCode::InternalError, "no root".to_owned()))?;
        let text = self.text_ref(root, file);
        Ok((
            Doc {
                ws: &r.ws,
                file,
                text: "",
                uris: &r.uris,
            },
            text,
        ))
    }

    fn dispatch(&mut self, r: Request) -> Result<Value, (ErrorCode, String)> {
        let bad = |e: String| (ErrorCode::InvalidParams, e);
        let json = |v: Result<Value, serde_json::Error>| {
            v.map_err(|e| (ErrorCode::InternalError, e.to_string()))
        };
        macro_rules! with_doc {
            ($p:expr, $uri:expr, |$doc:ident| $body:expr) => {{
                let (d, text) = self.doc($uri)?;
                let $doc = Doc { text: &text, ..d };
                json(serde_json::to_value($body))
            }};
        }
        match r.method.as_str() {
            req::Initialize::METHOD => json(serde_json::to_value(crate::capabilities())),
            req::Shutdown::METHOD => {
                self.shutdown = true;
                Ok(Value::Null)
            }
            req::HoverRequest::METHOD => {
                let p: HoverParams = params(r.params).map_err(bad)?;
                let tp = p.text_document_position_params;
                with_doc!(p, &tp.text_document.uri, |doc| features::hover(
                    &doc,
                    tp.position
                ))
            }
            req::GotoDefinition::METHOD => {
                let p: GotoDefinitionParams = params(r.params).map_err(bad)?;
                let tp = p.text_document_position_params;
                with_doc!(p, &tp.text_document.uri, |doc| {
                    GotoDefinitionResponse::Array(features::definition(&doc, tp.position))
                })
            }
            req::References::METHOD => {
                let p: ReferenceParams = params(r.params).map_err(bad)?;
                let tp = p.text_document_position;
                let decl = p.context.include_declaration;
                with_doc!(p, &tp.text_document.uri, |doc| features::references(
                    &doc,
                    tp.position,
                    decl
                ))
            }
            req::PrepareRenameRequest::METHOD => {
                let p: TextDocumentPositionParams = params(r.params).map_err(bad)?;
                let (d, text) = self.doc(&p.text_document.uri)?;
                let doc = Doc { text: &text, ..d };
                let out = features::prepare_rename(&doc, p.position)
                    .map_err(|e| (ErrorCode::RequestFailed, e))?;
                json(serde_json::to_value(out))
            }
            req::Rename::METHOD => {
                let p: RenameParams = params(r.params).map_err(bad)?;
                let tp = p.text_document_position;
                let (d, text) = self.doc(&tp.text_document.uri)?;
                let doc = Doc { text: &text, ..d };
                let out = features::rename(&doc, tp.position, &p.new_name)
                    .map_err(|e| (ErrorCode::RequestFailed, e))?;
                json(serde_json::to_value(out))
            }
            req::Completion::METHOD => {
                let p: CompletionParams = params(r.params).map_err(bad)?;
                let tp = p.text_document_position;
                with_doc!(p, &tp.text_document.uri, |doc| features::completion(
                    &doc,
                    tp.position
                ))
            }
            req::DocumentSymbolRequest::METHOD => {
                let p: DocumentSymbolParams = params(r.params).map_err(bad)?;
                let (_, text) = self.doc(&p.text_document.uri)?;
                json(serde_json::to_value(DocumentSymbolResponse::Nested(
                    features::document_symbols(&text),
                )))
            }
            req::Formatting::METHOD => {
                let p: DocumentFormattingParams = params(r.params).map_err(bad)?;
                let (_, text) = self.doc(&p.text_document.uri)?;
                json(serde_json::to_value(features::format(&text)))
            }
            req::SemanticTokensFullRequest::METHOD => {
                let p: SemanticTokensParams = params(r.params).map_err(bad)?;
                with_doc!(p, &p.text_document.uri, |doc| SemanticTokens {
                    result_id: None,
                    data: crate::tokens::semantic_tokens(&doc),
                })
            }
            req::InlayHintRequest::METHOD => {
                let p: InlayHintParams = params(r.params).map_err(bad)?;
                with_doc!(p, &p.text_document.uri, |doc| crate::tokens::inlay_hints(
                    &doc,
                    Some(p.range)
                ))
            }
            req::CodeActionRequest::METHOD => {
                let p: CodeActionParams = params(r.params).map_err(bad)?;
                let uri = p.text_document.uri;
                let (d, text) = self.doc(&uri)?;
                let report = d.ws.report();
                let diags = report
                    .files
                    .iter()
                    .find(|f| f.fragment == Some(d.file))
                    .map(|f| f.diagnostics.as_slice())
                    .unwrap_or_default();
                json(serde_json::to_value(actions::code_actions(
                    &uri,
                    &text,
                    diags,
                    p.range,
                    p.context.only.as_deref(),
                )))
            }
            other => Err((
                ErrorCode::MethodNotFound,
                format!("unknown method `{other}`"),
            )),
        }
    }
}

fn publish(uri: Url, diagnostics: Vec<lsp_types::Diagnostic>, version: Option<i32>) -> Message {
    Message::Notification(Notification::new(
        notif::PublishDiagnostics::METHOD.to_owned(),
        PublishDiagnosticsParams {
            uri,
            diagnostics,
            version,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lsp_server::{Notification, Request, RequestId};
    use serde_json::json;

    fn request(state: &mut State, method: &str, params: Value) -> Response {
        let out = state.handle(Message::Request(Request::new(
            RequestId::from(1),
            method.to_owned(),
            params,
        )));
        match out.into_iter().next() {
            Some(Message::Response(r)) => r,
            other => Response::new_err(RequestId::from(0), 0, format!("{other:?}")),
        }
    }

    fn open(state: &mut State, uri: &str, text: &str) -> Vec<Message> {
        state.handle(Message::Notification(Notification::new(
            "textDocument/didOpen".to_owned(),
            json!({"textDocument": {"uri": uri, "languageId": "hujson", "version": 1, "text": text}}),
        )))
    }

    #[test]
    fn unknown_methods_and_bad_parameters_are_errors_not_crashes() {
        let mut state = State::new();
        let r = request(&mut state, "tailpolicy/nothing", json!({}));
        assert_eq!(
            r.error.map(|e| (e.code, e.message)),
            Some((
                ErrorCode::MethodNotFound as i32,
                "unknown method `tailpolicy/nothing`".to_owned()
            ))
        );
        let r = request(&mut state, "textDocument/hover", json!({"bogus": 1}));
        assert_eq!(
            r.error.map(|e| e.code),
            Some(ErrorCode::InvalidParams as i32)
        );
        let r = request(
            &mut state,
            "textDocument/hover",
            json!({"textDocument": {"uri": "untitled:x"}, "position": {"line": 0, "character": 0}}),
        );
        assert_eq!(
            r.error.map(|e| e.message),
            Some("`untitled:x` is not open".to_owned())
        );
        // Malformed notifications are dropped.
        assert!(open(&mut state, "untitled:y", "").len() <= 1);
        assert!(
            state
                .handle(Message::Notification(Notification::new(
                    "textDocument/didChange".to_owned(),
                    json!(42)
                )))
                .is_empty()
        );
    }

    #[test]
    fn an_edit_publishes_the_new_diagnostics_only_when_they_change() {
        let mut state = State::new();
        let uri = "untitled:policy";
        let out = open(&mut state, uri, "{\"groups\": {\"group:a\": []}}");
        let codes = |out: &[Message]| -> Vec<Vec<String>> {
            out.iter()
                .filter_map(|m| match m {
                    Message::Notification(n) => {
                        serde_json::from_value::<PublishDiagnosticsParams>(n.params.clone()).ok()
                    }
                    _ => None,
                })
                .map(|p| {
                    p.diagnostics
                        .into_iter()
                        .filter_map(|d| match d.code {
                            Some(lsp_types::NumberOrString::String(s)) => Some(s),
                            _ => None,
                        })
                        .collect()
                })
                .collect()
        };
        assert_eq!(codes(&out), vec![vec!["TP1001".to_owned()]]);
        // Break the text mid-edit (remove the last brace): a syntax error.
        let change = |state: &mut State, version: i32, start: u32, end: u32, text: &str| {
            state.handle(Message::Notification(Notification::new(
                "textDocument/didChange".to_owned(),
                json!({
                    "textDocument": {"uri": uri, "version": version},
                    "contentChanges": [{"range": {"start": {"line": 0, "character": start}, "end": {"line": 0, "character": end}}, "text": text}]
                }),
            )))
        };
        let out = change(&mut state, 2, 26, 27, "");
        assert_eq!(codes(&out).len(), 1);
        assert!(codes(&out).iter().flatten().all(|c| c.starts_with("TP00")));
        let out = change(&mut state, 3, 26, 26, "}");
        assert_eq!(codes(&out), vec![vec!["TP1001".to_owned()]]);
        // A change that leaves the diagnostics as they are publishes nothing.
        let out = change(&mut state, 4, 27, 27, "\n");
        assert!(out.is_empty(), "{out:?}");
    }

    /// The URIs of the fragments analysed together with `uri`.
    fn root_of(state: &State, uri: &Url) -> Vec<String> {
        state
            .find(uri)
            .and_then(|(r, _)| state.roots.get(r))
            .map(|r| {
                r.uris
                    .iter()
                    .map(|u| u.path().rsplit('/').next().unwrap_or_default().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    #[test]
    #[expect(clippy::unwrap_used, reason = "test setup")]
    fn a_changed_configuration_or_a_new_fragment_is_picked_up_without_reopening() {
        let dir = std::env::temp_dir().join(format!("tp-lsp-config-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("teams")).unwrap();
        let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
        write("tailpolicy.toml", "[policy]\nfiles = [\"base.hujson\"]\n");
        write(
            "base.hujson",
            "{\"groups\": {\"group:eng\": [\"a@example.com\"]}}\n",
        );
        let team =
            "{\"grants\": [{\"src\": [\"group:eng\"], \"dst\": [\"*\"], \"ip\": [\"tcp:22\"]}]}\n";
        write("teams/eng.hujson", team);
        let eng = Url::from_file_path(dir.join("teams/eng.hujson")).unwrap();
        let mut state = State::new();
        open(&mut state, eng.as_str(), team);
        // Not a fragment yet: analysed alone, the group is undefined there.
        assert_eq!(root_of(&state, &eng), ["eng.hujson"]);
        assert!(state.published.get(&eng).is_some_and(|d| !d.is_empty()));
        // The configuration now names the team fragments: one policy, no error.
        write(
            "tailpolicy.toml",
            "[policy]\nfiles = [\"base.hujson\", \"teams/*.hujson\"]\n",
        );
        state.poll_files();
        assert_eq!(root_of(&state, &eng), ["base.hujson", "eng.hujson"]);
        assert!(
            state.published.get(&eng).is_some_and(Vec::is_empty),
            "{:?}",
            state.published.get(&eng)
        );
        // A fragment created under the glob joins the policy.
        write("teams/ops.hujson", "{}\n");
        state.poll_files();
        assert_eq!(
            root_of(&state, &eng),
            ["base.hujson", "eng.hujson", "ops.hujson"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
