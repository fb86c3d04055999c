/**
 * The orchestrator's own records in its store: each order's validation result,
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
import type { Kv } from "@bookstore/lib/store";

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

/** Options for {@linkcode OrderRecords}. */
export interface OrderRecordsOptions {
  /** How long a record is kept after it was written (`Config.orderRetentionMs`); then the store deletes it. */
  retentionMs: number;
}

/** Order records, each kept for the retention period. */
export class OrderRecords {
  readonly #kv: Kv;
  readonly #retentionMs: number;

  /** Uses `kv` for storage. */
  constructor(kv: Kv, options: OrderRecordsOptions) {
    this.#kv = kv;
    this.#retentionMs = options.retentionMs;
  }

  /** The record of an order; `undefined` for an unknown order, or one placed longer ago than records are kept. */
  async get(orderId: string): Promise<OrderRecord | undefined> {
    const { value } = await this.#kv.get(["order", orderId]);
    return value === null ? undefined : orderRecordSchema.parse(value);
  }

  /**
   * Stores (or replaces) an order record, kept for the retention period. It is written once the order's fate at
   * checkout is known, after the queue took an approved order: the queue's record of it, kept for as long from
   * when it finished, outlives it.
   */
  async put(record: OrderRecord): Promise<void> {
    await this.#kv.set(["order", record.orderId], record, { expireIn: this.#retentionMs });
  }
}
