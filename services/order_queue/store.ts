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
  type AckResult,
  type DeadLetter,
  type DequeueRequest,
  type Lease,
  type LeaseRef,
  MAX_DEAD_LETTER_PAGE,
  MAX_DISTINCT_BOOKS,
  MAX_LEASES_PER_CALL,
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
const MINUS_ONE = minus(1);
// Most checks Deno KV allows in one atomic commit.
const MAX_CHECKS = 100;

/** The durable queue and stock store. */
export class OrderQueueStore {
  readonly #kv: Deno.Kv;
  readonly #options: StoreOptions;
  #lastSeq = 0;
  #reclaimedForEpoch = -1;
  // When the fence's holder last called (in memory: after a restart, no holder is live).
  #holderSeen?: { epoch: number; at: number };
  // Books known to have stock entries (they are never deleted), so that Enqueue need not read them again.
  readonly #knownBooks = new Set<string>();
  // Dequeues waiting for an order to become ready (long polls), woken by the commits that make one.
  readonly #waiting = new Set<() => void>();
  // Counts those wake-ups: a poll that found nothing waits only if none came since it began to look.
  #readyGeneration = 0;

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
      if (this.#knownBooks.has(item.bookId)) continue;
      const stock = await this.#kv.get(stockKey(item.bookId));
      if (stock.versionstamp === null) throw new RpcError("invalid_argument", `items: unknown book "${item.bookId}"`);
      this.#knownBooks.add(item.bookId);
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
    if (result.ok) {
      // Per-order lines of the queue are debug: at info, a line costs a checkout about 0.1 ms of CPU (bench/RESULTS.md),
      // and the orchestrator's and the executors' lines already tell each order's story.
      this.#options.log.debug("enqueued", { orderId, totalQuantity: record.totalQuantity });
      this.#wakeWaiting();
    }
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
    return (await this.dequeueBatch(caller, { max: 1, signal: options.signal }))[0];
  }

