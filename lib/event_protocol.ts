/**
 * The event protocol the three validation services share: each caches an
 * order (InitOrder), runs its events as the vector clock reaches them
 * (Advance), forwards the clock to the owner of the next event, reports the
 * outcome to the orchestrator, and at the end checks its clock against the
 * final one before dropping the order (ClearOrder). Orders that never finish
 * are dropped after a TTL, so a lost orchestrator cannot leak memory.
 *
 * What each event waits for, where its clock goes next and which event
 * reports approval all come from the event graph (`VALIDATION_GRAPH` of
 * `contracts/validators.ts`): a service supplies only each of its events'
 * checks and how to reach its peers.
 *
 * (This is the validators' side of the checkout's event protocol, not input
 * validation: that is the zod schemas in `contracts/`.)
 *
 * @example Fraud detection's two events: d once b arrives, e once c has arrived too
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
 * const sent: string[] = [];
 * using protocol = new EventProtocol<string>("fraud_detection", {
 *   config,
 *   log,
 *   orchestrator,
 *   events: { d: { check: () => ({ ok: true }) }, e: { check: () => ({ ok: true }) } },
 *   peers: { suggestions: async (request, instance) => void sent.push(`${request.event}@${instance}`) },
 * });
 * protocol.init("o1", { data: "the order" });
 * protocol.advance({ orderId: "o1", event: "b", clock: { "transaction_verification.user": 1 } });
 * protocol.advance({ orderId: "o1", event: "c", clock: { "transaction_verification.items": 2 } });
 * await new Promise((resolve) => setTimeout(resolve, 10));
 * assert.deepEqual(sent, ["e@1"]); // e's clock goes on to suggestions (its instance 1: no route), the owner of f
 * assert.equal(protocol.slot("o1").completed.get("e")?.["fraud_detection"], 2);
 * ```
 *
 * @module
 */
import type { Config } from "./config.ts";
import type { AdvanceRequest, BookRef, OrderClockResponse, OrderRoute } from "./contracts/common.ts";
import type { orderEventsService, ReportOutcomeRequest } from "./contracts/orchestrator.ts";
import { reasonsOf, type Rejection, rejection } from "./contracts/reasons.ts";
import { type EventGraph, VALIDATION_GRAPH, type ValidatorName } from "./contracts/validators.ts";
import type { Logger } from "./log.ts";
import type { Client } from "./rpc/client.ts";
import { isPeerFailure, RpcError } from "./rpc/errors.ts";
import type { Span } from "@opentelemetry/api";
import { withSpan } from "./telemetry.ts";
import { merge, tick, type VectorClock } from "./vector_clock.ts";
import { type OrderSlot, OrderSlots } from "./order_slots.ts";
import { routedInstance, UNROUTED } from "./order_route.ts";

/** The outcome of a single event. */
export interface EventResult {
  /** Whether the event's check passed. */
  ok: boolean;
  /** Why it failed, each with its code (people read the messages). */
  rejections?: Rejection[];
  /** A short note shown with the event (e.g. the risk score). */
  detail?: string;
  /** The books an approval names (read from the last event's result only). */
  suggestedBooks?: BookRef[];
}

/** A service's part in one of its events: the check; when it runs and where its clock goes is the graph's. */
export interface EventHandler<T> {
  /** The event's check, run once everything the event waits for has completed. */
  check(slot: OrderSlot<T>): EventResult | Promise<EventResult>;
  /** What the Advance carrying this event's clock adds (event c's card summary). */
  message?(slot: OrderSlot<T>): Pick<AdvanceRequest, "card">;
}

/**
 * Sends an Advance to a peer validation service: to its `instance` (1-based, from the order's route), the one
 * that holds the order.
 */
export type AdvanceSender = (request: AdvanceRequest, instance: number) => Promise<unknown>;

/** Options for {@linkcode EventProtocol}. */
export interface EventProtocolOptions<T = unknown> {
  /** Configuration (the order cache's TTL). */
  config: Config;
  /** The service's logger. */
  log: Logger;
  /**
   * Where outcomes are reported: the orchestrator, or each of its instances (instance k at index k − 1), of which
   * an order's outcome goes to the one its route names, the one that placed it.
   */
  orchestrator: Client<typeof orderEventsService> | readonly Client<typeof orderEventsService>[];
  /** The check of every event the graph gives this service, by event name. */
  events?: Readonly<Record<string, EventHandler<T>>>;
  /** How to reach each service the graph sends this service's clocks to. */
  peers?: Readonly<Partial<Record<ValidatorName, AdvanceSender>>>;
  /** The event graph; {@linkcode VALIDATION_GRAPH} unless a test gives another. */
  graph?: EventGraph;
}

