/**
 * Gloss for VS Code: starts the Gloss language server (a Python sidecar that
 * glosses code with LLMs) and shows its progress, status and commands.
 * Wiring only; each part lives in its own module.
 */

import * as vscode from 'vscode';

import { registerCommands } from './commands';
import { LANGUAGE_IDS, LANGUAGES_CONTEXT_KEY } from './languages';
import { registerSearch } from './search';
import { GlossService } from './service';
import { GlossStatusBar } from './statusBar';
import { STATUS_SCHEME, StatusDocumentProvider } from './statusDocument';

let service: GlossService | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  // The menus offer the re-gloss commands where `editorLangId in gloss.languages`.
  await vscode.commands.executeCommand('setContext', LANGUAGES_CONTEXT_KEY, [...LANGUAGE_IDS]);
  const output = vscode.window.createOutputChannel('Gloss', { log: true });
  const statusBar = new GlossStatusBar();
  let statusDocument: StatusDocumentProvider | undefined;
  const glossService = new GlossService(output, {
    onState: (state) => statusBar.setState(state),
    onProgress: (message) => {
      statusBar.onProgress(message);
      statusDocument?.refreshSoon();
    },
    onFolderErrors: (errors) => statusBar.onFolderErrors(errors),
    onSettingsSent: () => statusBar.onSettingsSent(),
  });
  service = glossService;
  statusDocument = new StatusDocumentProvider(glossService);

  context.subscriptions.push(
    output,
    statusBar,
    glossService,
    statusDocument,
    vscode.workspace.registerTextDocumentContentProvider(STATUS_SCHEME, statusDocument),
    ...registerCommands(glossService, statusDocument, output),
    registerSearch(glossService, output),
    vscode.workspace.onDidChangeConfiguration((e) => glossService.onConfigurationChanged(e)),
    // The server learns its folders at start-up: a folder added or removed takes a restart.
    vscode.workspace.onDidChangeWorkspaceFolders(() => glossService.restart()),
  );
  glossService.watchPythonExtension();
  await glossService.start();
}

export async function deactivate(): Promise<void> {
  await service?.stop();
  service = undefined;
}
