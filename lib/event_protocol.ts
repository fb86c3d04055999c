/**
 * The event protocol the three validation services share: each caches an
 * order (InitOrder), runs its events as the vector clock reaches them
 * (Advance), forwards the clock to the owner of the next event, reports the
 * outcome to the orchestrator, and at the end checks its clock against the
 * final one before dropping the order (ClearOrder). Orders that never finish
 * are dropped after a TTL, so a lost orchestrator cannot leak memory.
 *
 * (This is the validators' side of the checkout's event protocol, not input
 * validation: that is the zod schemas in `contracts/`.)
 *
 * @example Two events of fraud detection, d after b and e after c and d
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { orderEventsService } from "./contracts/mod.ts";
 * import { EventProtocol } from "./event_protocol.ts";
 * import { createLogger } from "./log.ts";
 * import { createClient } from "./rpc/mod.ts";
 *
 * const config = loadConfig();
 * const log = createLogger("doc", { write: () => {} });
 * const orchestrator = createClient(orderEventsService, { baseUrl: config.urls.orchestrator, peer: "orchestrator", timeoutMs: 100 });
 * using protocol = new EventProtocol<string>("fraud_detection", { config, log, orchestrator });
 * protocol.init("o1", "the order");
 * const slot = protocol.receive({ orderId: "o1", event: "b", clock: { "transaction_verification.user": 1 } }, { from: ["b", "c"] })!;
 * const d = await protocol.run(slot, { name: "d", after: ["b"], check: () => ({ ok: true }) });
 * assert.ok(d?.clock["fraud_detection"] === 1);
 * ```
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { AdvanceRequest, OrderClockResponse, ValidationEvent } from "./contracts/common.ts";
import type { orderEventsService, ReportOutcomeRequest } from "./contracts/orchestrator.ts";
import { CLOCK_PROCESSES, type EventName, VALIDATION_EVENTS, type ValidatorName } from "./contracts/validators.ts";
import type { Logger } from "./log.ts";
import type { Client } from "./rpc/client.ts";
import { RpcError } from "./rpc/errors.ts";
import type { Span } from "@opentelemetry/api";
import { withSpan } from "./telemetry.ts";
import { lessOrEqual, merge, tick, type VectorClock, zeroClock } from "./vector_clock.ts";

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
  /** Everything this service has seen and done for the order. */
  clock: VectorClock;
  /** The latest clock of each of this service's processes. */
  readonly processClocks: Map<string, VectorClock>;
  /** The events recorded here. */
  readonly events: ValidationEvent[];
  /** Events completed here or reported by peers, by name. */
  readonly completed: Map<string, VectorClock>;
  /** Set by CancelOrder: nothing more runs, forwards or reports. */
  cancelled: boolean;
  /** When the slot is dropped if the order never finishes. */
  readonly expiresAt: number;
}

/** The outcome of a single event. */
export interface EventResult {
  /** Whether the event's check passed. */
  ok: boolean;
  /** Why it failed (people read these). */
  reasons?: string[];
  /** A short note shown with the event (e.g. the risk score). */
  detail?: string;
}

/** Options for {@linkcode EventProtocol}. */
export interface EventProtocolOptions {
  /** Configuration (the order cache's TTL). */
  config: Config;
  /** The service's logger. */
  log: Logger;
  /** Where outcomes are reported. */
  orchestrator: Client<typeof orderEventsService>;
}

/**
 * The validators' side of the checkout's event protocol: the orders a
 * validation service caches, the events it runs on them with their vector
 * clocks, and the forwarding, reporting and clearing around them.
 */
export class EventProtocol<T> implements Disposable {
  /** The service's name. */
  readonly service: ValidatorName;
  readonly #slots = new Map<string, OrderSlot<T>>();
  // Answers to ClearOrder, kept a while so that a retried ClearOrder gets the same answer.
  readonly #cleared = new Map<string, { response: OrderClockResponse; expiresAt: number }>();
  readonly #options: EventProtocolOptions;
  #sweeper?: ReturnType<typeof setInterval>;

