/**
 * The orchestrator's own records in Deno KV: each order's validation result,
 * items, events and suggestions, and the idempotency claims that map a
 * client's retry back to the order it already created, with the rule that a
 * key places one order, never a second. No card data is ever part of a
 * record.
 *
 * @module
 */
import { z } from "zod";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import {
  bookRefSchema,
  type Order,
  orderLineSchema,
  type PlaceOrderResponse,
  placeOrderResponseSchema,
  resolvedNameSchema,
  validationEventSchema,
} from "@bookstore/lib/contracts";
import { orderDigest } from "@bookstore/lib/digest";
import { RpcError } from "@bookstore/lib/rpc";

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

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header of a request, checked; `undefined` when there is none. */
export function idempotencyKeyFrom(headers: Headers): string | undefined {
  const key = headers.get("idempotency-key") ?? undefined;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new RpcError("invalid_argument", "Idempotency-Key: must be 1-255 printable ASCII characters");
  }
  return key;
}

/** How {@linkcode OrderRecords.placeOnce} places an order and finishes one an earlier attempt left. */
export interface Placement {
  /** The client's idempotency key, if it sent one. */
  key?: string;
  /** The caller's signal: it aborts when the client goes away. */
  signal?: AbortSignal;
  /**
   * Validates and records the order under `orderId`. `signal` aborts only
   * once every caller waiting for this placement (the first and any retry
   * that joined it) has gone away.
   */
  place: (orderId: string, signal: AbortSignal) => Promise<PlaceOrderResponse>;
  /** Finishes what an earlier attempt under the same key left undone (queues an approved order, say). */
  resume: (record: OrderRecord, signal: AbortSignal) => Promise<void>;
}

// The callers waiting for one placement: its signal aborts once none of them is left.
class Callers {
  readonly #controller = new AbortController();
  #live = 0;

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  join(signal: AbortSignal | undefined): void {
    if (signal === undefined) {
      this.#live += 1; // a caller that cannot go away
      return;
    }
    if (signal.aborted) return this.#check();
    this.#live += 1;
    signal.addEventListener("abort", () => {
      this.#live -= 1;
      this.#check();
    }, { once: true });
  }

  #check() {
    if (this.#live === 0) this.#controller.abort(new DOMException("every caller went away", "AbortError"));
  }
}

/** Order records and idempotency claims. */
export class OrderRecords {
  readonly #kv: Deno.Kv;
  readonly #inflight = new Map<
    string,
    { requestDigest: string; promise: Promise<PlaceOrderResponse>; callers: Callers }
  >();

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

  /**
   * Places `order` once per idempotency key: a repeated call, concurrent or
   * later, answers the first call's result and creates nothing new; the
   * same key with another order is refused. Without a key every call places
   * a new order.
   */
  async placeOnce(order: Order, placement: Placement): Promise<PlaceOrderResponse> {
    const { key } = placement;
    if (key === undefined) {
      return await placement.place(crypto.randomUUID(), placement.signal ?? new AbortController().signal);
    }
    const requestDigest = await orderDigest(order);
    const running = this.#inflight.get(key);
    if (running) {
      if (running.requestDigest !== requestDigest) throw reusedKey();
      if (!running.callers.signal.aborted) {
        // A retry joins the running placement: it goes on while any of its callers is still there.
        running.callers.join(placement.signal);
        return await running.promise;
      }
      // Every earlier caller went away and the placement was told to stop: once it has settled, this caller
      // finishes the order under the same claim (resuming its record, or validating again under its id).
      await running.promise.catch(() => {});
      return await this.placeOnce(order, placement);
    }
    const callers = new Callers();
    callers.join(placement.signal);
    const promise = this.#claimAndPlace({ ...placement, key, requestDigest }, callers.signal)
      .finally(() => this.#inflight.delete(key));
    this.#inflight.set(key, { requestDigest, promise, callers });
    return await promise;
  }

  async #claimAndPlace(
    placement: Placement & { key: string; requestDigest: string },
    signal: AbortSignal,
  ): Promise<PlaceOrderResponse> {
    const { requestDigest } = placement;
    const claim = await this.claim(placement.key, { orderId: crypto.randomUUID(), requestDigest });
    const { orderId } = claim.claim;
    if (claim.claimed) return await placement.place(orderId, signal);
    if (claim.claim.requestDigest !== requestDigest) throw reusedKey();
    const record = await this.get(orderId);
    // The first attempt died before it finished: validate again, under the same id.
    if (!record) return await placement.place(orderId, signal);
    await placement.resume(record, signal);
    return record.response;
  }
}

function reusedKey(): RpcError {
  return new RpcError("invalid_argument", "Idempotency-Key: this key was already used for a different order");
}
