import assert from 'node:assert/strict';
import { test } from 'node:test';

import { esc, renderStatus } from '../src/statusReport';

const FOLDER = {
  root: '/ws',
  config_source: '/ws/gloss.toml',
  files: 2,
  spans: 5,
  enriched: 4,
  pending: 0,
  failed: 1,
  stale: 0,
  outdated: 0,
  llm_calls: 6,
  tokens_in: 900,
  tokens_out: 300,
  cost: 0,
  by_language: { python: { spans: 3, enriched: 3 }, go: { spans: 2, enriched: 1 } },
  backends: {
    test: { url: 'http://127.0.0.1:1234', state: 'closed', healthy: true, in_flight: 0, requests_ok: 6, requests_failed: 0, p50_ms: 12.5, p95_ms: 40, last_error: null },
  },
  tiers: {
    small: {
      glosses: 4,
      requests: 6,
      tokens_in: 900,
      tokens_out: 300,
      cost: 0,
      gate: { judged: 6, rejected: 2, rejected_share: 0.3333, reasons: { filler: 1, not_json: 1 } },
    },
    big: {
      glosses: 0,
      requests: 0,
      tokens_in: 0,
      tokens_out: 0,
      cost: 0,
      gate: { judged: 0, rejected: 0, rejected_share: null, reasons: {} },
    },
  },
  escalation: { escalated: 1, glosses: 4, rate: 0.25, rejections: { filler: 1 }, request_errors: {} },
  failure_reasons: [{ reason: 'small: model answer rejected: filler: inputs holds <b>N/A</b> | x', spans: 1 }],
  skipped_files: { 'big.py': 'larger than max_file_bytes' },
  gpu: { available: false, reason: 'no GPU' },
  queue: { queued: 1, in_flight: 1, waiting_to_retry: 0, by_priority: { hover: 0, backlog: 1 } },
};

test('a folder renders its counts, queue, backends, tiers, failures and GPU', () => {
  const md = renderStatus({ folders: [FOLDER] }, new Date(0));
  assert.match(md, /^# Gloss status/);
  assert.match(md, /## \/ws/);
  assert.match(md, /\| Spans \| 5 in 2 files \|/);
  assert.match(md, /\| Glossed \| 4 \|/);
  assert.match(md, /\| python \| 3 \| 3 \|\n\| go \| 2 \| 1 \|/);
  assert.match(md, /\*\*Queue:\*\* 1 queued \(hover 0, backlog 1\), 1 in flight, 0 waiting to retry/);
  assert.match(md, /\| test \| http:\/\/127\.0\.0\.1:1234 \| closed \| yes \| 0 \| 6 \| 0 \| 12\.5 \| 40 \|  \|/);
  assert.match(md, /\| small \| 4 \| 6 \| 900 \| 300 \| 0 \|/);
  assert.match(md, /1 of 4 glosses escalated \(25%\)/);
  assert.match(md, /- big\.py: larger than max\\_file\\_bytes/);
  assert.match(md, /\*\*GPU:\*\* none \(no GPU\)/);
});

test("each tier's answers rejected by the schema or the gate, with the share and why", () => {
  const md = renderStatus({ folders: [FOLDER] }, new Date(0));
  assert.match(md, /\| small \| 4 \| 6 \| 900 \| 300 \| 0 \| 2 of 6 \(33%\) \| filler 1, not\\_json 1 \|/);
  // A tier that never answered has no share: not 0%.
  assert.match(md, /\| big \| 0 \| 0 \| 0 \| 0 \| 0 \| - \|  \|/);
});

test('a GPU the watch throttled says why', () => {
  const gpu = { available: true, devices: [], throttled: 'GPU 0 at 91 C', local_backend_limits: { local: 1 } };
  assert.match(renderStatus({ folders: [{ ...FOLDER, gpu }] }), /\*\*GPU:\*\* throttled \(GPU 0 at 91 C\)/);
  const calm = { ...gpu, throttled: null };
  assert.match(renderStatus({ folders: [{ ...FOLDER, gpu: calm }] }), /\*\*GPU:\*\* available/);
});

test('server text is escaped: no HTML, no table breaks, no links', () => {
  const md = renderStatus({ folders: [FOLDER] });
  assert.ok(!md.includes('<b>'));
  assert.match(md, /&lt;b&gt;N\/A&lt;\/b&gt; \\\| x/);
  assert.equal(esc('[click](command:evil)'), '\\[click\\](command:evil)');
  assert.equal(esc('![img](x) <a href=y>'), '!\\[img\\](x) &lt;a href=y&gt;');
  assert.equal(esc('a\nb'), 'a b');
});

test('a folder without an engine says why', () => {
  const md = renderStatus({ folders: [{ root: '/bad', error: 'gloss.toml: tiers[0].model: is required' }] });
  assert.ok(md.includes("**No engine for this folder:** gloss.toml: tiers\\[0\\].model: is required"), md);
});

test('no folders, and an unexpected answer, are said plainly', () => {
  assert.match(renderStatus({ folders: [] }), /No workspace folder is open/);
  assert.match(renderStatus('nonsense'), /something unexpected/);
});
