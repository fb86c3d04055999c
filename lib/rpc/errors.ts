/**
 * Connect protocol error codes, their HTTP mapping and the error type every
 * RPC in the bookstore throws and catches.
 *
 * @module
 */
import { z } from "zod";

/** Every error code of the Connect protocol, in the protocol's spelling. */
export const CONNECT_CODES = [
  "canceled",
  "unknown",
  "invalid_argument",
  "deadline_exceeded",
  "not_found",
  "already_exists",
  "permission_denied",
  "resource_exhausted",
  "failed_precondition",
  "aborted",
  "out_of_range",
  "unimplemented",
  "internal",
  "unavailable",
  "data_loss",
  "unauthenticated",
] as const;

/** A Connect error code such as `invalid_argument`. */
export type ConnectCode = typeof CONNECT_CODES[number];

/** The HTTP status the Connect protocol assigns to each error code. */
export const HTTP_STATUS_BY_CODE: Readonly<Record<ConnectCode, number>> = {
  canceled: 499,
  unknown: 500,
  invalid_argument: 400,
  deadline_exceeded: 504,
  not_found: 404,
  already_exists: 409,
  permission_denied: 403,
  resource_exhausted: 429,
  failed_precondition: 400,
  aborted: 409,
  out_of_range: 400,
  unimplemented: 501,
  internal: 500,
  unavailable: 503,
  data_loss: 500,
  unauthenticated: 401,
};

/** The JSON body of a Connect unary error. */
export const connectErrorBodySchema: z.ZodObject<{
  code: z.ZodEnum<{ [K in ConnectCode]: K }>;
  message: z.ZodOptional<z.ZodString>;
  details: z.ZodOptional<z.ZodArray<z.ZodUnknown>>;
}> = z.object({
  code: z.enum(CONNECT_CODES),
  message: z.string().optional(),
  details: z.array(z.unknown()).optional(),
});

/** A parsed Connect error body. */
export type ConnectErrorBody = z.infer<typeof connectErrorBodySchema>;

/**
 * The code a client infers from a bare HTTP status when the body is not a
 * Connect error (a proxy answered, say), as the protocol specifies.
 */
export function codeFromHttpStatus(status: number): ConnectCode {
  switch (status) {
    case 400:
      return "internal";
    case 401:
      return "unauthenticated";
    case 403:
      return "permission_denied";
    case 404:
      return "unimplemented";
    case 413:
      return "resource_exhausted";
    case 429:
    case 502:
    case 503:
    case 504:
      return "unavailable";
    default:
      return "unknown";
  }
}

/** Options for {@linkcode RpcError}. */
export interface RpcErrorOptions {
  /** The peer (service name) the error came from, for messages and logs. */
  peer?: string;
  /** The underlying error. */
  cause?: unknown;
  /**
   * The HTTP status to answer with, when not the code's own: an oversized
   * body is `resource_exhausted` but 413, not throttling's 429.
   */
  status?: number;
  /** Headers the error's response carries (`Retry-After`, `Accept-Post`). */
  headers?: HeadersInit;
}

/**
 * How an error is answered: a Connect method's `{code, message}` (the
 * protocol's), or `{error: {code, message}}`, the body of every other JSON
 * endpoint.
 */
export type ErrorShape = "connect" | "json";

/** The body every JSON endpoint that is not a Connect method answers an error with. */
export const jsonErrorBodySchema: z.ZodObject<{
  error: z.ZodObject<{ code: z.ZodEnum<{ [K in ConnectCode]: K }>; message: z.ZodString }>;
}> = z.object({ error: z.object({ code: z.enum(CONNECT_CODES), message: z.string() }) });

/** A parsed `{error: {code, message}}` body. */
export type JsonErrorBody = z.infer<typeof jsonErrorBodySchema>;

// What an aborted signal's reason means, as connect-es' ConnectError.from reads it.
const ABORTS: Readonly<Record<string, { code: ConnectCode; message: string }>> = {
  AbortError: { code: "canceled", message: "the call was canceled" },
  TimeoutError: { code: "deadline_exceeded", message: "the deadline passed before the call completed" },
};

