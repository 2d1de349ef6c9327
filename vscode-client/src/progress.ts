/**
 * gloss/progress notifications -> what the status bar item says.
 *
 * The server sends one notification per workspace folder at each committed
 * gloss and after scans (docs/client-protocol.md). The latest per folder is
 * kept; the item shows the queue, the work in flight and the backends'
 * health summed over folders. No VS Code import here.
 */

export interface BackendHealth {
  url?: string;
  state?: string; // the circuit breaker's: closed | open | half-open | down
  healthy?: boolean;
  last_error?: string;
}

export interface LastGloss {
  path?: string;
  symbol?: string;
  ok?: boolean;
  tier?: string | null;
  reason?: string | null;
}

export interface ProgressMessage {
  root: string;
  scanned: boolean;
  queued: number;
  in_flight: number;
  by_priority: Record<string, number>;
  last: LastGloss | null;
  backends: Record<string, BackendHealth>;
}

/** A notification's params checked field by field; undefined when it is not a progress message. */
export function parseProgress(raw: unknown): ProgressMessage | undefined {
  if (!isRecord(raw) || typeof raw.root !== 'string') {
    return undefined;
  }
  const byPriority: Record<string, number> = {};
  if (isRecord(raw.by_priority)) {
    for (const [k, v] of Object.entries(raw.by_priority)) {
      if (typeof v === 'number') {
        byPriority[k] = v;
      }
    }
  }
  const backends: Record<string, BackendHealth> = {};
  if (isRecord(raw.backends)) {
    for (const [name, b] of Object.entries(raw.backends)) {
      if (isRecord(b)) {
        backends[name] = {
          url: typeof b.url === 'string' ? b.url : undefined,
          state: typeof b.state === 'string' ? b.state : undefined,
          healthy: typeof b.healthy === 'boolean' ? b.healthy : undefined,
          last_error: typeof b.last_error === 'string' ? b.last_error : undefined,
        };
      }
    }
  }
  return {
    root: raw.root,
    scanned: raw.scanned === true,
    queued: count(raw.queued),
    in_flight: count(raw.in_flight),
    by_priority: byPriority,
    last: isRecord(raw.last) ? (raw.last as LastGloss) : null,
    backends,
  };
}

/** A workspace folder the server has no engine for (a bad configuration), from gloss/status. */
export interface FolderError {
  root: string;
  error: string;
}

/** What the server says before a folder's engine is up: not an error yet. */
export const NOT_STARTED = 'not started';

/** Folders without an engine in a gloss/status answer. */
export function folderErrors(statusAnswer: unknown): FolderError[] {
  if (!isRecord(statusAnswer) || !Array.isArray(statusAnswer.folders)) {
    return [];
  }
  const out: FolderError[] = [];
  for (const f of statusAnswer.folders) {
    if (isRecord(f) && typeof f.root === 'string' && typeof f.error === 'string') {
      out.push({ root: f.root, error: f.error });
    }
  }
  return out;
}

/** The latest message of each folder, in the order folders first reported, and the folders in error. */
export class ProgressBoard {
  private readonly byRoot = new Map<string, ProgressMessage>();
  private readonly errorByRoot = new Map<string, string>();

  update(message: ProgressMessage): void {
    this.byRoot.set(message.root, message);
    this.errorByRoot.delete(message.root); // a folder that reports progress has an engine
  }

  /** The folders in error now (from gloss/status); their old progress no longer holds. */
  setErrors(errors: readonly FolderError[]): void {
    this.errorByRoot.clear();
    for (const e of errors) {
      this.errorByRoot.set(e.root, e.error);
      this.byRoot.delete(e.root);
    }
  }

  clear(): void {
    this.byRoot.clear();
    this.errorByRoot.clear();
  }

  folders(): ProgressMessage[] {
    return [...this.byRoot.values()];
  }

  errors(): FolderError[] {
    return [...this.errorByRoot].map(([root, error]) => ({ root, error }));
  }
}

export type Severity = 'normal' | 'warning' | 'error';

export interface StatusBarView {
  text: string;
  tooltip: string;
  severity: Severity;
}

