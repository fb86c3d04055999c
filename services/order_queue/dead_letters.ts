/**
 * Dead letters: orders whose leases expired `maxAttempts` times, listed a
 * page at a time and put back in the queue by an operator.
 *
 * @module
 */
import { type DeadLetter, MAX_DEAD_LETTER_PAGE } from "@bookstore/lib/contracts";
import type { QueueContext } from "./context.ts";
import {
  countKey,
  type DeadIndex,
  deadKey,
  MINUS_ONE,
  ONE,
  orderKey,
  type QueuedOrder,
  READIED_KEY,
  readyKey,
} from "./keys.ts";
import { readOrderState } from "./orders.ts";

/** A page of dead letters and where the next one starts (empty on the last). */
export interface DeadLetterPage {
  /** The letters, in order id order. */
  deadLetters: DeadLetter[];
  /** The next page's `pageToken`; empty on the last page. */
  nextPageToken: string;
}

/** The dead-letter list. */
export class DeadLetters {
  readonly #ctx: QueueContext;

  /** The list in `ctx.kv`. */
  constructor(ctx: QueueContext) {
    this.#ctx = ctx;
  }

  /**
   * One page of the dead-letter list, in order id order: at most `pageSize`
   * letters (default 100) from `pageToken` on (the previous page's
   * `nextPageToken`), and the token of the next page, empty on the last.
   */
  async page(page: { pageSize?: number; pageToken?: string } = {}): Promise<DeadLetterPage> {
    const { kv } = this.#ctx;
    const limit = Math.min(Math.max(1, page.pageSize || 100), MAX_DEAD_LETTER_PAGE);
    const entries = kv.list<DeadIndex>({ prefix: ["dead"] }, { limit, cursor: page.pageToken || undefined });
    const deadLetters: DeadLetter[] = [];
    for await (const entry of entries) {
      const order = await readOrderState(kv, entry.key[1] as string);
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

  /** Moves a dead letter back into the queue with a fresh attempt count; `false` when it is not one. */
  async requeue(orderId: string): Promise<boolean> {
    const { kv, log } = this.#ctx;
    const dead = await kv.get(deadKey(orderId));
    const orderEntry = await kv.get<QueuedOrder>(orderKey(orderId));
    if (!dead.value || orderEntry.value?.state !== "dead") return false;
    const order = {
      ...orderEntry.value,
      state: "queued" as const,
      attempts: 0,
      reason: "",
      updatedAt: this.#ctx.now(),
    };
    const result = await kv.atomic()
      .check(dead)
      .check(orderEntry)
      .delete(deadKey(orderId))
      .set(orderKey(orderId), order)
      .set(readyKey(order, this.#ctx), orderId)
      .set(READIED_KEY, orderId)
      .sum(countKey("dead"), MINUS_ONE)
      .sum(countKey("ready"), ONE)
      .commit();
    if (result.ok) {
      log.info("dead letter requeued", { orderId });
      this.#ctx.ready.wake();
    }
    return result.ok;
  }
}