  /** Creates the protocol state of `service`; {@linkcode EventProtocol.start} starts its TTL sweeper. */
  constructor(service: ValidatorName, options: EventProtocolOptions) {
    this.service = service;
    this.#options = options;
  }

  /** Starts the sweeper that drops orders whose TTL passed. */
  start(): void {
    this.#sweeper ??= setInterval(() => this.sweep(), Math.max(250, this.#options.config.orderCacheTtlMs / 4));
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
      clock: zeroClock(CLOCK_PROCESSES),
      processClocks: new Map(),
      events: [],
      completed: new Map(),
      cancelled: false,
      expiresAt: Date.now() + this.#options.config.orderCacheTtlMs,
    });
  }

  /** The slot of an order; `not_found` when it was never initialised or already dropped. */
  slot(orderId: string): OrderSlot<T> {
    const slot = this.#slots.get(orderId);
    if (!slot) {
      throw new RpcError("not_found", `${this.service} has no order ${orderId} (not initialised or already finished)`);
    }
    return slot;
  }

  /**
   * Takes in a peer's Advance: checks the event is one this service advances
   * on, merges its clock and remembers which event it reports. Returns the
   * slot, or `undefined` when the order was cancelled or the event was
   * already seen (a repeated delivery).
   */
  receive(request: AdvanceRequest, options: { from: readonly string[] }): OrderSlot<T> | undefined {
    if (!options.from.includes(request.event)) {
      const expected = options.from.map((name) => `"${name}"`).join(" or ");
      throw new RpcError("invalid_argument", `event: ${this.service} advances on ${expected}, not "${request.event}"`);
    }
    const slot = this.slot(request.orderId);
    if (slot.cancelled || slot.completed.has(request.event)) return undefined;
    slot.clock = merge(slot.clock, request.clock);
    slot.completed.set(request.event, request.clock);
    return slot;
  }

  /**
   * Runs event `name` after the events in `after` (their clocks are its
   * causal basis): merges, ticks this process's slot, records the event, and
   * returns its clock. Returns `undefined` when the order was cancelled.
   */
  async run(
    slot: OrderSlot<T>,
    event: { name: EventName; after: string[]; check: () => EventResult | Promise<EventResult> },
  ): Promise<{ clock: VectorClock; result: EventResult } | undefined> {
    if (slot.cancelled || slot.completed.has(event.name)) return undefined;
    return await withSpan(`event ${event.name}`, {
      attributes: { "bookstore.order_id": slot.orderId, "bookstore.event": event.name },
      fn: (span) => this.#record(slot, { ...event, span }),
    });
  }

  async #record(
    slot: OrderSlot<T>,
    event: { name: EventName; after: string[]; check: () => EventResult | Promise<EventResult>; span: Span },
  ): Promise<{ clock: VectorClock; result: EventResult } | undefined> {
    const process = VALIDATION_EVENTS[event.name].process;
    const result = await event.check();
    if (slot.cancelled) return undefined;
    let basis = slot.processClocks.get(process) ?? {};
    for (const previous of event.after) basis = merge(basis, slot.completed.get(previous) ?? {});
    const clock = tick(basis, process);
    slot.processClocks.set(process, clock);
    slot.clock = merge(slot.clock, clock);
    slot.completed.set(event.name, clock);
    slot.events.push({
      name: event.name,
      service: this.service,
      clock,
      time: new Date().toISOString(),
      ok: result.ok,
      detail: result.detail ?? (result.ok ? "" : (result.reasons ?? []).join("; ")),
    });
    event.span.setAttribute("bookstore.vector_clock", JSON.stringify(clock));
    event.span.setAttribute("bookstore.event_ok", result.ok);
    this.#options.log.info("event", {
      orderId: slot.orderId,
      event: event.name,
      ok: result.ok,
      clock,
    });
    return { clock, result };
  }

  /**
   * Runs an event whose failure rejects the order: {@linkcode EventProtocol.run},
   * and when the check fails, the rejection is reported with its reasons.
   * Returns the event's clock only when the check passed.
   */
  async pass(
    slot: OrderSlot<T>,
    event: { name: EventName; after: string[]; check: () => EventResult | Promise<EventResult> },
  ): Promise<VectorClock | undefined> {
    const done = await this.run(slot, event);
    if (!done) return undefined;
    if (!done.result.ok) {
      await this.report(slot, { event: event.name, outcome: "rejected", reasons: done.result.reasons });
      return undefined;
    }
    return done.clock;
  }

  /** Whether every named event has completed (here or at a peer). */
  hasCompleted(slot: OrderSlot<T>, names: string[]): boolean {
    return names.every((name) => slot.completed.has(name));
  }

  /**
   * Sends the clock on to the owner of the next event; when that peer cannot
   * be reached the orchestrator hears about it at once instead of waiting for
   * its deadline.
   */
  async forward(
    slot: OrderSlot<T>,
    options: { peer: string; event: EventName; send: () => Promise<unknown> },
  ): Promise<void> {
    if (slot.cancelled) return;
    try {
      await options.send();
    } catch (error) {
      const rpc = RpcError.from(error, "unknown");
      this.#options.log.warn("forward failed", { orderId: slot.orderId, peer: options.peer, code: rpc.code });
      await this.report(slot, {
        event: options.event,
        outcome: "error",
        reasons: [`${options.peer} could not be reached: ${rpc.message}`],
        errorCode: rpc.code,
      });
    }
  }

  /** Tells the orchestrator how the order's validation ended. */
  async report(
    slot: OrderSlot<T>,
    outcome:
      & Pick<ReportOutcomeRequest, "event" | "outcome">
      & Partial<Pick<ReportOutcomeRequest, "reasons" | "suggestedBooks" | "errorCode">>,
  ): Promise<void> {
    if (slot.cancelled) return;
    try {
      await this.#options.orchestrator.ReportOutcome({
        orderId: slot.orderId,
        service: this.service,
        event: outcome.event,
        outcome: outcome.outcome,
        reasons: outcome.reasons ?? [],
        clock: slot.clock,
        suggestedBooks: outcome.suggestedBooks ?? [],
        errorCode: outcome.errorCode ?? "",
      });
    } catch (error) {
      // The orchestrator's deadline will end the order; nothing else to do.
      this.#options.log.error("could not report outcome", { orderId: slot.orderId, error });
    }
  }

  /** Stops every further event of an order and answers its clock so far. */
  cancel(orderId: string): OrderClockResponse {
    const slot = this.slot(orderId);
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
    const slot = this.slot(orderId);
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
    this.#cleared.set(orderId, { response, expiresAt: Date.now() + this.#options.config.orderCacheTtlMs });
    // Bounded by count as well as by time, so memory stays flat whatever the checkout rate.
    if (this.#cleared.size > MAX_CLEARED_ANSWERS) this.#cleared.delete(this.#cleared.keys().next().value!);
    return response;
  }

  /** Runs an event chain in the background, after the Advance that started it has been answered. */
  background(slot: OrderSlot<T>, task: (slot: OrderSlot<T>) => Promise<unknown>): void {
    task(slot).catch((error) => this.#options.log.error("event failed", { orderId: slot.orderId, error }));
  }

  /** The handlers every validation service shares: CancelOrder and ClearOrder. */
  endHandlers(): {
    CancelOrder: (request: { orderId: string }) => OrderClockResponse;
    ClearOrder: (request: { orderId: string; finalClock: VectorClock }) => OrderClockResponse;
  } {
    return {
      CancelOrder: ({ orderId }) => this.cancel(orderId),
      ClearOrder: ({ orderId, finalClock }) => this.clear(orderId, finalClock),
    };
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

  /** Stops the TTL sweeper. */
  [Symbol.dispose](): void {
    clearInterval(this.#sweeper);
    this.#sweeper = undefined;
  }

  /** Stops the TTL sweeper (the same as disposing of it). */
  close(): void {
    this[Symbol.dispose]();
  }
}
