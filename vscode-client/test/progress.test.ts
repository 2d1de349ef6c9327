import assert from 'node:assert/strict';
import { test } from 'node:test';

import { CLICK_HINT, folderErrors, parseProgress, ProgressBoard, statusBarView } from '../src/progress';

// The example from docs/client-protocol.md.
const EXAMPLE = {
  root: '/abs/folder',
  scanned: true,
  queued: 120,
  in_flight: 2,
  by_priority: { hover: 0, edited: 1, disk: 0, backlog: 119, refresh: 0 },
  last: { path: 'pkg/m.py', symbol: 'f', ok: true, tier: 'small', reason: null },
  backends: { local: { url: 'http://127.0.0.1:11434', state: 'closed', healthy: true } },
};

function view(...messages: unknown[]) {
  const board = new ProgressBoard();
  for (const m of messages) {
    const parsed = parseProgress(m);
    assert.ok(parsed, `not parsed: ${JSON.stringify(m)}`);
    board.update(parsed);
  }
  return statusBarView(board.folders());
}

test("the protocol's example: queue and work in flight, healthy", () => {
  const v = view(EXAMPLE);
  assert.equal(v.text, '$(sync~spin) Gloss: 120 queued · 2 in flight');
  assert.equal(v.severity, 'normal');
  assert.match(v.tooltip, /\/abs\/folder: 120 queued \(hover 0, edited 1, disk 0, backlog 119, refresh 0\), 2 in flight/);
  assert.match(v.tooltip, /Backend local \(http:\/\/127\.0\.0\.1:11434\): closed, healthy/);
  assert.match(v.tooltip, /Last: pkg\/m\.py f glossed \(tier small\)/);
  assert.ok(v.tooltip.endsWith(CLICK_HINT));
});

test('idle once scanned with nothing queued or in flight', () => {
  const v = view({ ...EXAMPLE, queued: 0, in_flight: 0, by_priority: {}, last: null });
  assert.equal(v.text, '$(check) Gloss: idle');
});

test('scanning before the first scan ends', () => {
  assert.equal(view({ ...EXAMPLE, scanned: false, queued: 0, in_flight: 0 }).text, '$(sync~spin) Gloss: scanning');
});

test('before any report: starting', () => {
  assert.equal(statusBarView([]).text, '$(sync~spin) Gloss: starting');
});

test('an open breaker shows as a warning; every backend down is an error', () => {
  const twoBackends = {
    ...EXAMPLE,
    backends: {
      local: { url: 'http://127.0.0.1:11434', state: 'open', healthy: false },
      team: { url: 'http://gpu:8000/v1', state: 'closed', healthy: true },
    },
  };
  const warn = view(twoBackends);
  assert.equal(warn.text, '$(sync~spin) Gloss: 120 queued · 2 in flight · $(warning) local open');
  assert.equal(warn.severity, 'warning');
  assert.doesNotMatch(warn.tooltip, /last error/);
  const down = view({ ...EXAMPLE, backends: { local: { url: 'x', state: 'half-open', healthy: false, last_error: 'connection refused' } } });
  assert.match(down.tooltip, /Backend local \(x\): half-open, unhealthy; last error: connection refused/);
  assert.equal(down.severity, 'error');
  assert.match(down.text, /\$\(warning\) local half-open$/);
});

test('folders add up; the latest report of each folder counts', () => {
  const a = { ...EXAMPLE, root: '/a', queued: 10, in_flight: 1 };
  const b = { ...EXAMPLE, root: '/b', queued: 5, in_flight: 1 };
  const aLater = { ...a, queued: 3, in_flight: 0 };
  assert.equal(view(a, b, aLater).text, '$(sync~spin) Gloss: 8 queued · 1 in flight');
});

test('the same backend in two folders is listed once, unhealthy if either says so', () => {
  const ok = { ...EXAMPLE, root: '/a' };
  const bad = { ...EXAMPLE, root: '/b', backends: { local: { url: 'http://127.0.0.1:11434', state: 'open', healthy: false } } };
  const v = view(ok, bad);
  assert.equal(v.tooltip.match(/Backend local/g)?.length, 1);
  assert.match(v.text, /local open/);
});

test('a failed last gloss says why', () => {
  const v = view({ ...EXAMPLE, last: { path: 'm.py', symbol: 'g', ok: false, tier: null, reason: 'timeout' } });
  assert.match(v.tooltip, /Last: m\.py g failed: timeout/);
});

test('messages without backends (an older server) still work', () => {
  const { backends: _unused, ...old } = EXAMPLE;
  assert.equal(view(old).text, '$(sync~spin) Gloss: 120 queued · 2 in flight');
});

test('malformed params are not progress', () => {
  assert.equal(parseProgress(null), undefined);
  assert.equal(parseProgress({ queued: 3 }), undefined);
  assert.equal(parseProgress([1, 2]), undefined);
  const odd = parseProgress({ root: '/r', queued: 'many', in_flight: -1, by_priority: { hover: 'x' } });
  assert.deepEqual(odd && [odd.queued, odd.in_flight, odd.by_priority], [0, 0, {}]);
});

test('a folder without an engine (bad configuration) is an error, not "starting" forever', () => {
  const errors = folderErrors({ folders: [{ root: '/bad', error: 'gloss.toml: tiers[0].model: is required' }] });
  assert.deepEqual(errors, [{ root: '/bad', error: 'gloss.toml: tiers[0].model: is required' }]);
  const only = statusBarView([], errors);
  assert.equal(only.text, '$(error) Gloss: configuration error');
  assert.equal(only.severity, 'error');
  assert.match(only.tooltip, /\/bad: not indexed: gloss\.toml: tiers\[0\]\.model: is required/);
  const parsed = parseProgress({ ...EXAMPLE, root: '/good' });
  assert.ok(parsed);
  const mixed = statusBarView([parsed], errors);
  assert.match(mixed.text, /· \$\(warning\) 1 folder not indexed$/);
  assert.equal(mixed.severity, 'warning');
});

test('the board: progress from a folder clears its error; an error drops its old progress', () => {
  const board = new ProgressBoard();
  const good = parseProgress({ ...EXAMPLE, root: '/a' });
  assert.ok(good);
  board.update(good);
  board.setErrors([{ root: '/a', error: 'bad' }]);
  assert.deepEqual([board.folders().length, board.errors().length], [0, 1]);
  board.update(good);
  assert.deepEqual([board.folders().length, board.errors().length], [1, 0]);
  assert.deepEqual(folderErrors('nonsense'), []);
  assert.deepEqual(folderErrors({ folders: [{ root: '/ok', spans: 3 }] }), []);
});
