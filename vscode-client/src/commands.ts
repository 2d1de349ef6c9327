/**
 * The commands users (and hover links) run. The re-gloss commands send
 * workspace/executeCommand gloss.server.* and show the server's one-line
 * answer; without an argument they act on the active editor's cursor.
 */

import * as vscode from 'vscode';

import { type FileTarget, type Parsed, parseFileArgs, parseSpanArgs, type SpanTarget } from './commandArgs';
import { describeError, type GlossService, NotRunningError } from './service';
import type { StatusDocumentProvider } from './statusDocument';

export function registerCommands(
  service: GlossService,
  statusDocument: StatusDocumentProvider,
  output: vscode.LogOutputChannel,
): vscode.Disposable[] {
  const run = async (serverCommand: string, argument: SpanTarget | FileTarget): Promise<void> => {
    try {
      const answer = await service.executeServerCommand(serverCommand, argument);
      output.info(`${serverCommand} ${JSON.stringify(argument)}: ${answer.message} (queued ${answer.queued})`);
      if (answer.queued > 0) {
        void vscode.window.showInformationMessage(`Gloss: ${answer.message}`);
      } else {
        void vscode.window.showWarningMessage(`Gloss: ${answer.message}`);
      }
    } catch (err) {
      showFailure(output, err);
    }
  };

  const spanCommand = (serverCommand: string) => async (...args: unknown[]) => {
    const target = targetOr(parseSpanArgs(args), cursorTarget);
    if (typeof target === 'string') {
      void vscode.window.showWarningMessage(`Gloss: ${target}`);
      return;
    }
    await run(serverCommand, target);
  };

  return [
    vscode.commands.registerCommand('gloss.reglossSymbol', spanCommand('gloss.server.regloss')),
    vscode.commands.registerCommand('gloss.escalate', spanCommand('gloss.server.escalate')),
    vscode.commands.registerCommand('gloss.reglossFile', async (...args: unknown[]) => {
      const target = targetOr(parseFileArgs(args), fileTarget);
      if (typeof target === 'string') {
        void vscode.window.showWarningMessage(`Gloss: ${target}`);
        return;
      }
      await run('gloss.server.reglossFile', target);
    }),
    vscode.commands.registerCommand('gloss.showStatus', () => statusDocument.show()),
    vscode.commands.registerCommand('gloss.openLog', () => output.show(true)),
    vscode.commands.registerCommand('gloss.restart', async () => {
      output.info('Restart asked for.');
      await service.restart();
    }),
  ];
}

/** The target given, else the active editor's; a string says what is wrong. */
function targetOr<T>(parsed: Parsed<T>, fallback: () => T | string): T | string {
  switch (parsed.kind) {
    case 'given':
      return parsed.target;
    case 'invalid':
      return `bad command arguments: ${parsed.reason}`;
    case 'absent':
      return fallback();
  }
}

function activeFileEditor(): vscode.TextEditor | string {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.uri.scheme !== 'file') {
    return 'open a source file first (this command acts on the active editor)';
  }
  return editor;
}

function cursorTarget(): SpanTarget | string {
  const editor = activeFileEditor();
  return typeof editor === 'string'
    ? editor
    : { uri: editor.document.uri.toString(), line: editor.selection.active.line };
}

function fileTarget(): FileTarget | string {
  const editor = activeFileEditor();
  return typeof editor === 'string' ? editor : { uri: editor.document.uri.toString() };
}

function showFailure(output: vscode.LogOutputChannel, err: unknown): void {
  const message =
    err instanceof NotRunningError
      ? 'Gloss: the server is not running. Open the log to see why, or restart it.'
      : `Gloss: the command failed: ${describeError(err)}`;
  output.error(message);
  void vscode.window.showErrorMessage(message, 'Open Log', 'Restart').then((choice) => {
    if (choice === 'Open Log') {
      output.show(true);
    } else if (choice === 'Restart') {
      void vscode.commands.executeCommand('gloss.restart');
    }
  });
}
