/**
 * The queue's housekeeping: expired leases go back to the queue even while
 * no leader is dequeuing, and the gauges get a fresh status. One run at a
 * time: a beat that comes while the last run is still going is skipped, so a
 * slow run (a large queue, a slow disk) never overlaps itself. Every replica
 * runs its own: two replicas releasing one lease at once is one commit that
 * wins and one whose checks fail, so a lease is released once.
 *
 * @module
 */
import type { QueueStatus } from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";

/** What housekeeping needs of the store. */
export interface HousekeptStore {
  /** Requeues expired and deposed leases. */
  reclaim(): Promise<number>;
  /** The queue's status. */
  status(): Promise<QueueStatus>;
}

/** Options for {@linkcode Housekeeping}. */
export interface HousekeepingOptions {
  /** Pause between the end of one run and the start of the next. */
  intervalMs: number;
  /** Logger. */
  log: Logger;
}

/** Runs the store's housekeeping, one run at a time, until disposed of. */
export class Housekeeping implements Disposable {
  readonly #store: HousekeptStore;
  readonly #options: HousekeepingOptions;
  #timer?: ReturnType<typeof setInterval>;
  #busy = false;
  /**
   * The status the last run saw (gauges read it: observers must not wait on I/O). A cache, stale by up to one
   * run, read by nothing but the gauges; each replica's gauges show the one queue all replicas share.
   */
  lastStatus?: QueueStatus;

  /** Prepares housekeeping of `store`; {@linkcode Housekeeping.start} starts it. */
  constructor(store: HousekeptStore, options: HousekeepingOptions) {
    this.#store = store;
    this.#options = options;
  }

  /** Starts the runs (a no-op when started already). */
  start(): void {
    this.#timer ??= setInterval(() => this.#run(), this.#options.intervalMs);
  }

  async #run() {
    if (this.#busy) return; // the last run is still going: skip this beat
    this.#busy = true;
    try {
      await this.#store.reclaim();
      this.lastStatus = await this.#store.status();
    } catch (error) {
      this.#options.log.error("housekeeping failed", { error });
    } finally {
      this.#busy = false;
    }
  }

  /** Stops the runs (a run under way finishes, and none follows). */
  [Symbol.dispose](): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
