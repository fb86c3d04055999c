/**
 * Schemas and service definitions of the three validation services
 * (`transaction_verification.proto`, `fraud_detection.proto`,
 * `suggestions.proto`). They share one event protocol: InitOrder, Advance,
 * CancelOrder, ClearOrder.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method, type MethodSpec, type ServiceSpec } from "../rpc/define.ts";
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
  orderSchema,
} from "./common.ts";
import type { ClockOrder } from "../vector_clock.ts";
import type { List, Msg, Nested, Num, Str } from "./wire.ts";
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

/**
 * The validation events, in the brief's naming, with the service and clock
 * process that run each and the events it directly follows (`after`: a ‖ b;
 * a → c; b → d; c, d → e; e → f). This is the one definition of the event
 * graph: happened-before is the transitive closure of `after`
 * ({@linkcode eventOrder}), and every other pair is concurrent.
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
} as const satisfies Record<
  string,
  { service: ValidatorName; process: ClockProcess; what: string; after: readonly string[] }
>;

/** An event name, `a` to `f`. */
export type EventName = keyof typeof VALIDATION_EVENTS;

/** Every event's name, `a` to `f`. */
export const EVENT_NAMES: readonly EventName[] = Object.keys(VALIDATION_EVENTS) as EventName[];

// Each event's causal past: every event a chain of `after` edges leads back to.
const PAST: ReadonlyMap<EventName, ReadonlySet<EventName>> = (() => {
  const past = new Map<EventName, Set<EventName>>();
  const visit = (name: EventName, path: EventName[]): Set<EventName> => {
    const known = past.get(name);
    if (known) return known;
    if (path.includes(name)) throw new Error(`VALIDATION_EVENTS: ${[...path, name].join(" → ")} is a cycle`);
    const found = new Set<EventName>();
    for (const previous of VALIDATION_EVENTS[name].after as readonly EventName[]) {
      if (!(previous in VALIDATION_EVENTS)) throw new Error(`VALIDATION_EVENTS.${name}: no event "${previous}"`);
      found.add(previous);
      for (const earlier of visit(previous, [...path, name])) found.add(earlier);
    }
    past.set(name, found);
    return found;
  };
  for (const name of EVENT_NAMES) visit(name, []);
  return past;
})();

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
  if (x === y) return "equal";
  if (PAST.get(y)!.has(x)) return "before";
  if (PAST.get(x)!.has(y)) return "after";
  return "concurrent";
}

/** The `InitTransactionRequest` message. */
export const initTransactionRequestSchema: Msg<{ orderId: Str; order: Nested<typeof orderSchema> }> = message(
  "InitTransactionRequest",
  z.object({ orderId: str(64), order: nested(orderSchema) }),
);

/** The `FraudOrder` message: the order without any card data. */
export const fraudOrderSchema: Msg<
  Pick<typeof orderSchema.shape, "user" | "items" | "billingAddress" | "shippingMethod" | "giftWrapping">
> = message(
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
export const initFraudRequestSchema: Msg<{ orderId: Str; order: Nested<typeof fraudOrderSchema> }> = message(
  "InitFraudRequest",
  z.object({ orderId: str(64), order: nested(fraudOrderSchema) }),
);

/** The `InitSuggestionsRequest` message. */
export const initSuggestionsRequestSchema: Msg<{ orderId: Str; items: List<typeof orderItemSchema> }> = message(
  "InitSuggestionsRequest",
  z.object({ orderId: str(64), items: list(orderItemSchema, 100) }),
);

/** The `SuggestRequest` message. */
export const suggestRequestSchema: Msg<{ bookIds: List<Str>; limit: Num }> = message(
  "SuggestRequest",
  z.object({
    bookIds: list(str(128), 100),
    limit: uint32().refine((v) => v <= 50, "limit is at most 50"),
  }),
);

/** The `SuggestResponse` message. */
export const suggestResponseSchema: Msg<{ books: List<typeof bookRefSchema> }> = message(
  "SuggestResponse",
  z.object({ books: list(bookRefSchema, 50) }),
);

/** The methods every validation service has: the event protocol's, with the service's own InitOrder. */
export type EventProtocolMethods<I extends z.ZodType> = {
  InitOrder: MethodSpec<I, typeof initOrderResponseSchema>;
  Advance: MethodSpec<typeof advanceRequestSchema, typeof advanceResponseSchema>;
  CancelOrder: MethodSpec<typeof cancelOrderRequestSchema, typeof orderClockResponseSchema>;
  ClearOrder: MethodSpec<typeof clearOrderRequestSchema, typeof orderClockResponseSchema>;
};

const eventProtocol = <I extends z.ZodType>(init: I): EventProtocolMethods<I> => ({
  InitOrder: method(init, { output: initOrderResponseSchema, idempotent: true }),
  // Repeated deliveries of an event are ignored, so Advance may be retried.
  Advance: method(advanceRequestSchema, { output: advanceResponseSchema, idempotent: true }),
  CancelOrder: method(cancelOrderRequestSchema, { output: orderClockResponseSchema, idempotent: true }),
  ClearOrder: method(clearOrderRequestSchema, { output: orderClockResponseSchema, idempotent: true }),
});

/** `bookstore.v1.TransactionVerificationService`. */
export const transactionVerificationService: ServiceSpec<EventProtocolMethods<typeof initTransactionRequestSchema>> =
  defineService(
    "bookstore.v1.TransactionVerificationService",
    { methods: eventProtocol(initTransactionRequestSchema) },
  );

/** `bookstore.v1.FraudDetectionService`. */
export const fraudDetectionService: ServiceSpec<EventProtocolMethods<typeof initFraudRequestSchema>> = defineService(
  "bookstore.v1.FraudDetectionService",
  { methods: eventProtocol(initFraudRequestSchema) },
);

/** `bookstore.v1.SuggestionsService`. */
export const suggestionsService: ServiceSpec<
  EventProtocolMethods<typeof initSuggestionsRequestSchema> & {
    Suggest: MethodSpec<typeof suggestRequestSchema, typeof suggestResponseSchema>;
  }
> = defineService("bookstore.v1.SuggestionsService", {
  methods: {
    ...eventProtocol(initSuggestionsRequestSchema),
    Suggest: method(suggestRequestSchema, { output: suggestResponseSchema, idempotent: true }),
  },
});
