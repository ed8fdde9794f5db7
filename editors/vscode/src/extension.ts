// The VS Code client of `tailpolicy lsp`: starts the server over stdio for HuJSON
// policy files and the fragments of a multi-file policy. All logic is in the server.
import * as vscode from "vscode";
import {
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
  TransportKind,
} from "vscode-languageclient/node";

let client: LanguageClient | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const command = vscode.workspace.getConfiguration("tailpolicy").get<string>("path") || "tailpolicy";
  const serverOptions: ServerOptions = {
    command,
    args: ["lsp"],
    transport: TransportKind.stdio,
  };
  const clientOptions: LanguageClientOptions = {
    documentSelector: [
      { scheme: "file", language: "hujson" },
      { scheme: "untitled", language: "hujson" },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{tailpolicy.toml,*.json,*.hujson}"),
    },
  };
  client = new LanguageClient("tailpolicy", "tailpolicy", serverOptions, clientOptions);
  context.subscriptions.push(client);
  await client.start();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
