import assert from 'node:assert/strict';
import * as path from 'node:path';
import { test } from 'node:test';

import {
  checkResult,
  expandSettingPath,
  findOnPath,
  type InterpreterLookup,
  notInstalledMessage,
  resolveInterpreter,
} from '../src/interpreter';

function lookup(over: Partial<InterpreterLookup>, calls: string[] = []): InterpreterLookup {
  return {
    setting: () => {
      calls.push('setting');
      return over.setting?.();
    },
    pythonExtension: async () => {
      calls.push('python-extension');
      return over.pythonExtension?.();
    },
    findOnPath: (name) => {
      calls.push(`PATH:${name}`);
      return over.findOnPath?.(name);
    },
  };
}

test('the gloss.pythonPath setting wins and nothing else is asked', async () => {
  const calls: string[] = [];
  const found = await resolveInterpreter(
    lookup({ setting: () => '/opt/venv/bin/python', pythonExtension: async () => '/ext/python', findOnPath: () => '/usr/bin/python3' }, calls),
  );
  assert.deepEqual(found, { path: '/opt/venv/bin/python', source: 'setting' });
  assert.deepEqual(calls, ['setting']);
});

test("then the Python extension's interpreter", async () => {
  const calls: string[] = [];
  const found = await resolveInterpreter(
    lookup({ setting: () => '  ', pythonExtension: async () => '/ext/python', findOnPath: () => '/usr/bin/python3' }, calls),
  );
  assert.deepEqual(found, { path: '/ext/python', source: 'python-extension' });
  assert.deepEqual(calls, ['setting', 'python-extension']);
});

test('then python3 on PATH, when the Python extension is absent or fails', async () => {
  const calls: string[] = [];
  const absent = await resolveInterpreter(lookup({ findOnPath: (n) => `/usr/bin/${n}` }, calls));
  assert.deepEqual(absent, { path: '/usr/bin/python3', source: 'PATH' });
  assert.deepEqual(calls, ['setting', 'python-extension', 'PATH:python3']);
  const failing = await resolveInterpreter(
    lookup({
      pythonExtension: async () => {
        throw new Error('activation failed');
      },
      findOnPath: (n) => `/usr/bin/${n}`,
    }),
  );
  assert.equal(failing?.source, 'PATH');
});

test('nothing anywhere: undefined', async () => {
  assert.equal(await resolveInterpreter(lookup({})), undefined);
});

test('PATH is searched in order for an executable', () => {
  const exists = new Set(['/b/python3', '/c/python3']);
  const envPath = ['/a', '', '/b', '/c'].join(path.delimiter);
  assert.equal(findOnPath('python3', envPath, (f) => exists.has(f)), '/b/python3');
  assert.equal(findOnPath('python3', undefined, () => true), undefined);
});

test('setting paths expand ~, ${userHome} and ${workspaceFolder}; relative paths anchor to the folder', () => {
  const ctx = { home: '/home/u', workspaceFolder: '/ws' };
  assert.equal(expandSettingPath('~/venv/bin/python', ctx), '/home/u/venv/bin/python');
  assert.equal(expandSettingPath('${userHome}/py', ctx), '/home/u/py');
  assert.equal(expandSettingPath('${workspaceFolder}/.venv/bin/python', ctx), '/ws/.venv/bin/python');
  assert.equal(expandSettingPath('.venv/bin/python', ctx), '/ws/.venv/bin/python');
  assert.equal(expandSettingPath('python3.12', ctx), 'python3.12');
});

test('the install check: ok with a version; a missing Gloss says how to install it', () => {
  const interp = { path: '/usr/bin/python3', source: 'PATH' as const };
  assert.deepEqual(checkResult(interp, { code: 0, stdout: '0.1.0\n', stderr: '' }), { ok: true, version: '0.1.0' });
  const missing = checkResult(interp, {
    code: 1,
    stdout: '',
    stderr: "Traceback...\nModuleNotFoundError: No module named 'enrich_core'\n",
  });
  assert.equal(missing.ok, false);
  if (!missing.ok) {
    assert.match(missing.message, /Gloss is not installed in \/usr\/bin\/python3 \(python3 on PATH\)/);
    assert.match(missing.message, /"\/usr\/bin\/python3" -m pip install \/path\/to\/gloss/);
    assert.match(missing.message, /gloss\.pythonPath/);
    assert.match(missing.detail, /No module named 'enrich_core'/);
  }
  assert.equal(notInstalledMessage(interp), missing.ok ? '' : missing.message);
});

test('an interpreter that cannot run names the setting it came from', () => {
  const res = checkResult(
    { path: '/nope/python', source: 'setting' },
    { code: null, stdout: '', stderr: '', error: 'ENOENT: spawn /nope/python ENOENT' },
  );
  assert.equal(res.ok, false);
  if (!res.ok) {
    assert.match(res.message, /cannot run Python at \/nope\/python \(the gloss\.pythonPath setting\): ENOENT/);
  }
});
