/**
 * Schemas and service definition of `order_queue.proto`.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import { hasCode, type RpcError } from "../rpc/errors.ts";
import { bool, double, empty, int32, list, message, str, uint32 } from "./wire.ts";

/**
 * Different books one order may hold: executing it checks every book's stock
 * in one atomic commit with the order's own writes, and a commit holds at
 * most 100 checks on every backend (`lib/store/limits.ts`).
 */
export const MAX_DISTINCT_BOOKS = 50;

/** The `QueueItem` message. */
export const queueItemSchema = message(
  "QueueItem",
  z.object({ bookId: str(128), quantity: int32() }),
);

/** A book and how many of it an order takes. */
export type QueueItem = z.infer<typeof queueItemSchema>;

/** The `EnqueueRequest` message. */
export const enqueueRequestSchema = message(
  "EnqueueRequest",
  z.object({
    orderId: str(64).refine((v) => v.length > 0, "orderId is required"),
    items: list(queueItemSchema, 100).refine((v) => v.length > 0, "an order needs at least one item"),
  }),
);

/** The `EnqueueResponse` message. */
export const enqueueResponseSchema = message("EnqueueResponse", z.object({ created: bool() }));

/**
 * Whether the queue refused a call for its epoch (`failed_precondition`):
 * the caller no longer leads and must step down.
 */
export function isFenced(error: unknown): error is RpcError {
  return hasCode(error, "failed_precondition");
}

const fenced = {
  executorId: uint32().refine((v) => v > 0, "executorId is required"),
  epoch: uint32().refine((v) => v > 0, "epoch is required"),
};

/** The `Lease` message. */
export const leaseSchema = message(
  "Lease",
  z.object({
    orderId: str(64),
    leaseId: str(64),
    items: list(queueItemSchema, 100),
    attempt: uint32(),
    expiresAt: double(),
  }),
);

/** An order handed to an executor until `expiresAt`. */
export type Lease = z.infer<typeof leaseSchema>;

/**
 * Most orders one `DequeueBatch` leases or one `AckBatch` acks: leasing
 * checks each order and its place in line in one atomic commit, which holds
 * at most 100 checks on every backend (`lib/store/limits.ts`); an ack of
 * many books is split into commits that fit.
 */
export const MAX_LEASES_PER_CALL = 32;

/** Longest a `DequeueBatch` may wait for an order to arrive. */
export const MAX_DEQUEUE_WAIT_MS = 10_000;

/** The `DequeueBatchRequest` message. */
export const dequeueBatchRequestSchema = message(
  "DequeueBatchRequest",
  z.object({
    ...fenced,
    requestId: str(64),
    maxLeases: uint32().refine((v) => v <= MAX_LEASES_PER_CALL, `at most ${MAX_LEASES_PER_CALL}`),
    waitMs: uint32().refine((v) => v <= MAX_DEQUEUE_WAIT_MS, `at most ${MAX_DEQUEUE_WAIT_MS}`),
  }),
);

/** Who leases a batch, on behalf of which epoch, how many, and how long to wait for one. */
export type DequeueBatchRequest = z.infer<typeof dequeueBatchRequestSchema>;

/** The `DequeueBatchResponse` message. */
export const dequeueBatchResponseSchema = message(
  "DequeueBatchResponse",
  z.object({ leases: list(leaseSchema, MAX_LEASES_PER_CALL) }),
);

/** The `LeaseRef` message. */
export const leaseRefSchema = message(
  "LeaseRef",
  z.object({ orderId: str(64), leaseId: str(64) }),
);

/** A leased order, by its id and its lease's. */
export type LeaseRef = z.infer<typeof leaseRefSchema>;

/** The `AckBatchRequest` message. */
export const ackBatchRequestSchema = message(
  "AckBatchRequest",
  z.object({ ...fenced, acks: list(leaseRefSchema, MAX_LEASES_PER_CALL) }),
);

/** How each order of an `AckBatch` ended. */
export const ACK_RESULT_STATES = ["executed", "failed", "lost", "unknown"] as const;

/** The `AckResult` message. */
export const ackResultSchema = message(
  "AckResult",
  z.object({ orderId: str(64), state: z.enum(ACK_RESULT_STATES), reason: str(500) }),
);

/**
 * One order of an `AckBatch`: `executed`, `failed` (out of stock, stock
 * untouched), `lost` (its lease is no longer held, so the ack did nothing)
 * or `unknown` (no such order).
 */
export type AckResult = z.infer<typeof ackResultSchema>;

/** The `AckBatchResponse` message. */
export const ackBatchResponseSchema = message(
  "AckBatchResponse",
  z.object({ results: list(ackResultSchema, MAX_LEASES_PER_CALL) }),
);

/** The `AcquireEpochRequest` message. */
export const acquireEpochRequestSchema = message(
  "AcquireEpochRequest",
  z.object({ executorId: fenced.executorId }),
);

/** The `AcquireEpochResponse` message. */
export const acquireEpochResponseSchema = message(
  "AcquireEpochResponse",
  z.object({ epoch: uint32() }),
);

