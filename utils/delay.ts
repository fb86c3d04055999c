/**
 * A delay that ends early, without throwing, when its signal aborts: what a
 * polling loop needs to stop at once when the browser goes away.
 *
 * @module
 */

/**
 * Resolves after `ms`, or as soon as `options.signal` aborts.
 *
 * @example
 * ```ts
 * import { delay } from "./delay.ts";
 * await delay(10, { signal: AbortSignal.timeout(1000) });
 * ```
 */
export function delay(ms: number, options: { signal?: AbortSignal } = {}): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
