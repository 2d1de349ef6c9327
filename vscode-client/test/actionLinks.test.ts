import assert from 'node:assert/strict';
import { test } from 'node:test';

import { ACTION_COMMANDS, fillActionLinksCapability, type TrustableMarkdown, trustActionLinks } from '../src/actionLinks';

test('the capability is experimental.gloss.actionLinks, beside what is there', () => {
  const caps: { experimental?: unknown } = { experimental: { other: 1, gloss: { future: true } } };
  fillActionLinksCapability(caps);
  assert.deepEqual(caps.experimental, { other: 1, gloss: { future: true, actionLinks: true } });
  const empty: { experimental?: unknown } = {};
  fillActionLinksCapability(empty);
  assert.deepEqual(empty.experimental, { gloss: { actionLinks: true } });
});

class FakeMarkdown implements TrustableMarkdown {
  isTrusted?: boolean | { readonly enabledCommands: readonly string[] } = true;
  supportHtml?: boolean = true;
}

test('hover Markdown trusts only the two action commands, and no HTML', () => {
  const md = new FakeMarkdown();
  const plain = { value: 'not markdown' };
  const marked = trustActionLinks([md, plain], (p): p is TrustableMarkdown => p instanceof FakeMarkdown);
  assert.equal(marked, 1);
  assert.deepEqual(md.isTrusted, { enabledCommands: ['gloss.reglossSymbol', 'gloss.escalate'] });
  assert.equal(md.supportHtml, false);
  assert.deepEqual(plain, { value: 'not markdown' });
  assert.deepEqual([...ACTION_COMMANDS], ['gloss.reglossSymbol', 'gloss.escalate']);
});
