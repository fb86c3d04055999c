/**
 * Schemas and service definitions of `orchestrator.proto`: the public
 * checkout API and the internal outcome callback.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method, type MethodSpec, type ServiceSpec } from "../rpc/define.ts";
import { bookRefSchema, orderSchema, validationEventSchema } from "./common.ts";
import type { Clock, Empty, Enum, List, Msg, Num, Str } from "./wire.ts";
import { clock, double, empty, int32, list, message, str, uint32 } from "./wire.ts";

/** The two answers a checkout can get. */
export const CHECKOUT_STATUSES = ["Order Approved", "Order Rejected"] as const;

/** The `PlaceOrderResponse` message. */
export const placeOrderResponseSchema: Msg<
  {
    orderId: Str;
    status: Enum<typeof CHECKOUT_STATUSES>;
    suggestedBooks: List<typeof bookRefSchema>;
    reasons: List<Str>;
  }
> = message(
  "PlaceOrderResponse",
  z.object({
    orderId: str(64),
    status: z.enum(CHECKOUT_STATUSES),
    suggestedBooks: list(bookRefSchema, 20),
    reasons: list(str(500), 50),
  }),
);

/** The answer to a checkout. */
export type PlaceOrderResponse = z.infer<typeof placeOrderResponseSchema>;

/** An order's lifecycle as `GET /orders/{id}` reports it. */
export const ORDER_STATUSES = ["rejected", "queued", "executing", "executed", "failed"] as const;

/** The `GetOrderRequest` message. */
export const getOrderRequestSchema: Msg<{ orderId: Str }> = message("GetOrderRequest", z.object({ orderId: str(64) }));

/** The `OrderLine` message. */
export const orderLineSchema: Msg<{ bookId: Str; title: Str; quantity: Num }> = message(
  "OrderLine",
  z.object({ bookId: str(128), title: str(300), quantity: int32() }),
);

/** A resolved order line. */
export type OrderLine = z.infer<typeof orderLineSchema>;

/**
 * Most characters of a book name an order keeps (longer ones are cut, marked
 * with "…"): a title is far shorter, and it bounds the size of a record.
 */
export const MAX_RESOLVED_NAME = 100;

/** The `ResolvedName` message. */
export const resolvedNameSchema: Msg<{ name: Str; bookId: Str }> = message(
  "ResolvedName",
  z.object({ name: str(MAX_RESOLVED_NAME), bookId: str(128) }),
);

/** A book name as an order's item gave it, with the book it was resolved to. */
export type ResolvedName = z.infer<typeof resolvedNameSchema>;

/** The `OrderView` message. */
export const orderViewSchema: Msg<
  {
    orderId: Str;
    status: Enum<typeof ORDER_STATUSES>;
    reasons: List<Str>;
    items: List<typeof orderLineSchema>;
    events: List<typeof validationEventSchema>;
    suggestedBooks: List<typeof bookRefSchema>;
    createdAt: Str;
    executorId: Num;
    epoch: Num;
    attempts: Num;
    resolvedNames: List<typeof resolvedNameSchema>;
  }
> = message(
  "OrderView",
  z.object({
    orderId: str(64),
    status: z.enum(ORDER_STATUSES),
    reasons: list(str(500), 50),
    items: list(orderLineSchema, 100),
    events: list(validationEventSchema, 32),
    suggestedBooks: list(bookRefSchema, 20),
    createdAt: str(64),
    executorId: uint32(),
    epoch: uint32(),
    attempts: uint32(),
    resolvedNames: list(resolvedNameSchema, 100),
  }),
);

/** An order's state, items and validation history. */
export type OrderView = z.infer<typeof orderViewSchema>;

/** The `Book` message. */
export const bookSchema: Msg<
  { bookId: Str; title: Str; author: Str; year: Num; genres: List<Str>; price: Num; stock: Num }
> = message(
  "Book",
  z.object({
    bookId: str(128),
    title: str(300),
    author: str(200),
    year: int32(),
    genres: list(str(64), 10),
    price: double(),
    stock: int32(),
  }),
);

/** A catalog book with its current stock. */
export type Book = z.infer<typeof bookSchema>;

/** The `ListBooksRequest` message. */
export const listBooksRequestSchema: Msg<{ query: Str }> = message("ListBooksRequest", z.object({ query: str(200) }));

/** The `ListBooksResponse` message. */
export const listBooksResponseSchema: Msg<{ books: List<typeof bookSchema> }> = message(
  "ListBooksResponse",
  z.object({ books: list(bookSchema, 10_000) }),
);

/** The `ReportOutcomeResponse` message. */
export const reportOutcomeResponseSchema: Empty = message("ReportOutcomeResponse", empty());

/** `bookstore.v1.CheckoutService`: the public API, no credential needed. */
export const checkoutService: ServiceSpec<
  {
    PlaceOrder: MethodSpec<typeof orderSchema, typeof placeOrderResponseSchema>;
    GetOrder: MethodSpec<typeof getOrderRequestSchema, typeof orderViewSchema>;
    ListBooks: MethodSpec<typeof listBooksRequestSchema, typeof listBooksResponseSchema>;
  }
> = defineService("bookstore.v1.CheckoutService", {
  public: true,
  methods: {
    PlaceOrder: method(orderSchema, { output: placeOrderResponseSchema, idempotent: false }),
    GetOrder: method(getOrderRequestSchema, { output: orderViewSchema, idempotent: true }),
    ListBooks: method(listBooksRequestSchema, { output: listBooksResponseSchema, idempotent: true }),
  },
});

/** How a validator says an order's validation ended. */
export const OUTCOMES = ["approved", "rejected", "error"] as const;

/** The `ReportOutcomeRequest` message. */
export const reportOutcomeRequestSchema: Msg<
  {
    orderId: Str;
    service: Str;
    event: Str;
    outcome: Enum<typeof OUTCOMES>;
    reasons: List<Str>;
    clock: Clock;
    suggestedBooks: List<typeof bookRefSchema>;
    errorCode: Str;
  }
> = message(
  "ReportOutcomeRequest",
  z.object({
    orderId: str(64),
    service: str(64),
    event: str(16),
    outcome: z.enum(OUTCOMES),
    reasons: list(str(500), 50),
    clock: clock(),
    suggestedBooks: list(bookRefSchema, 20),
    errorCode: str(32),
  }),
);

/** A validator's report of how an order's validation ended. */
export type ReportOutcomeRequest = z.infer<typeof reportOutcomeRequestSchema>;

/** `bookstore.v1.OrderEventsService`: internal, validators report outcomes here. */
export const orderEventsService: ServiceSpec<
  { ReportOutcome: MethodSpec<typeof reportOutcomeRequestSchema, typeof reportOutcomeResponseSchema> }
> = defineService("bookstore.v1.OrderEventsService", {
  methods: {
    ReportOutcome: method(reportOutcomeRequestSchema, { output: reportOutcomeResponseSchema, idempotent: true }),
  },
});
