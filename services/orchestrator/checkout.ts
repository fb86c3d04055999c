/**
 * The checkout: give the order an id, cache it in the three validation
 * services, start the event graph's roots (a and b) at their owners, and wait while the services drive the
 * rest among themselves. The first outcome reported wins: on rejection or
 * error every service is stopped; in every case the final vector clock is
 * broadcast, each service checks its own clock against it and drops the
 * order. An approved order is queued before the client hears "approved".
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type { Config } from "@bookstore/lib/config";
import {
  CLOCK_PROCESSES,
  codedReasons,
  EVENT_NAMES,
  type fraudDetectionService,
  fraudOrderOf,
  type Order,
  type OrderClockResponse,
  type orderQueueService,
  type PlaceOrderResponse,
  reasonsOf,
  type ReportOutcomeRequest,
  START_EVENT,
  type suggestionsService,
  type transactionVerificationService,
  VALIDATION_EVENTS,
  VALIDATION_GRAPH,
  type ValidationEvent,
  type ValidatorName,
  VALIDATORS,
} from "@bookstore/lib/contracts";
import type { Logger } from "@bookstore/lib/log";
import { type Client, isPeerFailure, RpcError } from "@bookstore/lib/rpc";
import { type OrderRoute, routedInstance } from "@bookstore/lib/order_route";
import { meter, withSpan } from "@bookstore/lib/telemetry";
import { lessOrEqual, merge, type VectorClock, zeroClock } from "@bookstore/lib/vector_clock";
import { queueApproved } from "./enqueue.ts";
import { orderLines } from "./order_lines.ts";
import type { IdempotencyKeys } from "./idempotency.ts";
import type { OrderRecord, OrderRecords } from "./order_records.ts";
import type { ValidatorRouter } from "./routing.ts";

const ordersCounter = meter.createCounter("bookstore.checkout.orders", {
  description: "Checkouts by outcome (approved, rejected, error)",
});
const checkoutDuration = meter.createHistogram("bookstore.checkout.duration", {
  description: "Time from request to answer",
  unit: "ms",
});

/** The peers a checkout talks to: every instance of each validator, instance k at index k − 1. */
export interface CheckoutPeers {
  /** Transaction verification's instances. */
  transactionVerification: readonly Client<typeof transactionVerificationService>[];
  /** Fraud detection's instances. */
  fraudDetection: readonly Client<typeof fraudDetectionService>[];
  /** Suggestions' instances. */
  suggestions: readonly Client<typeof suggestionsService>[];
  /** The order queue. */
  orderQueue: Client<typeof orderQueueService>;
}

// The validators' clients at the instances an order is routed to.
interface RoutedValidators {
  transaction_verification: Client<typeof transactionVerificationService>;
  fraud_detection: Client<typeof fraudDetectionService>;
  suggestions: Client<typeof suggestionsService>;
}

/**
 * How many routes an order's InitOrder tries: an instance that cannot be reached is routed around before any
 * event runs, twice at most.
 */
export const MAX_ROUTES = 3;

/** Options for {@linkcode Checkout}. */
export interface CheckoutOptions {
  /** Configuration (deadlines). */
  config: Config;
  /** Logger. */
  log: Logger;
  /** The services called. */
  peers: CheckoutPeers;
  /** Order records. */
  orders: OrderRecords;
  /** Idempotency keys, and the placements running under them. */
  keys: IdempotencyKeys;
  /** The catalog, to name the ordered books. */
  catalog: Catalog;
  /** Chooses each order's validator instances. */
  router: ValidatorRouter;
}

type Outcome = ReportOutcomeRequest | { outcome: "timeout" };

/** Runs checkouts. */
export class Checkout {
  readonly #options: CheckoutOptions;
  readonly #waiting = new Map<string, (outcome: Outcome) => void>();

  /** Creates the checkout coordinator. */
  constructor(options: CheckoutOptions) {
    this.#options = options;
  }

