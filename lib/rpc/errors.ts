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
}

/** An RPC failure carrying a Connect code; thrown by clients and handlers. */
export class RpcError extends Error {
  /** The Connect error code. */
  readonly code: ConnectCode;
  /** The service that produced the error, when known. */
  readonly peer?: string;

  /** Creates an error with a Connect code and a human-readable message. */
  constructor(code: ConnectCode, message: string, options: RpcErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = "RpcError";
    this.code = code;
    this.peer = options.peer;
  }

  /** The HTTP status this error is answered with. */
  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }

  /** The Connect JSON error body. */
  toJSON(): ConnectErrorBody {
    return { code: this.code, message: this.message };
  }

  /**
   * The Connect error response: the JSON body with the code's HTTP status,
   * unless `init` says otherwise (an oversized body is 413, say).
   *
   * @example Answer a handler's failure
   * ```ts
   * import { RpcError } from "./errors.ts";
   * const response = new RpcError("not_found", "no order 42").toResponse();
   * console.assert(response.status === 404);
   * ```
   */
  toResponse(init: ResponseInit = {}): Response {
    return Response.json(this.toJSON(), { status: this.httpStatus, ...init });
  }

  /**
   * `error` itself when it is an {@linkcode RpcError}; otherwise a new one
   * with `fallbackCode` that keeps `error` as its cause. An `internal` error
   * says only "internal error", so that nothing of a bug's details reaches a
   * caller; any other code carries the error's message.
   *
   * @example
   * ```ts
   * import { RpcError } from "./errors.ts";
   * console.assert(RpcError.from(new TypeError("boom")).message === "internal error");
   * console.assert(RpcError.from(new Error("gone"), "unknown").message === "gone");
   * ```
   */
  static from(error: unknown, fallbackCode: ConnectCode = "internal"): RpcError {
    if (error instanceof RpcError) return error;
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
