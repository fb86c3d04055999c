/**
 * etcd's v3 API as its JSON gateway speaks it: the requests the store sends
 * and the schemas of the answers. Keys and values travel as base64; 64-bit
 * integers (revisions, lease ids) as decimal strings; fields at their
 * default (false, 0, empty) are left out of answers.
 *
 * @module
 */
import { z } from "zod";

/** Base64 of bytes, as the gateway takes keys and values. */
export function toBase64(bytes: Uint8Array): string {
  return bytes.toBase64();
}

/** Bytes of a base64 key or value from the gateway. */
export function fromBase64(text: string): Uint8Array {
  return Uint8Array.fromBase64(text);
}

const header = z.object({
  revision: z.string().optional(),
  member_id: z.string().optional(),
  raft_term: z.string().optional(),
});

/** One stored key as the gateway answers it (`value` absent when empty). */
export const keyValueSchema = z.object({
  key: z.string(),
  value: z.string().optional(),
  mod_revision: z.string().optional(),
  version: z.string().optional(),
});

/** A stored key as the gateway answers it. */
export type KeyValue = z.infer<typeof keyValueSchema>;

/** The answer to `/v3/kv/range`. */
export const rangeResponseSchema = z.object({
  header,
  kvs: z.array(keyValueSchema).optional(),
  more: z.boolean().optional(),
});

/** The answer to `/v3/kv/range`. */
export type RangeResponse = z.infer<typeof rangeResponseSchema>;

/** The answer to `/v3/kv/txn`: which branch ran, and each operation's answer. */
export const txnResponseSchema = z.object({
  header,
  succeeded: z.boolean().optional(),
  responses: z.array(z.object({ response_range: rangeResponseSchema.optional() })).optional(),
});

/** The answer to `/v3/kv/txn`. */
export type TxnResponse = z.infer<typeof txnResponseSchema>;

/** The answer to `/v3/lease/grant`. */
export const leaseGrantResponseSchema = z.object({ header, ID: z.string(), TTL: z.string() });

/** The answer to `/v3/maintenance/status` (the part the store and the cluster page read). */
export const statusResponseSchema = z.object({
  header,
  leader: z.string().optional(),
  dbSize: z.string().optional(),
});

/** One line of `/v3/watch`'s stream: a created, canceled or events answer, or the gateway's error. */
export const watchLineSchema = z.object({
  result: z.object({
    header: header.optional(),
    created: z.boolean().optional(),
    canceled: z.boolean().optional(),
    compact_revision: z.string().optional(),
    cancel_reason: z.string().optional(),
    events: z.array(z.object({ type: z.enum(["PUT", "DELETE"]).optional(), kv: keyValueSchema })).optional(),
  }).optional(),
  error: z.object({ message: z.string().optional(), http_code: z.number().optional() }).loose().optional(),
});

/** One line of `/v3/watch`'s stream. */
export type WatchLine = z.infer<typeof watchLineSchema>;

/** The gateway's error answer: etcd's message and the gRPC status code. */
export const gatewayErrorSchema = z.object({
  error: z.string().optional(),
  message: z.string().optional(),
  code: z.number().int(),
});

/** A `/v3/kv/range` request: `[key, range_end)`, or the one `key` when `range_end` is absent. */
export interface RangeRequest {
  /** First key (base64). */
  key: string;
  /** End of the range, exclusive (base64). */
  range_end?: string;
  /** Most keys answered (0: all). */
  limit?: number;
  /** `DESCEND` to answer the last keys first. */
  sort_order?: "DESCEND";
  /** What `sort_order` sorts by. */
  sort_target?: "KEY";
}

/** A comparison of a `/v3/kv/txn`: a key's version (0: absent) or last-modified revision. */
export type Compare =
  | { key: string; target: "VERSION"; result: "EQUAL"; version: string }
  | { key: string; target: "MOD"; result: "EQUAL"; mod_revision: string };

/** One operation of a `/v3/kv/txn` branch. */
export type RequestOp =
  | { request_range: RangeRequest }
  | { request_put: { key: string; value: string; lease?: string } }
  | { request_delete_range: { key: string } };

/** A `/v3/kv/txn` request: `success` runs when every comparison holds, `failure` otherwise. */
export interface TxnRequest {
  /** Comparisons, all of which must hold. */
  compare?: Compare[];
  /** Operations when they hold. */
  success?: RequestOp[];
  /** Operations when one does not. */
  failure?: RequestOp[];
}
