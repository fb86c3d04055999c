/**
 * The server half of the Connect protocol (unary, JSON) on Hono: one POST
 * route per method, the credential checked, the body size-limited and
 * validated by the method's zod schema before the handler runs, the deadline
 * from `Connect-Timeout-Ms` enforced (capped at {@linkcode MAX_TIMEOUT_MS}),
 * and every failure answered as a Connect error with the protocol's HTTP
 * status.
 *
 * @module
 */
import { type Context, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import type { z } from "zod";
import { abortable, type TimeoutSignal, timeoutSignal } from "../async.ts";
import { errorHandler, mediaType } from "../http.ts";
import type { Logger } from "../log.ts";
import { withSpan } from "../telemetry.ts";
import { methodPath, type MethodSpec, type ServiceSpec } from "./define.ts";
import { describeIssues, RpcError } from "./errors.ts";
import { findUnknownFields } from "./unknown_fields.ts";
import type { FaultInjector } from "./faults.ts";

/** What a handler knows about the call besides its input. */
export interface RpcContext {
  /** Aborted when the caller goes away or the deadline passes. */
  readonly signal: AbortSignal;
  /** The deadline as epoch milliseconds, when the caller set one. */
  readonly deadline?: number;
  /** The request headers. */
  readonly headers: Headers;
}

/** The implementation of one method. */
export type Handler<M extends MethodSpec> = (
  input: z.output<M["input"]>,
  ctx: RpcContext,
) => Promise<z.input<M["output"]>> | z.input<M["output"]>;

/** Implementations of every method of a service. */
export type Handlers<S extends ServiceSpec> = {
  [K in keyof S["methods"]]: Handler<S["methods"][K]>;
};

/** Options for {@linkcode createRpcRoutes}. */
export interface RpcRoutesOptions<S extends ServiceSpec> {
  /** The method implementations. */
  handlers: Handlers<S>;
  /** Logger for failures. */
  log: Logger;
  /** The service credential; required unless the service is public. */
  token?: string;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Active fault rules, when fault injection is enabled. */
  faults?: FaultInjector;
  /**
   * Whether to validate each response against its schema before answering
   * (default false). Handlers are typed by the schema and every client
   * validates what it receives, so this only moves the error to its source:
   * tests turn it on (`Config.checkSentMessages`); elsewhere each message is
   * validated once, by its receiver.
   */
  checkResponses?: boolean;
}

// Connect's Connect-Timeout-Ms: a positive integer of at most 10 digits.
const MAX_TIMEOUT_DIGITS = /^\d{1,10}$/;

/**
 * The longest deadline a call gets: one minute. A caller may ask for up to
 * 10 digits of milliseconds (Connect's limit, about 115 days); a longer
 * `Connect-Timeout-Ms` than this is accepted and served with this deadline
 * instead, as Connect lets a server enforce a shorter timeout than the
 * client asked for. Every deadline the bookstore sets itself is far below
 * it; it bounds how long one caller can hold a call open.
 */
export const MAX_TIMEOUT_MS = 60_000;

/**
 * Checks `Authorization: Bearer <token>` in constant time for a token of the
 * right length (only the length can leak, and every token we issue has the
 * same). Synchronous on purpose: a SHA-256 digest per side, as a hashing
 * compare does, cost a checkout more CPU than any handler (bench/RESULTS.md).
 */
export function hasValidCredential(headers: Headers, token: string): boolean {
  const header = headers.get("authorization");
  if (header === null || !header.startsWith("Bearer ")) return false;
  return constantTimeEqual(header.slice(7), token);
}

/**
 * Whether two strings are equal, in time that depends on their length only,
 * not on where they first differ (the loop of std's `timingSafeEqual`, on
 * UTF-16 code units: importing `node:crypto` for it cost every process
 * about 4 MB of resident memory, bench/RESULTS.md).
 */
export function constantTimeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

// A request in a codec other than Connect JSON: answered 415 with the codec that is spoken.
function unsupportedMediaType(type: string): RpcError {
  return new RpcError(
    "unimplemented",
    `unsupported content-type "${type}": this server speaks Connect JSON (application/json)`,
    { status: 415, headers: { "Accept-Post": "application/json" } },
  );
}

// An oversized body: Connect's `resource_exhausted`, but 413 rather than throttling's 429.
function payloadTooLarge(maxBytes: number): RpcError {
  return new RpcError("resource_exhausted", `request body exceeds ${maxBytes} bytes`, { status: 413 });
}

/**
 * A body-size limit whose refusal is a Connect `resource_exhausted` (HTTP
 * 413), thrown to the app's `onError`. A body that declares its length is
 * judged by its `Content-Length` (the HTTP server reads exactly that many
 * bytes), without opening the body as a stream: Hono's `bodyLimit` does,
 * which takes the request off Deno's fast path for reading a whole body
 * (bench/RESULTS.md). A chunked body is counted as it arrives, by Hono's.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  const counting = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw payloadTooLarge(maxBytes);
    },
  });
  return (c, next) => {
    const headers = c.req.raw.headers;
    const declared = headers.get("content-length");
    if (declared === null || headers.has("transfer-encoding")) return counting(c, next);
    if (Number(declared) > maxBytes) throw payloadTooLarge(maxBytes);
    return next();
  };
}

/**
 * Reads a JSON request body and validates it with `schema`: an empty body
 * reads as `{}` (every field at its proto3 default); malformed JSON or a
 * failed check is `invalid_argument` naming the field paths. The RPC routes
 * and the REST face both parse bodies with it.
 */
export async function parseJsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.output<S>> {
  let body: unknown;
  const text = await c.req.text();
  try {
    body = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new RpcError("invalid_argument", "request body is not valid JSON");
  }
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    throw new RpcError("invalid_argument", `invalid request: ${describeIssues(parsed.error)}`);
  }
  // As Connect's own JSON codec does, a field the message does not have is an error, not silently dropped.
  const unknown = findUnknownFields(schema, body);
  if (unknown.length > 0) {
    const more = unknown.length > 5 ? ` and ${unknown.length - 5} more` : "";
    throw new RpcError("invalid_argument", `invalid request: unknown field ${unknown.slice(0, 5).join(", ")}${more}`);
  }
  return parsed.data;
}

