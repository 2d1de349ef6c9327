/**
 * End to end in a real VS Code (code-server, driven through Chromium): the
 * packaged .vsix is installed, a sample workspace whose gloss.toml points at
 * the test LLM server is opened, Gloss glosses it, a hover shows the real
 * gloss with its footer and action links, a link re-glosses through the
 * server, Ctrl+T finds Gloss's symbol, "Gloss: Search by Behaviour" finds a
 * function by what its gloss says, and the status bar opens the status.
 *
 * Needs what ci.sh installs: GLOSS_VSCODE_TOOLS (Node 24 + code-server),
 * Chromium at /usr/bin/chromium, the Gloss venv (GLOSS_PYTHON, default
 * ../.venv/bin/python) and the packaged dist/gloss-vscode.vsix.
 * A failing step leaves a screenshot and logs in e2e/artifacts/.
 */

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Locator, type Page } from 'playwright-core';

import {
  ARTIFACTS,
  CHROMIUM,
  CLIENT_DIR,
  CODE_SERVER,
  freePort,
  log,
  type Managed,
  NODE24,
  PYTHON,
  REPO_ROOT,
  run,
  start,
  startLlmServer,
  tempDir,
  VSIX,
  waitFor,
} from './harness';

const SMALL = 'small-model';
const LARGE = 'large-model';
const SUMMARY = `load_config (test model ${SMALL}) does what its name says, deterministically.`;
const FOOTER = `gloss by ${SMALL} · tier small · fresh`;
const HOVER_PNG = path.join(REPO_ROOT, 'docs', 'vscode-hover.png');
// The sample's TypeScript method (web/cart.ts): a language other than Python, end to end.
const TS_METHOD = 'addItem';
const TS_SUMMARY = `${TS_METHOD} (test model ${SMALL}) does what its name says, deterministically.`;
// e2e/llm_server.py glosses the sample's to_reorder (inventory/stock.py, line 15) in
// words its name and path do not hold: only a search by behaviour can find it by them.
const DESCRIBED_NAME = 'to_reorder';
const DESCRIBED_WHERE = 'inventory/stock.py:15';
const DESCRIBED_SUMMARY = 'Lists the items whose quantity has fallen below the threshold, sorted alphabetically.';
const BEHAVIOUR_QUERY = 'fallen below threshold';
// A word in Settings' gloss (e2e/llm_server.py) and in other symbols' names: the server
// ranks Settings among them, where VS Code's own sort would move it below every name match.
const ORDER_QUERY = 'to';
const SEARCH_TITLE = 'Gloss: Search by Behaviour';
const SEARCH_PNG = path.join(REPO_ROOT, 'docs', 'vscode-search.png');
// The keybindings.json entry the README suggests (the extension binds no key itself).
const SEARCH_KEYBINDING = { key: 'ctrl+shift+alt+t', command: 'gloss.searchByBehaviour' };

const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let llm: Managed | undefined;
let codeServer: Managed | undefined;
let context: BrowserContext | undefined;
let page: Page;
let workspace: string;
let scratch: string;
let broken: string | undefined;
let workbenchUrl = '';
let llmCallsAfterIndexing = 0;

function glossToml(llmUrl: string): string {
  return `# Written by the VS Code end-to-end test: two tiers on the test LLM server.
[[backends]]
name = "test"
kind = "ollama"
url = "${llmUrl}"
max_concurrency = 2
timeout_s = 20
max_retries = 1
retry_base_s = 0.01

[[tiers]]
name = "small"
model = "${SMALL}"
backends = ["test"]

[[tiers]]
name = "large"
model = "${LARGE}"
backends = ["test"]
`;
}

/** code-server reads PORT and PASSWORD from the environment; neither may leak in. */
function codeServerEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PORT;
  delete env.PASSWORD;
  delete env.HASHED_PASSWORD;
  // No extension marketplace: nothing may leave this machine.
  env.EXTENSIONS_GALLERY = JSON.stringify({
    serviceUrl: 'http://127.0.0.1:9/gallery',
    itemUrl: 'http://127.0.0.1:9/item',
    resourceUrlTemplate: 'http://127.0.0.1:9/resource/{publisher}/{name}/{version}/{path}',
  });
  return env;
}