/** Every state a queued order passes through. */
export const QUEUE_ORDER_STATES = ["queued", "leased", "executed", "failed", "dead"] as const;

/** The `GetOrderStateRequest` message. */
export const getOrderStateRequestSchema = message(
  "GetOrderStateRequest",
  z.object({ orderId: str(64) }),
);

/** The `OrderState` message. */
export const orderStateSchema = message(
  "OrderState",
  z.object({
    orderId: str(64),
    state: z.enum(QUEUE_ORDER_STATES),
    attempts: uint32(),
    executorId: uint32(),
    epoch: uint32(),
    reason: str(500),
    items: list(queueItemSchema, 100),
    enqueuedAt: double(),
    updatedAt: double(),
  }),
);

/** An order's record in the queue's store. */
export type OrderState = z.infer<typeof orderStateSchema>;

/** The `QueueStatus` message. */
export const queueStatusSchema = message(
  "QueueStatus",
  z.object({
    depth: uint32(),
    leased: uint32(),
    deadLetters: uint32(),
    epoch: uint32(),
    leaderId: uint32(),
    executed: uint32(),
    failed: uint32(),
    fenced: uint32(),
  }),
);

/** The queue's counters, as `GET /status` answers them. */
export type QueueStatus = z.infer<typeof queueStatusSchema>;

/** The `StockLevel` message. */
export const stockLevelSchema = message(
  "StockLevel",
  z.object({ bookId: str(128), stock: int32() }),
);

/** A book's current stock. */
export type StockLevel = z.infer<typeof stockLevelSchema>;

/** The `ListStockResponse` message. */
export const listStockResponseSchema = message(
  "ListStockResponse",
  z.object({ stock: list(stockLevelSchema, 10_000) }),
);

/** The `DeadLetter` message. */
export const deadLetterSchema = message(
  "DeadLetter",
  z.object({
    orderId: str(64),
    attempts: uint32(),
    reason: str(500),
    items: list(queueItemSchema, 100),
    deadAt: double(),
  }),
);

/** An order that failed too often. */
export type DeadLetter = z.infer<typeof deadLetterSchema>;

/** Most dead letters one `ListDeadLetters` page holds. */
export const MAX_DEAD_LETTER_PAGE = 1000;

/** The `ListDeadLettersResponse` message. */
export const listDeadLettersResponseSchema = message(
  "ListDeadLettersResponse",
  z.object({ deadLetters: list(deadLetterSchema, MAX_DEAD_LETTER_PAGE), nextPageToken: str(512) }),
);

/** The `RequeueDeadLetterRequest` message. */
export const requeueDeadLetterRequestSchema = message(
  "RequeueDeadLetterRequest",
  z.object({ orderId: str(64) }),
);

/** The `RequeueDeadLetterResponse` message. */
export const requeueDeadLetterResponseSchema = message(
  "RequeueDeadLetterResponse",
  z.object({ requeued: bool() }),
);

/** The `GetQueueStatusRequest` message. */
export const getQueueStatusRequestSchema = message("GetQueueStatusRequest", empty());

/** The `ListStockRequest` message. */
export const listStockRequestSchema = message("ListStockRequest", empty());

/** The `ListDeadLettersRequest` message. */
export const listDeadLettersRequestSchema = message(
  "ListDeadLettersRequest",
  z.object({ pageSize: uint32().refine((v) => v <= MAX_DEAD_LETTER_PAGE, "at most 1000"), pageToken: str(512) }),
);

/** `bookstore.v1.OrderQueueService`. */
export const orderQueueService = defineService("bookstore.v1.OrderQueueService", {
  methods: {
    Enqueue: method(enqueueRequestSchema, { output: enqueueResponseSchema, idempotent: true }),
    // Idempotent by request id: a retry answers the leases the first attempt took.
    DequeueBatch: method(dequeueBatchRequestSchema, { output: dequeueBatchResponseSchema, idempotent: true }),
    // A repeated ack answers the outcome its lease already had.
    AckBatch: method(ackBatchRequestSchema, { output: ackBatchResponseSchema, idempotent: true }),
    // Each call issues a new epoch, so a client never repeats one that may have arrived (it moves to another replica
    // only from one it could not connect to). An epoch whose answer was lost is harmless: nobody presents it, and the
    // next the election asks for supersedes it in the fence.
    AcquireEpoch: method(acquireEpochRequestSchema, { output: acquireEpochResponseSchema, idempotent: false }),
    GetOrderState: method(getOrderStateRequestSchema, { output: orderStateSchema, idempotent: true }),
    GetQueueStatus: method(getQueueStatusRequestSchema, { output: queueStatusSchema, idempotent: true }),
    ListStock: method(listStockRequestSchema, { output: listStockResponseSchema, idempotent: true }),
    ListDeadLetters: method(listDeadLettersRequestSchema, { output: listDeadLettersResponseSchema, idempotent: true }),
    RequeueDeadLetter: method(requeueDeadLetterRequestSchema, {
      output: requeueDeadLetterResponseSchema,
      idempotent: true,
    }),
  },
});
