import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  configurationAction,
  initializationOptions,
  type Inspected,
  SERVER_KEYS,
  serverSettings,
  stableJson,
  userValue,
} from '../src/settings';

function inspector(values: Record<string, Inspected>) {
  const asked: string[] = [];
  const inspect = (key: string) => {
    asked.push(key);
    return values[key];
  };
  return { inspect, asked };
}

test('nothing set sends an empty gloss object, so gloss.toml applies whole', () => {
  const { inspect, asked } = inspector({});
  assert.deepEqual(initializationOptions(serverSettings(inspect)), { gloss: {} });
  assert.deepEqual(asked, [...SERVER_KEYS]);
});

test('dotted keys become the nested tables of gloss.toml; lists go as they are', () => {
  const backends = [{ name: 'local', kind: 'ollama', url: 'http://127.0.0.1:11434', max_concurrency: 2 }];
  const tiers = [{ name: '7b', model: 'qwen2.5-coder:7b-instruct', backends: ['local'] }];
  const { inspect } = inspector({
    'index.exclude': { globalValue: ['**/vendor/**'] },
    'index.idle_pause_ms': { workspaceValue: 0 },
    'store.path': { globalValue: '.cache/gloss.db' },
    'retry.base_s': { globalValue: 5 },
    backends: { globalValue: backends },
    tiers: { workspaceValue: tiers },
  });
  assert.deepEqual(serverSettings(inspect), {
    store: { path: '.cache/gloss.db' },
    index: { exclude: ['**/vendor/**'], idle_pause_ms: 0 },
    retry: { base_s: 5 },
    backends,
    tiers,
  });
});

test('defaults are not user settings: only set values are sent', () => {
  const { inspect } = inspector({
    'index.max_file_bytes': { globalValue: undefined, workspaceValue: undefined },
    'gpu.max_vram_fraction': { globalValue: 0.8 },
  } as Record<string, Inspected>);
  assert.deepEqual(serverSettings(inspect), { gpu: { max_vram_fraction: 0.8 } });
});

test('the most specific scope wins: folder, then workspace, then user', () => {
  assert.equal(userValue({ globalValue: 1, workspaceValue: 2, workspaceFolderValue: 3 }), 3);
  assert.equal(userValue({ globalValue: 1, workspaceValue: 2 }), 2);
  assert.equal(userValue({ globalValue: 1 }), 1);
  assert.equal(userValue({ globalValue: null }), undefined);
  assert.equal(userValue(undefined), undefined);
});

test('a wrong type is passed through for the server to name (it checks every key)', () => {
  const { inspect } = inspector({ 'index.max_file_bytes': { globalValue: 'big' } });
  assert.deepEqual(serverSettings(inspect), { index: { max_file_bytes: 'big' } });
});

test('client-only settings never reach the server', () => {
  const { inspect, asked } = inspector({});
  serverSettings(inspect);
  assert.ok(!asked.includes('pythonPath'));
  assert.ok(!asked.includes('trace.server'));
});

test('a change is sent; no change is not; removing every setting restarts', () => {
  const a = { index: { exclude: ['x'] } };
  assert.equal(configurationAction(a, { index: { exclude: ['x'] } }, false), 'none');
  assert.equal(configurationAction(a, { index: { exclude: ['y'] } }, false), 'notify');
  assert.equal(configurationAction({}, a, false), 'notify');
  assert.equal(configurationAction(a, {}, false), 'restart');
  assert.equal(configurationAction({}, {}, false), 'none');
  assert.equal(configurationAction(a, a, true), 'restart');
});

test('key order does not make settings differ', () => {
  assert.equal(stableJson({ b: 1, a: { d: [1, 2], c: 3 } }), stableJson({ a: { c: 3, d: [1, 2] }, b: 1 }));
  assert.notEqual(stableJson({ a: [1, 2] }), stableJson({ a: [2, 1] }));
});
