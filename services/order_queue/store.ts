/**
 * The order queue's state in Deno KV. Priority lives in the key order:
 * `["ready", rank, seq, orderId]` with `rank = enqueuedAt / agingMs -
 * totalQuantity` sorts the order with the most books first and, among
 * equals, the earliest arrival first, so the head of the queue is one range
 * read of length one and taking it one atomic commit. The arrival term is
 * aging: an order that has waited `agingMs` longer than another ranks as if
 * it had one more book, so a small order waits behind a steady stream of
 * large ones for at most (their size - its size) × `agingMs`, never forever.
 * (`agingMs` 0: no aging, `rank = -totalQuantity`.)
 *
 * Fencing: the queue issues epochs (`AcquireEpoch`) and keeps the newest with
 * its leader in `["fence"]`. Every dequeue, ack and nack checks that entry
 * inside the same atomic commit as its writes, so a deposed leader's call can
 * never take or finish an order, even if it races the new leader's election.
 *
 * Leader lease: while the fence's holder keeps calling the queue (a dequeue,
 * ack or nack admitted under its epoch) within `leaderLeaseMs`, a lower
 * replica's `AcquireEpoch` is refused, so a replica that merely cannot hear
 * the leader's heartbeats (a partition between replicas, not from the queue)
 * cannot take the fence from a leader that is working. A higher replica may
 * still take over (Bully's rule: the highest live id leads), and once the
 * holder falls silent anyone may.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import {
  type AckRequest,
  type AckResponse,
  type DeadLetter,
  type DequeueRequest,
  type Lease,
  MAX_DEAD_LETTER_PAGE,
  MAX_DISTINCT_BOOKS,
  type NackRequest,
  type NackResponse,
  type OrderState,
  type QueueItem,
  type QueueStatus,
  type StockLevel,
} from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import type { Logger } from "@bookstore/lib/log";
import { RpcError } from "@bookstore/lib/rpc";

/** An order as stored, with its current lease. */
interface QueuedOrder extends OrderState {
  totalQuantity: number;
  seq: number;
  lease?: { leaseId: string; executorId: number; epoch: number; expiresAt: number };
  /** The lease that finished it, so a repeated ack answers the same. */
  finishedLeaseId?: string;
}

interface Fence {
  epoch: number;
  leaderId: number;
}

/** Who is calling on behalf of which epoch (and, for a dequeue, which request). */
export type Caller = Pick<DequeueRequest, "executorId" | "epoch"> & { requestId?: string };

/** Options for {@linkcode OrderQueueStore}. */
export interface StoreOptions {
  /** How long a lease lasts. */
  leaseMs: number;
  /** Deliveries after which an order is dead-lettered. */
  maxAttempts: number;
  /** Waiting that counts as one more book (aging); 0 or absent: none. */
  agingMs?: number;
  /** Logger. */
  log: Logger;
  /** How long the fence's holder keeps it from lower replicas after its last call (0: no lease). */
  leaderLeaseMs?: number;
  /** The clock (default `Date.now`); tests pass a fake one. */
  now?: () => number;
}

const orderKey = (orderId: string) => ["order", orderId];
const leasedKey = (orderId: string) => ["leased", orderId];
const deadKey = (orderId: string) => ["dead", orderId];
const stockKey = (bookId: string) => ["stock", bookId];
const dequeuedKey = (caller: Caller) => ["dequeued", caller.executorId, caller.requestId ?? ""];
const FENCE_KEY = ["fence"];
// Counts kept in the same atomic commits as the entries they count, so that
// reading the queue's status is three gets, not three scans.
const countKey = (what: "ready" | "leased" | "dead") => ["count", what];
const COUNTS_READY = ["count", "initialized"];
const ONE = 1n;
// Deno KV's sum wraps around 2^64: adding 2^64 - 1 subtracts one.
const MINUS_ONE = 0xFFFFFFFFFFFFFFFFn;

/** The durable queue and stock store. */
export class OrderQueueStore {
  readonly #kv: Deno.Kv;
  readonly #options: StoreOptions;
  #lastSeq = 0;
  #reclaimedForEpoch = -1;
  // When the fence's holder last called (in memory: after a restart, no holder is live).
  #holderSeen?: { epoch: number; at: number };

