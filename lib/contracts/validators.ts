/**
 * Schemas and service definitions of the three validation services
 * (`transaction_verification.proto`, `fraud_detection.proto`,
 * `suggestions.proto`). They share one event protocol: InitOrder, Advance,
 * CancelOrder, ClearOrder.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import {
  advanceRequestSchema,
  advanceResponseSchema,
  bookRefSchema,
  cancelOrderRequestSchema,
  clearOrderRequestSchema,
  initOrderResponseSchema,
  type Order,
  orderClockResponseSchema,
  orderItemSchema,
  orderRouteSchema,
  orderSchema,
} from "./common.ts";
import type { ClockOrder } from "../vector_clock.ts";
import { list, message, nested, str, uint32 } from "./wire.ts";

/** The three validation services. */
export const VALIDATORS = ["transaction_verification", "fraud_detection", "suggestions"] as const;

/** A validation service's name. */
export type ValidatorName = typeof VALIDATORS[number];

/**
 * The processes of the vector clock, one slot each. Transaction verification
 * runs two: events a and b are concurrent (a ‖ b), and two events of one
 * process are always ordered, so one counter for the whole service would
 * force an order between them that the checkout does not have.
 */
export const CLOCK_PROCESSES = [
  "transaction_verification.items",
  "transaction_verification.user",
  "fraud_detection",
  "suggestions",
] as const;

/** A slot of the vector clock. */
export type ClockProcess = typeof CLOCK_PROCESSES[number];

/** One event of an event graph: who runs it, on which clock slot, and what it waits for. */
export interface EventSpec {
  /** The service that runs the event's check and owns its outcome. */
  readonly service: ValidatorName;
  /** The slot of the vector clock the event ticks. */
  readonly process: ClockProcess;
  /** What the event checks, in words (the diagram and timeouts name it). */
  readonly what: string;
  /** The events it directly follows; none for a root, which waits for the orchestrator's start. */
  readonly after: readonly string[];
}

/**
 * The validation events, in the brief's naming, with the service and clock
 * process that run each and the events it directly follows (`after`: a ‖ b;
 * a → c; b → d; c, d → e; e → f). This is the one definition of the event
 * graph: happened-before is the transitive closure of `after`
 * ({@linkcode eventOrder}), every other pair is concurrent, and what each
 * service waits for and where it sends each clock next are derived from it
 * ({@linkcode VALIDATION_GRAPH}).
 */
export const VALIDATION_EVENTS = {
  a: {
    service: "transaction_verification",
    process: "transaction_verification.items",
    what: "items present and known",
    after: [],
  },
  b: {
    service: "transaction_verification",
    process: "transaction_verification.user",
    what: "mandatory user data",
    after: [],
  },
  c: {
    service: "transaction_verification",
    process: "transaction_verification.items",
    what: "card format",
    after: ["a"],
  },
  d: { service: "fraud_detection", process: "fraud_detection", what: "user data fraud", after: ["b"] },
  e: { service: "fraud_detection", process: "fraud_detection", what: "card fraud", after: ["c", "d"] },
  f: { service: "suggestions", process: "suggestions", what: "suggestions", after: ["e"] },
} as const satisfies Record<string, EventSpec>;

/** An event name, `a` to `f`. */
export type EventName = keyof typeof VALIDATION_EVENTS;

/** The event the orchestrator's first Advance names: the roots of the graph wait for it. */
export const START_EVENT = "start";

/** An event graph and what follows from it: the order of every pair, and each event's neighbours and owners. */
export interface EventGraph<N extends string = string> {
  /** Every event, each after all of its causal past (ties in the definition's order). */
  readonly names: readonly N[];
  /** The events that wait only for the orchestrator's start. */
  readonly roots: readonly N[];
  /** The one event nothing follows: its owner reports approval. */
  readonly last: N;
  /** The services the orchestrator's start goes to: the owners of the roots. */
  readonly startsAt: readonly ValidatorName[];
  /** An event's definition. */
  spec(name: N): EventSpec;
  /** What an event waits for: its `after`, or the start for a root. */
  waitsFor(name: N): readonly string[];
  /** The events that directly follow an event. */
  successors(name: N): readonly N[];
  /** The other services an event's clock goes to next: the owners of its successors. */
  forwardsTo(name: N): readonly ValidatorName[];
  /** The events a service runs. */
  eventsOf(service: ValidatorName): readonly N[];
  /** The events whose Advance a service takes: its events' predecessors run elsewhere (or the start). */
  advancesOn(service: ValidatorName): readonly string[];
  /** How `x`'s clock must compare with `y`'s in every history (see {@linkcode eventOrder}). */
  order(x: N, y: N): ClockOrder;
}

