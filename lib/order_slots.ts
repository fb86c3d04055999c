/**
 * The orders a validation service holds while their validation runs: one
 * slot per order with its clock and events, cancelled when the orchestrator
 * stops the order, checked against the final clock and dropped when it
 * clears it, and dropped after a TTL when it never finishes, so a lost
 * orchestrator cannot leak memory. A retried ClearOrder gets the same answer.
 *
 * @module
 */
import type { OrderClockResponse, OrderRoute, ValidationEvent } from "./contracts/common.ts";
import { CLOCK_PROCESSES, type ValidatorName } from "./contracts/validators.ts";
import type { Logger } from "./log.ts";
import { UNROUTED } from "./order_route.ts";
import { RpcError } from "./rpc/errors.ts";
import { lessOrEqual, type VectorClock, zeroClock } from "./vector_clock.ts";

/**
 * How many cleared orders' answers are kept for a retried ClearOrder (each
 * also for at most `ORDER_CACHE_TTL_MS`); the oldest go first.
 */
export const MAX_CLEARED_ANSWERS = 4096;

/** One cached order in a validation service. */
export interface OrderSlot<T> {
  /** The order's id. */
  readonly orderId: string;
  /** What the service keeps of the order (never card data outside transaction verification). */
  readonly data: T;
  /** Which instance of each validator holds the order: where its clocks are forwarded (InitOrder's route). */
  route: OrderRoute;
  /** Everything this service has seen and done for the order. */
  clock: VectorClock;
  /** The latest clock of each of this service's processes. */
  readonly processClocks: Map<string, VectorClock>;
  /** The events recorded here. */
  readonly events: ValidationEvent[];
  /** Events completed here or reported by peers, by name. */
  readonly completed: Map<string, VectorClock>;
  /** This service's events already begun, so that each runs once whichever of its predecessors completes last. */
  readonly started: Set<string>;
  /** Set by CancelOrder: nothing more runs, forwards or reports. */
  cancelled: boolean;
  /** When the slot is dropped if the order never finishes. */
  readonly expiresAt: number;
}

/** Options for {@linkcode OrderSlots}. */
export interface OrderSlotsOptions {
  /** How long an order that never finishes is kept (`ORDER_CACHE_TTL_MS`), and a cleared one's answer. */
  ttlMs: number;
  /** The service's logger. */
  log: Logger;
}

/**
 * A validation service's cached orders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * import { OrderSlots } from "./order_slots.ts";
 *
 * const slots = new OrderSlots<string>("suggestions", { ttlMs: 1000, log: createLogger("doc", { write: () => {} }) });
 * slots.init("o1", "the order");
 * const answer = slots.clear("o1", { suggestions: 1 });
 * assert.equal(answer.consistent, true);
 * assert.deepEqual(slots.clear("o1", { suggestions: 1 }), answer, "a retried ClearOrder gets the same answer");
 * ```
 */
export class OrderSlots<T> {
  readonly #service: ValidatorName;
  readonly #options: OrderSlotsOptions;
  readonly #slots = new Map<string, OrderSlot<T>>();
  // Answers to ClearOrder, kept a while so that a retried ClearOrder gets the same answer.
  readonly #cleared = new Map<string, { response: OrderClockResponse; expiresAt: number }>();

  /** The slots of `service`'s orders. */
  constructor(service: ValidatorName, options: OrderSlotsOptions) {
    this.#service = service;
    this.#options = options;
  }

  /** How many orders are cached. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Caches an order with a zero clock. An order cached before under the same
   * id (an orchestrator that crashed and retries) is cancelled and replaced.
   */
  init(orderId: string, data: T): void {
    if (orderId === "") throw new RpcError("invalid_argument", "orderId: is required");
    const stale = this.#slots.get(orderId);
    if (stale) stale.cancelled = true;
    this.#cleared.delete(orderId);
    this.#slots.set(orderId, {
      orderId,
      data,
      route: UNROUTED,
      clock: zeroClock(CLOCK_PROCESSES),
      processClocks: new Map(),
      events: [],
      completed: new Map(),
      started: new Set(),
      cancelled: false,
      expiresAt: Date.now() + this.#options.ttlMs,
    });
  }

  /** The slot of an order; `not_found` when it was never initialised or already dropped. */
  get(orderId: string): OrderSlot<T> {
    const slot = this.#slots.get(orderId);
    if (!slot) {
      throw new RpcError("not_found", `${this.#service} has no order ${orderId} (not initialised or already finished)`);
    }
    return slot;
  }

  /** Stops every further event of an order and answers its clock so far. */
  cancel(orderId: string): OrderClockResponse {
    const slot = this.get(orderId);
    slot.cancelled = true;
    return { clock: slot.clock, events: slot.events, consistent: true };
  }

  /**
   * Checks the local clock against the final one (logging an error with both
   * when it is not ≤), then drops the order.
   */
  clear(orderId: string, finalClock: VectorClock): OrderClockResponse {
    const repeated = this.#cleared.get(orderId);
    if (repeated && !this.#slots.has(orderId)) return repeated.response;
    const slot = this.get(orderId);
    slot.cancelled = true;
    const consistent = lessOrEqual(slot.clock, finalClock);
    if (!consistent) {
      this.#options.log.error("local clock is not <= the final clock", {
        orderId,
        localClock: slot.clock,
        finalClock,
      });
    }
    this.#slots.delete(orderId);
    const response = { clock: slot.clock, events: slot.events, consistent };
    this.#cleared.set(orderId, { response, expiresAt: Date.now() + this.#options.ttlMs });
    // Bounded by count as well as by time, so memory stays flat whatever the checkout rate.
    if (this.#cleared.size > MAX_CLEARED_ANSWERS) this.#cleared.delete(this.#cleared.keys().next().value!);
    return response;
  }

  /** Drops orders whose TTL passed. */
  sweep(now: number = Date.now()): void {
    for (const [orderId, { expiresAt }] of this.#cleared) {
      if (expiresAt <= now) this.#cleared.delete(orderId);
    }
    for (const [orderId, slot] of this.#slots) {
      if (slot.expiresAt <= now) {
        this.#slots.delete(orderId);
        this.#options.log.warn("dropped an order that never finished", { orderId });
      }
    }
  }
}
