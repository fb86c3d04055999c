/**
 * What the parts of the queue share: its store, its one clock, its settings
 * and the signal that wakes long polls when an order becomes ready.
 *
 * Nothing here is authoritative: several queue replicas may share one store,
 * and each keeps its state there. What a replica holds in memory is a cache
 * whose staleness is harmless (each says why where it is kept) or, like the
 * ready signal, a way to be woken sooner.
 *
 * @module
 */
import type { Logger } from "@bookstore/lib/log";
import type { Kv } from "@bookstore/lib/store";

/** The state and settings every part of the queue works with. */
export interface QueueContext {
  /** The queue's store. */
  readonly kv: Kv;
  /**
   * The queue's one clock: every time stamp, lease and aging is read from it. Replicas sharing a store must keep
   * their clocks in step (NTP, or one machine): a lease's expiry and the leader lease are judged by whichever
   * replica is asked.
   */
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
  /**
   * How long an executed or failed order's record is kept after it finished; then the store deletes it and
   * the queue answers `not_found` for it. Undefined: kept for ever. Dead letters are kept until requeued.
   */
  readonly retentionMs: number | undefined;
  /** Wakes the long polls when a commit makes an order ready. */
  readonly ready: ReadySignal;
}

/**
 * The long polls waiting for an order, woken by the commits that make one
 * ready: this replica's own, at once, and every replica's through a watch of
 * `["readied"]` (`ready_watch.ts`). `generation` counts the wake-ups: a
 * poll that found nothing waits only if none came since it began to look.
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
