/**
 * Timing helpers with the signatures of Deno's std (`@std/async`), which
 * cannot be installed here: `delay`, `abortable` and `waitFor`.
 *
 * @module
 */

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
