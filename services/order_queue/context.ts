/**
 * What the parts of the queue share: its KV, its one clock, its settings and
 * the signal that wakes long polls when an order becomes ready.
 *
 * @module
 */
import type { Logger } from "@bookstore/lib/log";

/** The state and settings every part of the queue works with. */
export interface QueueContext {
  /** The queue's KV. */
  readonly kv: Deno.Kv;
  /** The queue's one clock: every time stamp, lease and aging is read from it. */
  readonly now: () => number;
  /** Logger. */
  readonly log: Logger;
  /** How long a lease lasts. */
  readonly leaseMs: number;
  /** Deliveries after which an order is dead-lettered. */
  readonly maxAttempts: number;
  /** Waiting that counts as one more book (aging); 0: none. */
  readonly agingMs: number;
  /** How long the fence's holder keeps it from lower replicas after its last call (0: no lease). */
  readonly leaderLeaseMs: number;
  /** Wakes the long polls when a commit makes an order ready. */
  readonly ready: ReadySignal;
}

/**
 * The long polls waiting for an order, woken by the commits that make one
 * ready. `generation` counts the wake-ups: a poll that found nothing waits
 * only if none came since it began to look.
 */
export class ReadySignal {
  readonly #waiting = new Set<() => void>();
  #generation = 0;

  /** How many wake-ups there have been. */
  get generation(): number {
    return this.#generation;
  }

  /** Wakes every waiting poll (an order may have become ready). */
  wake(): void {
    this.#generation += 1;
    for (const wake of [...this.#waiting]) wake();
  }

  /** Resolves at the next wake-up, or when `signal` aborts (at once if it has). */
  wait(signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        signal.removeEventListener("abort", done);
        this.#waiting.delete(done);
        resolve();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener("abort", done, { once: true });
      this.#waiting.add(done);
    });
  }
}
