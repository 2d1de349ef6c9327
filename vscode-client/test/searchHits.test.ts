import assert from 'node:assert/strict';
import { test } from 'node:test';

import { describeSearchFailure, hitView, kindIcon, NO_GLOSS, parseSearchAnswer, type SearchHit } from '../src/searchHits';

const ROOT = 'file:///home/u/proj/';

// One hit as docs/client-protocol.md describes gloss/search's answer.
const LOAD_CONFIG = {
  name: 'load_config',
  qualname: 'load_config',
  kind: 'function',
  location: { uri: `${ROOT}inventory/config.py`, range: { start: { line: 10, character: 4 }, end: { line: 10, character: 15 } } },
  summary: 'Reads the settings from a YAML file.',
  score: 0.032,
  matched: 'gloss',
};

const relative = (uri: string): string => (uri.startsWith(ROOT) ? uri.slice(ROOT.length) : uri);

function parsedHits(raw: unknown): SearchHit[] {
  const parsed = parseSearchAnswer(raw);
  assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
  return parsed.hits;
}

test('an answer of the documented shape is read whole, in the server\'s order', () => {
  const method = { ...LOAD_CONFIG, name: 'addItem', qualname: 'Cart.addItem', kind: 'method', summary: null, matched: 'name' };
  const hits = parsedHits([LOAD_CONFIG, method]);
  assert.deepEqual(
    hits.map((h) => [h.name, h.matched, h.summary]),
    [
      ['load_config', 'gloss', 'Reads the settings from a YAML file.'],
      ['addItem', 'name', null],
    ],
  );
  assert.deepEqual(hits[0].location, LOAD_CONFIG.location);
  assert.deepEqual(parsedHits([]), []);
});

test('a missing summary reads as no gloss', () => {
  const { summary: _omitted, ...withoutSummary } = LOAD_CONFIG;
  assert.equal(parsedHits([withoutSummary])[0].summary, null);
});

test('a malformed answer is refused, naming the hit and the field', () => {
  const cases: [unknown, RegExp][] = [
    [null, /expected a list of hits, got null/],
    [{ hits: [] }, /expected a list of hits, got \{"hits":\[\]\}/],
    [[LOAD_CONFIG, 'load_config'], /hit 2 of 2: expected an object, got "load_config"/],
    [[{ ...LOAD_CONFIG, name: 7 }], /hit 1 of 1: "name" should be a string, got 7/],
    [[{ ...LOAD_CONFIG, qualname: undefined }], /"qualname" should be a string, got nothing/],
    [[{ ...LOAD_CONFIG, kind: null }], /"kind" should be a string or a number/],
    [[{ ...LOAD_CONFIG, location: `${ROOT}x.py` }], /"location" should be \{uri, range\}/],
    [[{ ...LOAD_CONFIG, location: { uri: 'file:///x.py', range: { start: { line: -1, character: 0 }, end: { line: 0, character: 1 } } } }], /"location" range should be/],
    [[{ ...LOAD_CONFIG, summary: ['a'] }], /"summary" should be a string or null/],
    [[{ ...LOAD_CONFIG, score: '0.3' }], /"score" should be a number, got "0.3"/],
    [[{ ...LOAD_CONFIG, matched: 'vector' }], /"matched" should be "name", "gloss" or "both", got "vector"/],
  ];
  for (const [raw, reason] of cases) {
    const parsed = parseSearchAnswer(raw);
    assert.ok(!parsed.ok, JSON.stringify(raw));
    assert.match(parsed.reason, reason);
  }
});

test('a row: the name as label, qualname and workspace path:line (1-based) as description, the summary as detail', () => {
  const method = { ...LOAD_CONFIG, name: 'addItem', qualname: 'Cart.addItem', kind: 'method' };
  const [fn, m] = parsedHits([LOAD_CONFIG, method]).map((h) => hitView(h, relative));
  assert.deepEqual(fn, {
    label: 'load_config',
    icon: 'symbol-function',
    description: 'inventory/config.py:11',
    detail: 'Reads the settings from a YAML file.',
  });
  assert.equal(m.label, 'addItem');
  assert.equal(m.icon, 'symbol-method');
  assert.equal(m.description, 'Cart.addItem · inventory/config.py:11');
});

test('a hit without a gloss says so instead of showing an empty line', () => {
  for (const summary of [null, '', '   ']) {
    const [hit] = parsedHits([{ ...LOAD_CONFIG, summary }]);
    assert.equal(hitView(hit, relative).detail, NO_GLOSS);
  }
});

test('each kind of the store has its codicon; LSP SymbolKind numbers too; anything else a neutral one', () => {
  assert.deepEqual(
    ['class', 'method', 'async_method', 'function', 'async_function', 'interface', 'trait', 'struct', 'enum', 'module'].map(kindIcon),
    [
      'symbol-class',
      'symbol-method',
      'symbol-method',
      'symbol-function',
      'symbol-function',
      'symbol-interface',
      'symbol-interface',
      'symbol-struct',
      'symbol-enum',
      'symbol-module',
    ],
  );
  assert.equal(kindIcon(12), 'symbol-function');
  assert.equal(kindIcon(5), 'symbol-class');
  assert.equal(kindIcon('macro'), 'symbol-misc');
});

class ResponseErrorLike extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

test('failures become one line: the server\'s own words for a refused query, none for a cancelled one', () => {
  const refused = 'gloss/search: the query is 300 characters long; Gloss searches for at most 256';
  assert.equal(describeSearchFailure(new ResponseErrorLike(-32602, refused)), refused);
  assert.equal(describeSearchFailure(new ResponseErrorLike(-32800, 'Request cancelled')), undefined);
  const cancelled = new Error('Canceled');
  cancelled.name = 'Canceled';
  assert.equal(describeSearchFailure(cancelled), undefined);
  assert.match(describeSearchFailure(new ResponseErrorLike(-32601, 'Unhandled method gloss/search')) ?? '', /does not answer gloss\/search; update Gloss/);
  assert.equal(
    describeSearchFailure(new ResponseErrorLike(-32603, 'database is locked')),
    'the server failed to answer gloss/search: database is locked',
  );
  assert.equal(describeSearchFailure(new Error('Connection got disposed.')), 'gloss/search failed: Connection got disposed.');
});
