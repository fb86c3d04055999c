/**
 * The Connect RPC layer in memory: the routes' app answers through
 * `app.request`, and clients reach it through a `fetch` that hands it each
 * request, so no server starts. Credential, validation with field paths,
 * size limit, deadlines, error mapping, retries of idempotent calls only,
 * and the circuit breaker.
 */
import assert from "node:assert/strict";
import { Hono } from "hono";
import { z } from "zod";
import { eventually } from "./support/wait.ts";
import { delay } from "@bookstore/lib/async";
import { createLogger } from "@bookstore/lib/log";
import {
  createClient,
  createRpcRoutes,
  defineService,
  FaultInjector,
  HTTP_STATUS_BY_CODE,
  method,
  RpcError,
} from "@bookstore/lib/rpc";

const TOKEN = "test-token-0123456789";

const echoService = defineService("bookstore.v1.EchoService", {
  methods: {
    Echo: method(
      z.object({ text: z.string().max(100).default(""), times: z.number().int().min(0).max(10).default(1) }),
      { output: z.object({ text: z.string() }), idempotent: true },
    ),
    Create: method(z.object({ name: z.string().default("") }), {
      output: z.object({ id: z.string() }),
      idempotent: false,
    }),
    Slow: method(z.object({ ms: z.number().int().default(0) }), { output: z.object({}), idempotent: false }),
    Broken: method(z.object({}), { output: z.object({ n: z.number() }), idempotent: false }),
  },
});

const URL_BASE = "http://echo.test";

/** An echo service's routes, and a `fetch` that reaches them in memory (or fails like a dead peer while `down`). */
function startServer(options: { checkResponses?: boolean } = {}) {
  const calls = { Echo: 0, Create: 0 };
  const faults = new FaultInjector();
  const app = new Hono();
  app.route(
    "/",
    createRpcRoutes(echoService, {
      token: TOKEN,
      log: createLogger("test", { level: "error", write: () => {} }),
      maxBodyBytes: 2048,
      faults,
      checkResponses: options.checkResponses,
      handlers: {
        Echo: ({ text, times }) => {
          calls.Echo += 1;
          return { text: text.repeat(times) };
        },
        Create: ({ name }) => {
          calls.Create += 1;
          if (name === "taken") throw new RpcError("already_exists", `name: "${name}" is taken`);
          return { id: `id-${name}` };
        },
        Slow: async ({ ms }, ctx) => {
          await delay(ms, { signal: ctx.signal });
          return {};
        },
        // deno-lint-ignore no-explicit-any
        Broken: () => ({ n: "not a number" }) as any,
      },
    }),
  );
  const peer = { down: false };
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (peer.down) return Promise.reject(new TypeError("error sending request: connection refused"));
    return Promise.resolve(app.request(input instanceof Request ? input : String(input), init));
  };
  return { app, fetch, peer, calls, faults, url: URL_BASE };
}

