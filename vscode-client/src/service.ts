/**
 * The Gloss language server's life in this window: find Python, check that
 * Gloss is installed there, start `python -m server --stdio` through
 * vscode-languageclient, pass settings on, restart on demand.
 *
 * Starts, stops and restarts are serialised: a restart asked for while one
 * runs waits for it instead of racing it.
 */

import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  ExecuteCommandRequest,
  LanguageClient,
  type LanguageClientOptions,
  type ServerOptions,
  State,
  type StaticFeature,
  TransportKind,
} from 'vscode-languageclient/node';

import { fillActionLinksCapability, trustActionLinks, type TrustableMarkdown } from './actionLinks';
import { parseCommandAnswer, type CommandAnswer } from './commandArgs';
import {
  checkResult,
  CHECK_ARGS,
  describeSource,
  expandSettingPath,
  findOnPath,
  type Interpreter,
  NO_INTERPRETER_MESSAGE,
  resolveInterpreter,
  type RunResult,
} from './interpreter';
import { documentSelector } from './languages';
import { type FolderError, folderErrors, NOT_STARTED, parseProgress, type ProgressMessage } from './progress';
import { configurationAction, initializationOptions, type GlossSettings, serverSettings } from './settings';
import * as pythonExtension from './pythonExtension';

export const PROGRESS_METHOD = 'gloss/progress';
export const STATUS_METHOD = 'gloss/status';
const CHECK_TIMEOUT_MS = 60_000;
const STATUS_TIMEOUT_MS = 15_000;
// A folder with a bad configuration sends no progress; gloss/status says so. Asked this
// long after a start or new settings, again while a folder is still starting.
const FOLDER_CHECK_DELAY_MS = 2_000;
const FOLDER_CHECKS = 5;

export type ServiceState =
  | { kind: 'starting' }
  | { kind: 'running' }
  | { kind: 'stopped'; reason: string }
  | { kind: 'unavailable'; reason: string }; // no Python, or Gloss not installed in it

export interface ServiceEvents {
  onState(state: ServiceState): void;
  onProgress(message: ProgressMessage): void;
  onFolderErrors(errors: readonly FolderError[]): void;
  onSettingsSent(): void;
}

