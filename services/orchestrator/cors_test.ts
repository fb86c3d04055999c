import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import { createApp } from "./app.ts";

/** The orchestrator on an in-memory KV, with `env`; nothing is reached, only its CORS answers. */
async function orchestrator(env: Record<string, string>) {
  const kv = await Deno.openKv(":memory:");
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(), BOOKSTORE_LOG_LEVEL: "error", ...env });
  const service = createApp({
    config,
    kv,
    log: createLogger("test", { level: "error", write: () => {} }),
    fetch: () => Promise.reject(new TypeError("no network in this test")),
  });
  return {
    preflight: async (origin: string, path = "/checkout") => {
      const response = await service.app.request(path, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "content-type,idempotency-key",
        },
      });
      await response.body?.cancel();
      return response.headers;
    },
    [Symbol.dispose]: () => {
      service[Symbol.dispose]();
      kv.close();
    },
  };
}

Deno.test("the orchestrator admits the shop's origin alone by default", async () => {
  using app = await orchestrator({ WEB_ORIGIN: "http://localhost:8000" });
  assert.equal(
    (await app.preflight("http://localhost:8000")).get("access-control-allow-origin"),
    "http://localhost:8000",
  );
  assert.equal(
    (await app.preflight("http://127.0.0.1:8000")).get("access-control-allow-origin"),
    "http://127.0.0.1:8000",
  );
  assert.equal((await app.preflight("http://localhost:5500")).get("access-control-allow-origin"), null);
});

Deno.test("the orchestrator admits exactly the CORS_ORIGINS, never with credentials", async () => {
  using app = await orchestrator({ CORS_ORIGINS: "http://127.0.0.1:5500,https://course.example" });
  for (const origin of ["http://127.0.0.1:5500", "http://localhost:5500", "https://course.example"]) {
    const headers = await app.preflight(origin);
    assert.equal(headers.get("access-control-allow-origin"), origin, origin);
    assert.equal(headers.get("access-control-allow-credentials"), null, `${origin}: credentials`);
    assert.match(headers.get("access-control-allow-headers") ?? "", /Idempotency-Key/i);
    assert.match(headers.get("vary") ?? "", /origin/i, "caches keep answers to different origins apart");
  }
  for (const origin of ["http://localhost:8000", "https://evil.example", "http://course.example", "null"]) {
    assert.equal((await app.preflight(origin)).get("access-control-allow-origin"), null, origin);
  }
  const connect = await app.preflight("https://course.example", "/bookstore.v1.CheckoutService/PlaceOrder");
  assert.equal(connect.get("access-control-allow-origin"), "https://course.example", "the Connect API too");
});
