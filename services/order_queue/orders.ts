/**
 * Orders in and counts out: seeding stock, queueing an order in its place in
 * line, and reading an order, the stock and the queue's status.
 *
 * @module
 */
import type { Catalog, CatalogBook } from "@bookstore/lib/catalog";
import {
  MAX_DISTINCT_BOOKS,
  type OrderState,
  type QueueItem,
  type QueueStatus,
  type StockLevel,
} from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { RpcError } from "@bookstore/lib/rpc";
import type { Kv } from "@bookstore/lib/store";
import { CommitBudget } from "./budget.ts";
import type { QueueContext } from "./context.ts";
import type { FenceKeeper } from "./fence.ts";
import { counterKey, countKey, ONE, orderKey, type QueuedOrder, READIED_KEY, readyKey, stockKey } from "./keys.ts";

/**
 * An order's state as the queue answers it; `not_found` when there is no such
 * order: it was never queued, or it finished longer ago than the queue keeps
 * finished orders (`ORDER_RETENTION_MS`).
 */
export async function readOrderState(kv: Kv, orderId: string): Promise<OrderState> {
  const order = (await kv.get<QueuedOrder>(orderKey(orderId))).value;
  if (!order) {
    throw new RpcError(
      "not_found",
      `no order ${orderId} in the queue: never queued, or finished longer ago than finished orders are kept (ORDER_RETENTION_MS)`,
    );
  }
  return {
    orderId: order.orderId,
    state: order.state,
    attempts: order.attempts,
    executorId: order.executorId,
    epoch: order.epoch,
    reason: order.reason,
    items: order.items,
    enqueuedAt: order.enqueuedAt,
    updatedAt: order.updatedAt,
  };
}

/** Queues orders, keeps stock and reads the queue's state. */
export class Orders {
  readonly #ctx: QueueContext;
  readonly #fence: FenceKeeper;
  #lastSeq = 0;
  // Books known to have stock entries, so that Enqueue need not read them again. Never stale: a stock entry,
  // once seeded by any replica, is never deleted.
  readonly #knownBooks = new Set<string>();

  /** Orders in `ctx.kv`; `fence` for the status. */
  constructor(ctx: QueueContext, fence: FenceKeeper) {
    this.#ctx = ctx;
    this.#fence = fence;
  }

  /**
   * Sets the initial stock of every catalog book that has none yet; existing stock is kept. One range read, then
   * as few commits as the store's limits allow, each setting only books still without stock (replicas starting
   * together seed each book once).
   */
  async seedStock(catalog: Catalog): Promise<number> {
    const { kv } = this.#ctx;
    let seeded = 0;
    await commitWithRetry(async () => {
      const stocked = new Set<unknown>();
      for await (const entry of kv.list({ prefix: ["stock"] })) stocked.add(entry.key[1]);
      const missing = catalog.books.filter((book) => !stocked.has(book.bookId));
      while (missing.length > 0) {
        const budget = new CommitBudget({ checks: 0, mutations: 0 });
        const atomic = kv.atomic();
        const batch: CatalogBook[] = [];
        while (missing.length > 0 && budget.take({ checks: 1, mutations: 1 })) batch.push(missing.shift()!);
        for (const book of batch) {
          atomic.check({ key: stockKey(book.bookId), versionstamp: null }).set(stockKey(book.bookId), book.stock);
        }
        // Another replica seeded one of these meanwhile: read what is stocked now, and seed the rest.
        if (!(await atomic.commit()).ok) return RETRY;
        seeded += batch.length;
      }
    }, { what: "seeding stock" });
    return seeded;
  }

