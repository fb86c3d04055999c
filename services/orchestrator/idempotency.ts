/**
 * Idempotency keys: the rule that a client's key places one order, never a
 * second. The first call with a key claims it in the store for a new order id;
 * a retry, concurrent or later, gets the same id and joins the placement
 * still running for it (in this process) instead of starting another; the
 * same key with a different order is refused. What to do with the id — place
 * the order, or finish what an earlier attempt left — is the caller's.
 *
 * @module
 */
import { z } from "zod";
import type { Order, PlaceOrderResponse } from "@bookstore/lib/contracts";
import { orderDigest } from "@bookstore/lib/digest";
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { RpcError } from "@bookstore/lib/rpc";
import type { Kv } from "@bookstore/lib/store";

/** An idempotency key's claim on an order. */
export const idempotencyClaimSchema = z.object({
  /** The order the key created. */
  orderId: z.string(),
  /** A digest of the request (without card data), to refuse a reused key with another order. */
  requestDigest: z.string(),
});

/** An idempotency key's claim on an order. */
export type IdempotencyClaim = z.infer<typeof idempotencyClaimSchema>;

/**
 * How long an idempotency key is kept: half the orders' retention. A key must
 * never outlive the records of the order it stands for, or a retry under it
 * would place that order again (validated and queued anew under its old id,
 * which the queue no longer knows); half leaves room for a store that
 * deletes expired keys late (etcd expires leases in buckets).
 */
export function idempotencyTtlMs(retentionMs: number): number {
  return Math.floor(retentionMs / 2);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** The `Idempotency-Key` header of a request, checked; `undefined` when there is none. */
export function idempotencyKeyFrom(headers: Headers): string | undefined {
  const key = headers.get("idempotency-key") ?? undefined;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new RpcError("invalid_argument", "Idempotency-Key: must be 1-255 printable ASCII characters");
  }
  return key;
}

/** The order id a key stands for, and whether this call is the one that claimed it. */
export interface KeyClaim {
  /** The order's id. */
  orderId: string;
  /** True for the call that claimed the key; false when an earlier attempt (perhaps one that died) had. */
  first: boolean;
}

/** Options for {@linkcode IdempotencyKeys.once}. */
export interface OnceOptions {
  /** The order the key is sent with: the same key with another order is refused. */
  order: Order;
  /** The caller's signal: it aborts when the client goes away. */
  signal?: AbortSignal;
  /**
   * Places or finishes the order the key stands for. Its `signal` aborts
   * only once every caller waiting for it (the first and any retry that
   * joined) has gone away.
   */
  run: (claim: KeyClaim, signal: AbortSignal) => Promise<PlaceOrderResponse>;
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

/** Idempotency keys and the placements running under them. */
export class IdempotencyKeys {
  readonly #kv: Kv;
  readonly #ttlMs: number;
  readonly #running = new Map<
    string,
    { requestDigest: string; promise: Promise<PlaceOrderResponse>; callers: Callers }
  >();

  /** Keeps the claims in `kv`, each for {@linkcode idempotencyTtlMs} of the orders' `retentionMs`. */
  constructor(kv: Kv, options: { retentionMs: number }) {
    this.#kv = kv;
    this.#ttlMs = idempotencyTtlMs(options.retentionMs);
  }

  /**
   * Claims `key` for a new order; when the key was claimed before, answers
   * the earlier claim (with `claimed: false`) instead.
   */
  async claim(key: string, claim: IdempotencyClaim): Promise<{ claimed: boolean; claim: IdempotencyClaim }> {
    return await commitWithRetry(async () => {
      const result = await this.#kv.atomic()
        .check({ key: ["idempotency", key], versionstamp: null })
        .set(["idempotency", key], claim, { expireIn: this.#ttlMs })
        .commit();
      if (result.ok) return { claimed: true, claim };
      // Taken: answer the earlier claim (unless it expired in between: then claim again).
      const { value } = await this.#kv.get(["idempotency", key]);
      return value === null ? RETRY : { claimed: false, claim: idempotencyClaimSchema.parse(value) };
    }, { what: "idempotency claim" });
  }

  /**
   * Runs `options.run` once per key: a repeated call, concurrent or later,
   * answers what the first call's run answered and runs nothing new while
   * it is still running here; the same key with another order is refused.
   */
  async once(key: string, options: OnceOptions): Promise<PlaceOrderResponse> {
    const requestDigest = await orderDigest(options.order);
    const running = this.#running.get(key);
    if (running) {
      if (running.requestDigest !== requestDigest) throw reusedKey();
      if (!running.callers.signal.aborted) {
        // A retry joins the running placement: it goes on while any of its callers is still there.
        running.callers.join(options.signal);
        return await running.promise;
      }
      // Every earlier caller went away and the placement was told to stop: once it has settled, this caller
      // finishes the order under the same claim.
      await running.promise.catch(() => {});
      return await this.once(key, options);
    }
    const callers = new Callers();
    callers.join(options.signal);
    const promise = this.#claimAndRun(key, { ...options, requestDigest }, callers.signal)
      .finally(() => this.#running.delete(key));
    this.#running.set(key, { requestDigest, promise, callers });
    return await promise;
  }

  async #claimAndRun(
    key: string,
    options: OnceOptions & { requestDigest: string },
    signal: AbortSignal,
  ): Promise<PlaceOrderResponse> {
    const { requestDigest } = options;
    const { claimed, claim } = await this.claim(key, { orderId: crypto.randomUUID(), requestDigest });
    if (!claimed && claim.requestDigest !== requestDigest) throw reusedKey();
    return await options.run({ orderId: claim.orderId, first: claimed }, signal);
  }
}

function reusedKey(): RpcError {
  return new RpcError("invalid_argument", "Idempotency-Key: this key was already used for a different order");
}
