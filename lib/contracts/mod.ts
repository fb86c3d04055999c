/**
 * The runtime contracts of every bookstore service: zod schemas mirroring
 * `proto/bookstore/v1/*.proto` field for field, and the service definitions
 * servers and clients are built from. `tests/proto_drift_test.ts` compares
 * the two and fails when they drift apart.
 *
 * @module
 */
import type { z } from "zod";
import type { ServiceSpec } from "../rpc/define.ts";
import * as common from "./common.ts";
import * as executor from "./order_executor.ts";
import * as orchestrator from "./orchestrator.ts";
import * as queue from "./order_queue.ts";
import * as validators from "./validators.ts";
import { empty } from "./wire.ts";

export * from "./checkout_form.ts";
export * from "./common.ts";
export * from "./order_executor.ts";
export * from "./orchestrator.ts";
export * from "./order_queue.ts";
export * from "./validators.ts";

/** Every service, by its protobuf name. */
export const SERVICES: Readonly<Record<string, ServiceSpec>> = Object.fromEntries(
  [
    orchestrator.checkoutService,
    orchestrator.orderEventsService,
    validators.transactionVerificationService,
    validators.fraudDetectionService,
    validators.suggestionsService,
    queue.orderQueueService,
    executor.orderExecutorService,
  ].map((service) => [service.typeName, service]),
);

/** Every protobuf message, by its fully qualified name, with the schema that mirrors it. */
export const MESSAGE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  "bookstore.v1.User": common.userSchema,
  "bookstore.v1.CreditCard": common.creditCardSchema,
  "bookstore.v1.BillingAddress": common.billingAddressSchema,
  "bookstore.v1.OrderItem": common.orderItemSchema,
  "bookstore.v1.Order": common.orderSchema,
  "bookstore.v1.CardSummary": common.cardSummarySchema,
  "bookstore.v1.BookRef": common.bookRefSchema,
  "bookstore.v1.ValidationEvent": common.validationEventSchema,
  "bookstore.v1.AdvanceRequest": common.advanceRequestSchema,
  "bookstore.v1.AdvanceResponse": common.advanceResponseSchema,
  "bookstore.v1.CancelOrderRequest": common.cancelOrderRequestSchema,
  "bookstore.v1.ClearOrderRequest": common.clearOrderRequestSchema,
  "bookstore.v1.OrderClockResponse": common.orderClockResponseSchema,
  "bookstore.v1.InitOrderResponse": common.initOrderResponseSchema,
  "bookstore.v1.PlaceOrderResponse": orchestrator.placeOrderResponseSchema,
  "bookstore.v1.GetOrderRequest": orchestrator.getOrderRequestSchema,
  "bookstore.v1.OrderLine": orchestrator.orderLineSchema,
  "bookstore.v1.OrderView": orchestrator.orderViewSchema,
  "bookstore.v1.Book": orchestrator.bookSchema,
  "bookstore.v1.ListBooksRequest": orchestrator.listBooksRequestSchema,
  "bookstore.v1.ListBooksResponse": orchestrator.listBooksResponseSchema,
  "bookstore.v1.ReportOutcomeRequest": orchestrator.reportOutcomeRequestSchema,
  "bookstore.v1.ReportOutcomeResponse": empty(),
  "bookstore.v1.InitTransactionRequest": validators.initTransactionRequestSchema,
  "bookstore.v1.FraudOrder": validators.fraudOrderSchema,
  "bookstore.v1.InitFraudRequest": validators.initFraudRequestSchema,
  "bookstore.v1.InitSuggestionsRequest": validators.initSuggestionsRequestSchema,
  "bookstore.v1.SuggestRequest": validators.suggestRequestSchema,
  "bookstore.v1.SuggestResponse": validators.suggestResponseSchema,
  "bookstore.v1.QueueItem": queue.queueItemSchema,
  "bookstore.v1.EnqueueRequest": queue.enqueueRequestSchema,
  "bookstore.v1.EnqueueResponse": queue.enqueueResponseSchema,
  "bookstore.v1.DequeueRequest": queue.dequeueRequestSchema,
  "bookstore.v1.Lease": queue.leaseSchema,
  "bookstore.v1.DequeueResponse": queue.dequeueResponseSchema,
  "bookstore.v1.AckRequest": queue.ackRequestSchema,
  "bookstore.v1.AckResponse": queue.ackResponseSchema,
  "bookstore.v1.NackRequest": queue.nackRequestSchema,
  "bookstore.v1.NackResponse": queue.nackResponseSchema,
  "bookstore.v1.AcquireEpochRequest": queue.acquireEpochRequestSchema,
  "bookstore.v1.AcquireEpochResponse": queue.acquireEpochResponseSchema,
  "bookstore.v1.GetOrderStateRequest": queue.getOrderStateRequestSchema,
  "bookstore.v1.OrderState": queue.orderStateSchema,
  "bookstore.v1.GetQueueStatusRequest": empty(),
  "bookstore.v1.QueueStatus": queue.queueStatusSchema,
  "bookstore.v1.ListStockRequest": empty(),
  "bookstore.v1.StockLevel": queue.stockLevelSchema,
  "bookstore.v1.ListStockResponse": queue.listStockResponseSchema,
  "bookstore.v1.ListDeadLettersRequest": empty(),
  "bookstore.v1.DeadLetter": queue.deadLetterSchema,
  "bookstore.v1.ListDeadLettersResponse": queue.listDeadLettersResponseSchema,
  "bookstore.v1.RequeueDeadLetterRequest": queue.requeueDeadLetterRequestSchema,
  "bookstore.v1.RequeueDeadLetterResponse": queue.requeueDeadLetterResponseSchema,
  "bookstore.v1.HeartbeatRequest": executor.heartbeatRequestSchema,
  "bookstore.v1.HeartbeatResponse": executor.heartbeatResponseSchema,
  "bookstore.v1.ElectionRequest": executor.electionRequestSchema,
  "bookstore.v1.ElectionResponse": executor.electionResponseSchema,
  "bookstore.v1.CoordinatorRequest": executor.coordinatorRequestSchema,
  "bookstore.v1.CoordinatorResponse": executor.coordinatorResponseSchema,
  "bookstore.v1.GetExecutorStatusRequest": empty(),
  "bookstore.v1.ExecutorStatus": executor.executorStatusSchema,
};
