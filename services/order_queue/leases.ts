/**
 * Leasing: the current leader takes orders from the head of the queue, in
 * priority order, in one atomic commit that checks the fence, and waits at
 * the queue for one when none is ready (a long poll, woken by this replica's
 * commits and, through a watch of `["readied"]`, by every other
 * replica's).
 *
 * @module
 */
import { type Lease, type LeaseRef, MAX_LEASES_PER_CALL } from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { CommitBudget } from "./budget.ts";
import type { QueueContext } from "./context.ts";
import type { Caller, FenceKeeper } from "./fence.ts";
import { countKey, dequeuedKey, getMany, leasedKey, minus, orderKey, type QueuedOrder } from "./keys.ts";

/** What leasing needs besides the context. */
export interface LeasesParts {
  /** The fence every lease is taken under. */
  fence: FenceKeeper;
  /** Frees the leases of deposed epochs (a new leader's first dequeue does). */
  reclaim: () => Promise<number>;
}

/** Options of {@linkcode Leases.dequeueBatch}. */
export interface DequeueOptions {
  /** Most leases (1 to `MAX_LEASES_PER_CALL`). */
  max: number;
  /** How long to wait for an order when none is ready (0 or absent: answer at once). */
  waitMs?: number;
  /** The caller gave up: stop waiting, and take nothing. */
  signal?: AbortSignal;
}

/** Leases orders to the current leader. */
export class Leases {
  readonly #ctx: QueueContext;
  readonly #parts: LeasesParts;
  #reclaimedForEpoch = -1;

  /** Leases orders from `ctx.kv` under `parts.fence`. */
  constructor(ctx: QueueContext, parts: LeasesParts) {
    this.#ctx = ctx;
    this.#parts = parts;
  }

  /**
   * Leases up to `max` orders from the head of the queue, in priority order,
   * to the current leader, in one atomic commit. When nothing is ready it
   * waits up to `waitMs` for an order to arrive (a long poll: the commit that
   * queues one wakes it), then answers what it could lease, maybe nothing.
   */
  async dequeueBatch(caller: Caller, options: DequeueOptions): Promise<Lease[]> {
    // The wait is bounded by a timer, not by reading the clock: a fake clock that stands still must not make it endless.
    const over = new AbortController();
    const stop = () => over.abort();
    const waitMs = options.waitMs ?? 0;
    const timer = waitMs > 0 ? setTimeout(stop, waitMs) : undefined;
    if (waitMs <= 0 || options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    try {
      for (;;) {
        // Taken before the read: an order queued after the read found the queue empty, but before
        // this poll is among the waiting, wakes nobody, so the poll must see that it came.
        const generation = this.#ctx.ready.generation;
        const leases = await commitWithRetry(() => this.#leaseHead(caller, options), { what: "dequeue" });
        if (leases.length > 0 || over.signal.aborted) return leases;
        if (generation === this.#ctx.ready.generation) await this.#ctx.ready.wait(over.signal);
      }
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", stop);
    }
  }

  async #leaseHead(caller: Caller, options: DequeueOptions): Promise<Lease[] | typeof RETRY> {
    const { kv, log, leaseMs } = this.#ctx;
    const max = Math.min(Math.max(1, options.max), MAX_LEASES_PER_CALL);
    const admission = await this.#parts.fence.admit(caller, "dequeue");
    const { held: repeated, marker } = await this.#repeatedDequeue(caller);
    if (repeated.length > 0) return repeated;
    // A new leader's first dequeue frees its predecessors' leases at once; expired leases are freed by the
    // housekeeping timer (app.ts). Remembered per replica, as an optimisation only: a leader whose calls reach
    // several replicas has each reclaim once for its epoch, and a reclaim after the first finds nothing deposed
    // (no lease of an older epoch can be taken once the fence has moved on) and changes nothing.
    if (caller.epoch !== this.#reclaimedForEpoch) {
      await this.#parts.reclaim();
      this.#reclaimedForEpoch = caller.epoch;
    }
    const heads: Deno.KvEntry<string>[] = [];
    for await (const entry of kv.list<string>({ prefix: ["ready"] }, { limit: max })) heads.push(entry);
    if (heads.length === 0) {
      // Nothing to take, but the leader is working: its lease is renewed (and the fence checked) all the same.
      if (admission.due && !(await admission.guard(kv.atomic()).commit()).ok) return RETRY;
      return [];
    }
    const orderEntries = await getMany<QueuedOrder>(kv, heads.map((head) => orderKey(head.value)));
    const now = this.#ctx.now();
    const remember = marker ? 1 : 0;
    // The fence (and the lease), the two counts and the request's marker, then each head as it fits.
    const budget = new CommitBudget({
      checks: admission.cost.checks + 2 + remember,
      mutations: admission.cost.mutations + 2 + remember,
    });
    const atomic = admission.guard(kv.atomic());
    // The same request on another replica (its caller moved on while this one's commit was slow) may lease other
    // heads: whichever commits first writes the marker, and the other's check fails, so it retries, finds the marker
    // and answers those leases. Without the check both would commit, and one set of leases would reach no one.
    if (marker) atomic.check(marker);
    const leases: Lease[] = [];
    let taken = 0;
    for (const [i, head] of heads.entries()) {
      const orderEntry = orderEntries[i];
      const order = orderEntry.value;
      if (!budget.take(order ? { checks: 2, mutations: 3 } : { checks: 1, mutations: 1 })) break;
      taken += 1;
      atomic.check(head).delete(head.key);
      if (!order) continue; // an index entry without its order: dropped in the same commit
      const lease = {
        leaseId: crypto.randomUUID(),
        executorId: caller.executorId,
        epoch: caller.epoch,
        expiresAt: now + leaseMs,
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
    }
    atomic.sum(countKey("ready"), minus(taken));
    if (leases.length > 0) atomic.sum(countKey("leased"), BigInt(leases.length));
    // Remember which leases this request took, so that its retry answers the same ones.
    if (marker && leases.length > 0) {
      const refs: LeaseRef[] = leases.map(({ orderId, leaseId }) => ({ orderId, leaseId }));
      atomic.set(dequeuedKey(caller), refs, { expireIn: leaseMs * 2 });
    }
    // A caller that has given up would never learn of the leases: do not take them.
    options.signal?.throwIfAborted();
    if (!(await atomic.commit()).ok) return RETRY;
    for (const lease of leases) {
      log.debug("leased", { orderId: lease.orderId, epoch: caller.epoch, attempt: lease.attempt });
    }
    // Only dropped index entries and nothing leased: look again.
    return leases.length === 0 && taken > 0 ? RETRY : leases;
  }

  // The leases an earlier attempt of the same request took and the caller still holds, and the request's marker as
  // read (none without a request id).
  async #repeatedDequeue(caller: Caller): Promise<{ held: Lease[]; marker?: Deno.KvEntryMaybe<LeaseRef[]> }> {
    if (!caller.requestId) return { held: [] };
    const { kv } = this.#ctx;
    const marker = await kv.get<LeaseRef[]>(dequeuedKey(caller));
    const taken = marker.value;
    if (!taken) return { held: [], marker };
    const orders = await getMany<QueuedOrder>(kv, taken.map(({ orderId }) => orderKey(orderId)));
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
    if (held.length > 0) this.#ctx.log.info("dequeue repeated", { requestId: caller.requestId, leases: held.length });
    return { held, marker };
  }
}