  /** Wraps an open KV. */
  constructor(kv: Deno.Kv, options: StoreOptions) {
    this.#kv = kv;
    this.#options = options;
  }

  /** Sets the initial stock of every catalog book that has none yet; existing stock is kept. */
  async seedStock(catalog: Catalog): Promise<number> {
    let seeded = 0;
    for (const book of catalog.books) {
      const result = await this.#kv.atomic()
        .check({ key: stockKey(book.bookId), versionstamp: null })
        .set(stockKey(book.bookId), book.stock)
        .commit();
      if (result.ok) seeded += 1;
    }
    return seeded;
  }

  /**
   * Counts the queued, leased and dead orders once, for a store written
   * before the counts were kept in its commits; later commits keep them.
   */
  async initCounts(): Promise<void> {
    if ((await this.#kv.get(COUNTS_READY)).versionstamp !== null) return;
    const count = async (prefix: string) => {
      let n = 0n;
      for await (const _ of this.#kv.list({ prefix: [prefix] })) n += 1n;
      return n;
    };
    await this.#kv.atomic()
      .check({ key: COUNTS_READY, versionstamp: null })
      .set(countKey("ready"), new Deno.KvU64(await count("ready")))
      .set(countKey("leased"), new Deno.KvU64(await count("leased")))
      .set(countKey("dead"), new Deno.KvU64(await count("dead")))
      .set(COUNTS_READY, true)
      .commit();
  }

  // The order's place in line: its rank (size, aged by its arrival), then its arrival.
  #readyKey(order: QueuedOrder): Deno.KvKey {
    const agingMs = this.#options.agingMs ?? 0;
    const rank = agingMs > 0 ? order.enqueuedAt / agingMs - order.totalQuantity : -order.totalQuantity;
    return ["ready", rank, order.seq, order.orderId];
  }

  // Arrival order: wall-clock microseconds, forced strictly increasing.
  #nextSeq(): number {
    this.#lastSeq = Math.max((this.#options.now ?? Date.now)() * 1000, this.#lastSeq + 1);
    return this.#lastSeq;
  }

  /** Queues an order; `false` when it is already known (queued, leased or done). */
  async enqueue(orderId: string, items: QueueItem[]): Promise<boolean> {
    if (new Set(items.map((item) => item.bookId)).size > MAX_DISTINCT_BOOKS) {
      throw new RpcError("invalid_argument", `items: an order holds at most ${MAX_DISTINCT_BOOKS} different books`);
    }
    for (const item of items) {
      if (item.quantity < 1) {
        throw new RpcError("invalid_argument", `items: quantity of ${item.bookId} must be at least 1`);
      }
      const stock = await this.#kv.get(stockKey(item.bookId));
      if (stock.versionstamp === null) throw new RpcError("invalid_argument", `items: unknown book "${item.bookId}"`);
    }
    const now = (this.#options.now ?? Date.now)();
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
    const result = await this.#kv.atomic()
      .check({ key: orderKey(orderId), versionstamp: null })
      .set(orderKey(orderId), record)
      .set(this.#readyKey(record), orderId)
      .sum(countKey("ready"), ONE)
      .commit();
    if (result.ok) this.#options.log.info("enqueued", { orderId, totalQuantity: record.totalQuantity });
    return result.ok;
  }

  /**
   * Issues a new epoch, higher than any before, to `executorId`; refused
   * (`failed_precondition`) while a higher live holder keeps the leader lease.
   */
  async acquireEpoch(executorId: number): Promise<number> {
    return await commitWithRetry(async () => {
      const fence = await this.#kv.get<Fence>(FENCE_KEY);
      this.#checkLeaderLease(fence.value, executorId);
      const epoch = (fence.value?.epoch ?? 0) + 1;
      const result = await this.#kv.atomic().check(fence).set(FENCE_KEY, { epoch, leaderId: executorId }).commit();
      if (!result.ok) return RETRY;
      this.#options.log.info("epoch issued", { epoch, executorId });
      return epoch;
    }, { what: "issuing an epoch" });
  }

  #checkLeaderLease(fence: Fence | null, executorId: number) {
    const leaseMs = this.#options.leaderLeaseMs ?? 0;
    const seen = this.#holderSeen;
    if (!fence || leaseMs <= 0 || !seen || seen.epoch !== fence.epoch) return;
    if (executorId >= fence.leaderId) return; // the holder itself, or a higher replica
    const quiet = (this.#options.now ?? Date.now)() - seen.at;
    if (quiet > leaseMs) return;
    throw new RpcError(
      "failed_precondition",
      `AcquireEpoch refused: executor ${fence.leaderId} leads epoch ${fence.epoch} and called ${quiet} ms ago`,
    );
  }

  /** Reads the fence and refuses a caller that does not hold the current epoch. */
  async #admit(caller: Caller, action: string): Promise<Deno.KvEntryMaybe<Fence>> {
    const fence = await this.#kv.get<Fence>(FENCE_KEY);
    const current = fence.value ?? { epoch: 0, leaderId: 0 };
    if (caller.epoch === current.epoch && caller.executorId === current.leaderId) {
      this.#holderSeen = { epoch: current.epoch, at: (this.#options.now ?? Date.now)() };
      return fence;
    }
    await this.#kv.atomic().sum(["counter", "fenced"], 1n).commit();
    this.#options.log.warn("fenced", { action, executorId: caller.executorId, epoch: caller.epoch, current });
    const why = caller.epoch < current.epoch
      ? `epoch ${caller.epoch} is stale: epoch ${current.epoch} belongs to executor ${current.leaderId}`
      : `epoch ${caller.epoch} was not issued to executor ${caller.executorId}`;
    throw new RpcError("failed_precondition", `${action} refused: ${why}`);
  }

  // Deno KV reads at most 10 keys per getMany.
  async #getMany<T>(keys: Deno.KvKey[]): Promise<Deno.KvEntryMaybe<T>[]> {
    const entries: Deno.KvEntryMaybe<T>[] = [];
    for (let i = 0; i < keys.length; i += 10) entries.push(...await this.#kv.getMany<T[]>(keys.slice(i, i + 10)));
    return entries;
  }

  /** Leases the head of the queue to the current leader; `undefined` when nothing is ready. */
  async dequeue(caller: Caller, options: { signal?: AbortSignal } = {}): Promise<Lease | undefined> {
    return await commitWithRetry(async (): Promise<Lease | undefined | typeof RETRY> => {
      const fence = await this.#admit(caller, "dequeue");
      const repeated = await this.#repeatedDequeue(caller);
      if (repeated) return repeated;
      // A new leader's first dequeue frees its predecessors' leases at once;
      // expired leases are freed by the housekeeping timer (app.ts).
      if (caller.epoch !== this.#reclaimedForEpoch) {
        await this.reclaim();
        this.#reclaimedForEpoch = caller.epoch;
      }
      const head = await this.#kv.list<string>({ prefix: ["ready"] }, { limit: 1 }).next();
      if (head.done) return undefined;
      const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(head.value.value));
      const order = orderEntry.value;
      if (!order) {
        // An index entry without its order: drop it.
        await this.#kv.atomic().check(head.value).delete(head.value.key).sum(countKey("ready"), MINUS_ONE).commit();
        return RETRY;
      }
      const lease = {
        leaseId: crypto.randomUUID(),
        executorId: caller.executorId,
        epoch: caller.epoch,
        expiresAt: Date.now() + this.#options.leaseMs,
      };
      const updated: QueuedOrder = {
        ...order,
        state: "leased",
        attempts: order.attempts + 1,
        executorId: caller.executorId,
        epoch: caller.epoch,
        lease,
        updatedAt: Date.now(),
      };
      // A caller that has given up would never learn of the lease: do not take it.
      options.signal?.throwIfAborted();
      const atomic = this.#kv.atomic()
        .check(fence)
        .check(head.value)
        .check(orderEntry)
        .delete(head.value.key)
        .set(orderKey(order.orderId), updated)
        .set(leasedKey(order.orderId), { expiresAt: lease.expiresAt, epoch: lease.epoch })
        .sum(countKey("ready"), MINUS_ONE)
        .sum(countKey("leased"), ONE);
      // Remember which lease this request took, so that its retry answers the same one.
      if (caller.requestId) {
        atomic.set(dequeuedKey(caller), { orderId: order.orderId, leaseId: lease.leaseId }, {
          expireIn: this.#options.leaseMs * 2,
        });
      }
      const result = await atomic.commit();
      if (result.ok) {
        this.#options.log.info("leased", { orderId: order.orderId, epoch: caller.epoch, attempt: updated.attempts });
        return {
          orderId: order.orderId,
          leaseId: lease.leaseId,
          items: order.items,
          attempt: updated.attempts,
          expiresAt: lease.expiresAt,
        };
      }
      return RETRY;
    }, { what: "dequeue" });
  }

  // The lease an earlier attempt of the same request took, while the caller still holds it.
  async #repeatedDequeue(caller: Caller): Promise<Lease | undefined> {
    if (!caller.requestId) return undefined;
    const taken = await this.#kv.get<{ orderId: string; leaseId: string }>(dequeuedKey(caller));
    if (!taken.value) return undefined;
    const order = (await this.#kv.get<QueuedOrder>(orderKey(taken.value.orderId))).value;
    const lease = order?.lease;
    if (order?.state !== "leased" || lease?.leaseId !== taken.value.leaseId || lease.epoch !== caller.epoch) {
      return undefined; // that lease is gone: this request may take another
    }
    this.#options.log.info("dequeue repeated", { orderId: order.orderId, requestId: caller.requestId });
    return {
      orderId: order.orderId,
      leaseId: lease.leaseId,
      items: order.items,
      attempt: order.attempts,
      expiresAt: lease.expiresAt,
    };
  }

  /**
   * Executes a leased order in one atomic commit: checks fence and lease,
   * then either takes every book's quantity from stock and marks the order
   * executed, or marks it failed (out of stock) and leaves stock untouched.
   */
  async ack(caller: AckRequest): Promise<AckResponse> {
    return await commitWithRetry(async () => {
      const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(caller.orderId));
      const order = orderEntry.value;
      if (!order) throw new RpcError("not_found", `no order ${caller.orderId}`);
      // A repeated ack of what this lease already finished answers the same, whatever
      // the epoch is now: the order was executed, and the caller must hear so.
      if ((order.state === "executed" || order.state === "failed") && order.finishedLeaseId === caller.leaseId) {
        return { state: order.state, reason: order.reason };
      }
      const fence = await this.#admit(caller, "ack");
      this.#checkLease(order, caller.leaseId, "ack");
      const wanted = new Map<string, number>();
      for (const item of order.items) wanted.set(item.bookId, (wanted.get(item.bookId) ?? 0) + item.quantity);
      const stockEntries = await this.#getMany<number>([...wanted.keys()].map(stockKey));
      const short = stockEntries.flatMap((entry) => {
        const bookId = entry.key[1] as string;
        const have = entry.value ?? 0;
        const want = wanted.get(bookId)!;
        return have < want ? [`${bookId} (wanted ${want}, ${have} left)`] : [];
      });
      const state = short.length === 0 ? "executed" as const : "failed" as const;
      const reason = short.length === 0 ? "" : `out of stock: ${short.join(", ")}`;
      const atomic = this.#kv.atomic().check(fence).check(orderEntry);
      for (const entry of stockEntries) atomic.check(entry);
      if (state === "executed") {
        for (const entry of stockEntries) {
          atomic.set(entry.key, (entry.value ?? 0) - wanted.get(entry.key[1] as string)!);
        }
      }
      const { lease: _lease, ...rest } = order;
      atomic
        .set(
          orderKey(order.orderId),
          {
            ...rest,
            state,
            reason,
            executorId: caller.executorId,
            epoch: caller.epoch,
            finishedLeaseId: caller.leaseId,
            updatedAt: Date.now(),
          } satisfies QueuedOrder,
        )
        .delete(leasedKey(order.orderId))
        .sum(countKey("leased"), MINUS_ONE)
        .sum(["counter", state], 1n);
      const result = await atomic.commit();
      if (result.ok) {
        this.#options.log.info(state === "executed" ? "executed" : "execution failed", {
          orderId: order.orderId,
          executorId: caller.executorId,
          epoch: caller.epoch,
          reason,
        });
        return { state, reason };
      }
      return RETRY;
    }, { what: "ack" });
  }

  // A lost lease is `aborted` (the order went to someone else; carry on), unlike a
  // stale epoch, which is `failed_precondition` (the caller no longer leads), and
  // unlike contention, which is `unavailable` (commitWithRetry; try again).
  #checkLease(order: QueuedOrder, leaseId: string, action: string) {
    if (order.state !== "leased" || order.lease?.leaseId !== leaseId) {
      throw new RpcError("aborted", `${action} refused: lease ${leaseId} on ${order.orderId} is no longer held`);
    }
    if (order.lease.expiresAt <= Date.now()) {
      throw new RpcError("aborted", `${action} refused: lease ${leaseId} on ${order.orderId} expired`);
    }
  }

  /** Gives a leased order back: queued again, or dead-lettered past the attempt limit. */
  async nack(caller: NackRequest): Promise<NackResponse["state"]> {
    return await commitWithRetry(async () => {
      const fence = await this.#admit(caller, "nack");
      const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(caller.orderId));
      if (!orderEntry.value) throw new RpcError("not_found", `no order ${caller.orderId}`);
      this.#checkLease(orderEntry.value, caller.leaseId, "nack");
      const outcome = await this.#release(orderEntry, {
        reason: caller.reason || "given back",
        fence,
        failedAttempt: true,
      });
      return outcome ?? RETRY;
    }, { what: "nack" });
  }

  // Puts a leased order back in the queue (or the dead letters); undefined when the commit lost a race.
  async #release(
    orderEntry: Deno.KvEntry<QueuedOrder>,
    options: {
      reason: string;
      failedAttempt: boolean;
      fence?: Deno.KvEntryMaybe<Fence>;
      leasedEntry?: Deno.KvEntry<unknown>;
    },
  ): Promise<"queued" | "dead" | undefined> {
    const { lease: _lease, ...leaseless } = orderEntry.value;
    // A delivery cut short by a change of leader is not the order's fault.
    const rest = options.failedAttempt ? leaseless : { ...leaseless, attempts: leaseless.attempts - 1 };
    const order = { ...orderEntry.value, attempts: rest.attempts };
    const dead = options.failedAttempt && order.attempts >= this.#options.maxAttempts;
    const atomic = this.#kv.atomic().check(orderEntry);
    if (options.fence) atomic.check(options.fence);
    if (options.leasedEntry) atomic.check(options.leasedEntry);
    atomic.delete(leasedKey(order.orderId)).sum(countKey("leased"), MINUS_ONE);
    if (dead) {
      atomic.set(orderKey(order.orderId), { ...rest, state: "dead", reason: options.reason, updatedAt: Date.now() });
      atomic.set(deadKey(order.orderId), { deadAt: Date.now(), reason: options.reason });
      atomic.sum(countKey("dead"), ONE);
    } else {
      atomic.set(orderKey(order.orderId), { ...rest, state: "queued", reason: options.reason, updatedAt: Date.now() });
      atomic.set(this.#readyKey(order), order.orderId);
      atomic.sum(countKey("ready"), ONE);
    }
    const result = await atomic.commit();
    if (!result.ok) return undefined;
    this.#options.log[dead ? "warn" : "info"](dead ? "dead-lettered" : "requeued", {
      orderId: order.orderId,
      attempts: order.attempts,
      reason: options.reason,
    });
    return dead ? "dead" : "queued";
  }

  /**
   * Requeues leases that expired, and leases held by a deposed epoch (their
   * holder can no longer ack them, so nobody should wait for them to expire).
   */
  async reclaim(now: number = Date.now()): Promise<number> {
    const fence = (await this.#kv.get<Fence>(FENCE_KEY)).value;
    let reclaimed = 0;
    for await (const entry of this.#kv.list<{ expiresAt: number; epoch: number }>({ prefix: ["leased"] })) {
      if (entry.value.expiresAt > now && (fence === null || entry.value.epoch >= fence.epoch)) continue;
      const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(entry.key[1] as string));
      const lease = orderEntry.value?.state === "leased" ? orderEntry.value.lease : undefined;
      if (!lease) {
        await this.#kv.atomic().check(entry).delete(entry.key).sum(countKey("leased"), MINUS_ONE).commit();
        continue;
      }
      // Judge the lease the order holds now (it may have been handed out again
      // since the index was listed), and commit only if the index is unchanged.
      const expired = lease.expiresAt <= now;
      const deposed = fence !== null && lease.epoch < fence.epoch;
      if (!expired && !deposed) continue;
      const released = await this.#release(orderEntry as Deno.KvEntry<QueuedOrder>, {
        reason: expired ? "lease expired" : `leader of epoch ${lease.epoch} was deposed`,
        failedAttempt: expired,
        leasedEntry: entry,
      });
      if (released) reclaimed += 1;
    }
    return reclaimed;
  }

  /** An order's state. */
  async orderState(orderId: string): Promise<OrderState> {
    const order = (await this.#kv.get<QueuedOrder>(orderKey(orderId))).value;
    if (!order) throw new RpcError("not_found", `no order ${orderId} in the queue`);
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

  /** Depth, leases, dead letters, fence and counters: a few gets, whatever the queue's size. */
  async status(): Promise<QueueStatus> {
    const fence = (await this.#kv.get<Fence>(FENCE_KEY)).value ?? { epoch: 0, leaderId: 0 };
    const counters = await this.#kv.getMany<Deno.KvU64[]>([
      ["counter", "executed"],
      ["counter", "failed"],
      ["counter", "fenced"],
      countKey("ready"),
      countKey("leased"),
      countKey("dead"),
    ]);
    // A count read as a signed number, never below zero.
    const [executed, failed, fenced, depth, leased, deadLetters] = counters.map((entry) =>
      Math.max(0, Number(BigInt.asIntN(64, entry.value?.value ?? 0n)))
    );
    return {
      depth,
      leased,
      deadLetters,
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
    for await (const entry of this.#kv.list<number>({ prefix: ["stock"] })) {
      levels.push({ bookId: entry.key[1] as string, stock: entry.value });
    }
    return levels;
  }

  /**
   * One page of the dead-letter list, in order id order: at most `pageSize`
   * letters (default 100) from `pageToken` on (the previous page's
   * `nextPageToken`), and the token of the next page, empty on the last.
   */
  async deadLetterPage(
    page: { pageSize?: number; pageToken?: string } = {},
  ): Promise<{ deadLetters: DeadLetter[]; nextPageToken: string }> {
    const limit = Math.min(Math.max(1, page.pageSize || 100), MAX_DEAD_LETTER_PAGE);
    const entries = this.#kv.list<{ deadAt: number; reason: string }>({ prefix: ["dead"] }, {
      limit,
      cursor: page.pageToken || undefined,
    });
    const deadLetters: DeadLetter[] = [];
    for await (const entry of entries) {
      const order = await this.orderState(entry.key[1] as string);
      deadLetters.push({
        orderId: order.orderId,
        attempts: order.attempts,
        reason: entry.value.reason,
        items: order.items,
        deadAt: entry.value.deadAt,
      });
    }
    // A full page may have more after it; an empty cursor means the list ended.
    return { deadLetters, nextPageToken: deadLetters.length === limit ? entries.cursor : "" };
  }

  /** The whole dead-letter list (for tools and tests; the RPC pages with {@linkcode OrderQueueStore.deadLetterPage}). */
  async deadLetters(): Promise<DeadLetter[]> {
    const letters: DeadLetter[] = [];
    for await (const entry of this.#kv.list<{ deadAt: number; reason: string }>({ prefix: ["dead"] })) {
      const order = await this.orderState(entry.key[1] as string);
      letters.push({
        orderId: order.orderId,
        attempts: order.attempts,
        reason: entry.value.reason,
        items: order.items,
        deadAt: entry.value.deadAt,
      });
    }
    return letters;
  }

  /** Moves a dead letter back into the queue with a fresh attempt count. */
  async requeueDeadLetter(orderId: string): Promise<boolean> {
    const dead = await this.#kv.get(deadKey(orderId));
    const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(orderId));
    if (!dead.value || orderEntry.value?.state !== "dead") return false;
    const order = { ...orderEntry.value, state: "queued" as const, attempts: 0, reason: "", updatedAt: Date.now() };
    const result = await this.#kv.atomic()
      .check(dead)
      .check(orderEntry)
      .delete(deadKey(orderId))
      .set(orderKey(orderId), order)
      .set(this.#readyKey(order), orderId)
      .sum(countKey("dead"), MINUS_ONE)
      .sum(countKey("ready"), ONE)
      .commit();
    if (result.ok) this.#options.log.info("dead letter requeued", { orderId });
    return result.ok;
  }
}
