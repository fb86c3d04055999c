/**
 * Timing helpers with the signatures of Deno's std (`@std/async`), which
 * cannot be installed here: `delay`, `abortable` and `waitFor`; and
 * `timeoutSignal`, a deadline signal that is let go of when the work ends.
 *
 * @module
 */
import { type Deadline, scheduleDeadline } from "./deadlines.ts";

/** Options for {@linkcode delay}. */
export interface DelayOptions {
  /** Aborts the wait: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/**
 * Resolves after `ms` milliseconds; rejects with the signal's reason as soon
 * as `options.signal` aborts (as std's `delay`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { delay } from "./async.ts";
 * await delay(1);
 * await delay(10_000, { signal: AbortSignal.abort() }).catch((error) => assert.ok(error.name === "AbortError"));
 * ```
 */
export function delay(ms: number, options: DelayOptions = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const abort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", abort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", abort, { once: true });
  });
}

/**
 * Resolves or rejects with `promise`, or rejects with the signal's reason when
 * `signal` aborts first (as std's `abortable`). An abandoned promise's later
 * failure is swallowed: it has no caller left to go to.
 */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener("abort", abort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
  });
}

/** A signal with a deadline that can be let go of: see {@linkcode timeoutSignal}. */
export interface TimeoutSignal extends Disposable {
  /** Aborts when the time is up (a `TimeoutError` `DOMException`) or a linked signal aborts (its reason). */
  readonly signal: AbortSignal;
  /** Whether it aborted because the time was up (not because a linked signal aborted). */
  readonly timedOut: boolean;
}

/** Options for {@linkcode timeoutSignal}. */
export interface TimeoutSignalOptions {
  /** Signals whose abort aborts this one too, with their reason (undefined entries are skipped). */
  signals?: readonly (AbortSignal | undefined)[];
}

/**
 * A signal that aborts after `ms` milliseconds (none when `ms` is
 * undefined) or as soon as any of `options.signals` aborts: what
 * `AbortSignal.any([...signals, AbortSignal.timeout(ms)])` gives, except that
 * disposing of it (`using`) cancels the deadline and removes the listeners.
 * A call that finished early leaves nothing behind: `AbortSignal.timeout`'s
 * timer cannot be cleared, so every finished call would still fire it
 * later, build its `DOMException` and run the dependents' listeners; and its
 * deadline shares the process's one timer ({@linkcode scheduleDeadline})
 * instead of setting and clearing one of its own (bench/RESULTS.md).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { delay, timeoutSignal } from "./async.ts";
 *
 * {
 *   using deadline = timeoutSignal(5);
 *   await delay(50, { signal: deadline.signal }).catch(() => {});
 *   assert.ok(deadline.timedOut && deadline.signal.reason.name === "TimeoutError");
 * }
 * const caller = new AbortController();
 * using linked = timeoutSignal(60_000, { signals: [caller.signal] });
 * caller.abort(new Error("gone"));
 * assert.ok(!linked.timedOut && linked.signal.reason.message === "gone");
 * ```
 */
export function timeoutSignal(ms: number | undefined, options: TimeoutSignalOptions = {}): TimeoutSignal {
  const controller = new AbortController();
  const linked = (options.signals ?? []).filter((signal): signal is AbortSignal => signal !== undefined);
  let timedOut = false;
  let deadline: Deadline | undefined;
  const onAbort = function (this: AbortSignal) {
    release();
    controller.abort(this.reason);
  };
  const release = () => {
    deadline?.cancel();
    for (const signal of linked) signal.removeEventListener("abort", onAbort);
  };
  const already = linked.find((signal) => signal.aborted);
  if (already) {
    controller.abort(already.reason);
  } else {
    for (const signal of linked) signal.addEventListener("abort", onAbort, { once: true });
    if (ms !== undefined) {
      deadline = scheduleDeadline(ms, () => {
        timedOut = true;
        release();
        controller.abort(new DOMException("Signal timed out.", "TimeoutError"));
      });
    }
  }
  return {
    signal: controller.signal,
    get timedOut() {
      return timedOut;
    },
    [Symbol.dispose]: release,
  };
}

/** Options for {@linkcode waitFor}. */
export interface WaitForOptions {
  /** How often the condition is checked (default 50 ms). */
  step?: number;
}

/**
 * Resolves once `fn` returns true; rejects with a `TimeoutError`
 * `DOMException` when it has not within `ms` (as std's `waitFor`).
 *
 * @example
 * ```ts
 * import { waitFor } from "./async.ts";
 * const started = Date.now();
 * await waitFor(() => Date.now() - started >= 20, 1000, { step: 5 });
 * ```
 */
export async function waitFor(
  fn: () => boolean | Promise<boolean>,
  ms: number,
  options: WaitForOptions = {},
): Promise<void> {
  const deadline = Date.now() + ms;
  const step = options.step ?? 50;
  while (!(await fn())) {
    if (Date.now() >= deadline) throw new DOMException(`waitFor timed out after ${ms} ms`, "TimeoutError");
    await delay(Math.max(0, Math.min(step, deadline - Date.now())));
  }
}
