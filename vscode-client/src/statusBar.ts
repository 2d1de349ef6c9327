/**
 * The status bar item: the queue, the work in flight and the backends' health
 * from gloss/progress; a click opens the status document. When the server is
 * not running the item says why and a click opens the log instead.
 */

import * as vscode from 'vscode';

import { type FolderError, ProgressBoard, type ProgressMessage, type Severity, statusBarView } from './progress';
import type { ServiceState } from './service';

export class GlossStatusBar implements vscode.Disposable {
  private readonly item: vscode.StatusBarItem;
  private readonly board = new ProgressBoard();
  private state: ServiceState = { kind: 'starting' };

  constructor() {
    this.item = vscode.window.createStatusBarItem('gloss.status', vscode.StatusBarAlignment.Left, 10);
    this.item.name = 'Gloss';
    this.render();
    this.item.show();
  }

  setState(state: ServiceState): void {
    if (state.kind === 'starting') {
      this.board.clear();
    }
    this.state = state;
    this.render();
  }

  onProgress(message: ProgressMessage): void {
    this.board.update(message);
    this.render();
  }

  onFolderErrors(errors: readonly FolderError[]): void {
    this.board.setErrors(errors);
    this.render();
  }

  /** New settings went to the server: its engines restart and report afresh. */
  onSettingsSent(): void {
    this.board.clear();
    this.render();
  }

  private render(): void {
    const state = this.state;
    if (state.kind === 'running' || state.kind === 'starting') {
      const view = statusBarView(this.board.folders(), this.board.errors());
      this.show(view.text, view.tooltip, view.severity, 'gloss.showStatus');
    } else if (state.kind === 'unavailable') {
      this.show('$(error) Gloss: not available', `${state.reason}\nClick to open the Gloss log.`, 'error', 'gloss.openLog');
    } else {
      this.show('$(circle-slash) Gloss: stopped', `Gloss ${state.reason}.\nClick to open the Gloss log.`, 'warning', 'gloss.openLog');
    }
  }

  private show(text: string, tooltip: string, severity: Severity, command: string): void {
    this.item.text = text;
    this.item.tooltip = tooltip;
    this.item.command = command;
    this.item.accessibilityInformation = { label: text.replace(/\$\([^)]*\)\s*/g, ''), role: 'button' };
    this.item.backgroundColor =
      severity === 'normal'
        ? undefined
        : new vscode.ThemeColor(severity === 'error' ? 'statusBarItem.errorBackground' : 'statusBarItem.warningBackground');
  }

  dispose(): void {
    this.item.dispose();
  }
}
