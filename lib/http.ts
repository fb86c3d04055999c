/**
 * What every app's HTTP face shares: the one handler from a thrown error to
 * its response, and reading a request's media type.
 *
 * @module
 */
import type { Context } from "hono";
import type { Logger } from "./log.ts";
import { type ErrorShape, RpcError } from "./rpc/errors.ts";

/**
 * The media type of a `Content-Type` header, lower-cased and without its
 * parameters (`application/json; charset=utf-8` → `application/json`); ""
 * when there is none.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mediaType } from "./http.ts";
 *
 * assert.equal(mediaType(new Headers({ "content-type": "Application/JSON; charset=utf-8" })), "application/json");
 * assert.equal(mediaType(new Headers()), "");
 * ```
 */
export function mediaType(headers: Headers): string {
  const header = headers.get("content-type");
  if (header === null) return "";
  // The common case needs no splitting.
  if (header === "application/json") return header;
  return header.split(";")[0].trim().toLowerCase();
}

/**
 * The one way from a thrown error to a response, installed as an app's
 * `onError` (as Hono's default handler answers `HTTPException.getResponse()`).
 * An {@linkcode RpcError} is answered as itself, with its status and
 * headers; anything else is logged and answered `internal`, without its
 * details. `shapeOf` says which body a request gets (default: Connect's).
 */
export function errorHandler(
  log: Logger,
  shapeOf: (c: Context) => ErrorShape = () => "connect",
): (error: unknown, c: Context) => Response {
  return (error, c) => {
    if (!(error instanceof RpcError)) log.error("unhandled error", { error, path: c.req.path });
    return RpcError.from(error, "internal").toResponse(shapeOf(c));
  };
}
