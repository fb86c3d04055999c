import assert from "node:assert/strict";
import { createLogger } from "./log.ts";
import { MAX_CLEARED_ANSWERS, OrderSlots } from "./order_slots.ts";
import type { RpcError } from "./rpc/errors.ts";

Deno.test("cleared answers are kept for retries, but never more than MAX_CLEARED_ANSWERS", () => {
  const slots = new OrderSlots<string>("suggestions", {
    ttlMs: 10_000,
    log: createLogger("test", { write: () => {} }),
  });
  for (let i = 0; i <= MAX_CLEARED_ANSWERS; i++) {
    slots.init(`o${i}`, "data");
    slots.clear(`o${i}`, {});
  }
  assert.deepEqual(slots.clear(`o${MAX_CLEARED_ANSWERS}`, {}).events, [], "the newest answer is still there");
  assert.throws(() => slots.clear("o0", {}), (error: RpcError) => error.code === "not_found", "the oldest is gone");
});