/**
 * Builds the Hono routes serving every method of `service`.
 *
 * @example An in-memory round trip
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { createClient, createRpcRoutes, defineService, method } from "./mod.ts";
 * import { createLogger } from "../log.ts";
 *
 * const echo = defineService("bookstore.v1.EchoService", {
 *   public: true,
 *   methods: { Echo: method(z.object({ text: z.string() }), { output: z.object({ text: z.string() }), idempotent: true }) },
 * });
 * const app = createRpcRoutes(echo, {
 *   log: createLogger("echo", { write: () => {} }),
 *   maxBodyBytes: 1024,
 *   handlers: { Echo: ({ text }) => ({ text }) },
 * });
 * const client = createClient(echo, { baseUrl: "http://echo", peer: "echo", timeoutMs: 1000, fetch: app.request });
 * assert.ok((await client.Echo({ text: "hi" })).text === "hi");
 * ```
 */
export function createRpcRoutes<S extends ServiceSpec>(
  service: S,
  options: RpcRoutesOptions<S>,
): Hono {
  if (!service.public && options.token === undefined) {
    throw new Error(`${service.typeName} is internal and needs a service token`);
  }
  const app = new Hono();
  app.onError(errorHandler(options.log));
  const limit = limitBody(options.maxBodyBytes);
  for (const [name, spec] of Object.entries(service.methods)) {
    const path = methodPath(service, name);
    const call: UnaryCall<S> = {
      fullMethod: path.slice(1),
      attributes: { "rpc.system": "connect_rpc", "rpc.service": service.typeName, "rpc.method": name },
      spec,
      handler: options.handlers[name as keyof S["methods"]] as Handler<MethodSpec>,
      options,
    };
    app.post(path, limit, (c) => serveUnary(c, call));
  }
  return app;
}

