/**
 * Per-client rate limiting of the public checkout: a token bucket per
 * client address that refills `limit` tokens a second and holds at most
 * `limit` (one second's burst). A checkout over the limit is answered 429
 * `resource_exhausted` with `Retry-After` before its body is even read, so
 * a flood costs the orchestrator next to nothing and reaches no validator.
 *
 * The address is the TCP peer's, never a header the client chose
 * (`X-Forwarded-For` is not trusted): behind a proxy every client shares the
 * proxy's bucket, so raise the limit or set it in the proxy.
 *
 * @module
 */
import { clientAddress } from "@bookstore/lib/client_address";
import type { Context, MiddlewareHandler } from "hono";
import { RpcError } from "@bookstore/lib/rpc";

/** Options for {@linkcode RateLimiter}. */
export interface RateLimiterOptions {
  /** Requests a second per client; 0 turns limiting off. */
  limit: number;
  /** The clock (ms), replaceable in tests. */
  now?: () => number;
  /** Most clients tracked at once; idle buckets are dropped first (default 10,000). */
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/**
 * Token buckets by client.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { RateLimiter } from "./rate_limit.ts";
 *
 * let now = 0;
 * const limiter = new RateLimiter({ limit: 2, now: () => now });
 * assert.equal(limiter.take("127.0.0.11"), 0);
 * assert.equal(limiter.take("127.0.0.11"), 0);
 * assert.equal(limiter.take("127.0.0.11"), 500, "the third within a second waits half a second");
 * assert.equal(limiter.take("127.0.0.12"), 0, "another client has its own bucket");
 * now = 500;
 * assert.equal(limiter.take("127.0.0.11"), 0);
 * ```
 */
export class RateLimiter {
  readonly #limit: number;
  readonly #now: () => number;
  readonly #maxClients: number;
  readonly #buckets = new Map<string, Bucket>();

  /** Creates the limiter. */
  constructor(options: RateLimiterOptions) {
    this.#limit = options.limit;
    this.#now = options.now ?? Date.now;
    this.#maxClients = options.maxClients ?? 10_000;
  }

  /** Requests a second per client (0: off). */
  get limit(): number {
    return this.#limit;
  }

  /** Whether limiting is on. */
  get enabled(): boolean {
    return this.#limit > 0;
  }

  /** Takes a token for `client`: answers 0 when allowed, or how many ms until one is available. */
  take(client: string): number {
    if (!this.enabled) return 0;
    const now = this.#now();
    const bucket = this.#buckets.get(client) ?? { tokens: this.#limit, at: now };
    bucket.tokens = Math.min(this.#limit, bucket.tokens + ((now - bucket.at) / 1000) * this.#limit);
    bucket.at = now;
    // Re-inserting keeps the map in order of last use, so the oldest idle client is first.
    this.#buckets.delete(client);
    this.#buckets.set(client, bucket);
    if (this.#buckets.size > this.#maxClients) this.#buckets.delete(this.#buckets.keys().next().value!);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - bucket.tokens) / this.#limit) * 1000);
  }
}

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Load balancers whose `X-Forwarded-For` names the client (`lib/client_address.ts`). @default [] */
  trustedProxies?: readonly string[];
}

// The TCP peer's address of a request served by `Deno.serve` (Hono's `c.env`); "unknown" in memory.
function peerAddress(c: Context): string {
  const env = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return env?.remoteAddr?.hostname ?? "unknown";
}

/**
 * A middleware that throws 429 `resource_exhausted` carrying `Retry-After`
 * when the client is over its limit; the app's one error handler answers it
 * in the shape of the face it was sent to.
 */
export function rateLimit(limiter: RateLimiter, options: RateLimitOptions = {}): MiddlewareHandler {
  return async (c, next) => {
    const client = clientAddress(c.req.raw, { peer: peerAddress(c), trustedProxies: options.trustedProxies });
    const waitMs = limiter.take(client);
    if (waitMs === 0) return await next();
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    throw new RpcError(
      "resource_exhausted",
      `too many checkouts from this client: at most ${limiter.limit} a second; retry after ${retryAfter} s`,
      { headers: { "Retry-After": String(retryAfter) } },
    );
  };
}
