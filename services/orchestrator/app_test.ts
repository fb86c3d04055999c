/**
 * The orchestrator's faces in memory: every error of the REST face is
 * `{error: {code, message}}` with the code's HTTP status (a form post 415), and
 * the Connect face's a Connect error, both from the kit's one handler.
 */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import { createApp } from "./app.ts";

async function orchestrator() {
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID() });
  const kv = await Deno.openKv(":memory:");
  // The peers are unreachable: every answer here comes before any of them would be called.
  const fetch = () => Promise.reject(new TypeError("connection refused"));
  const service = createApp({ config, kv, fetch, log: createLogger("test", { write: () => {} }) });
  return { app: service.app, maxBodyBytes: config.maxBodyBytes, [Symbol.dispose]: () => kv.close() };
}

const post = (body: string, contentType = "application/json") => ({
  method: "POST",
  headers: { "content-type": contentType },
  body,
});

Deno.test("the REST face answers every error as {error: {code, message}} with the code's HTTP status", async () => {
  using orch = await orchestrator();
  const cases: [string, RequestInit | undefined, number, string, RegExp][] = [
    [
      "/checkout",
      post("{}", "text/plain"),
      415,
      "invalid_argument",
      /Content-Type must be application\/json, not "text\/plain"/,
    ],
    ["/checkout", { method: "POST", body: "{}" }, 415, "invalid_argument", /not "text\/plain"/],
    ["/checkout", post("{"), 400, "invalid_argument", /not valid JSON/],
    ["/checkout", post('{"items":"many"}'), 400, "invalid_argument", /items/],
    ["/checkout", post(" ".repeat(orch.maxBodyBytes + 1)), 413, "resource_exhausted", /exceeds/],
    ["/orders/" + "x".repeat(65), undefined, 400, "invalid_argument", /invalid order id/],
    ["/orders/no-such-order", undefined, 404, "not_found", /no order no-such-order/],
    ["/no/such/thing", undefined, 404, "not_found", /no route for GET \/no\/such\/thing/],
  ];
  for (const [path, init, status, code, message] of cases) {
    const response = await orch.app.request(path, init);
    const body = await response.json();
    assert.equal(response.status, status, `${path}: ${JSON.stringify(body)}`);
    assert.equal(body.error?.code, code, path);
    assert.match(body.error.message, message);
  }
});

Deno.test("the Connect face answers its errors as Connect errors", async () => {
  using orch = await orchestrator();
  const response = await orch.app.request("/bookstore.v1.CheckoutService/PlaceOrder", post("{}", "text/plain"));
  assert.equal(response.status, 415);
  const body = await response.json();
  assert.equal(body.code, "unimplemented");
  assert.match(body.message, /this server speaks Connect JSON/);
  const invalid = await orch.app.request("/bookstore.v1.CheckoutService/GetOrder", post('{"nope":1}'));
  assert.equal(invalid.status, 400);
  assert.equal((await invalid.json()).code, "invalid_argument");
});
