/**
 * Which browser pages may call the orchestrator's public API: exactly the
 * configured origins (`CORS_ORIGINS`, by default the shop's), never with
 * credentials, so that a page elsewhere (a course's own checkout page on its
 * own port) works by configuration, and no other page can read an answer.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { originAliases } from "@bookstore/lib/origins";

// What a browser may send on a cross-origin call: Connect's headers and the idempotency key.
const ALLOWED_HEADERS = ["Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Idempotency-Key"];

/** The CORS middleware admitting exactly `origins`, each in every spelling ({@linkcode originAliases}), without credentials. */
export function corsFor(origins: readonly string[]): MiddlewareHandler {
  const admitted = new Set(origins.flatMap(originAliases));
  return cors({
    origin: (origin) => admitted.has(origin) ? origin : null,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ALLOWED_HEADERS,
    exposeHeaders: ["Retry-After"],
    credentials: false,
    maxAge: 600,
  });
}
