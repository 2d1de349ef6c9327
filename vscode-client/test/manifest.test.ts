import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

import { ACTION_COMMANDS } from '../src/actionLinks';
import { documentSelector, EDITOR_WHEN, LANGUAGE_IDS, LANGUAGES_CONTEXT_KEY } from '../src/languages';
import { SEARCH_COMMAND } from '../src/searchHits';
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
    'gloss.searchByBehaviour',
    'gloss.showStatus',
  ]);
  for (const id of ACTION_COMMANDS) {
    assert.ok(ids.includes(id), id);
  }
});

test('"Gloss: Search by Behaviour" is contributed, offered everywhere, and bound to no key by default', () => {
  const command = manifest.contributes.commands.find((c: { command: string }) => c.command === SEARCH_COMMAND);
  assert.deepEqual(command, { command: SEARCH_COMMAND, title: 'Search by Behaviour', category: 'Gloss' });
  assert.equal(manifest.contributes.keybindings, undefined);
  const items: { command: string }[] = Object.values(manifest.contributes.menus as Record<string, { command: string }[]>).flat();
  assert.ok(!items.some((i) => i.command === SEARCH_COMMAND), 'no `when` clause hides it from the palette');
});

// The languages the server indexes (DESIGN.md, Languages), as VS Code language ids.
const EVERY_LANGUAGE = [
  'c',
  'cpp',
  'csharp',
  'go',
  'java',
  'javascript',
  'javascriptreact',
  'php',
  'python',
  'ruby',
  'rust',
  'typescript',
  'typescriptreact',
];

test('the client serves every language Gloss indexes, each once', () => {
  assert.deepEqual([...LANGUAGE_IDS].sort(), EVERY_LANGUAGE);
  assert.equal(new Set(LANGUAGE_IDS).size, LANGUAGE_IDS.length);
  assert.deepEqual(
    documentSelector(),
    LANGUAGE_IDS.map((language) => ({ scheme: 'file', language })),
  );
});

test('package.json activates on every language of the client, on gloss.toml, and on nothing else', () => {
  const events: string[] = manifest.activationEvents;
  const languages = events.filter((e) => e.startsWith('onLanguage:')).map((e) => e.slice('onLanguage:'.length));
  assert.deepEqual(languages.sort(), [...LANGUAGE_IDS].sort());
  assert.deepEqual(
    events.filter((e) => !e.startsWith('onLanguage:')),
    ['workspaceContains:gloss.toml'],
  );
});

test('the menus offer the editor commands in every language (the context key), never by one language id', () => {
  assert.equal(EDITOR_WHEN, `editorLangId in ${LANGUAGES_CONTEXT_KEY}`);
  const items: { command: string; when?: string }[] = Object.values(
    manifest.contributes.menus as Record<string, { command: string; when?: string }[]>,
  ).flat();
  const editorCommands = ['gloss.escalate', 'gloss.reglossFile', 'gloss.reglossSymbol'];
  for (const item of items) {
    const when = item.when ?? '';
    assert.doesNotMatch(when, /editorLangId\s*(==|!=|=~)/, `${item.command}: ${when}`);
    if (editorCommands.includes(item.command)) {
      assert.ok(when.split('&&').map((c) => c.trim()).includes(EDITOR_WHEN), `${item.command}: ${when}`);
    }
  }
  const palette = manifest.contributes.menus.commandPalette.map((i: { command: string }) => i.command).sort();
  assert.deepEqual(palette, editorCommands);
});

test('the descriptions no longer say Python only', () => {
  assert.doesNotMatch(manifest.description, /Python (functions|code|only)/);
  for (const name of ['JavaScript', 'TypeScript', 'Go', 'Rust', 'Java', 'C++', 'C#', 'Ruby', 'PHP']) {
    assert.ok(manifest.description.includes(name), `${name} in "${manifest.description}"`);
  }
  const readme = readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  assert.doesNotMatch(readme, /every Python\s+function/);
});
