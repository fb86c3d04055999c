/**
 * Schemas and service definitions of `orchestrator.proto`: the public
 * checkout API and the internal outcome callback.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import { bookRefSchema, orderSchema, validationEventSchema } from "./common.ts";
import { executorStatusSchema } from "./order_executor.ts";
import { rejectionSchema } from "./reasons.ts";
import { queueStatusSchema } from "./order_queue.ts";
import { clock, double, empty, int32, list, message, str, uint32 } from "./wire.ts";

/** The two answers a checkout can get. */
export const CHECKOUT_STATUSES = ["Order Approved", "Order Rejected"] as const;

/** The `PlaceOrderResponse` message. */
export const placeOrderResponseSchema = message(
  "PlaceOrderResponse",
  z.object({
    orderId: str(64),
    status: z.enum(CHECKOUT_STATUSES),
    suggestedBooks: list(bookRefSchema, 20),
    reasons: list(str(500), 50),
    rejections: list(rejectionSchema, 50),
  }),
);

/** The answer to a checkout. */
export type PlaceOrderResponse = z.infer<typeof placeOrderResponseSchema>;

/** An order's lifecycle as `GET /orders/{id}` reports it. */
export const ORDER_STATUSES = ["rejected", "queued", "executing", "executed", "failed"] as const;

/** The `GetOrderRequest` message. */
export const getOrderRequestSchema = message("GetOrderRequest", z.object({ orderId: str(64) }));

/** The `OrderLine` message. */
export const orderLineSchema = message(
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
export const resolvedNameSchema = message(
  "ResolvedName",
  z.object({ name: str(MAX_RESOLVED_NAME), bookId: str(128) }),
);

/** A book name as an order's item gave it, with the book it was resolved to. */
export type ResolvedName = z.infer<typeof resolvedNameSchema>;

/** The `OrderView` message. */
export const orderViewSchema = message(
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
    rejections: list(rejectionSchema, 50),
  }),
);

/** An order's state, items and validation history. */
export type OrderView = z.infer<typeof orderViewSchema>;

/** The `Book` message. */
export const bookSchema = message(
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
export const listBooksRequestSchema = message("ListBooksRequest", z.object({ query: str(200) }));

/** The `ListBooksResponse` message. */
export const listBooksResponseSchema = message(
  "ListBooksResponse",
  z.object({ books: list(bookSchema, 10_000) }),
);

/** The `ReportOutcomeResponse` message. */
export const reportOutcomeResponseSchema = message("ReportOutcomeResponse", empty());

/** `bookstore.v1.CheckoutService`: the public API, no credential needed. */
export const checkoutService = defineService("bookstore.v1.CheckoutService", {
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
export const reportOutcomeRequestSchema = message(
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
    rejections: list(rejectionSchema, 50),
    unreachable: str(64),
  }),
);

/** A validator's report of how an order's validation ended. */
export type ReportOutcomeRequest = z.infer<typeof reportOutcomeRequestSchema>;

/** `bookstore.v1.OrderEventsService`: internal, validators report outcomes here. */
export const orderEventsService = defineService("bookstore.v1.OrderEventsService", {
  methods: {
    ReportOutcome: method(reportOutcomeRequestSchema, { output: reportOutcomeResponseSchema, idempotent: true }),
  },
});

/**
 * One executor replica as the orchestrator's `GET /cluster` shows it: its
 * status when it answered, and why not when it did not. (A REST view, not a
 * proto message: the cluster page and operators read it as JSON.)
 */
export const replicaViewSchema = z.discriminatedUnion("reachable", [
  executorStatusSchema.extend({ url: z.string(), reachable: z.literal(true) }),
  z.object({ id: z.number(), url: z.string(), reachable: z.literal(false), error: z.string() }),
]);

/** One executor replica as `GET /cluster` shows it. */
export type ReplicaView = z.infer<typeof replicaViewSchema>;

/** One order queue replica as `GET /cluster` shows it: replica n, where it listens, and whether it answers. */
export const queueReplicaViewSchema = z.discriminatedUnion("reachable", [
  z.object({ replica: z.number(), url: z.string(), reachable: z.literal(true) }),
  z.object({ replica: z.number(), url: z.string(), reachable: z.literal(false), error: z.string() }),
]);

/** One order queue replica as `GET /cluster` shows it. */
export type QueueReplicaView = z.infer<typeof queueReplicaViewSchema>;

/**
 * One etcd member as `GET /cluster` shows it: its name (as the cluster
 * knows it, else its address), its client URL, and what it says of itself
 * — whether it leads, the Raft term — or why it did not answer.
 */
export const etcdMemberViewSchema = z.discriminatedUnion("reachable", [
  z.object({
    name: z.string(),
    endpoint: z.string(),
    reachable: z.literal(true),
    memberId: z.string(),
    isLeader: z.boolean(),
    raftTerm: z.number(),
    dbSize: z.number(),
  }),
  z.object({ name: z.string(), endpoint: z.string(), reachable: z.literal(false), error: z.string() }),
]);

/** One etcd member as `GET /cluster` shows it. */
export type EtcdMemberView = z.infer<typeof etcdMemberViewSchema>;

/** Where the services keep their state, as `GET /cluster` shows it: embedded files, or etcd and its members. */
export const storeViewSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("kv") }),
  z.object({ kind: z.literal("etcd"), members: z.array(etcdMemberViewSchema) }),
]);

/**
 * What the orchestrator's `GET /cluster` answers: every executor replica, the
 * queue's counts (from the first replica that answers) and every queue
 * replica, and the store, each reachable or not.
 */
export const clusterViewSchema = z.object({
  executors: z.array(replicaViewSchema),
  queue: z.discriminatedUnion("reachable", [
    queueStatusSchema.extend({ reachable: z.literal(true) }),
    z.object({ reachable: z.literal(false), error: z.string() }),
  ]),
  queueReplicas: z.array(queueReplicaViewSchema),
  store: storeViewSchema,
});

/** The cluster: every replica, the queue and the store. */
export type ClusterView = z.infer<typeof clusterViewSchema>;
