/**
 * Which Python runs the Gloss server, and whether Gloss is installed in it.
 *
 * Order: the `gloss.pythonPath` setting, then the Python extension's active
 * interpreter (when that extension is installed), then `python3` on PATH. The
 * first one found is used even if Gloss is missing there: the user is told how
 * to install it into that interpreter rather than silently getting another.
 *
 * No VS Code import here: lookups and process runs are passed in.
 */

import * as path from 'node:path';

export type InterpreterSource = 'setting' | 'python-extension' | 'PATH';

export interface Interpreter {
  path: string;
  source: InterpreterSource;
}

export interface InterpreterLookup {
  /** gloss.pythonPath as the user wrote it, or undefined/empty when unset. */
  setting(): string | undefined;
  /** The Python extension's active interpreter; undefined without that extension. */
  pythonExtension(): Promise<string | undefined>;
  /** An executable's absolute path on PATH, or undefined. */
  findOnPath(name: string): string | undefined;
}

export interface ExpandContext {
  workspaceFolder?: string;
  home: string;
}

/** `~`, `${userHome}` and `${workspaceFolder}` in a path setting; relative paths are taken from the workspace folder. */
export function expandSettingPath(value: string, ctx: ExpandContext): string {
  let out = value.trim();
  out = out.replace(/\$\{userHome\}/g, ctx.home);
  if (ctx.workspaceFolder !== undefined) {
    out = out.replace(/\$\{workspaceFolder\}/g, ctx.workspaceFolder);
  }
  if (out === '~' || out.startsWith('~/')) {
    out = path.join(ctx.home, out.slice(1));
  }
  // A bare command name ("python3.12") is looked up on PATH by the OS; only
  // something that looks like a path is anchored to the workspace.
  if (!path.isAbsolute(out) && out.includes(path.sep) && ctx.workspaceFolder !== undefined) {
    out = path.resolve(ctx.workspaceFolder, out);
  }
  return out;
}

export async function resolveInterpreter(lookup: InterpreterLookup): Promise<Interpreter | undefined> {
  const fromSetting = lookup.setting()?.trim();
  if (fromSetting) {
    return { path: fromSetting, source: 'setting' };
  }
  let fromExtension: string | undefined;
  try {
    fromExtension = (await lookup.pythonExtension())?.trim();
  } catch {
    fromExtension = undefined; // the Python extension failed to answer: go on down the list
  }
  if (fromExtension) {
    return { path: fromExtension, source: 'python-extension' };
  }
  const onPath = lookup.findOnPath('python3');
  return onPath ? { path: onPath, source: 'PATH' } : undefined;
}

/** `name` searched in a PATH string the way a shell does (first executable match). */
export function findOnPath(
  name: string,
  envPath: string | undefined,
  isExecutable: (file: string) => boolean,
): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, name);
    if (isExecutable(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

export function describeSource(source: InterpreterSource): string {
  switch (source) {
    case 'setting':
      return 'the gloss.pythonPath setting';
    case 'python-extension':
      return "the Python extension's selected interpreter";
    case 'PATH':
      return 'python3 on PATH';
  }
}

/** Imports what `python -m server` needs and prints the server's version. */
export const CHECK_ARGS = ['-c', 'import enrich_core, server.lsp; print(server.lsp.VERSION)'];

export interface RunResult {
  /** null when the process could not be started (see `error`) or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the executable could not be run at all (e.g. ENOENT). */
  error?: string;
}

export type CheckResult = { ok: true; version: string } | { ok: false; message: string; detail: string };

export function checkResult(interpreter: Interpreter, run: RunResult): CheckResult {
  if (run.code === 0) {
    return { ok: true, version: run.stdout.trim() || 'unknown' };
  }
  const where = `${interpreter.path} (${describeSource(interpreter.source)})`;
  if (run.error) {
    return {
      ok: false,
      message: `Gloss: cannot run Python at ${where}: ${run.error}. Set gloss.pythonPath to a Python 3.11+ that has Gloss installed.`,
      detail: run.error,
    };
  }
  return { ok: false, message: notInstalledMessage(interpreter), detail: lastLines(run.stderr, 5) };
}

export function notInstalledMessage(interpreter: Interpreter): string {
  return (
    `Gloss is not installed in ${interpreter.path} (${describeSource(interpreter.source)}). ` +
    `Install it from a Gloss checkout with: "${interpreter.path}" -m pip install /path/to/gloss ` +
    `(the PyPI package named "gloss" is another project), or set gloss.pythonPath to a Python that has it.`
  );
}

export const NO_INTERPRETER_MESSAGE =
  'Gloss: no Python found (gloss.pythonPath is unset, the Python extension has no interpreter, ' +
  'and python3 is not on PATH). Set gloss.pythonPath to a Python 3.11+ that has Gloss installed.';

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