/** An RPC failure carrying a Connect code; thrown by clients and handlers. */
export class RpcError extends Error {
  /** The Connect error code. */
  readonly code: ConnectCode;
  /** The service that produced the error, when known. */
  readonly peer?: string;
  /** Headers the error's response carries. */
  readonly headers?: HeadersInit;
  readonly #status?: number;

  /** Creates an error with a Connect code and a human-readable message. */
  constructor(code: ConnectCode, message: string, options: RpcErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "RpcError";
    this.code = code;
    this.peer = options.peer;
    this.headers = options.headers;
    this.#status = options.status;
  }

  /** The HTTP status this error is answered with: the code's, unless the error was given another. */
  get httpStatus(): number {
    return this.#status ?? HTTP_STATUS_BY_CODE[this.code];
  }

  /** The Connect JSON error body. */
  toJSON(): ConnectErrorBody {
    return { code: this.code, message: this.message };
  }

  /** The `{error: {code, message}}` body of a JSON endpoint that is not a Connect method. */
  toJsonBody(): JsonErrorBody {
    return { error: { code: this.code, message: this.message } };
  }

  /**
   * The error's response (as Hono's `HTTPException.getResponse()`): its
   * HTTP status and headers, and the body of `shape`, a Connect error
   * unless told otherwise.
   *
   * @example Answer a handler's failure
   * ```ts
   * import assert from "node:assert/strict";
   * import { RpcError } from "./errors.ts";
   * const response = new RpcError("not_found", "no order 42").toResponse();
   * assert.equal(response.status, 404);
   * assert.deepEqual(await response.json(), { code: "not_found", message: "no order 42" });
   * const throttled = new RpcError("resource_exhausted", "slow down", { headers: { "Retry-After": "2" } });
   * const json = throttled.toResponse("json");
   * assert.equal(json.headers.get("retry-after"), "2");
   * assert.deepEqual(await json.json(), { error: { code: "resource_exhausted", message: "slow down" } });
   * ```
   */
  toResponse(shape: ErrorShape = "connect"): Response {
    const body = shape === "connect" ? this.toJSON() : this.toJsonBody();
    return Response.json(body, { status: this.httpStatus, headers: this.headers });
  }

  /**
   * `error` itself when it is an {@linkcode RpcError}; an abort's reason
   * (`AbortError`, `TimeoutError`) as `canceled` or `deadline_exceeded`, as
   * connect-es' `ConnectError.from` reads it; otherwise a new one with
   * `fallbackCode`. Both keep `error` as their cause. An `internal` error
   * says only "internal error", so that nothing of a bug's details reaches a
   * caller; any other code carries the error's message.
   *
   * @example
   * ```ts
   * import { RpcError } from "./errors.ts";
   * console.assert(RpcError.from(new TypeError("boom")).message === "internal error");
   * console.assert(RpcError.from(new Error("gone"), "unknown").message === "gone");
   * console.assert(RpcError.from(AbortSignal.abort().reason).code === "canceled");
   * ```
   */
  static from(error: unknown, fallbackCode: ConnectCode = "internal"): RpcError {
    if (error instanceof RpcError) return error;
    const abort = error instanceof Error && Object.hasOwn(ABORTS, error.name) ? ABORTS[error.name] : undefined;
    if (abort) return new RpcError(abort.code, abort.message, { cause: error });
    const message = fallbackCode === "internal"
      ? "internal error"
      : error instanceof Error
      ? error.message
      : String(error);
    return new RpcError(fallbackCode, message, { cause: error });
  }
}

/** Whether `error` is an {@linkcode RpcError} with `code`. */
export function hasCode(error: unknown, code: ConnectCode): error is RpcError {
  return error instanceof RpcError && error.code === code;
}

/** Codes that say the peer, not the request, is the problem. */
const PEER_FAILURES: ReadonlySet<ConnectCode> = new Set(["unavailable", "deadline_exceeded"]);

/** Whether an error means the peer is down or too slow (and not the request bad). */
export function isPeerFailure(error: unknown): error is RpcError {
  return error instanceof RpcError && PEER_FAILURES.has(error.code);
}

/** Formats zod issues as `path.to.field: message; …` for error messages. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((issue) => {
      const path = issue.path.length > 0 ? issue.path.join(".") : "(body)";
      return `${path}: ${issue.message}`;
    })
    .join("; ");
}
