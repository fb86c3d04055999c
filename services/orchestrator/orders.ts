/**
 * The orchestrator's own records in Deno KV: each order's validation result,
 * items, events and suggestions, and the idempotency keys that map a
 * client's retry back to the order it already created. No card data is ever
 * part of a record.
 *
 * @module
 */
import type { BookRef, OrderLine, PlaceOrderResponse, ValidationEvent } from "@bookstore/lib/contracts";

/** An order as the orchestrator remembers it. */
export interface OrderRecord {
  /** The order's id. */
  orderId: string;
  /** Whether validation approved it. */
  approved: boolean;
  /** Whether the queue accepted it (approved orders only). */
  queued: boolean;
  /** Why it was rejected. */
  reasons: string[];
  /** What was ordered. */
  items: OrderLine[];
  /** The validation events with their vector clocks. */
  events: ValidationEvent[];
  /** The suggestions it was answered with. */
  suggestedBooks: BookRef[];
  /** When it was placed (RFC 3339). */
  createdAt: string;
  /** The answer the client got, replayed for a retried idempotency key. */
  response: PlaceOrderResponse;
}

/** An idempotency key's claim on an order. */
export interface IdempotencyClaim {
  /** The order the key created. */
  orderId: string;
  /** A digest of the request (without card data), to refuse a reused key with another order. */
  requestDigest: string;
}

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
    return (await this.#kv.get<OrderRecord>(["order", orderId])).value ?? undefined;
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
    for (;;) {
      const result = await this.#kv.atomic()
        .check({ key: ["idempotency", key], versionstamp: null })
        .set(["idempotency", key], claim, { expireIn: IDEMPOTENCY_TTL_MS })
        .commit();
      if (result.ok) return { claimed: true, claim };
      const existing = (await this.#kv.get<IdempotencyClaim>(["idempotency", key])).value;
      if (existing) return { claimed: false, claim: existing };
    }
  }
}