// Each event's causal past: every event a chain of `after` edges leads back to.
function causalPasts<N extends string>(events: Readonly<Record<N, EventSpec>>): Map<N, Set<N>> {
  const past = new Map<N, Set<N>>();
  const visit = (name: N, path: N[]): Set<N> => {
    const known = past.get(name);
    if (known) return known;
    if (path.includes(name)) throw new Error(`event graph: ${[...path, name].join(" → ")} is a cycle`);
    const found = new Set<N>();
    for (const previous of events[name].after as readonly N[]) {
      if (!Object.hasOwn(events, previous)) throw new Error(`event graph: ${name} follows no event "${previous}"`);
      found.add(previous);
      for (const earlier of visit(previous, [...path, name])) found.add(earlier);
    }
    past.set(name, found);
    return found;
  };
  for (const name of Object.keys(events) as N[]) visit(name, []);
  return past;
}

/**
 * Derives everything the checkout needs from an event definition (such as
 * {@linkcode VALIDATION_EVENTS}): the order of each pair, what each event
 * waits for, where its clock goes next, the roots and the last event.
 * Refuses a graph with a cycle, an unknown predecessor, two events of one
 * clock process that are not ordered (a process's clock orders them anyway),
 * or other than exactly one last event.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventGraph } from "./validators.ts";
 *
 * const graph = eventGraph({
 *   x: { service: "fraud_detection", process: "fraud_detection", what: "x", after: [] },
 *   y: { service: "suggestions", process: "suggestions", what: "y", after: ["x"] },
 * });
 * assert.deepEqual(graph.forwardsTo("x"), ["suggestions"]);
 * assert.deepEqual(graph.advancesOn("suggestions"), ["x"]);
 * assert.equal(graph.order("y", "x"), "after");
 * ```
 */
export function eventGraph<N extends string>(events: Readonly<Record<N, EventSpec>>): EventGraph<N> {
  const defined = Object.keys(events) as N[];
  const past = causalPasts(events);
  const order = (x: N, y: N): ClockOrder =>
    x === y ? "equal" : past.get(y)!.has(x) ? "before" : past.get(x)!.has(y) ? "after" : "concurrent";
  const successors = new Map(
    defined.map((name) => [name, defined.filter((next) => events[next].after.includes(name))]),
  );
  const names: N[] = [];
  while (names.length < defined.length) {
    names.push(defined.find((name) => !names.includes(name) && [...past.get(name)!].every((p) => names.includes(p)))!);
  }
  for (const [i, x] of defined.entries()) {
    for (const y of defined.slice(i + 1)) {
      if (events[x].process === events[y].process && order(x, y) === "concurrent") {
        throw new Error(`event graph: ${x} and ${y} tick ${events[x].process} but neither follows the other`);
      }
    }
  }
  const lasts = defined.filter((name) => successors.get(name)!.length === 0);
  if (lasts.length !== 1) throw new Error(`event graph: one event must be last, not ${lasts.join(", ") || "none"}`);
  const roots = names.filter((name) => events[name].after.length === 0);
  const owners = (list: readonly N[]) => [...new Set(list.map((name) => events[name].service))];
  return {
    names,
    roots,
    last: lasts[0],
    startsAt: owners(roots),
    spec: (name) => events[name],
    waitsFor: (name) => events[name].after.length === 0 ? [START_EVENT] : events[name].after,
    successors: (name) => successors.get(name)!,
    forwardsTo: (name) => owners(successors.get(name)!).filter((service) => service !== events[name].service),
    eventsOf: (service) => names.filter((name) => events[name].service === service),
    advancesOn: (service) => {
      const mine = names.filter((name) => events[name].service === service);
      const waited = mine.flatMap((name) => events[name].after.length === 0 ? [START_EVENT] : events[name].after);
      return [...new Set(waited)].filter((name) => name === START_EVENT || events[name as N].service !== service);
    },
    order,
  };
}

/** The checkout's event graph, derived from {@linkcode VALIDATION_EVENTS}. */
export const VALIDATION_GRAPH = eventGraph<EventName>(VALIDATION_EVENTS);

/** Every event's name, `a` to `f`, each after its causal past. */
export const EVENT_NAMES = VALIDATION_GRAPH.names;

