/**
 * The runtime contracts of every bookstore service: zod schemas mirroring
 * `proto/bookstore/v1/*.proto` field for field, and the service definitions
 * servers and clients are built from. `tests/proto_drift_test.ts` compares
 * the two and fails when they drift apart.
 *
 * @module
 */
import * as executor from "./order_executor.ts";
import * as orchestrator from "./orchestrator.ts";
import * as queue from "./order_queue.ts";
import * as validators from "./validators.ts";
import type { ServiceSpec } from "../rpc/define.ts";
import { registeredMessages } from "./wire.ts";

export * from "./checkout_form.ts";
export * from "./common.ts";
export * from "./order_executor.ts";
export * from "./orchestrator.ts";
export * from "./order_queue.ts";
export * from "./reasons.ts";
export * from "./supervisor.ts";
export * from "./validators.ts";

/** Every service, by its protobuf name. */
export const SERVICES = Object.fromEntries<ServiceSpec>(
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

/**
 * Every protobuf message, by its fully qualified name, with the schema that
 * mirrors it: built from the `message(name, schema)` calls that define them.
 */
export const MESSAGE_SCHEMAS = registeredMessages();
