/**
 * Waiting on conditions with deadlines, never on fixed sleeps.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";

/** Options for {@linkcode eventually}. */
export interface WaitOptions {
  /** Give up after this long (default 15 s, generous for a loaded 2-core machine). */
  timeoutMs?: number;
  /** Poll interval (default 50 ms). */
  intervalMs?: number;
  /** What was awaited, for the failure message. */
  message?: string;
}

/**
 * Polls `probe` until it returns something other than `undefined`/`false`
 * and returns that; throws with `message` (and the last error) at the deadline.
 */
export async function eventually<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  options: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 15_000);
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError ? ` (last error: ${lastError instanceof Error ? lastError.message : lastError})` : "";
      throw new Error(`timed out waiting for ${options.message ?? "a condition"}${cause}`);
    }
    await delay(options.intervalMs ?? 50);
  }
}
