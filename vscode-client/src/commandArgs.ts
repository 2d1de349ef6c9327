/**
 * Arguments of gloss.reglossSymbol / gloss.escalate / gloss.reglossFile.
 *
 * A hover's action link carries `[{"uri": ..., "line": N}]` (VS Code spreads
 * the array, so the handler gets the object itself); a caller of
 * executeCommand may pass the array whole; an editor or explorer context menu
 * passes the resource's Uri; the command palette passes nothing, and the
 * caller then uses the active editor's cursor. No VS Code import here.
 */

export interface SpanTarget {
  uri: string;
  line: number; // 0-based, as in LSP
}

export interface FileTarget {
  uri: string;
}

export type Parsed<T> = { kind: 'given'; target: T } | { kind: 'absent' } | { kind: 'invalid'; reason: string };

export function parseSpanArgs(args: readonly unknown[]): Parsed<SpanTarget> {
  const first = unwrap(args);
  if (first === undefined) {
    return { kind: 'absent' };
  }
  if (isUriLike(first)) {
    return { kind: 'invalid', reason: 'a line is needed as well as the file' };
  }
  if (!isRecord(first)) {
    return { kind: 'invalid', reason: `expected {uri, line}, got ${describe(first)}` };
  }
  const uri = uriOf(first.uri);
  if (uri === undefined) {
    return { kind: 'invalid', reason: `expected a document URI, got ${describe(first.uri)}` };
  }
  const line = first.line;
  if (typeof line !== 'number' || !Number.isInteger(line) || line < 0) {
    return { kind: 'invalid', reason: `expected a line number (0 or more), got ${describe(line)}` };
  }
  return { kind: 'given', target: { uri, line } };
}

export function parseFileArgs(args: readonly unknown[]): Parsed<FileTarget> {
  const first = unwrap(args);
  if (first === undefined) {
    return { kind: 'absent' };
  }
  const uri = isRecord(first) && !isUriLike(first) ? uriOf(first.uri) : uriOf(first);
  if (uri === undefined) {
    return { kind: 'invalid', reason: `expected a document URI, got ${describe(first)}` };
  }
  return { kind: 'given', target: { uri } };
}

/** What the server answers to gloss.server.* (docs/client-protocol.md). */
export interface CommandAnswer {
  queued: number;
  message: string;
}

export function parseCommandAnswer(raw: unknown): CommandAnswer | undefined {
  if (!isRecord(raw) || typeof raw.message !== 'string' || typeof raw.queued !== 'number') {
    return undefined;
  }
  return { queued: raw.queued, message: raw.message };
}

function unwrap(args: readonly unknown[]): unknown {
  let first: unknown = args[0];
  if (Array.isArray(first)) {
    first = first[0];
  }
  return first === null ? undefined : first;
}

function uriOf(value: unknown): string | undefined {
  if (typeof value === 'string' && /^[a-zA-Z][\w+.-]*:/.test(value)) {
    return value;
  }
  if (isUriLike(value)) {
    return value.toString();
  }
  return undefined;
}

/** A vscode.Uri, recognised by shape so this module stays free of VS Code. */
function isUriLike(value: unknown): value is { scheme: string; toString(): string } {
  return isRecord(value) && typeof value.scheme === 'string' && typeof value.path === 'string';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
