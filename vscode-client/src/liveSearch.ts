/**
 * Searching as the user types: the picker's text -> at most one request in
 * flight, for the latest text only.
 *
 * Each change restarts a short debounce; when it runs out, the request
 * in flight (if any) is cancelled and one for the new text is sent. An
 * answer or failure is passed on only if no newer text came since it was
 * asked for, so a slow answer to an old query never replaces a newer one.
 * No VS Code import here: the caller supplies how a request is sent and
 * cancelled (a CancellationTokenSource per request in search.ts).
 */

export const SEARCH_DEBOUNCE_MS = 150;

export interface SearchRequest {
  readonly answer: Promise<unknown>;
  cancel(): void;
}

export interface LiveSearchEvents {
  /** True from the first change until its answer or failure arrives (or the text is cleared). */
  busy(busy: boolean): void;
  answered(query: string, answer: unknown): void;
  failed(query: string, err: unknown): void;
  /** The text is empty (or only spaces): nothing to search for. */
  cleared(): void;
}

export class LiveSearch {
  private generation = 0;
  private query = '';
  private timer: ReturnType<typeof setTimeout> | undefined;
  private inFlight: SearchRequest | undefined;
  private disposed = false;

  constructor(
    private readonly send: (query: string) => SearchRequest,
    private readonly events: LiveSearchEvents,
    private readonly debounceMs = SEARCH_DEBOUNCE_MS,
  ) {}

  /** True while the latest text has no answer yet (waiting out the debounce, or asked). */
  get pending(): boolean {
    return this.timer !== undefined || this.inFlight !== undefined;
  }

  /** The picker's text changed. */
  update(value: string): void {
    if (this.disposed) {
      return;
    }
    // The server trims the query too: "parse " asks what "parse" asked.
    const query = value.trim();
    if (query === this.query) {
      return;
    }
    this.query = query;
    this.generation++;
    this.stopPending();
    if (!query) {
      this.events.busy(false);
      this.events.cleared();
      return;
    }
    this.events.busy(true);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.ask(query);
    }, this.debounceMs);
  }

  dispose(): void {
    this.disposed = true;
    this.generation++;
    this.stopPending();
  }

  private ask(query: string): void {
    const generation = this.generation;
    let request: SearchRequest;
    try {
      request = this.send(query);
    } catch (err) {
      this.settle(generation, () => this.events.failed(query, err));
      return;
    }
    this.inFlight = request;
    request.answer.then(
      (answer) => this.settle(generation, () => this.events.answered(query, answer), request),
      (err: unknown) => this.settle(generation, () => this.events.failed(query, err), request),
    );
  }

  /** Passes an outcome on unless newer text (or dispose) made it stale. */
  private settle(generation: number, report: () => void, request?: SearchRequest): void {
    if (request !== undefined && this.inFlight === request) {
      this.inFlight = undefined;
    }
    if (generation !== this.generation || this.disposed) {
      return;
    }
    this.events.busy(false);
    report();
  }

  private stopPending(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const stale = this.inFlight;
    this.inFlight = undefined;
    stale?.cancel();
  }
}