/**
 * The interpreter is a machine setting: in code-server (a remote window) the
 * user's local settings do not set it; the remote machine's settings do.
 */
function machineSettings(): Record<string, unknown> {
  return { 'gloss.pythonPath': PYTHON };
}

function userSettings(): Record<string, unknown> {
  return {
    'security.workspace.trust.enabled': false,
    'workbench.startupEditor': 'none',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'chat.disableAIFeatures': true,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    'extensions.ignoreRecommendations': true,
    'git.enabled': false,
    'editor.minimap.enabled': false,
    'editor.hover.delay': 200,
    'editor.hover.sticky': true,
    'editor.hover.above': false, // below the def line, where the whole gloss fits
    'window.restoreWindows': 'none',
  };
}

/** A test step; after a failure the rest are skipped (their failures would only echo it). */
function step(name: string, body: () => Promise<void>, timeoutMs: number): void {
  test(name, { timeout: timeoutMs + 30_000 }, async (t) => {
    if (broken) {
      t.skip(`an earlier step failed: ${broken}`);
      return;
    }
    log(`step: ${name}`);
    const started = Date.now();
    try {
      await body();
      log(`step done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${name}`);
    } catch (err) {
      broken = name;
      await keepEvidence(name);
      throw err;
    }
  });
}

async function keepEvidence(stepName: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  const slug = stepName.replace(/[^a-z0-9]+/gi, '-').toLowerCase();
  if (page) {
    const shot = path.join(ARTIFACTS, `failure-${slug}.png`);
    await page.screenshot({ path: shot }).catch(() => undefined);
    log(`screenshot kept: ${shot}`);
  }
  for (const proc of [codeServer, llm]) {
    if (proc) {
      fs.writeFileSync(path.join(ARTIFACTS, `${proc.name}.log`), proc.output.join('\n'));
    }
  }
  const glossLog = findGlossLog();
  if (glossLog) {
    fs.copyFileSync(glossLog, path.join(ARTIFACTS, 'gloss-output.log'));
    log(`Gloss output channel (last lines of ${glossLog}):\n${fs.readFileSync(glossLog, 'utf8').split('\n').slice(-40).join('\n')}`);
  }
  log(`code-server's last lines:\n${codeServer?.output.slice(-20).join('\n') ?? ''}`);
  log(`artifacts: ${ARTIFACTS}`);
}

/** The Gloss output channel's file in code-server's logs. */
function findGlossLog(): string | undefined {
  const root = path.join(scratch ?? '', 'user-data', 'logs');
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }) : []) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        walk(full);
      } else if (/Gloss\.log$/.test(entry.name)) {
        found.push(full);
      }
    }
  };
  walk(root);
  return found.sort().pop();
}

async function glossStatus(): Promise<{ spans: number; enriched: number; llm_calls: number }> {
  // `gloss status --json`, through the venv's Python (the console script may not be beside it).
  const cli = 'import sys; from server.cli.main import main; sys.exit(main(sys.argv[1:]))';
  const out = await run(PYTHON, ['-c', cli, 'status', workspace, '--json'], { cwd: REPO_ROOT, timeoutMs: 30_000 });
  return JSON.parse(out);
}

function statusBarItem(): Locator {
  return page.locator('#workbench\\.parts\\.statusbar [aria-label^="Gloss:"]').first();
}

async function statusBarLabel(): Promise<string | undefined> {
  const item = statusBarItem();
  return (await item.count()) > 0 ? ((await item.getAttribute('aria-label')) ?? undefined) : undefined;
}

/**
 * Drags the hover's bottom edge down, as a person does to read a long hover,
 * so the screenshot shows the whole gloss down to the footer and links.
 * Cosmetic: the assertions above do not depend on it.
 */