async function post(app: Hono, path: string, init: { body: string; headers?: Record<string, string> }) {
  const response = await app.request(URL_BASE + path, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...init.headers },
    body: init.body,
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("a call without the credential gets unauthenticated and the server keeps serving", async () => {
  const { app } = startServer();
  const denied = await post(app, "/bookstore.v1.EchoService/Echo", {
    body: "{}",
    headers: { authorization: "" },
  });
  assert.equal(denied.status, 401);
  assert.equal(denied.body.code, "unauthenticated");
  const wrong = await post(app, "/bookstore.v1.EchoService/Echo", {
    body: "{}",
    headers: { authorization: "Bearer nope" },
  });
  assert.equal(wrong.body.code, "unauthenticated");
  const ok = await post(app, "/bookstore.v1.EchoService/Echo", { body: '{"text":"hi","times":2}' });
  assert.deepEqual(ok, { status: 200, body: { text: "hihi" } });
});

Deno.test("malformed JSON, a wrong field type, another codec and an oversized body get the right Connect errors", async () => {
  const { app } = startServer();
  const malformed = await post(app, "/bookstore.v1.EchoService/Echo", { body: "{not json" });
  assert.equal(malformed.status, 400);
  assert.equal(malformed.body.code, "invalid_argument");
  assert.match(malformed.body.message, /not valid JSON/);

  const wrongType = await post(app, "/bookstore.v1.EchoService/Echo", { body: '{"text": 42}' });
  assert.equal(wrongType.status, 400);
  assert.equal(wrongType.body.code, "invalid_argument");
  assert.match(wrongType.body.message, /text/);

  const outOfRange = await post(app, "/bookstore.v1.EchoService/Echo", { body: '{"times": 11}' });
  assert.match(outOfRange.body.message, /times/);

  const huge = await post(app, "/bookstore.v1.EchoService/Echo", {
    body: JSON.stringify({ text: "x".repeat(5000) }),
  });
  assert.equal(huge.status, 413);
  assert.equal(huge.body.code, "resource_exhausted");

  const binary = await post(app, "/bookstore.v1.EchoService/Echo", {
    body: "{}",
    headers: { "content-type": "application/proto" },
  });
  assert.equal(binary.status, 415);
  assert.match(binary.body.message, /application\/json/);

  const ok = await post(app, "/bookstore.v1.EchoService/Echo", { body: '{"text":"still here"}' });
  assert.equal(ok.body.text, "still here");
});

Deno.test("a missing field reads as its proto3 default, an unknown route is not found", async () => {
  const { app, fetch, url } = startServer();
  const defaults = await post(app, "/bookstore.v1.EchoService/Echo", { body: "" });
  assert.deepEqual(defaults.body, { text: "" });
  const missing = await fetch(`${url}/bookstore.v1.EchoService/Nope`, { method: "POST", body: "{}" });
  await missing.body?.cancel();
  assert.equal(missing.status, 404);
});

Deno.test("the client maps errors back to codes and validates responses", async () => {
  const { fetch, url } = startServer();
  const client = createClient(echoService, { baseUrl: url, peer: "echo", token: TOKEN, timeoutMs: 1000, fetch });
  assert.deepEqual(await client.Create({ name: "a" }), { id: "id-a" });
  await assert.rejects(() => client.Create({ name: "taken" }), (error: RpcError) => {
    assert.equal(error.code, "already_exists");
    assert.equal(error.peer, "echo");
    return true;
  });
  // A handler that answers the wrong shape is caught by the client, which validates every response it receives.
  await assert.rejects(
    () => client.Broken({}),
    (error: RpcError) => error.code === "internal" && /sent an invalid .*Broken response/.test(error.message),
  );
  const anonymous = createClient(echoService, { baseUrl: url, peer: "echo", timeoutMs: 1000, fetch });
  await assert.rejects(() => anonymous.Echo({}), (error: RpcError) => error.code === "unauthenticated");
});

Deno.test("senders validate what they send only when asked to (as the test clusters do)", async () => {
  const checked = startServer({ checkResponses: true });
  const broken = await post(checked.app, "/bookstore.v1.EchoService/Broken", { body: "{}" });
  assert.equal(broken.status, 500);
  assert.deepEqual(broken.body, { code: "internal", message: "the service produced an invalid response" });
  const unchecked = startServer();
  const sent = await post(unchecked.app, "/bookstore.v1.EchoService/Broken", { body: "{}" });
  assert.deepEqual(sent, { status: 200, body: { n: "not a number" } }, "the receiver's check is the one that counts");

  const { fetch, url, calls } = startServer();
  const strict = createClient(echoService, {
    baseUrl: url,
    peer: "echo",
    token: TOKEN,
    timeoutMs: 1000,
    fetch,
    checkRequests: true,
  });
  await assert.rejects(
    () => strict.Echo({ times: 11 }),
    (error: RpcError) => error.code === "invalid_argument" && /invalid request to .*Echo/.test(error.message),
  );
  assert.equal(calls.Echo, 0, "refused before it was sent");
  const lax = createClient(echoService, { baseUrl: url, peer: "echo", token: TOKEN, timeoutMs: 1000, fetch });
  await assert.rejects(() => lax.Echo({ times: 11 }), (error: RpcError) => /times/.test(error.message));
  assert.equal(calls.Echo, 0, "the server refused it: its handler never ran");
});

Deno.test("Connect-Timeout-Ms is enforced by the server and the client", async () => {
  const { app, fetch, url } = startServer();
  const started = Date.now();
  const late = await post(app, "/bookstore.v1.EchoService/Slow", {
    body: '{"ms": 2000}',
    headers: { "connect-timeout-ms": "100" },
  });
  assert.equal(late.status, HTTP_STATUS_BY_CODE.deadline_exceeded);
  assert.equal(late.body.code, "deadline_exceeded");
  assert.ok(Date.now() - started < 1500, "the server answered at the deadline, not after the handler");
  const bad = await post(app, "/bookstore.v1.EchoService/Slow", {
    body: "{}",
    headers: { "connect-timeout-ms": "soon" },
  });
  assert.equal(bad.body.code, "invalid_argument");

  const client = createClient(echoService, { baseUrl: url, peer: "echo", token: TOKEN, timeoutMs: 100, fetch });
  await assert.rejects(() => client.Slow({ ms: 2000 }), (error: RpcError) => error.code === "deadline_exceeded");
});

Deno.test("only idempotent calls are retried", async () => {
  const { fetch, url, calls, faults } = startServer();
  const client = createClient(echoService, {
    baseUrl: url,
    peer: "echo",
    token: TOKEN,
    timeoutMs: 1000,
    retries: 2,
    breaker: false,
    fetch,
  });
  faults.set([{ method: "Echo", delayMs: 0, failWith: "unavailable", times: 2 }]);
  assert.deepEqual(await client.Echo({ text: "x" }), { text: "x" });
  assert.equal(calls.Echo, 1, "two injected failures, then one real call");

  faults.set([{ method: "Create", delayMs: 0, failWith: "unavailable", times: 1 }]);
  await assert.rejects(() => client.Create({ name: "b" }), (error: RpcError) => error.code === "unavailable");
  assert.equal(calls.Create, 0, "a non-idempotent call is not repeated");
});

Deno.test("the circuit breaker fails fast on a dead peer and recovers when it returns", async () => {
  const { fetch, url, peer } = startServer();
  peer.down = true;
  const client = createClient(echoService, {
    baseUrl: url,
    peer: "echo",
    token: TOKEN,
    timeoutMs: 1000,
    retries: 0,
    breaker: { threshold: 3, halfOpenAfterMs: 300 },
    fetch,
  });
  for (let i = 0; i < 3; i++) {
    await assert.rejects(() => client.Echo({}), (error: RpcError) => error.code === "unavailable");
  }
  await assert.rejects(() => client.Echo({}), (error: RpcError) => /circuit open/.test(error.message));

  peer.down = false;
  const answer = await eventually(() => client.Echo({ text: "back" }).catch(() => undefined), {
    message: "the breaker to let a trial call through",
  });
  assert.deepEqual(answer, { text: "back" });
});
