/**
 * The orchestrator's own records in Deno KV: each order's validation result,
 * items, events and suggestions, and the idempotency keys that map a
 * client's retry back to the order it already created. No card data is ever
 * part of a record.
 *
 * @module
 */
import { z } from "zod";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import {
  bookRefSchema,
  orderLineSchema,
  placeOrderResponseSchema,
  validationEventSchema,
} from "@bookstore/lib/contracts";

/** An order as the orchestrator remembers it; checked on every read. */
export const orderRecordSchema = z.object({
  orderId: z.string(),
  /** Whether validation approved it. */
  approved: z.boolean(),
  /** Whether the queue accepted it (approved orders only). */
  queued: z.boolean(),
  /** Why it was rejected. */
  reasons: z.array(z.string()),
  items: z.array(orderLineSchema),
  /** The validation events with their vector clocks. */
  events: z.array(validationEventSchema),
  suggestedBooks: z.array(bookRefSchema),
  /** When it was placed (RFC 3339). */
  createdAt: z.string(),
  /** The answer the client got, replayed for a retried idempotency key. */
  response: placeOrderResponseSchema,
});

/** An order as the orchestrator remembers it. */
export type OrderRecord = z.infer<typeof orderRecordSchema>;

/** An idempotency key's claim on an order. */
export const idempotencyClaimSchema = z.object({
  /** The order the key created. */
  orderId: z.string(),
  /** A digest of the request (without card data), to refuse a reused key with another order. */
  requestDigest: z.string(),
});

/** An idempotency key's claim on an order. */
export type IdempotencyClaim = z.infer<typeof idempotencyClaimSchema>;

/** How long idempotency keys are kept. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

/** Order records and idempotency keys. */
export class OrderBook {
  readonly #kv: Deno.Kv;

  /** Uses `kv` for storage. */
  constructor(kv: Deno.Kv) {
    this.#kv = kv;
  }

  /** The record of an order. */
  async get(orderId: string): Promise<OrderRecord | undefined> {
    const { value } = await this.#kv.get(["order", orderId]);
    return value === null ? undefined : orderRecordSchema.parse(value);
  }

  /** Stores (or replaces) an order record. */
  async put(record: OrderRecord): Promise<void> {
    await this.#kv.set(["order", record.orderId], record);
  }

  /**
   * Claims `key` for a new order; when the key was claimed before, answers
   * the earlier claim (with `claimed: false`) instead.
   */
  async claim(key: string, claim: IdempotencyClaim): Promise<{ claimed: boolean; claim: IdempotencyClaim }> {
    return await commitWithRetry(async () => {
      const result = await this.#kv.atomic()
        .check({ key: ["idempotency", key], versionstamp: null })
        .set(["idempotency", key], claim, { expireIn: IDEMPOTENCY_TTL_MS })
        .commit();
      if (result.ok) return { claimed: true, claim };
      // Taken: answer the earlier claim (unless it expired in between: then claim again).
      const { value } = await this.#kv.get(["idempotency", key]);
      return value === null ? RETRY : { claimed: false, claim: idempotencyClaimSchema.parse(value) };
    }, { what: "idempotency claim" });
  }
}
