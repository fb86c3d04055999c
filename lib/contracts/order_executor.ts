/**
 * Schemas and service definition of `order_executor.proto`.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method, type MethodSpec, type ServiceSpec } from "../rpc/define.ts";
import type { Bool, Empty, Enum, Msg, Num } from "./wire.ts";
import { bool, double, empty, int32, message, uint32 } from "./wire.ts";

/** The `HeartbeatRequest` message. */
export const heartbeatRequestSchema: Msg<{ leaderId: Num; epoch: Num }> = message(
  "HeartbeatRequest",
  z.object({ leaderId: uint32(), epoch: uint32() }),
);

/** The leader's heartbeat. */
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

/** The `HeartbeatResponse` message. */
export const heartbeatResponseSchema: Msg<{ accepted: Bool; epoch: Num; leaderId: Num }> = message(
  "HeartbeatResponse",
  z.object({ accepted: bool(), epoch: uint32(), leaderId: uint32() }),
);

/** A follower's answer to a heartbeat. */
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/** The `ElectionRequest` message. */
export const electionRequestSchema: Msg<{ candidateId: Num }> = message(
  "ElectionRequest",
  z.object({ candidateId: uint32() }),
);

/** A candidate's Election message. */
export type ElectionRequest = z.infer<typeof electionRequestSchema>;

/** The `ElectionResponse` message. */
export const electionResponseSchema: Msg<{ ok: Bool; responderId: Num }> = message(
  "ElectionResponse",
  z.object({ ok: bool(), responderId: uint32() }),
);

/** A higher replica's answer to Election. */
export type ElectionResponse = z.infer<typeof electionResponseSchema>;

/** The `CoordinatorRequest` message. */
export const coordinatorRequestSchema: Msg<{ leaderId: Num; epoch: Num }> = message(
  "CoordinatorRequest",
  z.object({ leaderId: uint32(), epoch: uint32() }),
);

/** The winner's announcement. */
export type CoordinatorRequest = z.infer<typeof coordinatorRequestSchema>;

/** The `CoordinatorResponse` message. */
export const coordinatorResponseSchema: Msg<{ accepted: Bool }> = message(
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
export const executorStatusSchema: Msg<
  {
    id: Num;
    role: Enum<typeof EXECUTOR_ROLES>;
    leaderId: Num;
    epoch: Num;
    pid: Num;
    lastHeartbeatMs: Num;
    executed: Num;
    fenced: Num;
  }
> = message(
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
export const getExecutorStatusRequestSchema: Empty = message("GetExecutorStatusRequest", empty());

/** `bookstore.v1.OrderExecutorService`. */
export const orderExecutorService: ServiceSpec<
  {
    Heartbeat: MethodSpec<typeof heartbeatRequestSchema, typeof heartbeatResponseSchema>;
    Election: MethodSpec<typeof electionRequestSchema, typeof electionResponseSchema>;
    Coordinator: MethodSpec<typeof coordinatorRequestSchema, typeof coordinatorResponseSchema>;
    GetExecutorStatus: MethodSpec<typeof getExecutorStatusRequestSchema, typeof executorStatusSchema>;
  }
> = defineService("bookstore.v1.OrderExecutorService", {
  methods: {
    Heartbeat: method(heartbeatRequestSchema, { output: heartbeatResponseSchema, idempotent: true }),
    Election: method(electionRequestSchema, { output: electionResponseSchema, idempotent: true }),
    Coordinator: method(coordinatorRequestSchema, { output: coordinatorResponseSchema, idempotent: true }),
    GetExecutorStatus: method(getExecutorStatusRequestSchema, { output: executorStatusSchema, idempotent: true }),
  },
});
