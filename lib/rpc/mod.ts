/**
 * Connect-protocol RPC for the bookstore: contracts, server routes on Hono,
 * typed clients with deadlines, retries, failover between replicas and
 * circuit breaking.
 *
 * @module
 */
export * from "./client.ts";
export * from "./define.ts";
export * from "./errors.ts";
export * from "./faults.ts";
export * from "./replicas.ts";
export * from "./server.ts";
export * from "./unknown_fields.ts";