async function enlargeHover(hover: Locator): Promise<void> {
  const sash = page.locator('.monaco-resizable-hover > .monaco-sash.orthogonal-edge-south:not(.disabled)').first();
  const box = await sash.boundingBox().catch(() => null);
  const hoverBox = await hover.boundingBox();
  if (!box || !hoverBox) {
    log('hover not resizable here; the screenshot shows its top part');
    return;
  }
  const x = box.x + box.width / 2;
  const y = box.y + box.height / 2;
  await page.mouse.move(x, y);
  await page.mouse.down();
  await page.mouse.move(x, y + 300, { steps: 10 });
  await page.mouse.up();
  await page.mouse.move(hoverBox.x + hoverBox.width - 60, hoverBox.y + hoverBox.height / 2); // rest on the hover, off its edge
  await waitFor('the edge to lose its highlight', async () => !/\b(hover|active)\b/.test((await sash.getAttribute('class')) ?? ''), 3_000, 100).catch(
    () => undefined,
  );
  const after = await hover.boundingBox();
  log(`hover height ${hoverBox.height} -> ${after?.height ?? '?'} px`);
}

before(async () => {
  for (const [what, file] of [
    ['the Gloss venv Python (GLOSS_PYTHON)', PYTHON],
    ['Node 24 (GLOSS_VSCODE_TOOLS; ci.sh installs it)', NODE24],
    ['code-server (GLOSS_VSCODE_TOOLS; ci.sh installs it)', CODE_SERVER],
    ['the packaged extension (npm run package)', VSIX],
    ['Chromium (apt-get install chromium)', CHROMIUM],
  ]) {
    assert.ok(fs.existsSync(file), `missing ${what}: ${file}`);
  }
  scratch = tempDir('gloss-vscode-e2e-');
  workspace = path.join(scratch, 'workspace');
  fs.cpSync(path.join(CLIENT_DIR, 'e2e', 'sample'), workspace, { recursive: true });
  log(`scratch directory: ${scratch}`);
});

