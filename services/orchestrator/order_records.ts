/**
 * The orchestrator's own records in Deno KV: each order's validation result,
 * items, events and suggestions, and the answer its client got. No card data
 * is ever part of a record.
 *
 * @module
 */
import { z } from "zod";
import {
  bookRefSchema,
  orderLineSchema,
  placeOrderResponseSchema,
  rejectionSchema,
  resolvedNameSchema,
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
  /** The same reasons with their codes (none in records from before they were kept). */
  rejections: z.array(rejectionSchema).default([]),
  items: z.array(orderLineSchema),
  /** The book names the client's items gave and the books they meant (none in records from before they were kept). */
  resolvedNames: z.array(resolvedNameSchema).default([]),
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

/** Order records. */
export class OrderRecords {
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
}
