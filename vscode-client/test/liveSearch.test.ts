import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';

import { LiveSearch, SEARCH_DEBOUNCE_MS, type SearchRequest } from '../src/liveSearch';

/** A request the test answers by hand, recording whether it was cancelled. */
class FakeRequest implements SearchRequest {
  readonly answer: Promise<unknown>;
  cancelled = false;
  resolve!: (value: unknown) => void;
  reject!: (err: unknown) => void;

  constructor(readonly query: string) {
    this.answer = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  cancel(): void {
    this.cancelled = true;
  }
}

interface Harness {
  live: LiveSearch;
  sent: FakeRequest[];
  events: string[];
}

function harness(send?: (query: string) => SearchRequest): Harness {
  const sent: FakeRequest[] = [];
  const events: string[] = [];
  const live = new LiveSearch(
    send ??
      ((query) => {
        const request = new FakeRequest(query);
        sent.push(request);
        return request;
      }),
    {
      busy: (busy) => events.push(`busy ${busy}`),
      answered: (query, answer) => events.push(`answered ${query}: ${JSON.stringify(answer)}`),
      failed: (query, err) => events.push(`failed ${query}: ${err instanceof Error ? err.message : String(err)}`),
      cleared: () => events.push('cleared'),
    },
  );
  return { live, sent, events };
}

/** Lets promise callbacks run (answers are delivered through `then`). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await Promise.resolve();
  }
}

beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
afterEach(() => mock.timers.reset());

test('typing within the debounce sends one request, for the latest text', async () => {
  const { live, sent, events } = harness();
  live.update('p');
  mock.timers.tick(SEARCH_DEBOUNCE_MS - 1);
  live.update('pa');
  mock.timers.tick(SEARCH_DEBOUNCE_MS - 1);
  live.update('parse');
  assert.equal(sent.length, 0, 'nothing is sent while the user is still typing');
  assert.ok(live.pending);
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  assert.deepEqual(
    sent.map((r) => r.query),
    ['parse'],
  );
  sent[0].resolve([{ name: 'load_config' }]);
  await settle();
  assert.ok(!live.pending);
  assert.deepEqual(events, ['busy true', 'busy true', 'busy true', 'busy false', 'answered parse: [{"name":"load_config"}]']);
});

test('a newer query cancels the request in flight, and its late answer is dropped', async () => {
  const { live, sent, events } = harness();
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('parse yaml');
  assert.ok(sent[0].cancelled, 'the stale request is cancelled as soon as the text changes');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  assert.deepEqual(
    sent.map((r) => r.query),
    ['parse', 'parse yaml'],
  );
  sent[1].resolve(['new']);
  sent[0].resolve(['old']); // the server answered the old one anyway, late
  await settle();
  assert.deepEqual(events.slice(-2), ['busy false', 'answered parse yaml: ["new"]']);
  assert.ok(!events.some((e) => e.includes('"old"')), events.join('\n'));
  assert.ok(!sent[1].cancelled);
});

test('an old answer arriving while the newer query still waits is not shown, and busy stays on', async () => {
  const { live, sent, events } = harness();
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('parse yaml');
  sent[0].resolve(['old']);
  await settle();
  assert.deepEqual(events, ['busy true', 'busy true']);
  assert.ok(live.pending);
});

test('a failure of the latest query is reported; a stale one is not', async () => {
  const { live, sent, events } = harness();
  live.update('x'.repeat(300));
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('y'.repeat(300));
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  sent[0].reject(new Error('cancelled'));
  sent[1].reject(new Error('the query is 300 characters long; Gloss searches for at most 256'));
  await settle();
  assert.deepEqual(events.slice(-2), [
    'busy false',
    `failed ${'y'.repeat(300)}: the query is 300 characters long; Gloss searches for at most 256`,
  ]);
  assert.equal(events.filter((e) => e.startsWith('failed')).length, 1);
});

test('a request that cannot even be sent (no server) is reported as a failure', () => {
  const { live, events } = harness(() => {
    throw new Error('the Gloss server is not running');
  });
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  assert.deepEqual(events, ['busy true', 'busy false', 'failed parse: the Gloss server is not running']);
  assert.ok(!live.pending);
});

test('clearing the text cancels what is pending and sends nothing', async () => {
  const { live, sent, events } = harness();
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('parse y');
  live.update('   ');
  assert.ok(sent[0].cancelled);
  mock.timers.tick(SEARCH_DEBOUNCE_MS * 3);
  assert.equal(sent.length, 1, 'the debounced "parse y" was never sent');
  sent[0].resolve(['old']);
  await settle();
  assert.deepEqual(events, ['busy true', 'busy true', 'busy false', 'cleared']);
  assert.ok(!live.pending);
});

test('spaces around the text ask nothing new (the server trims the query too)', () => {
  const { live, sent } = harness();
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('parse ');
  live.update(' parse ');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  assert.equal(sent.length, 1);
  assert.ok(!sent[0].cancelled);
});

test('after dispose nothing is sent or reported, and the request in flight is cancelled', async () => {
  const { live, sent, events } = harness();
  live.update('parse');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('parse yaml');
  live.dispose();
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  live.update('more');
  mock.timers.tick(SEARCH_DEBOUNCE_MS);
  assert.equal(sent.length, 1);
  assert.ok(sent[0].cancelled);
  sent[0].resolve(['late']);
  await settle();
  assert.deepEqual(events, ['busy true', 'busy true']);
});
