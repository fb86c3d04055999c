import assert from "node:assert/strict";
import { loadConfig } from "./config.ts";
import { createLogger } from "./log.ts";
import type { RpcError } from "./rpc/errors.ts";
import { orderEventsService } from "./contracts/mod.ts";
import { EventProtocol, MAX_CLEARED_ANSWERS } from "./event_protocol.ts";
import { createClient } from "./rpc/client.ts";
import { compare } from "./vector_clock.ts";

function validator(lines: string[] = []) {
  const config = loadConfig({ ORDER_CACHE_TTL_MS: "1000", CHECKOUT_TIMEOUT_MS: "900", RPC_TIMEOUT_MS: "500" });
  const log = createLogger("test", { write: (line) => lines.push(line) });
  const orchestrator = createClient(orderEventsService, {
    baseUrl: config.urls.orchestrator,
    peer: "orchestrator",
    token: "x".repeat(16),
    timeoutMs: config.rpcTimeoutMs,
  });
  const pass = { check: () => ({ ok: true }) };
  return new EventProtocol<string>("fraud_detection", {
    config,
    log,
    orchestrator,
    events: { d: pass, e: pass },
    peers: { suggestions: () => Promise.resolve() },
  });
}

Deno.test("events tick the process's slot on top of their causal basis", async () => {
  const v = validator();
  try {
    v.init("o1", "data");
    const b = { "transaction_verification.user": 1 };
    const c = { "transaction_verification.items": 2 };
    const slot = v.receive({ orderId: "o1", event: "b", clock: b })!;
    const d = await v.run(slot, { name: "d", check: () => ({ ok: true }) });
    v.receive({ orderId: "o1", event: "c", clock: c });
    const e = await v.run(slot, { name: "e", check: () => ({ ok: true }) });
    assert.equal(d!.clock.fraud_detection, 1);
    assert.equal(compare(d!.clock, e!.clock), "before");
    assert.equal(compare(c, e!.clock), "before");
    assert.equal(
      v.receive({ orderId: "o1", event: "b", clock: b }),
      undefined,
      "a repeated delivery is ignored",
    );
    assert.deepEqual(slot.events.map((event) => event.name), ["d", "e"]);
    assert.throws(
      () => v.receive({ orderId: "o1", event: "f", clock: {} }),
      /event: fraud_detection advances on "b" or "c", not "f"/,
    );
  } finally {
    v.close();
  }
});

Deno.test("ClearOrder checks the local clock against the final one, logs a violation, and drops the order", async () => {
  const lines: string[] = [];
  const v = validator(lines);
  try {
    v.init("ok", "data");
    await v.run(v.slot("ok"), { name: "d", check: () => ({ ok: true }) });
    const cleared = v.clear("ok", { fraud_detection: 1, suggestions: 1 });
    assert.equal(cleared.consistent, true);
    assert.throws(() => v.slot("ok"), (error: RpcError) => error.code === "not_found");
    assert.deepEqual(v.clear("ok", {}), cleared, "a retried ClearOrder gets the same answer");

    v.init("bad", "data");
    await v.run(v.slot("bad"), { name: "d", check: () => ({ ok: true }) });
    assert.equal(v.clear("bad", {}).consistent, false);
    assert.ok(lines.some((line) => line.includes("local clock is not <= the final clock") && line.includes('"bad"')));
  } finally {
    v.close();
  }
});

Deno.test("a cancelled order runs nothing more; an unfinished one is dropped after its TTL", async () => {
  const v = validator();
  try {
    v.init("c", "data");
    v.cancel("c");
    assert.equal(await v.run(v.slot("c"), { name: "d", check: () => ({ ok: true }) }), undefined);
    const first = v.slot("c");
    v.init("c", "again");
    assert.ok(first.cancelled, "a re-initialised order cancels its stale predecessor");
    assert.equal(v.slot("c").data, "again");
    v.init("forgotten", "data");
    v.sweep(Date.now() + 999);
    assert.equal(v.size, 2);
    v.sweep(Date.now() + 1001);
    assert.equal(v.size, 0, "no service leaks orders the orchestrator never finished");
  } finally {
    v.close();
  }
});

Deno.test("cleared answers are kept for retries, but never more than MAX_CLEARED_ANSWERS", () => {
  const v = validator();
  try {
    for (let i = 0; i <= MAX_CLEARED_ANSWERS; i++) {
      v.init(`o${i}`, "data");
      v.clear(`o${i}`, {});
    }
    assert.deepEqual(v.clear(`o${MAX_CLEARED_ANSWERS}`, {}).events, [], "the newest answer is still there");
    assert.throws(() => v.clear("o0", {}), (error: RpcError) => error.code === "not_found", "the oldest is gone");
  } finally {
    v.close();
  }
});
