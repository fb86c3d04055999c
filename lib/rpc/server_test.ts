/**
 * The server on `app.request`: `Connect-Timeout-Ms` is honoured up to the server's maximum and capped past it, and
 * every failure is answered as a Connect error with its HTTP status.
 */
import assert from "node:assert/strict";
import { z } from "zod";
import { createLogger } from "../log.ts";
import { defineService, method } from "./define.ts";
import { RpcError } from "./errors.ts";
import { createRpcRoutes, MAX_TIMEOUT_MS } from "./server.ts";

const clockService = defineService("bookstore.v1.ClockService", {
  public: true,
  methods: { Deadline: method(z.object({}), { output: z.object({}), idempotent: true }) },
});

/** Calls `Deadline` with `timeout` as its Connect-Timeout-Ms; answers the deadline its handler saw, and when it asked. */
async function deadlineFor(timeout: string) {
  const seen: { deadline?: number } = {};
  const app = createRpcRoutes(clockService, {
    log: createLogger("test", { level: "error", write: () => {} }),
    maxBodyBytes: 1024,
    handlers: {
      Deadline: (_input, ctx) => {
        seen.deadline = ctx.deadline;
        return {};
      },
    },
  });
  const before = Date.now();
  const response = await app.request("http://clock.test/bookstore.v1.ClockService/Deadline", {
    method: "POST",
    headers: { "content-type": "application/json", "connect-timeout-ms": timeout },
    body: "{}",
  });
  const after = Date.now();
  assert.equal(response.status, 200, await response.text());
  assert.ok(seen.deadline !== undefined, "the handler got a deadline");
  return { deadline: seen.deadline, before, after };
}

Deno.test("a Connect-Timeout-Ms past the server's maximum is served with the maximum", async () => {
  // Ten digits is what Connect allows a caller to ask for: about 115 days.
  const { deadline, before, after } = await deadlineFor("9999999999");
  assert.ok(deadline <= after + MAX_TIMEOUT_MS, `deadline ${deadline - after} ms away, over ${MAX_TIMEOUT_MS}`);
  assert.ok(deadline >= before + MAX_TIMEOUT_MS, "capped at the maximum, not shorter");
});

Deno.test("a Connect-Timeout-Ms within the maximum is the deadline as asked", async () => {
  const { deadline, before, after } = await deadlineFor("250");
  assert.ok(deadline >= before + 250 && deadline <= after + 250, `deadline ${deadline - before} ms away`);
  const exact = await deadlineFor(String(MAX_TIMEOUT_MS));
  assert.ok(exact.deadline >= exact.before + MAX_TIMEOUT_MS && exact.deadline <= exact.after + MAX_TIMEOUT_MS);
});

const failingService = defineService("bookstore.v1.FailingService", {
  methods: { Fail: method(z.object({ kind: z.string() }), { output: z.object({}), idempotent: true }) },
});

/** The RPC routes of a service whose one method fails as its input says. */
function failingApp() {
  return createRpcRoutes(failingService, {
    log: createLogger("test", { level: "error", write: () => {} }),
    token: "a-token-of-16-chars",
    maxBodyBytes: 64,
    handlers: {
      Fail: ({ kind }) => {
        if (kind === "missing") throw new RpcError("not_found", "no such thing");
        if (kind === "slow") throw new DOMException("Signal timed out.", "TimeoutError");
        throw new TypeError("a bug's details");
      },
    },
  });
}

const call = (init: { body: string; headers?: Record<string, string> }) =>
  failingApp().request("http://failing.test/bookstore.v1.FailingService/Fail", {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer a-token-of-16-chars", ...init.headers },
    body: init.body,
  });

Deno.test("every failure of an RPC is a Connect error {code, message} with the code's HTTP status", async () => {
  const cases: [Response, number, string, RegExp][] = [
    [await call({ body: '{"kind":"missing"}' }), 404, "not_found", /no such thing/],
    [await call({ body: '{"kind":"slow"}' }), 504, "deadline_exceeded", /deadline passed/],
    [await call({ body: '{"kind":"bug"}' }), 500, "internal", /^internal error$/],
    [await call({ body: "{" }), 400, "invalid_argument", /not valid JSON/],
    [await call({ body: '{"kind":"x","extra":1}' }), 400, "invalid_argument", /unknown field extra/],
    [await call({ body: "{}", headers: { authorization: "Bearer wrong" } }), 401, "unauthenticated", /credential/],
    [await call({ body: "{}", headers: { "content-type": "text/plain" } }), 415, "unimplemented", /text\/plain/],
    [await call({ body: `{"kind":"${"x".repeat(100)}"}` }), 413, "resource_exhausted", /exceeds 64 bytes/],
  ];
  for (const [response, status, code, message] of cases) {
    const body = await response.json();
    assert.equal(response.status, status, JSON.stringify(body));
    assert.equal(response.headers.get("content-type"), "application/json");
    assert.equal(body.code, code);
    assert.match(body.message, message);
  }
  const unsupported = await call({ body: "{}", headers: { "content-type": "text/plain; charset=utf-8" } });
  assert.equal(unsupported.headers.get("accept-post"), "application/json", "a 415 names the codec that is spoken");
  await unsupported.body?.cancel();
});
