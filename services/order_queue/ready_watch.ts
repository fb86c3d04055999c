/**
 * The long poll across replicas: a replica's waiting dequeues are woken by
 * its own commits at once, but an order another replica queues (or gives
 * back) commits elsewhere. Every such commit also sets `["readied"]`, so a
 * watch of that one key wakes this replica's polls too, whichever replica
 * made the order ready.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";
import type { Logger } from "@bookstore/lib/log";
import type { Kv } from "@bookstore/lib/store";
import type { ReadySignal } from "./context.ts";
import { READIED_KEY } from "./keys.ts";

/** Options for {@linkcode watchReady}. */
export interface WatchReadyOptions {
  /** The polls to wake. */
  ready: ReadySignal;
  /** Logger. */
  log: Logger;
  /** Pause before watching again when the watch failed (default 1000 ms). */
  retryMs?: number;
}

/**
 * Wakes `options.ready` each time an order is made ready in `kv` (an
 * enqueue or a requeue on any replica; changes close together may wake
 * once, which is enough: a woken poll reads the queue afresh) until
 * disposed of. A failed watch is started again after `retryMs`; meanwhile
 * polls are woken by this replica's commits and end at their deadline, as
 * they always do.
 */
export function watchReady(kv: Kv, options: WatchReadyOptions): Disposable {
  const stop = new AbortController();
  let reader: ReadableStreamDefaultReader<unknown> | undefined;
  const follow = async () => {
    while (!stop.signal.aborted) {
      try {
        reader = kv.watch([READIED_KEY]).getReader();
        // The first entry is the count as it is now: a wake-up then is harmless (a poll only looks again).
        for (let next = await reader.read(); !next.done; next = await reader.read()) options.ready.wake();
      } catch (error) {
        if (stop.signal.aborted) return;
        options.log.warn("the watch of ready orders failed; watching again shortly", { error });
      }
      await delay(options.retryMs ?? 1000, { signal: stop.signal }).catch(() => {});
    }
  };
  follow();
  return {
    [Symbol.dispose]() {
      stop.abort();
      reader?.cancel().catch(() => {});
    },
  };
}