after(async () => {
  await context?.close().catch((err: unknown) => log(`closing the browser: ${String(err)}`));
  await codeServer?.stop();
  if (llm) {
    llm.child.stdin?.end(); // it serves until its stdin closes
    await llm.exitWithin(5_000);
    await llm.stop();
    log(llm.output.filter((l) => l.startsWith('test LLM server:')).join('\n'));
  }
  if (!broken && scratch && !process.env.GLOSS_E2E_KEEP) {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}, { timeout: 60_000 });

step('the test LLM server and code-server start, with the .vsix installed', async () => {
  const started = await startLlmServer();
  llm = started.server;
  fs.writeFileSync(path.join(workspace, 'gloss.toml'), glossToml(started.url));
  log(`test LLM server at ${started.url}`);

  const userData = path.join(scratch, 'user-data');
  const extensions = path.join(scratch, 'extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(userSettings(), null, 2));
  fs.writeFileSync(path.join(userData, 'User', 'keybindings.json'), JSON.stringify([SEARCH_KEYBINDING], null, 2));
  fs.mkdirSync(path.join(userData, 'Machine'), { recursive: true });
  fs.writeFileSync(path.join(userData, 'Machine', 'settings.json'), JSON.stringify(machineSettings(), null, 2));
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions, '--config', path.join(scratch, 'code-server.yaml')];
  const installed = await run(NODE24, [CODE_SERVER, ...common, '--install-extension', VSIX], { timeoutMs: 120_000 });
  assert.match(installed, /successfully installed/i, installed);

  // A port found free can be taken before code-server binds it: one more try then.
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    codeServer = start(
      'code-server',
      NODE24,
      [
        CODE_SERVER,
        ...common,
        '--bind-addr',
        `127.0.0.1:${port}`,
        '--auth',
        'none',
        '--disable-telemetry',
        '--disable-update-check',
        '--disable-workspace-trust',
        '--disable-getting-started-override',
        '--ignore-last-opened',
        workspace,
      ],
      { cwd: scratch, env: codeServerEnv() },
    );
    const server = codeServer;
    const listening = await waitFor(
      'code-server to listen',
      () => {
        if (server.output.some((l) => l.includes('HTTP server listening'))) {
          return true;
        }
        if (!server.running) {
          return 'exited';
        }
        return undefined;
      },
      60_000,
      100,
    );
    if (listening === true) {
      log(`code-server on http://127.0.0.1:${port}/`);
      workbenchUrl = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`;
      return;
    }
    if (attempt === 2) {
      throw new Error(`code-server exited twice before listening:\n${server.output.join('\n')}`);
    }
  }
}, 240_000);

step('the workbench opens the sample workspace in Chromium', async () => {
  context = await chromium.launchPersistentContext(path.join(scratch, 'chromium-profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1360, height: 900 },
    // Chromium keeps a crash database under XDG_CONFIG_HOME: keep it in the scratch directory.
    env: { ...process.env, XDG_CONFIG_HOME: path.join(scratch, 'xdg-config'), XDG_CACHE_HOME: path.join(scratch, 'xdg-cache') },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(30_000);
  await page.goto(workbenchUrl, { waitUntil: 'domcontentloaded' });
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
  await waitFor('the explorer to list the sample', async () => (await page.getByText('inventory', { exact: true }).count()) > 0, 60_000);
}, 120_000);

step('Gloss starts and its status bar item appears', async () => {
  const label = await waitFor('the Gloss status bar item', statusBarLabel, 60_000);
  log(`status bar: ${label}`);
}, 60_000);

step('opening a Python file: Gloss glosses the workspace (status bar idle, store complete)', async () => {
  await openConfigPy();

  const idle = await waitFor(
    'the status bar to say Gloss is idle (the sample glossed)',
    async () => {
      const label = await statusBarLabel();
      return label?.includes('idle') ? label : undefined;
    },
    120_000,
    500,
  );
  log(`status bar: ${idle}`);
  const status = await waitFor(
    'gloss status to count every span glossed',
    async () => {
      const s = await glossStatus();
      return s.spans > 0 && s.enriched === s.spans ? s : undefined;
    },
    30_000,
    500,
  );
  llmCallsAfterIndexing = status.llm_calls;
  log(`store: ${status.enriched} of ${status.spans} spans glossed, ${status.llm_calls} LLM calls`);
}, 180_000);

step('hovering load_config shows the real gloss, its footer and the action links', async () => {
  const hover = await hoverWord('load_config', SUMMARY);
  const text = await hover.innerText();
  assert.ok(text.includes(SUMMARY), `hover text:\n${text}`);
  assert.ok(text.includes(FOOTER), `no footer "${FOOTER}" in:\n${text}`);
  assert.match(text, /Inputs[\s\S]*path[\s\S]*environ/, text);
  await hover.getByRole('link', { name: 'Regenerate' }).waitFor({ state: 'visible' });
  await hover.getByRole('link', { name: `Escalate to ${'large'}` }).waitFor({ state: 'visible' });
  await enlargeHover(hover);
  fs.mkdirSync(path.dirname(HOVER_PNG), { recursive: true });
  await page.screenshot({ path: HOVER_PNG });
  log(`hover screenshot: ${HOVER_PNG}`);
}, 90_000);

step('the hover\'s "Regenerate" link runs gloss.reglossSymbol through the server', async () => {
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: SUMMARY }).first();
  await hover.getByRole('link', { name: 'Regenerate' }).click();
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'Gloss:' }).first();
  await toast.waitFor({ state: 'visible', timeout: 20_000 });
  const message = await toast.innerText();
  log(`notification: ${message.replace(/\s+/g, ' ')}`);
  assert.match(message, /load_config/, message);
  assert.doesNotMatch(message, /bad command arguments|not running|failed/i, message);
  const calls = await waitFor(
    'the server to ask the LLM for load_config again',
    async () => {
      const s = await glossStatus();
      return s.llm_calls > llmCallsAfterIndexing && s.enriched === s.spans ? s.llm_calls : undefined;
    },
    60_000,
    500,
  );
  log(`LLM calls: ${llmCallsAfterIndexing} after indexing, ${calls} after the re-gloss`);
  await page.keyboard.press('Escape');
}, 90_000);

step('Ctrl+T (workspace symbols) lists Gloss\'s load_config', async () => {
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  await page.locator('.monaco-editor .view-lines').first().click();
  const input = page.locator('.quick-input-widget input');
  await waitFor(
    'Ctrl+T to open the symbol picker',
    async () => {
      await page.keyboard.press('Control+T');
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      return (await input.inputValue()).startsWith('#');
    },
    20_000,
    500,
  );
  await input.fill('#load_conf');
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'load_config' }).first();
  await row.waitFor({ state: 'visible', timeout: 20_000 });
  const rowText = await row.innerText();
  log(`symbol row: ${rowText.replace(/\s+/g, ' ')}`);
  assert.match(rowText, /config\.py/, `the entry names its file: ${rowText}`);
  await page.keyboard.press('Escape');
}, 60_000);

step('from the command palette: escalate at the cursor (the hover then names the large tier), re-gloss the file', async () => {
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(':11');
  await page.keyboard.press('Enter');
  await waitFor('the cursor on line 11', async () => (await page.locator('.statusbar-item', { hasText: 'Ln 11' }).count()) > 0, 10_000);

  const before = (await glossStatus()).llm_calls;
  await runCommand('Gloss: Escalate This Gloss to the Next Tier');
  await page.locator('.notification-toast', { hasText: 'queued to be glossed again by large' }).first().waitFor({ state: 'visible', timeout: 20_000 });
  await waitFor(
    'the large tier to gloss load_config',
    async () => {
      const s = await glossStatus();
      return s.llm_calls > before && s.enriched === s.spans;
    },
    60_000,
    500,
  );
  const name = page.locator('.monaco-editor .view-line span', { hasText: /^load_config$/ }).first();
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: `gloss by ${LARGE} · tier large` }).first();
  await waitFor(
    'the hover to show the large tier\'s gloss',
    async () => {
      await page.mouse.move(5, 5);
      await name.hover();
      await hover.waitFor({ state: 'visible', timeout: 5_000 });
      return true;
    },
    45_000,
    0,
  );
  const text = await hover.innerText();
  assert.ok(text.includes(`load_config (test model ${LARGE})`), text);
  assert.equal(await hover.getByRole('link', { name: /Escalate/ }).count(), 0, 'no tier after large, so no Escalate link');
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  await runCommand('Gloss: Re-gloss This File');
  const toast = page.locator('.notification-toast', { hasText: 'spans of inventory/config.py' }).first();
  await toast.waitFor({ state: 'visible', timeout: 20_000 });
  log(`notification: ${(await toast.innerText()).replace(/\s+/g, ' ')}`);
}, 120_000);

step('a TypeScript file: hovering a method shows its gloss, and the palette offers the re-gloss commands', async () => {
  await openFile('cart.ts', 'class Cart');
  await waitFor(
    'gloss status to count every span glossed, cart.ts\'s too',
    async () => {
      const s = await glossStatus();
      return s.spans > 0 && s.enriched === s.spans ? s : undefined;
    },
    60_000,
    500,
  );
  // The summary names the method's qualified name (Cart.addItem): match from its own name on.
  const hover = await hoverWord(TS_METHOD, TS_SUMMARY);
  const text = await hover.innerText();
  assert.ok(text.includes(FOOTER), `no footer "${FOOTER}" in:\n${text}`);
  assert.match(text, /Inputs[\s\S]*item[\s\S]*qty/, text);
  await hover.getByRole('link', { name: 'Regenerate' }).waitFor({ state: 'visible' });
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');

  // The commands' `when` clause (editorLangId in gloss.languages) holds in a TypeScript editor.
  await page.locator('.monaco-editor .view-lines').first().click();
  await runCommand('Gloss: Re-gloss This File');
  const toast = page.locator('.notification-toast', { hasText: 'spans of web/cart.ts' }).first();
  await toast.waitFor({ state: 'visible', timeout: 20_000 });
  log(`notification: ${(await toast.innerText()).replace(/\s+/g, ' ')}`);
}, 150_000);

step('"Gloss: Search by Behaviour" finds to_reorder by what its gloss says and opens it at its name', async () => {
  for (const word of BEHAVIOUR_QUERY.split(' ')) {
    assert.ok(!`${DESCRIBED_NAME} ${DESCRIBED_WHERE}`.includes(word), `"${word}" is in the name or path: the search would prove nothing`);
  }
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  await runCommand(SEARCH_TITLE);
  const widget = page.locator('.quick-input-widget');
  const title = widget.locator('.quick-input-title');
  const input = widget.locator('input');
  await waitFor('the search picker', async () => (await title.innerText()).trim() === SEARCH_TITLE, 20_000);

  // A query past the server's bounds: the picker's title says why (gloss/search's InvalidParams).
  await input.fill(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
  const refusal = await waitFor(
    'the refusal in the picker\'s title',
    async () => {
      const text = await title.innerText();
      return /gloss\/search: .*at most \d+/.test(text) ? text : undefined;
    },
    20_000,
  );
  log(`title: ${refusal}`);

  // The rows keep the server's order (best first), gloss matches among name matches.
  const ranked = (await glossSearch(ORDER_QUERY)).map((h) => h.name);
  const hasQuery = (name: string): boolean => name.toLowerCase().includes(ORDER_QUERY);
  assert.ok(
    ranked.some((name, i) => !hasQuery(name) && ranked.slice(i + 1).some(hasQuery)),
    `gloss search "${ORDER_QUERY}" ranks ${ranked.join(', ')}: no gloss match above a name match, so this check would prove nothing`,
  );
  await input.fill(ORDER_QUERY);
  let shown: string[] = [];
  await waitFor(
    `the rows for "${ORDER_QUERY}" in the order gloss search ranks them (${ranked.join(', ')})`,
    async () => {
      shown = await rowNames(widget);
      return shown.join() === ranked.join();
    },
    20_000,
  ).catch((err: unknown) => {
    throw new Error(`${err instanceof Error ? err.message : String(err)}; the picker showed ${shown.join(', ')}`);
  });
  log(`rows for "${ORDER_QUERY}": ${shown.join(', ')}`);

  // Typed slower than the debounce: a request per key, each answer replacing the rows.
  await input.fill('');
  await input.pressSequentially(BEHAVIOUR_QUERY, { delay: 200 });
  const first = widget.locator('.quick-input-list .monaco-list-row[data-index="0"]');
  await waitFor(
    `${DESCRIBED_NAME} as the first hit for "${BEHAVIOUR_QUERY}"`,
    async () => (await first.count()) > 0 && (await first.innerText()).includes(DESCRIBED_NAME),
    30_000,
  );
  const row = (await first.innerText()).replace(/\s+/g, ' ');
  log(`first hit: ${row}`);
  assert.ok(row.includes(DESCRIBED_WHERE), `the hit names its file and line: ${row}`);
  assert.ok(row.includes(DESCRIBED_SUMMARY), `the hit shows its gloss: ${row}`);
  assert.equal((await title.innerText()).trim(), SEARCH_TITLE, 'the refusal is gone once a query is answered');
  await page.screenshot({ path: SEARCH_PNG });
  log(`search screenshot: ${SEARCH_PNG}`);

  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 20_000 });
  await page.locator('.tabs-container .tab.active', { hasText: 'stock.py' }).waitFor({ state: 'visible', timeout: 20_000 });
  // The name is selected: the cursor at its end, its 10 characters selected.
  const cursor = page.locator('.statusbar-item', { hasText: /Ln 15, Col 15 \(10 selected\)/ });
  await cursor.waitFor({ state: 'visible', timeout: 20_000 });
  log(`cursor: ${(await cursor.innerText()).trim()}`);

  // Enter pressed before the answer came (within the debounce): the answer's best hit opens.
  await openConfigPy();
  await runCommand(SEARCH_TITLE);
  await waitFor('the search picker', async () => (await title.innerText()).trim() === SEARCH_TITLE, 20_000);
  await input.fill(BEHAVIOUR_QUERY);
  await page.keyboard.press('Enter');
  await widget.waitFor({ state: 'hidden', timeout: 20_000 });
  await page.locator('.tabs-container .tab.active', { hasText: 'stock.py' }).waitFor({ state: 'visible', timeout: 20_000 });
  await cursor.waitFor({ state: 'visible', timeout: 20_000 });
}, 90_000);

step('clicking the status bar item opens the Gloss status document', async () => {
  await statusBarItem().click();
  const editor = page.locator('.monaco-editor .view-lines', { hasText: '# Gloss status' }).first();
  await editor.waitFor({ state: 'visible', timeout: 20_000 });
  const text = await editor.innerText();
  assert.match(text, /Glossed/, text);
  assert.match(text, /Backends/, text);
}, 60_000);

step('a bad setting reaches the server, which names its key; the status bar says so', async () => {
  // The settings path end to end: a workspace setting becomes didChangeConfiguration
  // {"gloss": {"index": {"max_file_bytes": ...}}}, and the server checks every key.
  await page.keyboard.press('Escape');
  writeWorkspaceSettings({ 'gloss.index.max_file_bytes': 'big' });
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'max_file_bytes' }).first();
  await toast.waitFor({ state: 'visible', timeout: 30_000 });
  const message = (await toast.innerText()).replace(/\s+/g, ' ');
  log(`notification: ${message}`);
  assert.match(message, /bad configuration/, message);
  assert.match(message, /index\.max_file_bytes: expected an integer/, message);
  const label = await waitFor(
    'the status bar to report the configuration error',
    async () => {
      const l = await statusBarLabel();
      return l?.includes('configuration error') ? l : undefined;
    },
    30_000,
    500,
  );
  log(`status bar: ${label}`);
}, 90_000);

step('removing it restarts the server on gloss.toml alone, which works again', async () => {
  writeWorkspaceSettings({});
  const label = await waitFor(
    'the status bar to say Gloss is idle again',
    async () => {
      const l = await statusBarLabel();
      return l?.includes('idle') ? l : undefined;
    },
    60_000,
    500,
  );
  log(`status bar: ${label}`);
  const glossLog = findGlossLog();
  assert.ok(glossLog && /All Gloss settings removed; restarting/.test(fs.readFileSync(glossLog, 'utf8')), 'no restart in the log');
}, 90_000);

/** `gloss search QUERY --json` on the sample: what gloss/search answers, best first. */
async function glossSearch(query: string): Promise<{ name: string; matched: string }[]> {
  const cli = 'import sys; from server.cli.main import main; sys.exit(main(sys.argv[1:]))';
  const out = await run(PYTHON, ['-c', cli, 'search', query, '--path', workspace, '--json'], { cwd: REPO_ROOT, timeoutMs: 30_000 });
  return JSON.parse(out);
}

/** The names in the picker's rows, top to bottom. */
async function rowNames(widget: Locator): Promise<string[]> {
  const rows = widget.locator('.quick-input-list .monaco-list-row');
  const named: [number, string][] = [];
  for (let i = 0; i < (await rows.count()); i++) {
    const row = rows.nth(i);
    named.push([Number(await row.getAttribute('data-index')), await row.locator('.label-name').first().innerText()]);
  }
  return named.sort((a, b) => a[0] - b[0]).map(([, name]) => name.trim());
}

/** Hovers `word` in the active editor until a hover holding `text` shows; returns it. */
async function hoverWord(word: string, text: string): Promise<Locator> {
  const name = page.locator('.monaco-editor .view-line span', { hasText: new RegExp(`^${word}$`) }).first();
  await name.waitFor({ state: 'visible' });
  const hover = page.locator('.monaco-hover:not(.hidden)', { hasText: text }).first();
  // Hovers appear on mouse movement over a word: moving away and back again is
  // what a person would do when the first one does not show.
  await waitFor(
    `the hover on ${word} with "${text}"`,
    async () => {
      await page.mouse.move(5, 5);
      await name.hover();
      await hover.waitFor({ state: 'visible', timeout: 5_000 });
      return true;
    },
    45_000,
    0,
  );
  return hover;
}

/** Quick open (Ctrl+P) of the sample's config.py, the active editor after it. */
async function openConfigPy(): Promise<void> {
  await openFile('config.py', 'def load_config');
}

/** Quick open (Ctrl+P) of a sample file by name; returns once an editor shows `text`. */
async function openFile(name: string, text: string): Promise<void> {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(name);
  // Clicked, not Enter: the first row may still be a recently opened editor.
  await page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first().click();
  await page.locator('.monaco-editor .view-lines', { hasText: text }).waitFor({ state: 'visible' });
}

/** Runs a command by its title from the command palette (F1). */
async function runCommand(title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible' });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ state: 'visible' });
  await page.keyboard.press('Enter');
}

function writeWorkspaceSettings(settings: Record<string, unknown>): void {
  fs.mkdirSync(path.join(workspace, '.vscode'), { recursive: true });
  fs.writeFileSync(path.join(workspace, '.vscode', 'settings.json'), JSON.stringify(settings, null, 2));
}

step('backends from settings replace gloss.toml\'s: a host that refuses shows as unhealthy in the status bar', async () => {
  const deadPort = await freePort(); // closed again: connections are refused
  writeWorkspaceSettings({
    'gloss.backends': [
      { name: 'refusing', kind: 'ollama', url: `http://127.0.0.1:${deadPort}`, max_retries: 0, retry_base_s: 0.01, breaker_threshold: 1 },
    ],
    'gloss.tiers': [{ name: 'small', model: SMALL, backends: ['refusing'] }],
  });
  await waitFor('the server to restart on the new settings', async () => /Settings changed; sending \{"backends"/.test(fs.readFileSync(findGlossLog() ?? '', 'utf8')), 20_000);
  await waitFor('the status bar to report again', async () => (await statusBarLabel())?.includes('idle'), 60_000, 500);
  await openConfigPy(); // an editor of the sample, where the re-gloss commands are offered
  await runCommand('Gloss: Re-gloss This File');
  const label = await waitFor(
    'the status bar to show the refusing backend',
    async () => {
      const l = await statusBarLabel();
      return l?.includes('refusing down') ? l : undefined; // refused, never reached: down at once
    },
    60_000,
    500,
  );
  log(`status bar: ${label}`);
  const classes = await statusBarItem().evaluate((el) => (el.closest('.statusbar-item') ?? el).className);
  assert.match(classes, /error-kind/, `its only backend down, the item has the error background: ${classes}`);
}, 120_000);

