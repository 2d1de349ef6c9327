/**
 * The Python extension's (ms-python.python) active interpreter, when that
 * extension is installed; undefined otherwise. Its API is typed here only as
 * far as it is used, and every call is guarded: an old or failing extension
 * must not keep Gloss from starting.
 */

import * as vscode from 'vscode';

const PYTHON_EXTENSION_ID = 'ms-python.python';
const ACTIVATE_TIMEOUT_MS = 15_000;

interface EnvironmentPath {
  path: string;
}

interface PythonApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): EnvironmentPath;
    resolveEnvironment(env: EnvironmentPath | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
    onDidChangeActiveEnvironmentPath: vscode.Event<unknown>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand: string[] | undefined };
  };
}

async function api(): Promise<PythonApi | undefined> {
  const extension = vscode.extensions.getExtension<PythonApi>(PYTHON_EXTENSION_ID);
  if (!extension) {
    return undefined;
  }
  if (extension.isActive) {
    return extension.exports;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ACTIVATE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([Promise.resolve(extension.activate()), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export async function activeInterpreter(resource: vscode.Uri | undefined): Promise<string | undefined> {
  const python = await api();
  if (!python) {
    return undefined;
  }
  if (python.environments) {
    const envPath = python.environments.getActiveEnvironmentPath(resource);
    const env = await python.environments.resolveEnvironment(envPath);
    return env?.executable.uri?.fsPath ?? envPath.path;
  }
  return python.settings?.getExecutionDetails?.(resource).execCommand?.[0];
}

/** Calls `listener` when the user picks another interpreter in the Python extension. */
export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  if (!vscode.extensions.getExtension(PYTHON_EXTENSION_ID)) {
    return undefined;
  }
  try {
    return (await api())?.environments?.onDidChangeActiveEnvironmentPath(() => listener());
  } catch {
    return undefined;
  }
}
