/** The server's deadline: `Connect-Timeout-Ms` is honoured up to the server's maximum, and capped past it. */
import assert from "node:assert/strict";
import { z } from "zod";
import { createLogger } from "../log.ts";
import { defineService, method } from "./define.ts";
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