step('pointing gloss.pythonPath at a Python without Gloss says how to install it', async () => {
  // The venv's base interpreter: a real Python that has no Gloss.
  const bare = (await run(PYTHON, ['-c', 'import sys; print(sys._base_executable)'], { timeoutMs: 30_000 })).trim();
  await assert.rejects(run(bare, ['-c', 'import enrich_core'], { timeoutMs: 30_000 }), 'the base interpreter must not have Gloss');
  fs.writeFileSync(path.join(scratch, 'user-data', 'Machine', 'settings.json'), JSON.stringify({ 'gloss.pythonPath': bare }, null, 2));
  const toast = page.locator('.notification-toast', { hasText: 'Gloss is not installed in' }).first();
  await toast.waitFor({ state: 'visible', timeout: 30_000 });
  const message = (await toast.innerText()).replace(/\s+/g, ' ');
  log(`notification: ${message}`);
  assert.ok(message.includes(`Gloss is not installed in ${bare} (the gloss.pythonPath setting)`), message);
  assert.ok(message.includes(`"${bare}" -m pip install`), message);
  await toast.getByRole('button', { name: 'Open Settings' }).waitFor({ state: 'visible' });
  await waitFor('the status bar to say Gloss is not available', async () => (await statusBarLabel())?.includes('not available'), 20_000, 250);
}, 60_000);

