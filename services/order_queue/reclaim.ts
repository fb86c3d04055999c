/**
 * The end of a lease nobody acked: a lease that expired (a failed delivery,
 * dead-lettered past the attempt limit) or that a deposed epoch holds (its
 * holder can no longer ack it, so nobody should wait for it to expire) puts
 * its order back in the queue.
 *
 * @module
 */
import type { QueueContext } from "./context.ts";
import type { FenceKeeper } from "./fence.ts";
import {
  countKey,
  deadKey,
  type LeasedIndex,
  leasedKey,
  MINUS_ONE,
  ONE,
  orderKey,
  type QueuedOrder,
  READIED_KEY,
  readyKey,
} from "./keys.ts";

/** Requeues (or dead-letters) the orders of leases that ended without an ack. */
export class Reclaimer {
  readonly #ctx: QueueContext;
  readonly #fence: FenceKeeper;

  /** Reclaims leases in `ctx.kv`, judging deposed epochs by `fence`. */
  constructor(ctx: QueueContext, fence: FenceKeeper) {
    this.#ctx = ctx;
    this.#fence = fence;
  }

  /**
   * Requeues leases that expired by the queue's clock, and leases held by a
   * deposed epoch; answers how many it requeued or dead-lettered.
   */
  async reclaim(): Promise<number> {
    const { kv } = this.#ctx;
    const now = this.#ctx.now();
    const fence = (await this.#fence.read()).value;
    let reclaimed = 0;
    for await (const entry of kv.list<LeasedIndex>({ prefix: ["leased"] })) {
      if (entry.value.expiresAt > now && (fence === null || entry.value.epoch >= fence.epoch)) continue;
      const orderEntry = await kv.get<QueuedOrder>(orderKey(entry.key[1] as string));
      const lease = orderEntry.value?.state === "leased" ? orderEntry.value.lease : undefined;
      if (!lease) {
        await kv.atomic().check(entry).delete(entry.key).sum(countKey("leased"), MINUS_ONE).commit();
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

  // Puts a leased order back in the queue (or the dead letters); undefined when the commit lost a race.
  async #release(
    orderEntry: Deno.KvEntry<QueuedOrder>,
    options: { reason: string; failedAttempt: boolean; leasedEntry: Deno.KvEntry<unknown> },
  ): Promise<"queued" | "dead" | undefined> {
    const { kv, log } = this.#ctx;
    const { lease: _lease, ...leaseless } = orderEntry.value;
    // A delivery cut short by a change of leader is not the order's fault.
    const rest = options.failedAttempt ? leaseless : { ...leaseless, attempts: leaseless.attempts - 1 };
    const order = { ...orderEntry.value, attempts: rest.attempts };
    const dead = options.failedAttempt && order.attempts >= this.#ctx.maxAttempts;
    const now = this.#ctx.now();
    const atomic = kv.atomic().check(orderEntry).check(options.leasedEntry);
    atomic.delete(leasedKey(order.orderId)).sum(countKey("leased"), MINUS_ONE);
    if (dead) {
      atomic.set(orderKey(order.orderId), { ...rest, state: "dead", reason: options.reason, updatedAt: now });
      atomic.set(deadKey(order.orderId), { deadAt: now, reason: options.reason });
      atomic.sum(countKey("dead"), ONE);
    } else {
      atomic.set(orderKey(order.orderId), { ...rest, state: "queued", reason: options.reason, updatedAt: now });
      atomic.set(readyKey(order, this.#ctx), order.orderId).set(READIED_KEY, order.orderId);
      atomic.sum(countKey("ready"), ONE);
    }
    const result = await atomic.commit();
    if (!result.ok) return undefined;
    if (!dead) this.#ctx.ready.wake();
    log[dead ? "warn" : "info"](dead ? "dead-lettered" : "requeued", {
      orderId: order.orderId,
      attempts: order.attempts,
      reason: options.reason,
    });
    return dead ? "dead" : "queued";
  }
}
