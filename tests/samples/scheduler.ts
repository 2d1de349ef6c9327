import { EventEmitter } from "node:events";

/** How urgent a job is; lower runs first. */
export enum Priority {
  High = 0,
  Normal = 1,
  Low = 2,
}

/**
 * Something the scheduler can run.
 */
export interface Job<T = unknown> {
  readonly id: string;
  priority: Priority;
  /** Does the work; may be retried. */
  run(signal: AbortSignal): Promise<T>;
}

export namespace Backoff {
  /** How retries are spaced out. */
  export interface Policy {
    baseMs: number;
    maxMs: number;
  }

  /** Delay before retry number `attempt`, in milliseconds. */
  export function delay(attempt: number, policy: Policy = { baseMs: 100, maxMs: 30_000 }): number {
    return Math.min(policy.baseMs * 2 ** attempt, policy.maxMs);
  }
}

/** Parses a priority name; unknown names are Normal. */
export function parsePriority(name: string): Priority;
export function parsePriority(name: string | undefined): Priority {
  return name === "high" ? Priority.High : Priority.Normal;
}

/**
 * Runs jobs by priority, a few at a time.
 */
export abstract class Scheduler<T> extends EventEmitter {
  private queue: Job<T>[] = [];

  constructor(private readonly limit: number) {
    super();
  }

  /** Queues a job and starts it when a slot frees up. */
  submit(job: Job<T>): void {
    this.queue.push(job);
    this.queue.sort((a, b) => a.priority - b.priority);
  }

  /** Runs every queued job; resolves when all are done. */
  async drain({ signal }: { signal: AbortSignal }): Promise<T[]> {
    const results: T[] = [];
    while (this.queue.length > 0) {
      const job = this.queue.shift()!;
      results.push(await job.run(signal));
    }
    return results;
  }

  protected abstract log(message: string): void;

  /** Called when a job fails for good. */
  onFailure = (job: Job<T>, error: Error): void => {
    this.emit("failure", job.id, error);
  };
}

export class ConsoleScheduler extends Scheduler<string> {
  protected log(message: string): void {
    console.log(message;
  }
}

/** A job that only waits, for tests. */
export class SleepJob implements Job<number> {
  readonly id = `sleep-${Date.now()}`;
  priority = Priority.Low;

  constructor(private readonly ms: number) {}

  /** Resolves with the time slept, or rejects when aborted. */
  async run(signal: AbortSignal): Promise<number> {
    await new Promise((resolve) => setTimeout(resolve, this.ms));
    signal.throwIfAborted();
    return this.ms;
  }
}

const étiquette = "file d'attente 🚦"; export function label(): string { return étiquette; }