interface UnaryCall<S extends ServiceSpec> {
  fullMethod: string;
  attributes: Record<string, string>;
  spec: MethodSpec;
  handler: Handler<MethodSpec>;
  options: RpcRoutesOptions<S>;
}

function serveUnary<S extends ServiceSpec>(c: Context, call: UnaryCall<S>): Promise<Response> {
  const { fullMethod, options } = call;
  return withSpan(fullMethod, {
    attributes: call.attributes,
    fn: async (span) => {
      // The call's deadline and the caller's disconnect, let go of once it is answered.
      let deadline: TimeoutSignal | undefined;
      try {
        admitHeaders(c, call);
        const timeoutMs = connectTimeoutMs(c);
        deadline = timeoutSignal(timeoutMs, { signals: [c.req.raw.signal] });
        const at = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
        const input = await parseJsonBody(c, call.spec.input);
        const { signal } = deadline;
        if (span.isRecording() && typeof input === "object" && input !== null && "orderId" in input) {
          span.setAttribute("bookstore.order_id", String(input.orderId));
        }
        await options.faults?.apply(fullMethod, signal);
        // A call whose deadline passed while it waited must not take effect.
        if (signal.aborted) throw abortError(signal);
        const output = await raceDeadline(
          Promise.resolve(call.handler(input, { signal, deadline: at, headers: c.req.raw.headers })),
          signal,
        );
        if (options.checkResponses) {
          const checked = call.spec.output.safeParse(output);
          if (!checked.success) {
            options.log.error("handler returned an invalid response", {
              method: fullMethod,
              problem: describeIssues(checked.error),
            });
            throw new RpcError("internal", "the service produced an invalid response");
          }
          return c.json(checked.data as Record<string, unknown>);
        }
        return c.json(output as Record<string, unknown>);
      } catch (error) {
        // The app's one error handler answers it; the span records its code first.
        span.setAttribute("rpc.connect_rpc.error_code", RpcError.from(error).code);
        throw error;
      } finally {
        deadline?.[Symbol.dispose]();
      }
    },
  });
}

// The credential, the codec and the protocol version, before the body is read.
function admitHeaders<S extends ServiceSpec>(c: Context, call: UnaryCall<S>): void {
  const headers = c.req.raw.headers;
  if (call.options.token !== undefined && !hasValidCredential(headers, call.options.token)) {
    throw new RpcError("unauthenticated", "missing or invalid service credential");
  }
  const type = mediaType(headers);
  if (type !== "application/json") throw unsupportedMediaType(type);
  const version = headers.get("connect-protocol-version");
  if (version !== null && version !== "1") {
    throw new RpcError("invalid_argument", `unsupported connect-protocol-version "${version}"`);
  }
}

// The call's Connect-Timeout-Ms, checked and capped at MAX_TIMEOUT_MS; undefined when the caller set none.
function connectTimeoutMs(c: Context): number | undefined {
  const header = c.req.raw.headers.get("connect-timeout-ms");
  if (header === null) return undefined;
  if (!MAX_TIMEOUT_DIGITS.test(header)) {
    throw new RpcError("invalid_argument", `connect-timeout-ms "${header}" is not a positive integer`);
  }
  return Math.min(Number(header), MAX_TIMEOUT_MS);
}

/** Resolves with `promise`, or rejects with `deadline_exceeded`/`canceled` when `signal` aborts first. */
export async function raceDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  try {
    return await abortable(promise, signal);
  } catch (error) {
    if (signal.aborted && error === signal.reason) throw abortError(signal);
    throw error;
  }
}

// A reason that is neither an AbortError nor a TimeoutError still ended the call: it was canceled.
function abortError(signal: AbortSignal): RpcError {
  return RpcError.from(signal.reason, "canceled");
}
