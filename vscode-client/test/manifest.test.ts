import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ACTION_COMMANDS } from '../src/actionLinks';
import { CLIENT_KEYS, SERVER_KEYS } from '../src/settings';

const manifest = JSON.parse(readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8'));

test('package.json contributes exactly the settings the client reads or sends', () => {
  const contributed = Object.keys(manifest.contributes.configuration.properties).sort();
  const known = [...SERVER_KEYS, ...CLIENT_KEYS].map((k) => `gloss.${k}`).sort();
  assert.deepEqual(contributed, known);
});

test('the server settings declare no defaults (an unset key must leave gloss.toml in charge)', () => {
  for (const key of SERVER_KEYS) {
    assert.equal(manifest.contributes.configuration.properties[`gloss.${key}`].default, undefined, key);
  }
});

test('every command the issue names is contributed, and the hover link commands exist', () => {
  const ids = manifest.contributes.commands.map((c: { command: string }) => c.command).sort();
  assert.deepEqual(ids, [
    'gloss.escalate',
    'gloss.openLog',
    'gloss.reglossFile',
    'gloss.reglossSymbol',
    'gloss.restart',
    'gloss.showStatus',
  ]);
  for (const id of ACTION_COMMANDS) {
    assert.ok(ids.includes(id), id);
  }
});