  // Arrival order: this replica's clock in microseconds, forced strictly increasing here. Across replicas two
  // orders may get the same seq: the order id after it in the ready key breaks the tie, so every place in line
  // is still unique. That is safe: seq only orders orders of equal rank, the rank (with aging) is itself read
  // from the enqueuing replica's clock, and two enqueues on two replicas in the same microsecond have no
  // arrival order to keep. A counter in the store would make every Enqueue conflict with every other.
  #nextSeq(): number {
    this.#lastSeq = Math.max(this.#ctx.now() * 1000, this.#lastSeq + 1);
    return this.#lastSeq;
  }

  /** Queues an order; `false` when it is already known (queued, leased or done). */
  async enqueue(orderId: string, items: QueueItem[]): Promise<boolean> {
    const { kv, log } = this.#ctx;
    if (new Set(items.map((item) => item.bookId)).size > MAX_DISTINCT_BOOKS) {
      throw new RpcError("invalid_argument", `items: an order holds at most ${MAX_DISTINCT_BOOKS} different books`);
    }
    for (const item of items) {
      if (item.quantity < 1) {
        throw new RpcError("invalid_argument", `items: quantity of ${item.bookId} must be at least 1`);
      }
      if (this.#knownBooks.has(item.bookId)) continue;
      const stock = await kv.get(stockKey(item.bookId));
      if (stock.versionstamp === null) throw new RpcError("invalid_argument", `items: unknown book "${item.bookId}"`);
      this.#knownBooks.add(item.bookId);
    }
    const now = this.#ctx.now();
    const record: QueuedOrder = {
      orderId,
      state: "queued",
      attempts: 0,
      executorId: 0,
      epoch: 0,
      reason: "",
      items,
      enqueuedAt: now,
      updatedAt: now,
      totalQuantity: items.reduce((sum, item) => sum + item.quantity, 0),
      seq: this.#nextSeq(),
    };
    const result = await kv.atomic()
      .check({ key: orderKey(orderId), versionstamp: null })
      .set(orderKey(orderId), record)
      .set(readyKey(record, this.#ctx), orderId)
      .set(READIED_KEY, orderId)
      .sum(countKey("ready"), ONE)
      .commit();
    if (result.ok) {
      // Per-order lines of the queue are debug: at info, a line costs a checkout about 0.1 ms of CPU (bench/RESULTS.md),
      // and the orchestrator's and the executors' lines already tell each order's story.
      log.debug("enqueued", { orderId, totalQuantity: record.totalQuantity });
      this.#ctx.ready.wake();
    }
    return result.ok;
  }

  /** An order's state. */
  async orderState(orderId: string): Promise<OrderState> {
    return await readOrderState(this.#ctx.kv, orderId);
  }

  /** Depth, leases, dead letters, fence and counters: a few reads, whatever the queue's size. */
  async status(): Promise<QueueStatus> {
    const { kv } = this.#ctx;
    const fence = await this.#fence.current();
    // Every shard of the three counts, in one range read (a key ["count", what] of a store from before the counts
    // were sharded is read as one more shard).
    const counts = new Map<unknown, bigint>();
    for await (const entry of kv.list<Deno.KvU64>({ prefix: ["count"] })) {
      counts.set(entry.key[1], (counts.get(entry.key[1]) ?? 0n) + entry.value.value);
    }
    const counters = await kv.getMany<Deno.KvU64[]>([
      counterKey("executed"),
      counterKey("failed"),
      counterKey("fenced"),
    ]);
    // A count read as a signed number (shards may wrap below zero), never below zero.
    const signed = (n: bigint | undefined) => Math.max(0, Number(BigInt.asIntN(64, n ?? 0n)));
    const [executed, failed, fenced] = counters.map((entry) => signed(entry.value?.value));
    return {
      depth: signed(counts.get("ready")),
      leased: signed(counts.get("leased")),
      deadLetters: signed(counts.get("dead")),
      epoch: fence.epoch,
      leaderId: fence.leaderId,
      executed,
      failed,
      fenced,
    };
  }

  /** Current stock of every book. */
  async stock(): Promise<StockLevel[]> {
    const levels: StockLevel[] = [];
    for await (const entry of this.#ctx.kv.list<number>({ prefix: ["stock"] })) {
      levels.push({ bookId: entry.key[1] as string, stock: entry.value });
    }
    return levels;
  }
}
