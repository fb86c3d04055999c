/**
 * Schemas and service definition of `order_queue.proto`.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import { bool, double, empty, int32, list, str, uint32 } from "./wire.ts";

/**
 * Different books one order may hold: executing it checks every book's stock
 * in one Deno KV atomic commit, which allows at most 100 checks.
 */
export const MAX_DISTINCT_BOOKS = 50;

/** `bookstore.v1.QueueItem`. */
export const queueItemSchema = z.object({ bookId: str(128), quantity: int32() });

/** A book and how many of it an order takes. */
export type QueueItem = z.infer<typeof queueItemSchema>;

/** `bookstore.v1.EnqueueRequest`. */
export const enqueueRequestSchema = z.object({
  orderId: str(64).refine((v) => v.length > 0, "orderId is required"),
  items: list(queueItemSchema, 100).refine((v) => v.length > 0, "an order needs at least one item"),
});

/** `bookstore.v1.EnqueueResponse`. */
export const enqueueResponseSchema = z.object({ created: bool() });

const fenced = {
  executorId: uint32().refine((v) => v > 0, "executorId is required"),
  epoch: uint32().refine((v) => v > 0, "epoch is required"),
};

/** `bookstore.v1.DequeueRequest`. */
export const dequeueRequestSchema = z.object({ ...fenced });

/** Who dequeues, on behalf of which epoch. */
export type DequeueRequest = z.infer<typeof dequeueRequestSchema>;

/** `bookstore.v1.Lease`. */
export const leaseSchema = z.object({
  orderId: str(64),
  leaseId: str(64),
  items: list(queueItemSchema, 100),
  attempt: uint32(),
  expiresAt: double(),
});

/** An order handed to an executor until `expiresAt`. */
export type Lease = z.infer<typeof leaseSchema>;

/** `bookstore.v1.DequeueResponse`. */
export const dequeueResponseSchema = z.object({ lease: leaseSchema.optional() });

/** `bookstore.v1.AckRequest`. */
export const ackRequestSchema = z.object({ orderId: str(64), leaseId: str(64), ...fenced });

/** An executor finishing a leased order. */
export type AckRequest = z.infer<typeof ackRequestSchema>;

/** `bookstore.v1.AckResponse`. */
export const ackResponseSchema = z.object({ state: z.enum(["executed", "failed"]), reason: str(500) });

/** How an executed order ended. */
export type AckResponse = z.infer<typeof ackResponseSchema>;

/** `bookstore.v1.NackRequest`. */
export const nackRequestSchema = z.object({ orderId: str(64), leaseId: str(64), ...fenced, reason: str(500) });

/** An executor giving a leased order back. */
export type NackRequest = z.infer<typeof nackRequestSchema>;

/** `bookstore.v1.NackResponse`. */
export const nackResponseSchema = z.object({ state: z.enum(["queued", "dead"]) });

/** Where a given-back order went. */
export type NackResponse = z.infer<typeof nackResponseSchema>;

/** `bookstore.v1.AcquireEpochRequest`. */
export const acquireEpochRequestSchema = z.object({ executorId: fenced.executorId });

/** `bookstore.v1.AcquireEpochResponse`. */
export const acquireEpochResponseSchema = z.object({ epoch: uint32() });

/** Every state a queued order passes through. */
export const QUEUE_ORDER_STATES = ["queued", "leased", "executed", "failed", "dead"] as const;

/** `bookstore.v1.GetOrderStateRequest`. */
export const getOrderStateRequestSchema = z.object({ orderId: str(64) });

/** `bookstore.v1.OrderState`. */
export const orderStateSchema = z.object({
  orderId: str(64),
  state: z.enum(QUEUE_ORDER_STATES),
  attempts: uint32(),
  executorId: uint32(),
  epoch: uint32(),
  reason: str(500),
  items: list(queueItemSchema, 100),
  enqueuedAt: double(),
  updatedAt: double(),
});

/** An order's record in the queue's store. */
export type OrderState = z.infer<typeof orderStateSchema>;

/** `bookstore.v1.QueueStatus`. */
export const queueStatusSchema = z.object({
  depth: uint32(),
  leased: uint32(),
  deadLetters: uint32(),
  epoch: uint32(),
  leaderId: uint32(),
  executed: uint32(),
  failed: uint32(),
  fenced: uint32(),
});

/** The queue's counters, as `GET /status` answers them. */
export type QueueStatus = z.infer<typeof queueStatusSchema>;

/** `bookstore.v1.StockLevel`. */
export const stockLevelSchema = z.object({ bookId: str(128), stock: int32() });

/** A book's current stock. */
export type StockLevel = z.infer<typeof stockLevelSchema>;

/** `bookstore.v1.ListStockResponse`. */
export const listStockResponseSchema = z.object({ stock: list(stockLevelSchema, 10_000) });

/** `bookstore.v1.DeadLetter`. */
export const deadLetterSchema = z.object({
  orderId: str(64),
  attempts: uint32(),
  reason: str(500),
  items: list(queueItemSchema, 100),
  deadAt: double(),
});

/** An order that failed too often. */
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** `bookstore.v1.ListDeadLettersResponse`. */
export const listDeadLettersResponseSchema = z.object({ deadLetters: list(deadLetterSchema, 10_000) });

/** `bookstore.v1.RequeueDeadLetterRequest`. */
export const requeueDeadLetterRequestSchema = z.object({ orderId: str(64) });

/** `bookstore.v1.RequeueDeadLetterResponse`. */
export const requeueDeadLetterResponseSchema = z.object({ requeued: bool() });

/** `bookstore.v1.OrderQueueService`. */
export const orderQueueService = defineService("bookstore.v1.OrderQueueService", {
  methods: {
    Enqueue: method(enqueueRequestSchema, { output: enqueueResponseSchema, idempotent: true }),
    Dequeue: method(dequeueRequestSchema, { output: dequeueResponseSchema, idempotent: false }),
    Ack: method(ackRequestSchema, { output: ackResponseSchema, idempotent: true }),
    Nack: method(nackRequestSchema, { output: nackResponseSchema, idempotent: false }),
    AcquireEpoch: method(acquireEpochRequestSchema, { output: acquireEpochResponseSchema, idempotent: false }),
    GetOrderState: method(getOrderStateRequestSchema, { output: orderStateSchema, idempotent: true }),
    GetQueueStatus: method(empty(), { output: queueStatusSchema, idempotent: true }),
    ListStock: method(empty(), { output: listStockResponseSchema, idempotent: true }),
    ListDeadLetters: method(empty(), { output: listDeadLettersResponseSchema, idempotent: true }),
    RequeueDeadLetter: method(requeueDeadLetterRequestSchema, {
      output: requeueDeadLetterResponseSchema,
      idempotent: true,
    }),
  },
});