  /**
   * Leases up to `max` orders from the head of the queue, in priority order,
   * to the current leader, in one atomic commit. When nothing is ready it
   * waits up to `waitMs` for an order to arrive (a long poll: the commit that
   * queues one wakes it), then answers what it could lease, maybe nothing.
   */
  async dequeueBatch(
    caller: Caller,
    options: { max: number; waitMs?: number; signal?: AbortSignal },
  ): Promise<Lease[]> {
    const waitUntil = Date.now() + (options.waitMs ?? 0);
    for (;;) {
      // Taken before the read: an order queued after the read found the queue empty, but before
      // this poll is among the waiting, wakes nobody, so the poll must see that it came.
      const generation = this.#readyGeneration;
      const leases = await commitWithRetry(() => this.#leaseHead(caller, options), { what: "dequeue" });
      const left = waitUntil - Date.now();
      if (leases.length > 0 || left <= 0 || options.signal?.aborted) return leases;
      if (generation === this.#readyGeneration) await this.#waitForReady(left, options.signal);
    }
  }

  async #leaseHead(caller: Caller, options: { max: number; signal?: AbortSignal }): Promise<Lease[] | typeof RETRY> {
    const max = Math.min(Math.max(1, options.max), MAX_LEASES_PER_CALL);
    const fence = await this.#admit(caller, "dequeue");
    const repeated = await this.#repeatedDequeue(caller);
    if (repeated.length > 0) return repeated;
    // A new leader's first dequeue frees its predecessors' leases at once;
    // expired leases are freed by the housekeeping timer (app.ts).
    if (caller.epoch !== this.#reclaimedForEpoch) {
      await this.reclaim();
      this.#reclaimedForEpoch = caller.epoch;
    }
    const heads: Deno.KvEntry<string>[] = [];
    for await (const entry of this.#kv.list<string>({ prefix: ["ready"] }, { limit: max })) heads.push(entry);
    if (heads.length === 0) return [];
    const orderEntries = await this.#getMany<QueuedOrder>(heads.map((head) => orderKey(head.value)));
    const now = Date.now();
    const atomic = this.#kv.atomic().check(fence);
    const leases: Lease[] = [];
    let dropped = 0;
    heads.forEach((head, i) => {
      const orderEntry = orderEntries[i];
      const order = orderEntry.value;
      atomic.check(head).delete(head.key);
      if (!order) {
        dropped += 1; // an index entry without its order: dropped in the same commit
        return;
      }
      const lease = {
        leaseId: crypto.randomUUID(),
        executorId: caller.executorId,
        epoch: caller.epoch,
        expiresAt: now + this.#options.leaseMs,
      };
      const updated: QueuedOrder = {
        ...order,
        state: "leased",
        attempts: order.attempts + 1,
        executorId: caller.executorId,
        epoch: caller.epoch,
        lease,
        updatedAt: now,
      };
      atomic.check(orderEntry)
        .set(orderKey(order.orderId), updated)
        .set(leasedKey(order.orderId), { expiresAt: lease.expiresAt, epoch: lease.epoch });
      leases.push({
        orderId: order.orderId,
        leaseId: lease.leaseId,
        items: order.items,
        attempt: updated.attempts,
        expiresAt: lease.expiresAt,
      });
    });
    atomic.sum(countKey("ready"), minus(heads.length));
    if (leases.length > 0) atomic.sum(countKey("leased"), BigInt(leases.length));
    // Remember which leases this request took, so that its retry answers the same ones.
    if (caller.requestId && leases.length > 0) {
      const taken = leases.map(({ orderId, leaseId }) => ({ orderId, leaseId }));
      atomic.set(dequeuedKey(caller), taken, { expireIn: this.#options.leaseMs * 2 });
    }
    // A caller that has given up would never learn of the leases: do not take them.
    options.signal?.throwIfAborted();
    if (!(await atomic.commit()).ok) return RETRY;
    for (const lease of leases) {
      this.#options.log.debug("leased", { orderId: lease.orderId, epoch: caller.epoch, attempt: lease.attempt });
    }
    // Only dropped index entries and nothing leased: look again.
    return leases.length === 0 && dropped > 0 ? RETRY : leases;
  }

  // Resolves when an order may have become ready, when `ms` pass, or when `signal` aborts.
  #waitForReady(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", done);
        this.#waiting.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
      this.#waiting.add(done);
    });
  }

  #wakeWaiting(): void {
    this.#readyGeneration += 1;
    for (const wake of [...this.#waiting]) wake();
  }

  // The leases an earlier attempt of the same request took and the caller still holds.
  async #repeatedDequeue(caller: Caller): Promise<Lease[]> {
    if (!caller.requestId) return [];
    const entry = await this.#kv.get<LeaseRef[] | LeaseRef>(dequeuedKey(caller));
    if (!entry.value) return [];
    // One lease as an object: what a queue before batches wrote (such a marker lives for two lease times).
    const taken = Array.isArray(entry.value) ? entry.value : [entry.value];
    const orders = await this.#getMany<QueuedOrder>(taken.map(({ orderId }) => orderKey(orderId)));
    const held: Lease[] = [];
    orders.forEach((entry, i) => {
      const order = entry.value;
      const lease = order?.lease;
      // A lease that is gone no longer counts as this request's: the request may take others.
      if (order?.state !== "leased" || lease?.leaseId !== taken[i].leaseId || lease.epoch !== caller.epoch) {
        return;
      }
      held.push({
        orderId: order.orderId,
        leaseId: lease.leaseId,
        items: order.items,
        attempt: order.attempts,
        expiresAt: lease.expiresAt,
      });
    });
    if (held.length > 0) {
      this.#options.log.info("dequeue repeated", { requestId: caller.requestId, leases: held.length });
    }
    return held;
  }

  /**
   * Executes a leased order in one atomic commit: checks fence and lease,
   * then either takes every book's quantity from stock and marks the order
   * executed, or marks it failed (out of stock) and leaves stock untouched.
   */
  async ack(caller: AckRequest): Promise<AckResponse> {
    const [result] = await this.ackBatch(caller, [caller]);
    if (result.state === "lost") throw new RpcError("aborted", result.reason);
    if (result.state === "unknown") throw new RpcError("not_found", result.reason);
    return { state: result.state, reason: result.reason };
  }

  /**
   * Executes leased orders, in the order given (the order they were leased
   * in), each as {@linkcode OrderQueueStore.ack} would, in as few atomic
   * commits as Deno KV's limits allow (usually one). An order takes its
   * books from the stock the orders before it left. Each answers `executed`,
   * `failed` (out of stock), `lost` (its lease is no longer held, so this
   * ack did nothing) or `unknown`; a repeated ack answers the outcome its
   * lease already had, whatever the epoch is now. A caller that does not
   * hold the current epoch is refused as a whole (`failed_precondition`).
   */
  async ackBatch(caller: Pick<Caller, "executorId" | "epoch">, acks: readonly LeaseRef[]): Promise<AckResult[]> {
    if (acks.length > MAX_LEASES_PER_CALL) {
      throw new RpcError("invalid_argument", `acks: at most ${MAX_LEASES_PER_CALL} at a time`);
    }
    // An order acked twice in one batch would take its books from stock twice in one commit.
    const seen = new Set<string>();
    for (const { orderId } of acks) {
      if (seen.has(orderId)) throw new RpcError("invalid_argument", `acks: order ${orderId} appears more than once`);
      seen.add(orderId);
    }
    const results: AckResult[] = [];
    // Each round commits the longest run of acks that fits in one atomic commit.
    while (results.length < acks.length) {
      const settled = await commitWithRetry(() => this.#execute(caller, acks.slice(results.length)), { what: "ack" });
      results.push(...settled);
    }
    return results;
  }

  // Settles the longest run of `acks` (from the first) that fits in one commit; answers their results.
  async #execute(
    caller: Pick<Caller, "executorId" | "epoch">,
    acks: readonly LeaseRef[],
  ): Promise<AckResult[] | typeof RETRY> {
    const orderEntries = await this.#getMany<QueuedOrder>(acks.map((ack) => orderKey(ack.orderId)));
    // What is known without the fence: an unknown order, or a repeated ack of what this lease already
    // finished, which answers the same whatever the epoch is now (the order was executed; the caller must hear so).
    const answered = acks.map(({ orderId, leaseId }, at): AckResult | undefined => {
      const order = orderEntries[at].value;
      if (!order) return { orderId, state: "unknown", reason: `no order ${orderId}` };
      if ((order.state === "executed" || order.state === "failed") && order.finishedLeaseId === leaseId) {
        return { orderId, state: order.state, reason: order.reason };
      }
      return undefined;
    });
    const fence = answered.includes(undefined) ? await this.#admit(caller, "ack") : undefined;
    // Deno KV allows 100 checks a commit: the fence, each order executed and each book it reads.
    const results: AckResult[] = [];
    const books = new Set<string>();
    const executing: {
      result: AckResult;
      entry: Deno.KvEntry<QueuedOrder>;
      leaseId: string;
      wanted: Map<string, number>;
    }[] = [];
    for (let at = 0; at < acks.length; at++) {
      const known = answered[at];
      const order = orderEntries[at] as Deno.KvEntry<QueuedOrder>;
      const lost = known ? undefined : leaseProblem(order.value, acks[at].leaseId, "ack");
      if (known || lost) {
        results.push(known ?? { orderId: acks[at].orderId, state: "lost", reason: lost! });
        continue;
      }
      const wanted = new Map<string, number>();
      for (const item of order.value.items) wanted.set(item.bookId, (wanted.get(item.bookId) ?? 0) + item.quantity);
      const more = [...wanted.keys()].filter((bookId) => !books.has(bookId));
      if (executing.length > 0 && 1 + executing.length + 1 + books.size + more.length > MAX_CHECKS) break;
      for (const bookId of more) books.add(bookId);
      const result: AckResult = { orderId: acks[at].orderId, state: "executed", reason: "" };
      results.push(result);
      executing.push({ result, entry: order, leaseId: acks[at].leaseId, wanted });
    }
    if (executing.length === 0) return results;
    const stockEntries = await this.#getMany<number>([...books].map(stockKey));
    const stock = new Map(stockEntries.map((entry) => [entry.key[1] as string, entry.value ?? 0]));
    const atomic = this.#kv.atomic().check(fence!);
    // Every book read is checked: a concurrent commit that changed one sends this round again.
    for (const entry of stockEntries) atomic.check(entry);
    const now = Date.now();
    let executed = 0;
    // In the order given: each order takes what the ones before it left.
    for (const { result, entry, leaseId, wanted } of executing) {
      const short = [...wanted].flatMap(([bookId, want]) => {
        const have = stock.get(bookId)!;
        return have < want ? [`${bookId} (wanted ${want}, ${have} left)`] : [];
      });
      if (short.length === 0) {
        executed += 1;
        for (const [bookId, want] of wanted) stock.set(bookId, stock.get(bookId)! - want);
      } else {
        result.state = "failed";
        result.reason = `out of stock: ${short.join(", ")}`;
      }
      const { lease: _lease, ...rest } = entry.value;
      atomic.check(entry)
        .set(
          orderKey(rest.orderId),
          {
            ...rest,
            state: result.state as "executed" | "failed",
            reason: result.reason,
            executorId: caller.executorId,
            epoch: caller.epoch,
            finishedLeaseId: leaseId,
            updatedAt: now,
          } satisfies QueuedOrder,
        )
        .delete(leasedKey(rest.orderId));
    }
    for (const entry of stockEntries) {
      const bookId = entry.key[1] as string;
      if (stock.get(bookId) !== (entry.value ?? 0)) atomic.set(entry.key, stock.get(bookId)!);
    }
    atomic.sum(countKey("leased"), minus(executing.length));
    if (executed > 0) atomic.sum(["counter", "executed"], BigInt(executed));
    if (executing.length > executed) atomic.sum(["counter", "failed"], BigInt(executing.length - executed));
    if (!(await atomic.commit()).ok) return RETRY;
    for (const { result } of executing) {
      this.#options.log.debug(result.state === "executed" ? "executed" : "execution failed", {
        orderId: result.orderId,
        executorId: caller.executorId,
        epoch: caller.epoch,
        reason: result.reason,
      });
    }
    return results;
  }

  /** Gives a leased order back: queued again, or dead-lettered past the attempt limit. */
  async nack(caller: NackRequest): Promise<NackResponse["state"]> {
    return await commitWithRetry(async () => {
      const fence = await this.#admit(caller, "nack");
      const orderEntry = await this.#kv.get<QueuedOrder>(orderKey(caller.orderId));
      if (!orderEntry.value) throw new RpcError("not_found", `no order ${caller.orderId}`);
      const lost = leaseProblem(orderEntry.value, caller.leaseId, "nack");
      if (lost) throw new RpcError("aborted", lost);
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
    if (!dead) this.#wakeWaiting();
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
    if (result.ok) {
      this.#options.log.info("dead letter requeued", { orderId });
      this.#wakeWaiting();
    }
    return result.ok;
  }
}

// A lost lease is `aborted` (the order went to someone else; carry on), unlike a
// stale epoch, which is `failed_precondition` (the caller no longer leads), and
// unlike contention, which is `unavailable` (commitWithRetry; try again).
// Answers why `leaseId` is no longer held on `order`, or undefined while it is.
function leaseProblem(order: QueuedOrder, leaseId: string, action: string): string | undefined {
  if (order.state !== "leased" || order.lease?.leaseId !== leaseId) {
    return `${action} refused: lease ${leaseId} on ${order.orderId} is no longer held`;
  }
  if (order.lease.expiresAt <= Date.now()) return `${action} refused: lease ${leaseId} on ${order.orderId} expired`;
  return undefined;
}

// Deno KV's sum wraps around 2^64: adding 2^64 - n subtracts n.
function minus(n: number): bigint {
  return (1n << 64n) - BigInt(n);
}