export class GlossService implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private sentSettings: GlossSettings = {};
  private pythonPathSetting: string | undefined;
  private interpreter: Interpreter | undefined;
  private queue: Promise<void> = Promise.resolve();
  private folderCheck: NodeJS.Timeout | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly output: vscode.LogOutputChannel,
    private readonly events: ServiceEvents,
  ) {}

  /** Runs `task` after every start/stop/restart already asked for. */
  private serialise(task: () => Promise<void>): Promise<void> {
    const run = this.queue.then(task, task);
    this.queue = run.catch((err: unknown) => {
      this.output.error(`Gloss: ${describeError(err)}`);
    });
    return this.queue;
  }

  start(): Promise<void> {
    return this.serialise(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.serialise(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.serialise(() => this.doStop());
  }

  /** The user changed settings: send them on, or restart when that is what it takes. */
  onConfigurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration('gloss')) {
      return Promise.resolve();
    }
    return this.serialise(async () => {
      const next = readSettings();
      const pythonPathChanged = readPythonPathSetting() !== this.pythonPathSetting;
      const client = this.client;
      if (!client || !client.isRunning()) {
        if (pythonPathChanged) {
          await this.doStop();
          await this.doStart();
        }
        return;
      }
      const action = configurationAction(this.sentSettings, next, pythonPathChanged);
      if (action === 'notify') {
        this.output.info(`Settings changed; sending ${JSON.stringify(next)}`);
        await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { gloss: next } });
        this.sentSettings = next;
        this.events.onSettingsSent();
        this.scheduleFolderCheck();
      } else if (action === 'restart') {
        this.output.info(
          pythonPathChanged ? 'gloss.pythonPath changed; restarting.' : 'All Gloss settings removed; restarting.',
        );
        await this.doStop();
        await this.doStart();
      }
    });
  }

  async executeServerCommand(command: string, argument: unknown): Promise<CommandAnswer> {
    const client = this.runningClient();
    const raw: unknown = await client.sendRequest(ExecuteCommandRequest.type, { command, arguments: [argument] });
    const answer = parseCommandAnswer(raw);
    if (!answer) {
      throw new Error(`the server answered ${command} with ${JSON.stringify(raw)}`);
    }
    return answer;
  }

  /** gloss/status; fails after STATUS_TIMEOUT_MS rather than leaving the status view blank. */
  async status(): Promise<unknown> {
    const client = this.runningClient();
    const cancel = new vscode.CancellationTokenSource();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        cancel.cancel();
        reject(new Error(`the server did not answer ${STATUS_METHOD} within ${STATUS_TIMEOUT_MS / 1000} s`));
      }, STATUS_TIMEOUT_MS);
    });
    try {
      // An empty object rather than no params: pygls cannot read a request without "params".
      return await Promise.race([client.sendRequest(STATUS_METHOD, {}, cancel.token), timeout]);
    } finally {
      clearTimeout(timer);
      cancel.dispose();
    }
  }

  /** A request to the running server (rejects with NotRunningError when there is none); `token` cancels it. */
  async sendRequest(method: string, params: object, token: vscode.CancellationToken): Promise<unknown> {
    return this.runningClient().sendRequest(method, params, token);
  }

  isRunning(): boolean {
    return this.client?.isRunning() ?? false;
  }

  private runningClient(): LanguageClient {
    const client = this.client;
    if (!client || !client.isRunning()) {
      throw new NotRunningError();
    }
    return client;
  }

  private async doStart(): Promise<void> {
    this.events.onState({ kind: 'starting' });
    this.pythonPathSetting = readPythonPathSetting();
    const interpreter = await resolveInterpreter({
      setting: () => {
        const value = this.pythonPathSetting;
        return value ? expandSettingPath(value, { workspaceFolder: firstFolder()?.fsPath, home: os.homedir() }) : undefined;
      },
      pythonExtension: () => pythonExtension.activeInterpreter(firstFolder()),
      findOnPath: (name) => findOnPath(name, process.env.PATH, isExecutable),
    });
    if (!interpreter) {
      this.unavailable(NO_INTERPRETER_MESSAGE, '');
      return;
    }
    this.interpreter = interpreter;
    this.output.info(`Python: ${interpreter.path} (${describeSource(interpreter.source)})`);
    const check = checkResult(interpreter, await run(interpreter.path, CHECK_ARGS));
    if (!check.ok) {
      this.unavailable(check.message, check.detail);
      return;
    }
    this.output.info(`Gloss server ${check.version} found; starting ${interpreter.path} -m server --stdio`);

    const settings = readSettings();
    const client = this.createClient(interpreter.path, settings);
    this.client = client;
    this.sentSettings = settings;
    try {
      await client.start();
    } catch (err) {
      this.events.onState({ kind: 'stopped', reason: `the server did not start: ${describeError(err)}` });
      throw err;
    }
  }

  private async doStop(): Promise<void> {
    clearTimeout(this.folderCheck);
    const client = this.client;
    this.client = undefined;
    if (client) {
      try {
        if (client.isRunning()) {
          await client.stop(5_000);
        }
      } finally {
        await client.dispose().catch(() => undefined);
      }
    }
    this.events.onState({ kind: 'stopped', reason: 'stopped' });
  }

  private unavailable(message: string, detail: string): void {
    this.output.error(message);
    if (detail) {
      this.output.error(detail);
    }
    this.events.onState({ kind: 'unavailable', reason: message });
    void vscode.window.showErrorMessage(message, 'Open Settings', 'Open Log').then((choice) => {
      if (choice === 'Open Settings') {
        void vscode.commands.executeCommand('workbench.action.openSettings', 'gloss.pythonPath');
      } else if (choice === 'Open Log') {
        this.output.show(true);
      }
    });
  }

  private createClient(python: string, settings: GlossSettings): LanguageClient {
    const serverOptions: ServerOptions = {
      command: python,
      args: ['-m', 'server'],
      transport: TransportKind.stdio, // appends --stdio, which the server accepts
      options: { cwd: firstFolder()?.fsPath ?? os.homedir() },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: documentSelector(),
      outputChannel: this.output,
      traceOutputChannel: this.output,
      initializationOptions: initializationOptions(settings),
      // Hovers are untrusted Markdown; the middleware below enables Gloss's two link commands only.
      markdown: { isTrusted: false, supportHtml: false },
      middleware: {
        provideHover: async (document, position, token, next) => {
          const hover = await next(document, position, token);
          if (hover) {
            trustActionLinks(hover.contents, isMarkdownString);
          }
          return hover;
        },
      },
    };
    const client = new LanguageClient('gloss', 'Gloss', serverOptions, clientOptions);
    client.registerFeature(actionLinksFeature);
    client.onNotification(PROGRESS_METHOD, (params: unknown) => {
      const message = parseProgress(params);
      if (message) {
        this.events.onProgress(message);
      }
    });
    client.onDidChangeState(({ newState }) => {
      if (newState === State.Running) {
        this.events.onState({ kind: 'running' });
        this.scheduleFolderCheck();
      } else if (newState === State.Stopped && this.client === client) {
        this.events.onState({ kind: 'stopped', reason: 'the server stopped; see the log' });
      }
    });
    return client;
  }

  /** Tells the status bar which folders have no engine (their errors are settled, not "not started"). */
  private scheduleFolderCheck(attempt = 1): void {
    clearTimeout(this.folderCheck);
    this.folderCheck = setTimeout(() => {
      this.folderCheck = undefined;
      this.status().then(
        (answer) => {
          const errors = folderErrors(answer);
          const settled = errors.filter((e) => e.error !== NOT_STARTED);
          this.events.onFolderErrors(settled);
          if (settled.length < errors.length && attempt < FOLDER_CHECKS) {
            this.scheduleFolderCheck(attempt + 1);
          }
        },
        (err: unknown) => this.output.warn(`gloss/status: ${describeError(err)}`),
      );
    }, FOLDER_CHECK_DELAY_MS);
  }

  /** The interpreter the running server was started with (for messages). */
  currentInterpreter(): Interpreter | undefined {
    return this.interpreter;
  }

  watchPythonExtension(): void {
    void pythonExtension.onInterpreterChange(() => {
      if (this.interpreter?.source === 'python-extension' && !readPythonPathSetting()) {
        this.output.info("The Python extension's interpreter changed; restarting.");
        void this.restart();
      }
    }).then((d) => d && this.disposables.push(d));
  }

  dispose(): void {
    for (const d of this.disposables) {
      d.dispose();
    }
  }
}

