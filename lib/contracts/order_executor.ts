/**
 * Schemas and service definition of `order_executor.proto`.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import { bool, double, empty, int32, message, uint32 } from "./wire.ts";

/** The `HeartbeatRequest` message. */
export const heartbeatRequestSchema = message(
  "HeartbeatRequest",
  z.object({ leaderId: uint32(), epoch: uint32() }),
);

/** The leader's heartbeat. */
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

/** The `HeartbeatResponse` message. */
export const heartbeatResponseSchema = message(
  "HeartbeatResponse",
  z.object({ accepted: bool(), epoch: uint32(), leaderId: uint32() }),
);

/** A follower's answer to a heartbeat. */
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/** The `ElectionRequest` message. */
export const electionRequestSchema = message(
  "ElectionRequest",
  z.object({ candidateId: uint32() }),
);

/** A candidate's Election message. */
export type ElectionRequest = z.infer<typeof electionRequestSchema>;

/** The `ElectionResponse` message. */
export const electionResponseSchema = message(
  "ElectionResponse",
  z.object({ ok: bool(), responderId: uint32() }),
);

/** A higher replica's answer to Election. */
export type ElectionResponse = z.infer<typeof electionResponseSchema>;

/** The `CoordinatorRequest` message. */
export const coordinatorRequestSchema = message(
  "CoordinatorRequest",
  z.object({ leaderId: uint32(), epoch: uint32() }),
);

/** The winner's announcement. */
export type CoordinatorRequest = z.infer<typeof coordinatorRequestSchema>;

/** The `CoordinatorResponse` message. */
export const coordinatorResponseSchema = message(
  "CoordinatorResponse",
  z.object({ accepted: bool() }),
);

/** A replica's answer to Coordinator. */
export type CoordinatorResponse = z.infer<typeof coordinatorResponseSchema>;

/** The roles of a replica. */
export const EXECUTOR_ROLES = ["leader", "follower", "candidate"] as const;

/** A replica's role. */
export type ExecutorRole = typeof EXECUTOR_ROLES[number];

/** The `ExecutorStatus` message. */
export const executorStatusSchema = message(
  "ExecutorStatus",
  z.object({
    id: uint32(),
    role: z.enum(EXECUTOR_ROLES),
    leaderId: uint32(),
    epoch: uint32(),
    pid: int32(),
    lastHeartbeatMs: double(),
    executed: uint32(),
    fenced: uint32(),
  }),
);

/** What `GET /status` of a replica answers. */
export type ExecutorStatus = z.infer<typeof executorStatusSchema>;

/** The `GetExecutorStatusRequest` message. */
export const getExecutorStatusRequestSchema = message("GetExecutorStatusRequest", empty());

/** `bookstore.v1.OrderExecutorService`. */
export const orderExecutorService = defineService("bookstore.v1.OrderExecutorService", {
  methods: {
    Heartbeat: method(heartbeatRequestSchema, { output: heartbeatResponseSchema, idempotent: true }),
    Election: method(electionRequestSchema, { output: electionResponseSchema, idempotent: true }),
    Coordinator: method(coordinatorRequestSchema, { output: coordinatorResponseSchema, idempotent: true }),
    GetExecutorStatus: method(getExecutorStatusRequestSchema, { output: executorStatusSchema, idempotent: true }),
  },
});
