/**
 * Schemas and service definition of `order_executor.proto`.
 *
 * @module
 */
import { z } from "zod";
import { defineService, method } from "../rpc/define.ts";
import { bool, double, empty, int32, uint32 } from "./wire.ts";

/** `bookstore.v1.HeartbeatRequest`. */
export const heartbeatRequestSchema = z.object({ leaderId: uint32(), epoch: uint32() });

/** The leader's heartbeat. */
export type HeartbeatRequest = z.infer<typeof heartbeatRequestSchema>;

/** `bookstore.v1.HeartbeatResponse`. */
export const heartbeatResponseSchema = z.object({ accepted: bool(), epoch: uint32(), leaderId: uint32() });

/** A follower's answer to a heartbeat. */
export type HeartbeatResponse = z.infer<typeof heartbeatResponseSchema>;

/** `bookstore.v1.ElectionRequest`. */
export const electionRequestSchema = z.object({ candidateId: uint32() });

/** A candidate's Election message. */
export type ElectionRequest = z.infer<typeof electionRequestSchema>;

/** `bookstore.v1.ElectionResponse`. */
export const electionResponseSchema = z.object({ ok: bool(), responderId: uint32() });

/** A higher replica's answer to Election. */
export type ElectionResponse = z.infer<typeof electionResponseSchema>;

/** `bookstore.v1.CoordinatorRequest`. */
export const coordinatorRequestSchema = z.object({ leaderId: uint32(), epoch: uint32() });

/** The winner's announcement. */
export type CoordinatorRequest = z.infer<typeof coordinatorRequestSchema>;

/** `bookstore.v1.CoordinatorResponse`. */
export const coordinatorResponseSchema = z.object({ accepted: bool() });

/** A replica's answer to Coordinator. */
export type CoordinatorResponse = z.infer<typeof coordinatorResponseSchema>;

/** The roles of a replica. */
export const EXECUTOR_ROLES = ["leader", "follower", "candidate"] as const;

/** A replica's role. */
export type ExecutorRole = typeof EXECUTOR_ROLES[number];

/** `bookstore.v1.ExecutorStatus`. */
export const executorStatusSchema = z.object({
  id: uint32(),
  role: z.enum(EXECUTOR_ROLES),
  leaderId: uint32(),
  epoch: uint32(),
  pid: int32(),
  lastHeartbeatMs: double(),
  executed: uint32(),
  fenced: uint32(),
});

/** What `GET /status` of a replica answers. */
export type ExecutorStatus = z.infer<typeof executorStatusSchema>;

/** `bookstore.v1.OrderExecutorService`. */
export const orderExecutorService = defineService("bookstore.v1.OrderExecutorService", {
  methods: {
    Heartbeat: method(heartbeatRequestSchema, { output: heartbeatResponseSchema, idempotent: true }),
    Election: method(electionRequestSchema, { output: electionResponseSchema, idempotent: true }),
    Coordinator: method(coordinatorRequestSchema, { output: coordinatorResponseSchema, idempotent: true }),
    GetExecutorStatus: method(empty(), { output: executorStatusSchema, idempotent: true }),
  },
});
