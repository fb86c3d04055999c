/**
 * The queue's key layout in its store and the record it keeps per order.
 * Priority lives in the key order: `["ready", rank, seq, orderId]` sorts the
 * head of the queue first, so taking it is one range read of length one.
 *
 * @module
 */
import type { OrderState } from "@bookstore/lib/contracts";
import { type Kv, MAX_READ_KEYS } from "@bookstore/lib/store";

/** An order as stored, with its current lease. */
export interface QueuedOrder extends OrderState {
  /** Books in the order (its size, for its rank). */
  totalQuantity: number;
  /**
   * Arrival: the enqueuing replica's clock in microseconds, increasing within that replica. Not unique across
   * replicas: the order id after it in the ready key breaks ties (see `Orders` in orders.ts).
   */
  seq: number;
  /** The lease it is out on, while leased. */
  lease?: { leaseId: string; executorId: number; epoch: number; expiresAt: number };
  /** The lease that finished it, so a repeated ack answers the same. */
  finishedLeaseId?: string;
}

/** The newest epoch issued and the executor it was issued to (`["fence"]`). */
export interface Fence {
  /** The newest epoch. */
  epoch: number;
  /** Its holder. */
  leaderId: number;
}

/**
 * When the fence's holder last called the queue (`["holder"]`): the leader
 * lease, in the store so that every queue replica sees it.
 */
export interface Holder {
  /** The epoch whose holder called. */
  epoch: number;
  /** When it called, by the clock of the replica it called (refreshed at most every quarter lease). */
  at: number;
}

/** What `["leased", orderId]` indexes: when the lease ends and whose epoch took it. */
export interface LeasedIndex {
  /** When the lease expires (the queue's clock). */
  expiresAt: number;
  /** The epoch that took it. */
  epoch: number;
}

/** What `["dead", orderId]` records. */
export interface DeadIndex {
  /** When the order was dead-lettered (the queue's clock). */
  deadAt: number;
  /** Why. */
  reason: string;
}

/** Which count a key of {@linkcode countKey} is a shard of. */
export type Counted = "ready" | "leased" | "dead";

/** The order's record. */
export const orderKey = (orderId: string): Deno.KvKey => ["order", orderId];
/** The index of leased orders, read by reclaim. */
export const leasedKey = (orderId: string): Deno.KvKey => ["leased", orderId];
/** The dead-letter list. */
export const deadKey = (orderId: string): Deno.KvKey => ["dead", orderId];
/** A book's stock. */
export const stockKey = (bookId: string): Deno.KvKey => ["stock", bookId];
/** The leases one dequeue request took, so that its retry answers the same ones. */
export const dequeuedKey = (caller: { executorId: number; requestId?: string }): Deno.KvKey => [
  "dequeued",
  caller.executorId,
  caller.requestId ?? "",
];
/** The fence: the newest epoch and its holder. */
export const FENCE_KEY: Deno.KvKey = ["fence"];
/** The leader lease: when the fence's holder last called. */
export const HOLDER_KEY: Deno.KvKey = ["holder"];
// Counts kept in the same atomic commits as the entries they count, so that reading the queue's status is one short
// range read, not three scans. Each count is split in shards, and a commit adds to one of them at random: on etcd a
// `sum` is a compare-and-swap, and one key summed by every Enqueue made concurrent Enqueues retry one another until
// they gave up (8 shards still lost some of 64 at once on etcd; 32 divide the contention by 32). A count is the sum
// of its shards.
/** How many shards each count is split in. */
export const COUNT_SHARDS = 32;
/** A shard of the count of ready, leased or dead orders: by default one picked at random. */
export const countKey = (what: Counted, shard = Math.floor(Math.random() * COUNT_SHARDS)): Deno.KvKey => [
  "count",
  what,
  shard,
];
/**
 * The last order made ready, set by every commit that makes one ready (an enqueue, a requeue): the one key every
 * replica watches to wake its long polls. Only ever set, never checked or summed, so commits never conflict on it.
 */
export const READIED_KEY: Deno.KvKey = ["readied"];
/** A counter of outcomes (`executed`, `failed`, `fenced`). */
export const counterKey = (what: "executed" | "failed" | "fenced"): Deno.KvKey => ["counter", what];

/** A sum wraps around 2^64 (on every backend): adding 2^64 - n subtracts n. */
export function minus(n: number): bigint {
  return (1n << 64n) - BigInt(n);
}

/** One, for sums. */
export const ONE = 1n;
/** Minus one, for sums. */
export const MINUS_ONE: bigint = minus(1);

/**
 * An order's rank: `enqueuedAt / agingMs - totalQuantity`, lowest first. The
 * order with the most books comes first; the arrival term is aging: an order
 * that has waited `agingMs` longer than another ranks as if it had one more
 * book, so a small order waits behind a steady stream of large ones for at
 * most (their size - its size) × `agingMs`, never forever. (`agingMs` 0: no
 * aging, `rank = -totalQuantity`.) Among equal ranks, `seq` (arrival) decides.
 */
export function rank(order: Pick<QueuedOrder, "enqueuedAt" | "totalQuantity">, options: { agingMs: number }): number {
  return options.agingMs > 0 ? order.enqueuedAt / options.agingMs - order.totalQuantity : -order.totalQuantity;
}

/** The order's place in line: its rank, then its arrival. */
export function readyKey(order: QueuedOrder, options: { agingMs: number }): Deno.KvKey {
  return ["ready", rank(order, options), order.seq, order.orderId];
}

/** Reads any number of keys, `MAX_READ_KEYS` at a time; each commit checks what it read. */
export async function getMany<T>(kv: Kv, keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
  const entries: Deno.KvEntryMaybe<T>[] = [];
  for (let i = 0; i < keys.length; i += MAX_READ_KEYS) {
    entries.push(...await kv.getMany<T[]>(keys.slice(i, i + MAX_READ_KEYS)));
  }
  return entries;
}
