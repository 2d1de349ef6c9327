/**
 * gloss/search answers -> what the "Search by Behaviour" picker shows.
 *
 * The server answers a JSON list of hits, best first
 * (docs/client-protocol.md): `{name, qualname, kind, location, summary,
 * score, matched}`. Each is checked field by field here, so a malformed
 * answer is reported by what is wrong in it instead of drawing a broken
 * row; failures of the request itself become one line for the user. No
 * VS Code import here: unit tests load this module outside VS Code.
 */

export const SEARCH_COMMAND = 'gloss.searchByBehaviour';
export const SEARCH_METHOD = 'gloss/search';
export const SEARCH_LIMIT = 50;
export const NO_GLOSS = 'no gloss yet';

export interface LspPosition {
  line: number;
  character: number;
}

export interface LspLocation {
  uri: string;
  range: { start: LspPosition; end: LspPosition };
}

export type MatchedBy = 'name' | 'gloss' | 'both';

export interface SearchHit {
  name: string;
  qualname: string;
  kind: string | number;
  location: LspLocation;
  summary: string | null;
  score: number;
  matched: MatchedBy;
}

export type ParsedAnswer = { ok: true; hits: SearchHit[] } | { ok: false; reason: string };

/** The server's answer checked; `reason` names the first hit and field that is wrong. */
export function parseSearchAnswer(raw: unknown): ParsedAnswer {
  if (!Array.isArray(raw)) {
    return { ok: false, reason: `expected a list of hits, got ${describe(raw)}` };
  }
  const hits: SearchHit[] = [];
  for (const [index, item] of raw.entries()) {
    const hit = parseHit(item);
    if (typeof hit === 'string') {
      return { ok: false, reason: `hit ${index + 1} of ${raw.length}: ${hit}` };
    }
    hits.push(hit);
  }
  return { ok: true, hits };
}

function parseHit(item: unknown): SearchHit | string {
  if (!isRecord(item)) {
    return `expected an object, got ${describe(item)}`;
  }
  for (const key of ['name', 'qualname'] as const) {
    if (typeof item[key] !== 'string') {
      return `"${key}" should be a string, got ${describe(item[key])}`;
    }
  }
  if (typeof item.kind !== 'string' && typeof item.kind !== 'number') {
    return `"kind" should be a string or a number, got ${describe(item.kind)}`;
  }
  const location = parseLocation(item.location);
  if (typeof location === 'string') {
    return `"location" ${location}`;
  }
  // A missing summary is the same as null: the span has no gloss yet.
  const summary = item.summary ?? null;
  if (summary !== null && typeof summary !== 'string') {
    return `"summary" should be a string or null, got ${describe(summary)}`;
  }
  if (typeof item.score !== 'number') {
    return `"score" should be a number, got ${describe(item.score)}`;
  }
  if (item.matched !== 'name' && item.matched !== 'gloss' && item.matched !== 'both') {
    return `"matched" should be "name", "gloss" or "both", got ${describe(item.matched)}`;
  }
  return {
    name: item.name as string,
    qualname: item.qualname as string,
    kind: item.kind,
    location,
    summary,
    score: item.score,
    matched: item.matched,
  };
}

function parseLocation(raw: unknown): LspLocation | string {
  if (!isRecord(raw) || typeof raw.uri !== 'string' || !isRecord(raw.range)) {
    return `should be {uri, range}, got ${describe(raw)}`;
  }
  const start = parsePosition(raw.range.start);
  const end = parsePosition(raw.range.end);
  if (!start || !end) {
    return `range should be {start, end} of {line, character}, got ${describe(raw.range)}`;
  }
  return { uri: raw.uri, range: { start, end } };
}

function parsePosition(raw: unknown): LspPosition | undefined {
  if (!isRecord(raw)) {
    return undefined;
  }
  const { line, character } = raw;
  return isCount(line) && isCount(character) ? { line, character } : undefined;
}

// The store's span kinds (enrich_core/records/span.py), and LSP SymbolKind numbers
// should a server send those instead.
const KIND_ICONS: Record<string, string> = {
  class: 'symbol-class',
  method: 'symbol-method',
  async_method: 'symbol-method',
  function: 'symbol-function',
  async_function: 'symbol-function',
  interface: 'symbol-interface',
  trait: 'symbol-interface',
  struct: 'symbol-struct',
  enum: 'symbol-enum',
  module: 'symbol-module',
  '2': 'symbol-module',
  '5': 'symbol-class',
  '6': 'symbol-method',
  '9': 'symbol-method', // constructor
  '10': 'symbol-enum',
  '11': 'symbol-interface',
  '12': 'symbol-function',
  '23': 'symbol-struct',
};

/** The codicon id drawn before a hit's name. */
export function kindIcon(kind: string | number): string {
  return KIND_ICONS[String(kind)] ?? 'symbol-misc';
}

export interface HitView {
  label: string;
  icon: string;
  description: string;
  detail: string;
}

/**
 * One picker row. `relativePath` turns the hit's URI into the path the user
 * knows (workspace-relative); lines are shown 1-based, as the editor counts them.
 */
export function hitView(hit: SearchHit, relativePath: (uri: string) => string): HitView {
  const where = `${relativePath(hit.location.uri)}:${hit.location.range.start.line + 1}`;
  // A top-level function's qualname is its name: said once, in the label.
  const description = hit.qualname && hit.qualname !== hit.name ? `${hit.qualname} · ${where}` : where;
  return {
    label: hit.name,
    icon: kindIcon(hit.kind),
    description,
    detail: hit.summary?.trim() || NO_GLOSS,
  };
}

// JSON-RPC error codes (the LSP specification).
const INVALID_PARAMS = -32602;
const METHOD_NOT_FOUND = -32601;
const REQUEST_CANCELLED = -32800;

/**
 * One line saying why a search failed, or undefined when it was cancelled (a
 * newer query replaced it: nothing to tell the user).
 */
export function describeSearchFailure(err: unknown): string | undefined {
  if (isRecord(err) && typeof err.code === 'number') {
    const message = typeof err.message === 'string' ? err.message : describe(err);
    switch (err.code) {
      case REQUEST_CANCELLED:
        return undefined;
      case INVALID_PARAMS:
        return message; // the server's own words: which bound the query passed, by how much
      case METHOD_NOT_FOUND:
        return `this Gloss server does not answer ${SEARCH_METHOD}; update Gloss in the Python that runs it (gloss.pythonPath)`;
      default:
        return `the server failed to answer ${SEARCH_METHOD}: ${message}`;
    }
  }
  if (isRecord(err) && err.name === 'Canceled') {
    return undefined; // vscode.CancellationError, thrown by the client for a request it cancelled
  }
  return `${SEARCH_METHOD} failed: ${err instanceof Error ? err.message : String(err)}`;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined) {
    return 'nothing';
  }
  const text = JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