/**
 * How event `x`'s clock must compare with event `y`'s in every order's
 * history (as `compare` of `vector_clock.ts` answers): `"before"` when `x`
 * happened before `y`, `"after"` when `y` happened before `x`, `"equal"` for
 * one event, and `"concurrent"` when neither is in the other's causal past.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { eventOrder } from "./validators.ts";
 *
 * assert.equal(eventOrder("a", "e"), "before"); // a → c → e
 * assert.equal(eventOrder("c", "d"), "concurrent");
 * ```
 */
export function eventOrder(x: EventName, y: EventName): ClockOrder {
  return VALIDATION_GRAPH.order(x, y);
}

/** The `InitTransactionRequest` message. */
export const initTransactionRequestSchema = message(
  "InitTransactionRequest",
  z.object({ orderId: str(64), order: nested(orderSchema), route: nested(orderRouteSchema) }),
);

/** The `FraudOrder` message: the order without any card data. */
export const fraudOrderSchema = message(
  "FraudOrder",
  orderSchema.pick({ user: true, items: true, billingAddress: true, shippingMethod: true, giftWrapping: true }),
);

/** The order as fraud detection sees it. */
export type FraudOrder = z.infer<typeof fraudOrderSchema>;

const FRAUD_ORDER_FIELDS = Object.keys(fraudOrderSchema.shape) as (keyof FraudOrder)[];

/**
 * The fields of a validated order that fraud detection may see, and no card
 * data: the top-level fields of {@linkcode fraudOrderSchema}, taken without
 * parsing the order again.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fraudOrderOf, orderSchema } from "./mod.ts";
 *
 * const order = orderSchema.parse({ creditCard: { number: "4111111111111111", cvv: "123" } });
 * assert.ok(!("creditCard" in fraudOrderOf(order)));
 * ```
 */
export function fraudOrderOf(order: Order): FraudOrder {
  const fraudOrder: Partial<Record<keyof FraudOrder, unknown>> = {};
  for (const field of FRAUD_ORDER_FIELDS) fraudOrder[field] = order[field];
  return fraudOrder as FraudOrder;
}

/** The `InitFraudRequest` message. */
export const initFraudRequestSchema = message(
  "InitFraudRequest",
  z.object({ orderId: str(64), order: nested(fraudOrderSchema), route: nested(orderRouteSchema) }),
);

/** The `InitSuggestionsRequest` message. */
export const initSuggestionsRequestSchema = message(
  "InitSuggestionsRequest",
  z.object({ orderId: str(64), items: list(orderItemSchema, 100), route: nested(orderRouteSchema) }),
);

/** The `SuggestRequest` message. */
export const suggestRequestSchema = message(
  "SuggestRequest",
  z.object({
    bookIds: list(str(128), 100),
    limit: uint32().refine((v) => v <= 50, "limit is at most 50"),
  }),
);

/** The `SuggestResponse` message. */
export const suggestResponseSchema = message(
  "SuggestResponse",
  z.object({ books: list(bookRefSchema, 50) }),
);

// The methods every validation service has: the event protocol's, with the service's own InitOrder.
const eventProtocol = <I extends z.ZodType>(init: I) => ({
  InitOrder: method(init, { output: initOrderResponseSchema, idempotent: true }),
  // Repeated deliveries of an event are ignored, so Advance may be retried.
  Advance: method(advanceRequestSchema, { output: advanceResponseSchema, idempotent: true }),
  CancelOrder: method(cancelOrderRequestSchema, { output: orderClockResponseSchema, idempotent: true }),
  ClearOrder: method(clearOrderRequestSchema, { output: orderClockResponseSchema, idempotent: true }),
});

/** `bookstore.v1.TransactionVerificationService`. */
export const transactionVerificationService = defineService(
  "bookstore.v1.TransactionVerificationService",
  { methods: eventProtocol(initTransactionRequestSchema) },
);

/** `bookstore.v1.FraudDetectionService`. */
export const fraudDetectionService = defineService(
  "bookstore.v1.FraudDetectionService",
  { methods: eventProtocol(initFraudRequestSchema) },
);

/** `bookstore.v1.SuggestionsService`. */
export const suggestionsService = defineService("bookstore.v1.SuggestionsService", {
  methods: {
    ...eventProtocol(initSuggestionsRequestSchema),
    Suggest: method(suggestRequestSchema, { output: suggestResponseSchema, idempotent: true }),
  },
});