export const CLICK_HINT = 'Click for the full Gloss status.';

export function statusBarView(folders: readonly ProgressMessage[], errors: readonly FolderError[] = []): StatusBarView {
  const errorLines = errors.map((e) => `${e.root}: not indexed: ${e.error}`);
  if (errors.length > 0 && folders.length === 0) {
    return {
      text: '$(error) Gloss: configuration error',
      tooltip: [...errorLines, CLICK_HINT].join('\n'),
      severity: 'error',
    };
  }
  if (folders.length === 0) {
    return {
      text: '$(sync~spin) Gloss: starting',
      tooltip: `Gloss: waiting for the server's first report.\n${CLICK_HINT}`,
      severity: 'normal',
    };
  }
  const queued = sum(folders.map((f) => f.queued));
  const inFlight = sum(folders.map((f) => f.in_flight));
  const scanning = folders.some((f) => !f.scanned);
  const backends = mergeBackends(folders);
  const unhealthy = backends.filter((b) => b.healthy === false);

  const parts: string[] = [];
  let icon = '$(check)';
  if (scanning) {
    icon = '$(sync~spin)';
    parts.push('scanning');
  }
  if (queued > 0 || inFlight > 0) {
    icon = '$(sync~spin)';
    parts.push(`${queued} queued`, `${inFlight} in flight`);
  }
  if (parts.length === 0) {
    parts.push('idle');
  }
  for (const b of unhealthy) {
    parts.push(`$(warning) ${b.name} ${b.state ?? 'unhealthy'}`);
  }
  if (errors.length > 0) {
    parts.push(`$(warning) ${errors.length} folder${errors.length === 1 ? '' : 's'} not indexed`);
  }
  let severity: Severity = 'normal';
  if (unhealthy.length > 0 && unhealthy.length === backends.length) {
    severity = 'error';
  } else if (unhealthy.length > 0 || errors.length > 0) {
    severity = 'warning';
  }
  const tip = tooltip(folders, backends);
  return { text: `${icon} Gloss: ${parts.join(' · ')}`, tooltip: errorLines.length ? `${errorLines.join('\n')}\n${tip}` : tip, severity };
}

interface NamedBackend extends BackendHealth {
  name: string;
}

/** One entry per backend name and URL; unhealthy if any folder's report says so. */
function mergeBackends(folders: readonly ProgressMessage[]): NamedBackend[] {
  const merged = new Map<string, NamedBackend>();
  for (const folder of folders) {
    for (const [name, b] of Object.entries(folder.backends)) {
      const key = `${name}\u0000${b.url ?? ''}`;
      const seen = merged.get(key);
      if (!seen || (seen.healthy !== false && b.healthy === false)) {
        merged.set(key, { name, ...b });
      }
    }
  }
  return [...merged.values()];
}

function tooltip(folders: readonly ProgressMessage[], backends: readonly NamedBackend[]): string {
  const lines: string[] = [];
  for (const f of folders) {
    const classes = Object.entries(f.by_priority)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    const scan = f.scanned ? '' : ', scanning';
    lines.push(`${f.root}: ${f.queued} queued${classes ? ` (${classes})` : ''}, ${f.in_flight} in flight${scan}`);
  }
  for (const b of backends) {
    const health = b.healthy === false ? 'unhealthy' : b.healthy === true ? 'healthy' : 'health unknown';
    const lastError = b.healthy === false && b.last_error ? `; last error: ${b.last_error}` : '';
    lines.push(`Backend ${b.name}${b.url ? ` (${b.url})` : ''}: ${b.state ?? 'state unknown'}, ${health}${lastError}`);
  }
  const last = [...folders].reverse().find((f) => f.last)?.last;
  if (last) {
    const what = [last.path, last.symbol].filter(Boolean).join(' ');
    const outcome = last.ok
      ? `glossed${last.tier ? ` (tier ${last.tier})` : ''}`
      : `failed${last.reason ? `: ${last.reason}` : ''}`;
    lines.push(`Last: ${what} ${outcome}`);
  }
  lines.push(CLICK_HINT);
  return lines.join('\n');
}

function count(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? Math.floor(v) : 0;
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
