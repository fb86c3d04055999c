/**
 * Deno KV helpers: the optimistic-commit loop (read, check, commit, and
 * again when another writer won the race), bounded, written once.
 *
 * @module
 */
import { RpcError } from "./rpc/errors.ts";

/** What an attempt answers when its commit lost a race and it should run again. */
export const RETRY: unique symbol = Symbol("retry");

/** Options for {@linkcode commitWithRetry}. */
export interface CommitWithRetryOptions {
  /** How many attempts at most (default 50). */
  attempts?: number;
  /** What failed, for the `unavailable` error when every attempt lost (default "commit"). */
  what?: string;
  /**
   * How many times an attempt that failed with the store's `unavailable` (a deadline missed, or a commit whose
   * outcome is unknown: it may have been applied) is run again (default 0). Only for an attempt that finds out by
   * itself whether an earlier one committed, e.g. by checking a marker its commit writes: it then does its work once.
   */
  unknownRetries?: number;
}

/**
 * Runs `attempt` until it answers something other than {@linkcode RETRY}
 * and returns that; after `options.attempts` lost races it gives up with
 * Connect's `unavailable` ("… lost too many races; try again"): contention is
 * transient, and a client retries it. (`aborted` is kept for a lost lease,
 * which a retry cannot fix.)
 *
 * @example Increment a counter under contention
 * ```ts
 * import assert from "node:assert/strict";
 * import { commitWithRetry, RETRY } from "./kv.ts";
 * const kv = await Deno.openKv(":memory:");
 * const count = await commitWithRetry(async () => {
 *   const entry = await kv.get<number>(["count"]);
 *   const next = (entry.value ?? 0) + 1;
 *   const result = await kv.atomic().check(entry).set(["count"], next).commit();
 *   return result.ok ? next : RETRY;
 * });
 * assert.ok(count === 1);
 * kv.close();
 * ```
 */
export async function commitWithRetry<T>(
  attempt: () => Promise<T | typeof RETRY>,
  options: CommitWithRetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 50;
  let unknownRetries = options.unknownRetries ?? 0;
  for (let i = 0; i < attempts; i++) {
    let result: T | typeof RETRY;
    try {
      result = await attempt();
    } catch (error) {
      if (!(error instanceof RpcError && error.code === "unavailable" && unknownRetries-- > 0)) throw error;
      result = RETRY;
    }
    if (result !== RETRY) return result;
  }
  throw new RpcError("unavailable", `${options.what ?? "commit"} lost too many races; try again`);
}
