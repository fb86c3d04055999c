/**
 * One timer for all of a process's deadlines. Every RPC has a deadline on
 * each side, and nearly every call ends long before it, so a platform timer
 * per deadline (set, then cleared) is work on every call for a timer that
 * almost never fires (its cost is in bench/RESULTS.md). Here a deadline is an
 * entry in a min-heap, cancelling it is setting a flag, and one timer is
 * armed for the earliest deadline still pending; cancelled entries are
 * dropped whenever they reach the top, so the heap holds about as many
 * entries as calls start in one deadline's time. The timer keeps the process
 * alive only while some deadline is pending, as a timer of its own per
 * deadline would: once none is, it is unref'd rather than cleared, so that a
 * process serving one short call at a time does not set a timer per call.
 *
 * @module
 */

/**
 * The longest delay handed to `setTimeout`: 2^31 - 1 ms (about 24.8 days).
 * A platform timer with a longer delay fires after 1 ms instead (with a
 * warning), and the heap would re-arm it with the same delay: a spinning
 * timer. A deadline further away is armed for this long, and re-armed when
 * the timer fires before the deadline is due.
 */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** A scheduled deadline: cancel it once the work it guards has ended. */
export interface Deadline {
  /** Stops the deadline from firing (a no-op once it has fired). */
  cancel(): void;
}

interface Entry extends Deadline {
  at: number;
  fire: (() => void) | undefined;
}

/** Schedules callbacks at deadlines with one timer, as {@linkcode scheduleDeadline} does for the process. */
export class DeadlineQueue {
  readonly #heap: Entry[] = [];
  readonly #now: () => number;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #armedAt = Infinity;
  #pending = 0;

  /** A queue on `now` (default `Date.now`). */
  constructor(options: { now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  /** Entries held, cancelled ones that have not reached the top yet included. */
  get size(): number {
    return this.#heap.length;
  }

  /** Deadlines scheduled that have neither fired nor been cancelled. */
  get pending(): number {
    return this.#pending;
  }

  /** Calls `fire` `ms` milliseconds from now, unless cancelled first. */
  schedule(ms: number, fire: () => void): Deadline {
    const entry: Entry = {
      at: this.#now() + Math.max(0, ms),
      fire,
      cancel: () => {
        if (entry.fire === undefined) return;
        entry.fire = undefined;
        if (--this.#pending > 0) return;
        // Every entry left is cancelled: drop them all, and let the process exit if it has nothing else to do.
        this.#heap.length = 0;
        this.#hold(false);
      },
    };
    if (++this.#pending === 1) this.#hold(true);
    this.#push(entry);
    if (entry.at < this.#armedAt) this.#arm(entry.at);
    return entry;
  }

  /** Fires every deadline that has passed, drops cancelled entries from the top, and re-arms the timer. */
  run(): void {
    this.#disarm();
    const now = this.#now();
    while (this.#heap.length > 0 && (this.#heap[0].fire === undefined || this.#heap[0].at <= now)) {
      const entry = this.#pop();
      const { fire } = entry;
      if (fire === undefined) continue;
      entry.fire = undefined;
      this.#pending -= 1;
      fire();
    }
    if (this.#pending > 0) this.#arm(this.#heap[0].at);
  }

  #arm(at: number) {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = setTimeout(() => this.run(), Math.min(MAX_TIMER_DELAY_MS, Math.max(0, at - this.#now())));
    if (this.#pending === 0) this.#hold(false);
  }

  // Whether the armed timer keeps the process alive (browsers, where the client runs too, have no such thing).
  #hold(alive: boolean) {
    const timer = this.#timer as unknown as number | { ref?(): void; unref?(): void } | undefined;
    if (timer === undefined) return;
    if (typeof timer === "object") {
      if (alive) timer.ref?.();
      else timer.unref?.();
    } else if ("Deno" in globalThis) {
      if (alive) Deno.refTimer(timer);
      else Deno.unrefTimer(timer);
    }
  }

  #disarm() {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#armedAt = Infinity;
  }

  #push(entry: Entry) {
    const heap = this.#heap;
    let i = heap.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent].at <= entry.at) break;
      heap[i] = heap[parent];
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): Entry {
    const heap = this.#heap;
    const top = heap[0];
    const last = heap.pop()!;
    if (heap.length === 0) return top;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right].at < heap[left].at ? right : left;
      if (heap[child].at >= last.at) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

const processDeadlines = new DeadlineQueue();

/**
 * Calls `fire` after `ms` milliseconds unless the returned deadline is
 * cancelled first; every deadline of the process shares one timer.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { scheduleDeadline } from "./deadlines.ts";
 *
 * let fired = 0;
 * scheduleDeadline(1, () => fired++);
 * scheduleDeadline(1, () => fired++).cancel();
 * await new Promise((resolve) => setTimeout(resolve, 30));
 * assert.equal(fired, 1);
 * ```
 */
export function scheduleDeadline(ms: number, fire: () => void): Deadline {
  return processDeadlines.schedule(ms, fire);
}
