/**
 * Acks: executing leased orders. One atomic commit checks the fence, each
 * lease and each book read, then takes every order's books from stock and
 * marks it executed, or marks it failed (out of stock) and leaves stock as it
 * was.
 *
 * @module
 */
import { type AckResult, type LeaseRef, MAX_LEASES_PER_CALL } from "@bookstore/lib/contracts";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { RpcError } from "@bookstore/lib/rpc";
import { CommitBudget } from "./budget.ts";
import type { QueueContext } from "./context.ts";
import type { Caller, FenceKeeper } from "./fence.ts";
import { counterKey, countKey, getMany, leasedKey, minus, orderKey, type QueuedOrder, stockKey } from "./keys.ts";

/** Executes the orders the current leader acks. */
export class Acks {
  readonly #ctx: QueueContext;
  readonly #fence: FenceKeeper;

  /** Executes orders in `ctx.kv` under `fence`. */
  constructor(ctx: QueueContext, fence: FenceKeeper) {
    this.#ctx = ctx;
    this.#fence = fence;
  }

  /**
   * Executes leased orders, in the order given (the order they were leased
   * in), in as few atomic commits as the store's limits allow (usually one;
   * each order's own writes and the fence's check always in one). An
   * order takes its books from the stock the orders before it left. Each
   * answers `executed`, `failed` (out of stock), `lost` (its lease is no
   * longer held, so this ack did nothing) or `unknown`; a repeated ack
   * answers the outcome its lease already had, whatever the epoch is now. A
   * caller that does not hold the current epoch is refused as a whole
   * (`failed_precondition`).
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
    const { kv, log } = this.#ctx;
    const orderEntries = await getMany<QueuedOrder>(kv, acks.map((ack) => orderKey(ack.orderId)));
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
    const admission = answered.includes(undefined) ? await this.#fence.admit(caller, "ack") : undefined;
    // The fence (and the lease) and the three counts, then each order as it fits: its record, its lease's index
    // entry and every book of it no order before it in this commit reads.
    const budget = new CommitBudget({
      checks: (admission?.cost.checks ?? 0) + 3,
      mutations: (admission?.cost.mutations ?? 0) + 3,
    });
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
      const lost = known ? undefined : this.#leaseProblem(order.value, acks[at].leaseId);
      if (known || lost) {
        results.push(known ?? { orderId: acks[at].orderId, state: "lost", reason: lost! });
        continue;
      }
      const wanted = new Map<string, number>();
      for (const item of order.value.items) wanted.set(item.bookId, (wanted.get(item.bookId) ?? 0) + item.quantity);
      const more = [...wanted.keys()].filter((bookId) => !books.has(bookId));
      if (!budget.take({ checks: 1 + more.length, mutations: 2 + more.length })) {
        // Enqueue admits at most MAX_DISTINCT_BOOKS books an order, so one order alone always fits.
        if (executing.length === 0) throw new RpcError("internal", `order ${order.value.orderId} is too large to ack`);
        break;
      }
      for (const bookId of more) books.add(bookId);
      const result: AckResult = { orderId: acks[at].orderId, state: "executed", reason: "" };
      results.push(result);
      executing.push({ result, entry: order, leaseId: acks[at].leaseId, wanted });
    }
    if (executing.length === 0) return results;
    const stockEntries = await getMany<number>(kv, [...books].map(stockKey));
    const stock = new Map(stockEntries.map((entry) => [entry.key[1] as string, entry.value ?? 0]));
    const atomic = admission!.guard(kv.atomic());
    // Every book read is checked: a concurrent commit that changed one sends this round again.
    for (const entry of stockEntries) atomic.check(entry);
    const now = this.#ctx.now();
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
      const finished: QueuedOrder = {
        ...rest,
        state: result.state as "executed" | "failed",
        reason: result.reason,
        executorId: caller.executorId,
        epoch: caller.epoch,
        finishedLeaseId: leaseId,
        updatedAt: now,
      };
      // A finished order is kept for the retention period, then deleted by the store (see `QueueContext`).
      const { retentionMs } = this.#ctx;
      atomic.check(entry)
        .set(orderKey(rest.orderId), finished, retentionMs === undefined ? undefined : { expireIn: retentionMs })
        .delete(leasedKey(rest.orderId));
    }
    for (const entry of stockEntries) {
      const bookId = entry.key[1] as string;
      if (stock.get(bookId) !== (entry.value ?? 0)) atomic.set(entry.key, stock.get(bookId)!);
    }
    atomic.sum(countKey("leased"), minus(executing.length));
    if (executed > 0) atomic.sum(counterKey("executed"), BigInt(executed));
    if (executing.length > executed) atomic.sum(counterKey("failed"), BigInt(executing.length - executed));
    if (!(await atomic.commit()).ok) return RETRY;
    for (const { result } of executing) {
      log.debug(result.state === "executed" ? "executed" : "execution failed", {
        orderId: result.orderId,
        executorId: caller.executorId,
        epoch: caller.epoch,
        reason: result.reason,
      });
    }
    return results;
  }

  // Why `leaseId` is no longer held on `order` (by the queue's clock), or undefined while it is: the ack is `lost`.
  #leaseProblem(order: QueuedOrder, leaseId: string): string | undefined {
    if (order.state !== "leased" || order.lease?.leaseId !== leaseId) {
      return `ack refused: lease ${leaseId} on ${order.orderId} is no longer held`;
    }
    if (order.lease.expiresAt <= this.#ctx.now()) {
      return `ack refused: lease ${leaseId} on ${order.orderId} expired`;
    }
    return undefined;
  }
}