  // What queueing an approved order needs.
  #deps() {
    const { peers, orders, log } = this.#options;
    return { queue: peers.orderQueue, orders, log };
  }

  /** Takes a validator's outcome report; only the first one per order counts. */
  report(outcome: ReportOutcomeRequest): void {
    this.#settle(outcome.orderId, outcome);
  }

  #settle(orderId: string, outcome: Outcome) {
    const resolve = this.#waiting.get(orderId);
    if (!resolve) return;
    this.#waiting.delete(orderId);
    resolve(outcome);
  }

  /**
   * Places an order. With an idempotency key, a repeated call answers the
   * first call's result and creates nothing new. `signal` is the caller's:
   * once it and every retry that joined the same placement have aborted, an
   * approved order is not queued (a later retry with the same key queues it).
   */
  async place(
    order: Order,
    options: { idempotencyKey?: string; signal?: AbortSignal } = {},
  ): Promise<PlaceOrderResponse> {
    const { idempotencyKey: key, signal } = options;
    if (key === undefined) {
      return await this.#place(order, { orderId: crypto.randomUUID(), signal: signal ?? new AbortController().signal });
    }
    return await this.#options.keys.once(key, {
      order,
      signal,
      run: async ({ orderId, first }, signal) => {
        const record = first ? undefined : await this.#options.orders.get(orderId);
        // An earlier attempt under this key died before it recorded the order: validate again, under the same id.
        if (!record) return await this.#place(order, { orderId, signal });
        // It recorded the order: finish what it may have left (queue an approved order), answer as it did.
        if (record.approved && !record.queued) await queueApproved(record, { ...this.#deps(), signal });
        return record.response;
      },
    });
  }

  async #place(order: Order, options: { orderId: string; signal: AbortSignal }): Promise<PlaceOrderResponse> {
    const { orderId, signal } = options;
    const started = performance.now();
    try {
      const response = await withSpan("checkout", {
        attributes: { "bookstore.order_id": orderId },
        fn: async (span) => {
          const result = await this.#validate(order, orderId);
          if (span.isRecording()) {
            span.setAttribute("bookstore.vector_clock", JSON.stringify(result.finalClock));
            span.setAttribute("bookstore.outcome", result.outcome.outcome);
          }
          return await this.#conclude(order, { orderId, signal, ...result });
        },
      });
      ordersCounter.add(1, { outcome: response.status === "Order Approved" ? "approved" : "rejected" });
      return response;
    } catch (error) {
      ordersCounter.add(1, { outcome: "error" });
      throw error;
    } finally {
      checkoutDuration.record(performance.now() - started);
    }
  }

  // The clients of the instances `route` names.
  #at(route: OrderRoute): RoutedValidators {
    const { peers } = this.#options;
    return {
      transaction_verification: peers.transactionVerification[routedInstance(route, "transaction_verification") - 1],
      fraud_detection: peers.fraudDetection[routedInstance(route, "fraud_detection") - 1],
      suggestions: peers.suggestions[routedInstance(route, "suggestions") - 1],
    };
  }

  // Routes around the routed instance of `validator` from now on, when `error` says it is down or too slow.
  #routeAround(route: OrderRoute, failure: { validator: string; error: unknown }): boolean {
    if (!isPeerFailure(failure.error) || !(VALIDATORS as readonly string[]).includes(failure.validator)) return false;
    const validator = failure.validator as ValidatorName;
    this.#options.router.markDown({ validator, instance: routedInstance(route, validator) });
    return true;
  }

  /**
   * Caches the order in the instance of each validator its route names. An
   * instance that cannot be reached (or is too slow) is marked down and the
   * order routed again before any event ran: InitOrder replaces what the other
   * instances hold, so the order starts afresh on the new route.
   */
  async #init(order: Order, options: { orderId: string; budget: { deadline: number } }): Promise<OrderRoute> {
    const { orderId, budget } = options;
    let route = this.#options.router.route(orderId);
    for (let tries = 1;; tries++) {
      const at = this.#at(route);
      const init = await Promise.allSettled([
        at.transaction_verification.InitOrder({ orderId, order, route }, budget),
        // Only the fields fraud detection may see: no card data.
        at.fraud_detection.InitOrder({ orderId, order: fraudOrderOf(order), route }, budget),
        at.suggestions.InitOrder({ orderId, items: order.items, route }, budget),
      ]);
      const failures = VALIDATORS.flatMap((validator, i) => {
        const result = init[i];
        return result.status === "rejected" ? [{ validator, error: result.reason }] : [];
      });
      if (failures.length === 0) return route;
      const down = failures.filter((failure) => this.#routeAround(route, failure));
      const next = this.#options.router.route(orderId);
      const moved = VALIDATORS.some((v) => routedInstance(next, v) !== routedInstance(route, v));
      if (down.length === failures.length && moved && tries < MAX_ROUTES && Date.now() < budget.deadline) {
        this.#options.log.warn("order routed around an instance that failed", { orderId, from: route, to: next });
        route = next;
        continue;
      }
      await this.#finish(orderId, { approved: false, route });
      throw asUnavailable(failures[0].error);
    }
  }

  async #validate(order: Order, orderId: string) {
    const { config, log } = this.#options;
    // One budget for the whole validation, however many calls and retries it takes.
    const budget = { deadline: Date.now() + config.checkoutTimeoutMs };
    const route = await this.#init(order, { orderId, budget });
    const outcome = new Promise<Outcome>((resolve) => this.#waiting.set(orderId, resolve));
    const timer = setTimeout(() => this.#settle(orderId, { outcome: "timeout" }), config.checkoutTimeoutMs);
    const owners = this.#at(route);
    try {
      await Promise.all(
        VALIDATION_GRAPH.startsAt.map((owner) =>
          owners[owner].Advance({ orderId, clock: zeroClock(CLOCK_PROCESSES), event: START_EVENT }, budget)
            .catch((error) => {
              this.#routeAround(route, { validator: owner, error });
              throw error;
            })
        ),
      );
    } catch (error) {
      this.#waiting.delete(orderId);
      clearTimeout(timer);
      await this.#finish(orderId, { approved: false, route });
      throw asUnavailable(error);
    }
    const result = await outcome;
    clearTimeout(timer);
    // A validator that could not forward the order's clock: its retry is routed around the instance it could not reach.
    if (result.outcome === "error" && result.unreachable !== "") {
      this.#routeAround(route, {
        validator: result.unreachable,
        error: new RpcError(result.errorCode === "deadline_exceeded" ? "deadline_exceeded" : "unavailable", ""),
      });
    }
    const approved = result.outcome === "approved";
    const finished = await this.#finish(orderId, {
      approved,
      route,
      clock: result.outcome === "timeout" ? undefined : result.clock,
    });
    log.info("validated", {
      orderId,
      outcome: result.outcome,
      finalClock: finished.finalClock,
      events: finished.events.map((e) => e.name).join(""),
    });
    return { outcome: result, ...finished };
  }

  /**
   * Ends an order in every validator. An approved order's final clock is the
   * last event's; otherwise the services are stopped first and the final
   * clock is everything they did, so each one's clock is ≤ it.
   */
  async #finish(orderId: string, options: { approved: boolean; route: OrderRoute; clock?: VectorClock }) {
    const { log } = this.#options;
    const at = this.#at(options.route);
    const validators = [
      ["transaction_verification", at.transaction_verification],
      ["fraud_detection", at.fraud_detection],
      ["suggestions", at.suggestions],
    ] as const;
    let finalClock = options.clock ?? {};
    if (!options.approved) {
      const stopped = await Promise.allSettled(validators.map(([, client]) => client.CancelOrder({ orderId })));
      for (const result of stopped) {
        if (result.status === "fulfilled") finalClock = merge(finalClock, result.value.clock);
      }
    }
    const cleared = await Promise.allSettled(
      validators.map(([, client]) => client.ClearOrder({ orderId, finalClock, approved: options.approved })),
    );
    const events: ValidationEvent[] = [];
    let checked = 0;
    cleared.forEach((result, i) => {
      const service = validators[i][0];
      if (result.status === "rejected") {
        log.warn("could not clear order", { orderId, service, error: result.reason });
        return;
      }
      const response: OrderClockResponse = result.value;
      // Checked here too, against what this orchestrator learned before clearing (the outcome's
      // clock and the clocks the services answered CancelOrder with), not only on the service's
      // word: a service that ticked after it was stopped is caught even if it does not notice.
      const late = response.events.filter((event) => !lessOrEqual(event.clock, finalClock)).map((e) => e.name);
      checked += 1;
      if (!response.consistent || !lessOrEqual(response.clock, finalClock) || late.length > 0) {
        log.error("a service's clock is not <= the final clock", {
          orderId,
          service,
          serviceClock: response.clock,
          finalClock,
          lateEvents: late.join(""),
        });
      }
      events.push(...response.events);
    });
    log.info("final clock checked", { orderId, approved: options.approved, services: checked });
    events.sort((a, b) => a.name.localeCompare(b.name));
    return { finalClock, events };
  }

  async #conclude(
    order: Order,
    result: {
      orderId: string;
      outcome: Outcome;
      events: ValidationEvent[];
      finalClock: VectorClock;
      signal: AbortSignal;
    },
  ): Promise<PlaceOrderResponse> {
    const { orderId, outcome, events } = result;
    if (outcome.outcome === "timeout") {
      const limit = `validation did not finish within ${this.#options.config.checkoutTimeoutMs} ms`;
      const missing = EVENT_NAMES.find((name) => !events.some((e) => e.name === name));
      if (!missing) {
        throw new RpcError("deadline_exceeded", `${limit}: every event ran, but no outcome reached the orchestrator`);
      }
      const owner = VALIDATION_EVENTS[missing];
      throw new RpcError(
        "deadline_exceeded",
        `${limit}: ${owner.service} did not complete event ${missing} (${owner.what})`,
        { peer: owner.service },
      );
    }
    if (outcome.outcome === "error") {
      throw new RpcError(
        outcome.errorCode === "deadline_exceeded" ? "deadline_exceeded" : "unavailable",
        outcome.reasons[0] ?? `${outcome.service} failed`,
      );
    }
    const approved = outcome.outcome === "approved";
    if (approved && !EVENT_NAMES.every((name) => events.some((e) => e.name === name && e.ok))) {
      // Only a complete, passing history approves an order, whoever reported it.
      this.#options.log.error("approval reported without every event passing", { orderId, events: events.length });
      throw new RpcError("internal", "validation reported approval without every event passing");
    }
    // The reasons are the rejections' messages, so the two lists cannot disagree.
    const rejections = approved ? [] : codedReasons(outcome);
    const response: PlaceOrderResponse = {
      orderId,
      status: approved ? "Order Approved" : "Order Rejected",
      suggestedBooks: approved ? outcome.suggestedBooks : [],
      reasons: reasonsOf(rejections),
      rejections,
    };
    const record: OrderRecord = {
      orderId,
      approved,
      queued: false,
      reasons: response.reasons,
      rejections,
      ...orderLines(order, this.#options.catalog),
      events,
      suggestedBooks: response.suggestedBooks,
      createdAt: new Date().toISOString(),
      response,
    };
    // An approved order's record is written once the queue holds it (queueApproved), in one write.
    if (approved) await queueApproved(record, { ...this.#deps(), signal: result.signal });
    else await this.#options.orders.put(record);
    return response;
  }
}

function asUnavailable(error: unknown): RpcError {
  if (error instanceof RpcError && (error.code === "unavailable" || error.code === "deadline_exceeded")) {
    return error.peer && !error.message.includes(error.peer)
      ? new RpcError(error.code, `${error.peer}: ${error.message}`, { peer: error.peer })
      : error;
  }
  if (error instanceof RpcError) {
    return new RpcError("unavailable", `${error.peer ?? "a validator"} failed: ${error.message}`);
  }
  return new RpcError("unavailable", `a validator failed: ${String(error)}`);
}