export class NotRunningError extends Error {
  constructor() {
    super('the Gloss server is not running');
  }
}

/** Asks the server for hover action links (docs/client-protocol.md). */
const actionLinksFeature: StaticFeature = {
  fillClientCapabilities: (capabilities) => fillActionLinksCapability(capabilities),
  initialize: () => undefined,
  getState: () => ({ kind: 'static' }),
  clear: () => undefined,
};

function isMarkdownString(part: unknown): part is TrustableMarkdown {
  return part instanceof vscode.MarkdownString;
}

function readSettings(): GlossSettings {
  const config = vscode.workspace.getConfiguration('gloss');
  return serverSettings((key) => config.inspect(key));
}

function readPythonPathSetting(): string | undefined {
  const value = vscode.workspace.getConfiguration('gloss').get<string>('pythonPath');
  return value?.trim() || undefined;
}

function firstFolder(): vscode.Uri | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri;
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function run(command: string, args: readonly string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: CHECK_TIMEOUT_MS, windowsHide: true }, (err, stdout, stderr) => {
      if (!err) {
        resolve({ code: 0, stdout, stderr });
      } else if (typeof err.code === 'string') {
        resolve({ code: null, stdout, stderr, error: `${err.code}: ${err.message}` }); // e.g. ENOENT, EACCES
      } else if (err.killed) {
        resolve({ code: null, stdout, stderr, error: `no answer within ${CHECK_TIMEOUT_MS / 1000} s` });
      } else {
        resolve({ code: typeof err.code === 'number' ? err.code : 1, stdout, stderr });
      }
    });
  });
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
