/**
 * What the queue's tests share: a store on an in-memory KV with a few books
 * (its commits held to the limits of every backend), a fake clock, one-lease
 * helpers and a KV that runs a hook between a read and what the reader does
 * next.
 *
 * @module
 */
import { Catalog, type CatalogBook } from "@bookstore/lib/catalog";
import type { AckResult, Lease, QueueItem } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import type { Kv } from "@bookstore/lib/store";
import { limitedKv } from "@bookstore/lib/store/testing";
import type { Caller } from "./fence.ts";
import { OrderQueueStore, type StoreOptions } from "./store.ts";

/** A catalog book with `stock` copies. */
export function book(bookId: string, stock: number): CatalogBook {
  return {
    bookId,
    title: `Title of ${bookId}`,
    author: "Someone",
    year: 2000,
    genres: ["fiction"],
    description: "A book.",
    price: 10,
    stock,
  };
}

/** A logger that writes nothing. */
export const silent: StoreOptions["log"] = createLogger("test", { write: () => {} });

/** A clock that moves only when told: `clock.now += ms`. */
export function fakeClock(start = 1_000_000): { now: number; read: () => number } {
  const clock = { now: start, read: () => clock.now };
  return clock;
}

/**
 * A store on `kv` with dune (5), emma (1) and ulysses (10) in stock (no leader lease unless asked); its commits are
 * held to the limits of every backend (see {@linkcode limitedKv}).
 */
export async function storeOn(kv: Kv, options: Partial<StoreOptions> = {}): Promise<OrderQueueStore> {
  const store = new OrderQueueStore(limitedKv(kv).kv, { leaseMs: 5000, maxAttempts: 3, log: silent, ...options });
  await store.seedStock(new Catalog([book("dune", 5), book("emma", 1), book("ulysses", 10)]));
  return store;
}

/** A store on a fresh in-memory KV with three books in stock; dispose of it to close the KV. */
export async function openStore(
  options: Partial<StoreOptions> = {},
): Promise<{ kv: Deno.Kv; store: OrderQueueStore } & Disposable> {
  const kv = await Deno.openKv(":memory:");
  const store = await storeOn(kv, options);
  return { kv, store, [Symbol.dispose]: () => kv.close() };
}

/** Leases the head of the queue alone; `undefined` when nothing is ready. */
export async function take(store: OrderQueueStore, caller: Caller): Promise<Lease | undefined> {
  return (await store.dequeueBatch(caller, { max: 1 }))[0];
}

/** Acks one lease. */
export async function ackOne(
  store: OrderQueueStore,
  ack: { orderId: string; leaseId: string; executorId: number; epoch: number },
): Promise<AckResult> {
  const [result] = await store.ackBatch(ack, [{ orderId: ack.orderId, leaseId: ack.leaseId }]);
  return result;
}

/** Queues `items` as order o1 and leases it to `executorId` under a fresh epoch. */
export async function leased(
  store: OrderQueueStore,
  options: { items: QueueItem[]; executorId: number },
): Promise<{ orderId: string; leaseId: string; executorId: number; epoch: number }> {
  await store.enqueue("o1", options.items);
  const epoch = await store.acquireEpoch(options.executorId);
  const lease = (await take(store, { executorId: options.executorId, epoch }))!;
  return { orderId: "o1", leaseId: lease.leaseId, executorId: options.executorId, epoch };
}

/** A KV read {@linkcode hookedKv} can hook. */
export type HookedRead = "get" | "getMany" | "list";

/**
 * `kv` with a hook: once armed (`state.run`), it runs once, the first time
 * `when` matches a read, before the read (`at: "before"`) or after it has
 * read everything (`"after"`; for a list, once it is exhausted). What the
 * hook does (through the store, as another caller would) happens between
 * that read and whatever the reader does next.
 */
export function hookedKv(
  kv: Kv,
  hook: { when: (method: HookedRead, keys: Deno.KvKey[]) => boolean; at: "before" | "after" },
): { kv: Kv; state: { run: (() => Promise<unknown>) | undefined; ran: number } } {
  const state = { run: undefined as (() => Promise<unknown>) | undefined, ran: 0 };
  const fire = async (method: HookedRead, keys: Deno.KvKey[], at: "before" | "after") => {
    const run = state.run;
    if (run === undefined || hook.at !== at || !hook.when(method, keys)) return;
    state.run = undefined;
    state.ran += 1;
    await run();
  };
  const wrapped = new Proxy(kv, {
    get(target, key) {
      if (key === "get") {
        return async (k: Deno.KvKey) => {
          await fire("get", [k], "before");
          const entry = await target.get(k);
          await fire("get", [k], "after");
          return entry;
        };
      }
      if (key === "getMany") {
        return async (keys: Deno.KvKey[]) => {
          await fire("getMany", keys, "before");
          const entries = await target.getMany(keys);
          await fire("getMany", keys, "after");
          return entries;
        };
      }
      if (key === "list") {
        return (selector: { prefix: Deno.KvKey }, options?: Parameters<Kv["list"]>[1]) => {
          async function* read() {
            await fire("list", [selector.prefix], "before");
            yield* target.list(selector, options);
            await fire("list", [selector.prefix], "after");
          }
          return read();
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: wrapped, state };
}
