/**
 * VS Code settings -> the server's configuration (the structure of gloss.toml).
 *
 * Only keys the user actually set (in user, workspace or folder settings) are
 * sent: the server merges them over the workspace's gloss.toml key by key, so
 * an unset key must stay absent for the file's value to apply. Values are sent
 * as they are; the server checks them and names a bad key's path.
 *
 * No VS Code import here: the caller passes an `inspect` function.
 */

/** Settings under `gloss.` that go to the server, spelled as in gloss.toml. */
export const SERVER_KEYS = [
  'store.path',
  'index.exclude',
  'index.max_file_bytes',
  'index.idle_pause_ms',
  'retry.base_s',
  'retry.max_s',
  'gpu.max_vram_fraction',
  'gpu.max_temperature_c',
  'gpu.sample_interval_s',
  'backends',
  'tiers',
] as const;

/** Settings under `gloss.` that only the client reads. */
export const CLIENT_KEYS = ['pythonPath', 'trace.server'] as const;

/** What `WorkspaceConfiguration.inspect` answers, narrowed to what matters here. */
export interface Inspected {
  globalValue?: unknown;
  workspaceValue?: unknown;
  workspaceFolderValue?: unknown;
}

export type Inspect = (key: string) => Inspected | undefined;

export type GlossSettings = Record<string, unknown>;

/** The value the user set for `key`, most specific scope first; undefined when unset. */
export function userValue(inspected: Inspected | undefined): unknown {
  if (!inspected) {
    return undefined;
  }
  for (const value of [inspected.workspaceFolderValue, inspected.workspaceValue, inspected.globalValue]) {
    if (value !== undefined && value !== null) {
      return value;
    }
  }
  return undefined;
}

/**
 * The `gloss` object for initializationOptions / didChangeConfiguration:
 * `index.exclude` set to X becomes `{index: {exclude: X}}`.
 */
export function serverSettings(inspect: Inspect): GlossSettings {
  const out: GlossSettings = {};
  for (const key of SERVER_KEYS) {
    const value = userValue(inspect(key));
    if (value === undefined) {
      continue;
    }
    const parts = key.split('.');
    let table = out;
    for (const part of parts.slice(0, -1)) {
      const next = table[part];
      if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
        table = next as GlossSettings;
      } else {
        const created: GlossSettings = {};
        table[part] = created;
        table = created;
      }
    }
    table[parts[parts.length - 1]] = value;
  }
  return out;
}

export function initializationOptions(settings: GlossSettings): { gloss: GlossSettings } {
  return { gloss: settings };
}

export type ConfigurationAction = 'none' | 'notify' | 'restart';

/**
 * What a settings change needs. The server treats an empty settings object as
 * "nothing changed", so going back to no settings at all takes a restart (the
 * new server then reads gloss.toml alone); a new interpreter does too.
 */
export function configurationAction(
  previous: GlossSettings,
  next: GlossSettings,
  pythonPathChanged: boolean,
): ConfigurationAction {
  if (pythonPathChanged) {
    return 'restart';
  }
  if (stableJson(previous) === stableJson(next)) {
    return 'none';
  }
  return Object.keys(next).length === 0 ? 'restart' : 'notify';
}

/** JSON with object keys sorted, so equal settings compare equal whatever their order. */
export function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        sorted[k] = (v as Record<string, unknown>)[k];
      }
      return sorted;
    }
    return v;
  });
}
