/**
 * "Gloss: Show Status": a read-only Markdown document rendering gloss/status.
 *
 * The document is virtual (scheme gloss-status); while it is open it is
 * re-rendered after progress notifications, at most once a second.
 */

import * as vscode from 'vscode';

import { describeError, type GlossService, NotRunningError } from './service';
import { renderStatus } from './statusReport';

export const STATUS_SCHEME = 'gloss-status';
export const STATUS_URI = vscode.Uri.from({ scheme: STATUS_SCHEME, path: '/Gloss Status.md' });
const REFRESH_EVERY_MS = 1_000;

export class StatusDocumentProvider implements vscode.TextDocumentContentProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  readonly onDidChange = this.changed.event;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly service: GlossService) {}

  async provideTextDocumentContent(): Promise<string> {
    try {
      return renderStatus(await this.service.status());
    } catch (err) {
      const why = err instanceof NotRunningError ? 'the Gloss server is not running' : describeError(err);
      return `# Gloss status\n\nNo status: ${why}. "Gloss: Open Log" shows what happened; "Gloss: Restart Server" starts it again.\n`;
    }
  }

  /** Re-render soon if the document is open; several calls in a second make one. */
  refreshSoon(): void {
    if (this.timer || !vscode.workspace.textDocuments.some((d) => d.uri.toString() === STATUS_URI.toString())) {
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.changed.fire(STATUS_URI);
    }, REFRESH_EVERY_MS);
  }

  async show(): Promise<void> {
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === STATUS_URI.toString());
    if (open) {
      this.changed.fire(STATUS_URI); // shown again: render now, not the last rendering
    }
    const document = open ?? (await vscode.workspace.openTextDocument(STATUS_URI));
    await vscode.window.showTextDocument(document, { preview: false });
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.changed.dispose();
  }
}