/**
 * The validators' side of the checkout's event protocol: the orders a
 * validation service caches, the events it runs on them with their vector
 * clocks, and the forwarding, reporting and clearing around them.
 */
export class EventProtocol<T> implements Disposable {
  /** The service's name. */
  readonly service: ValidatorName;
  readonly #slots: OrderSlots<T>;
  readonly #options: EventProtocolOptions<T>;
  readonly #graph: EventGraph;
  #sweeper?: ReturnType<typeof setInterval>;

  /**
   * Creates the protocol state of `service`; {@linkcode EventProtocol.start}
   * starts its TTL sweeper. Refuses to be built without a check for each of
   * the service's events or a way to reach each peer its clocks go to.
   */
  constructor(service: ValidatorName, options: EventProtocolOptions<T>) {
    this.service = service;
    this.#options = options;
    this.#graph = options.graph ?? VALIDATION_GRAPH;
    this.#slots = new OrderSlots<T>(service, { ttlMs: options.config.orderCacheTtlMs, log: options.log });
    const events = options.events ?? {};
    const mine = this.#graph.eventsOf(service);
    const missing = mine.filter((name) => !events[name]);
    const unknown = Object.keys(events).filter((name) => !mine.includes(name));
    const unreachable = [...new Set(mine.flatMap((name) => this.#graph.forwardsTo(name)))]
      .filter((peer) => !options.peers?.[peer]);
    if (missing.length + unknown.length + unreachable.length > 0) {
      throw new Error(
        `${service}: ${
          [
            missing.length ? `no check for event ${missing.join(", ")}` : "",
            unknown.length ? `event ${unknown.join(", ")} is not its own` : "",
            unreachable.length ? `no way to reach ${unreachable.join(", ")}` : "",
          ].filter(Boolean).join("; ")
        }`,
      );
    }
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
   * Caches an order with a zero clock, and its route (which instance of each
   * peer its clocks go to; instance 1 of each without one). An order cached
   * before under the same id (an orchestrator that crashed or re-routed, and
   * retries) is cancelled and replaced.
   */
  init(orderId: string, order: { data: T; route?: OrderRoute }): void {
    this.#slots.init(orderId, order.data);
    this.#slots.get(orderId).route = order.route ?? UNROUTED;
  }

  /** The slot of an order; `not_found` when it was never initialised or already dropped. */
  slot(orderId: string): OrderSlot<T> {
    return this.#slots.get(orderId);
  }

  /**
   * Takes in an Advance: checks the event is one this service advances on
   * (a predecessor of one of its events that runs elsewhere, or the start),
   * merges its clock and remembers which event it reports. Returns the slot,
   * or `undefined` when the order was cancelled or the event was already seen
   * (a repeated delivery).
   */
  receive(request: AdvanceRequest): OrderSlot<T> | undefined {
    const from = this.#graph.advancesOn(this.service);
    if (!from.includes(request.event)) {
      const expected = from.map((name) => `"${name}"`).join(" or ");
      throw new RpcError("invalid_argument", `event: ${this.service} advances on ${expected}, not "${request.event}"`);
    }
    const slot = this.slot(request.orderId);
    if (slot.cancelled || slot.completed.has(request.event)) return undefined;
    slot.clock = merge(slot.clock, request.clock);
    slot.completed.set(request.event, request.clock);
    return slot;
  }

  /**
   * Handles an Advance: {@linkcode EventProtocol.receive}, then `received`
   * (what the service keeps of the message), then every event of this
   * service that is now due runs in the background, after the Advance has
   * been answered.
   */
  advance(request: AdvanceRequest, options: { received?: (slot: OrderSlot<T>) => void } = {}): void {
    const slot = this.receive(request);
    if (!slot) return;
    options.received?.(slot);
    for (const run of this.#due(slot)) {
      run.catch((error) => this.#options.log.error("event failed", { orderId: slot.orderId, error }));
    }
  }

  // Starts each event of this service whose predecessors have all passed, once. (Peers forward only
  // events that passed; one that failed here is in `completed` too, so its record decides.)
  #due(slot: OrderSlot<T>): Promise<void>[] {
    const passed = (name: string) =>
      slot.completed.has(name) && !slot.events.some((event) => event.name === name && !event.ok);
    const due = this.#graph.eventsOf(this.service).filter((name) =>
      !slot.started.has(name) && this.#graph.waitsFor(name).every(passed)
    );
    for (const name of due) slot.started.add(name);
    return due.map((name) => this.#step(slot, name));
  }

  // One event and what follows it: the rejection, the approval, or the clock sent on and the next events here.
  async #step(slot: OrderSlot<T>, name: string): Promise<void> {
    const handler = this.#options.events![name];
    const done = await this.run(slot, { name, check: () => handler.check(slot) });
    if (!done) return;
    if (!done.result.ok) {
      await this.#report(slot, { event: name, outcome: "rejected", rejections: done.result.rejections });
      return;
    }
    if (name === this.#graph.last) {
      await this.#report(slot, { event: name, outcome: "approved", suggestedBooks: done.result.suggestedBooks });
      return;
    }
    const request = { orderId: slot.orderId, clock: done.clock, event: name, ...handler.message?.(slot) };
    await Promise.all([
      ...this.#graph.forwardsTo(name).map((peer) => this.#forward(slot, { peer, request })),
      ...this.#due(slot),
    ]);
  }

  /**
   * Runs event `name` after the events the graph says it waits for (their
   * clocks are its causal basis): merges, ticks its process's slot, records
   * the event, and returns its clock. Returns `undefined` when the order was
   * cancelled or the event already ran.
   */
  async run(
    slot: OrderSlot<T>,
    event: { name: string; check: () => EventResult | Promise<EventResult> },
  ): Promise<{ clock: VectorClock; result: EventResult } | undefined> {
    if (slot.cancelled || slot.completed.has(event.name)) return undefined;
    return await withSpan(`event ${event.name}`, {
      attributes: { "bookstore.order_id": slot.orderId, "bookstore.event": event.name },
      fn: (span) => this.#record(slot, { ...event, span }),
    });
  }

  async #record(
    slot: OrderSlot<T>,
    event: { name: string; check: () => EventResult | Promise<EventResult>; span: Span },
  ): Promise<{ clock: VectorClock; result: EventResult } | undefined> {
    const process = this.#graph.spec(event.name).process;
    const result = await event.check();
    if (slot.cancelled) return undefined;
    let basis = slot.processClocks.get(process) ?? {};
    for (const previous of this.#graph.waitsFor(event.name)) basis = merge(basis, slot.completed.get(previous) ?? {});
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
      detail: result.detail ?? (result.ok ? "" : reasonsOf(result.rejections ?? []).join("; ")),
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
   * Sends the clock on to the owner of the next event; when that peer cannot
   * be reached the orchestrator hears about it at once instead of waiting for
   * its deadline.
   */
  async #forward(slot: OrderSlot<T>, options: { peer: ValidatorName; request: AdvanceRequest }): Promise<void> {
    if (slot.cancelled) return;
    try {
      await this.#options.peers![options.peer]!(options.request, routedInstance(slot.route, options.peer));
    } catch (error) {
      const rpc = RpcError.from(error, "unknown");
      this.#options.log.warn("forward failed", { orderId: slot.orderId, peer: options.peer, code: rpc.code });
      await this.#report(slot, {
        event: options.request.event,
        outcome: "error",
        rejections: [rejection("service.unavailable", `${options.peer} could not be reached: ${rpc.message}`)],
        errorCode: rpc.code,
        // Down or too slow: the orchestrator routes the order's retry around the instance.
        unreachable: isPeerFailure(rpc) ? options.peer : "",
      });
    }
  }

  // Tells the orchestrator how the order's validation ended.
  async #report(
    slot: OrderSlot<T>,
    outcome:
      & Pick<ReportOutcomeRequest, "event" | "outcome">
      & Partial<Pick<ReportOutcomeRequest, "rejections" | "suggestedBooks" | "errorCode" | "unreachable">>,
  ): Promise<void> {
    if (slot.cancelled) return;
    const { orchestrator } = this.#options;
    const placedBy = Array.isArray(orchestrator)
      ? orchestrator[routedInstance(slot.route, "orchestrator") - 1]
      : orchestrator;
    try {
      await (placedBy as Client<typeof orderEventsService>).ReportOutcome({
        orderId: slot.orderId,
        service: this.service,
        event: outcome.event,
        outcome: outcome.outcome,
        reasons: reasonsOf(outcome.rejections ?? []),
        rejections: outcome.rejections ?? [],
        clock: slot.clock,
        suggestedBooks: outcome.suggestedBooks ?? [],
        errorCode: outcome.errorCode ?? "",
        unreachable: outcome.unreachable ?? "",
      });
    } catch (error) {
      // The orchestrator's deadline will end the order; nothing else to do.
      this.#options.log.error("could not report outcome", { orderId: slot.orderId, error });
    }
  }

  /** Stops every further event of an order and answers its clock so far. */
  cancel(orderId: string): OrderClockResponse {
    return this.#slots.cancel(orderId);
  }

  /**
   * Checks the local clock against the final one (logging an error with both
   * when it is not ≤), then drops the order.
   */
  clear(orderId: string, finalClock: VectorClock): OrderClockResponse {
    return this.#slots.clear(orderId, finalClock);
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
  sweep(now?: number): void {
    this.#slots.sweep(now);
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
