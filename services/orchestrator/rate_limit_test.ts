/**
 * The checkout's per-client rate limit: the token bucket with a fake clock,
 * and the orchestrator's app in memory answering 429 `resource_exhausted`
 * with `Retry-After` on both faces, per client address, and not at all when
 * the limit is 0.
 */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import { createApp } from "./app.ts";
import { Hono } from "hono";
import { RpcError } from "@bookstore/lib/rpc";
import { rateLimit, RateLimiter } from "./rate_limit.ts";

Deno.test("a bucket holds one second's worth and refills at the limit", () => {
  let now = 1000;
  const limiter = new RateLimiter({ limit: 4, now: () => now });
  for (let i = 0; i < 4; i++) assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.take("a"), 250);
  now += 250;
  assert.equal(limiter.take("a"), 0, "a quarter second buys one more");
  assert.equal(limiter.take("a"), 250);
  now += 10_000;
  for (let i = 0; i < 4; i++) assert.equal(limiter.take("a"), 0, "a long pause buys no more than the burst");
  assert.ok(limiter.take("a") > 0);
});

Deno.test("limit 0 turns limiting off", () => {
  const limiter = new RateLimiter({ limit: 0 });
  assert.equal(limiter.enabled, false);
  for (let i = 0; i < 1000; i++) assert.equal(limiter.take("a"), 0);
});

Deno.test("the oldest idle client is forgotten past maxClients", () => {
  const limiter = new RateLimiter({ limit: 1, now: () => 0, maxClients: 2 });
  assert.equal(limiter.take("a"), 0);
  assert.equal(limiter.take("b"), 0);
  assert.equal(limiter.take("c"), 0);
  assert.equal(limiter.take("a"), 0, "a was dropped, so it starts with a full bucket");
  assert.ok(limiter.take("c") > 0, "c is still tracked");
});

Deno.test("over the limit the middleware throws resource_exhausted carrying Retry-After", async () => {
  const app = new Hono();
  const thrown: unknown[] = [];
  app.onError((error) => {
    thrown.push(error);
    return new Response(null, { status: 599 });
  });
  app.post("/checkout", rateLimit(new RateLimiter({ limit: 1, now: () => 0 })), (c) => c.text("placed"));
  assert.equal((await app.request("/checkout", { method: "POST" })).status, 200);
  assert.equal((await app.request("/checkout", { method: "POST" })).status, 599);
  const [error] = thrown;
  assert.ok(error instanceof RpcError);
  assert.equal(error.code, "resource_exhausted");
  assert.equal(new Headers(error.headers).get("retry-after"), "1");
});

async function orchestrator(limit: string, trustedProxies = "") {
  const config = loadConfig({
    BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(),
    CHECKOUT_RATE_LIMIT: limit,
    BOOKSTORE_TRUSTED_PROXIES: trustedProxies,
  });
  const kv = await Deno.openKv(":memory:");
  // The peers are unreachable: the limit answers before any of them would be called.
  const fetch = () => Promise.reject(new TypeError("connection refused"));
  const service = createApp({ config, kv, fetch, log: createLogger("test", { write: () => {} }) });
  const post = async (path: string, address: string, forwardedFor?: string) => {
    const response = await service.app.request(path, {
      method: "POST",
      headers: { "content-type": "application/json", ...forwardedFor && { "x-forwarded-for": forwardedFor } },
      body: "{}",
    }, { remoteAddr: { hostname: address, port: 1, transport: "tcp" } });
    return response;
  };
  return { post, [Symbol.dispose]: () => kv.close() };
}

Deno.test("over the limit a checkout gets 429 resource_exhausted with Retry-After, REST and Connect alike", async () => {
  using app = await orchestrator("2");
  // Sent at once: on a loaded machine, one after the other could take long enough to refill the bucket.
  const burst = (path: string, count: number) =>
    Promise.all(Array.from({ length: count }, () => app.post(path, "127.0.0.11")));
  // Within the limit the (empty) order goes on to validation, whose peers are unreachable here.
  const rest = await burst("/checkout", 3);
  assert.equal(rest.filter((r) => r.status !== 429).length, 2, `statuses ${rest.map((r) => r.status)}`);
  const refused = rest.find((r) => r.status === 429)!;
  assert.ok(Number(refused.headers.get("retry-after")) >= 1);
  const body = await refused.json();
  assert.equal(body.error.code, "resource_exhausted");
  assert.match(body.error.message, /too many checkouts from this client: at most 2 a second/);
  const connect = (await burst("/bookstore.v1.CheckoutService/PlaceOrder", 3)).find((r) => r.status === 429);
  assert.ok(connect, "a Connect call over the limit is refused too");
  assert.ok(connect.headers.get("retry-after"));
  assert.equal((await connect.json()).code, "resource_exhausted");
  assert.notEqual((await app.post("/checkout", "127.0.0.12")).status, 429, "another address has its own limit");
});

Deno.test("CHECKOUT_RATE_LIMIT=0 never refuses", async () => {
  using app = await orchestrator("0");
  for (let i = 0; i < 50; i++) assert.notEqual((await app.post("/checkout", "127.0.0.11")).status, 429);
});

Deno.test("behind a trusted load balancer each client it forwards has its own limit; others cannot claim one", async () => {
  using app = await orchestrator("1", "127.0.0.2");
  assert.notEqual((await app.post("/checkout", "127.0.0.2", "127.0.0.21")).status, 429);
  assert.equal((await app.post("/checkout", "127.0.0.2", "127.0.0.21")).status, 429, "the same client again");
  assert.notEqual(
    (await app.post("/checkout", "127.0.0.2", "127.0.0.22")).status,
    429,
    "another client, same balancer",
  );
  // Not the balancer: its header is its own invention, and its own address is what counts.
  assert.notEqual((await app.post("/checkout", "127.0.0.3", "127.0.0.31")).status, 429);
  assert.equal((await app.post("/checkout", "127.0.0.3", "127.0.0.32")).status, 429);
});
