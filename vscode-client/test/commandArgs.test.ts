import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseCommandAnswer, parseFileArgs, parseSpanArgs } from '../src/commandArgs';

const URI = 'file:///ws/pkg/shapes.py';

test('a hover link: VS Code spreads [{uri, line}] into the first argument', () => {
  // What a link command:gloss.reglossSymbol?ARGS hands the handler, ARGS decoded.
  const args = JSON.parse(decodeURIComponent(encodeURIComponent(JSON.stringify([{ uri: URI, line: 12 }]))));
  assert.deepEqual(parseSpanArgs(args), { kind: 'given', target: { uri: URI, line: 12 } });
});

test('the array passed whole (executeCommand(id, [{uri, line}])) works too', () => {
  assert.deepEqual(parseSpanArgs([[{ uri: URI, line: 0 }]]), { kind: 'given', target: { uri: URI, line: 0 } });
});

test('no argument (command palette): absent, so the cursor is used', () => {
  assert.deepEqual(parseSpanArgs([]), { kind: 'absent' });
  assert.deepEqual(parseSpanArgs([undefined]), { kind: 'absent' });
  assert.deepEqual(parseSpanArgs([null]), { kind: 'absent' });
  assert.deepEqual(parseFileArgs([]), { kind: 'absent' });
});

test('bad arguments say what was expected', () => {
  const cases: unknown[][] = [
    [{ uri: URI }],
    [{ uri: URI, line: -1 }],
    [{ uri: URI, line: 1.5 }],
    [{ uri: URI, line: '3' }],
    [{ uri: 'not a uri', line: 3 }],
    [{ line: 3 }],
    ['file:///x.py'],
    [42],
  ];
  for (const args of cases) {
    const parsed = parseSpanArgs(args);
    assert.equal(parsed.kind, 'invalid', JSON.stringify(args));
  }
  const noLine = parseSpanArgs([{ uri: URI }]);
  assert.ok(noLine.kind === 'invalid' && /line number/.test(noLine.reason));
});

test('a context menu Uri for a symbol command needs a line', () => {
  const uriLike = { scheme: 'file', path: '/ws/a.py', toString: () => 'file:///ws/a.py' };
  const parsed = parseSpanArgs([uriLike]);
  assert.equal(parsed.kind, 'invalid');
});

test('file commands take {uri}, a URI string, or a context-menu Uri', () => {
  const uriLike = { scheme: 'file', path: '/ws/a.py', toString: () => 'file:///ws/a.py' };
  assert.deepEqual(parseFileArgs([{ uri: URI }]), { kind: 'given', target: { uri: URI } });
  assert.deepEqual(parseFileArgs([URI]), { kind: 'given', target: { uri: URI } });
  assert.deepEqual(parseFileArgs([uriLike]), { kind: 'given', target: { uri: 'file:///ws/a.py' } });
  assert.deepEqual(parseFileArgs([{ uri: URI, line: 4 }]), { kind: 'given', target: { uri: URI } });
  assert.equal(parseFileArgs([{ path: '/x' }]).kind, 'invalid');
});

test("the server's answer is {queued, message}", () => {
  assert.deepEqual(parseCommandAnswer({ queued: 1, message: 'queued f' }), { queued: 1, message: 'queued f' });
  assert.equal(parseCommandAnswer({ queued: '1', message: 'x' }), undefined);
  assert.equal(parseCommandAnswer(null), undefined);
});