step('with no server, Search by Behaviour (opened by the README\'s key binding) says so instead of showing nothing', async () => {
  await page.mouse.move(5, 5);
  await page.keyboard.press('Escape');
  await page.locator('.monaco-editor .view-lines').first().click();
  const widget = page.locator('.quick-input-widget');
  const title = widget.locator('.quick-input-title');
  await waitFor(
    `${SEARCH_KEYBINDING.key} to open the search picker`,
    async () => {
      await page.keyboard.press('Control+Shift+Alt+T');
      await title.waitFor({ state: 'visible', timeout: 5_000 });
      return (await title.innerText()).trim() === SEARCH_TITLE;
    },
    20_000,
    500,
  );
  await widget.locator('input').fill(BEHAVIOUR_QUERY);
  const said = await waitFor(
    'the picker\'s title to say the server is not running',
    async () => {
      const text = await title.innerText();
      return text.includes('the server is not running') ? text : undefined;
    },
    20_000,
  );
  log(`title: ${said}`);
  assert.equal(await widget.locator('.quick-input-list .monaco-list-row').count(), 0, 'no rows without a server');
  const toast = page.locator('.notification-toast', { hasText: 'the server is not running, so it cannot search' }).first();
  await toast.waitFor({ state: 'visible', timeout: 20_000 });
  await toast.getByRole('button', { name: 'Restart' }).waitFor({ state: 'visible' });
  await page.keyboard.press('Escape');
}, 60_000);
