import assert from "node:assert/strict";
import { orderSchema, type PlaceOrderResponse } from "@bookstore/lib/contracts";
import { RpcError } from "@bookstore/lib/rpc";
import { validOrder } from "../../tests/support/orders.ts";
import { idempotencyKeyFrom, IdempotencyKeys, type KeyClaim } from "./idempotency.ts";

const answer = (orderId: string): PlaceOrderResponse => ({
  orderId,
  status: "Order Approved",
  suggestedBooks: [],
  reasons: [],
  rejections: [],
});

Deno.test("a key runs once: concurrent calls join the running one, a later call learns the key was claimed", async () => {
  using kv = await Deno.openKv(":memory:");
  const keys = new IdempotencyKeys(kv, { retentionMs: 3_600_000 });
  const order = orderSchema.parse(validOrder());
  const runs: KeyClaim[] = [];
  const gate = Promise.withResolvers<void>();
  const run = async (claim: KeyClaim) => {
    runs.push(claim);
    await gate.promise;
    return answer(claim.orderId);
  };
  const first = keys.once("k1", { order, run });
  const second = keys.once("k1", { order, run });
  await new Promise((resolve) => setTimeout(resolve, 10));
  gate.resolve();
  const [a, b] = await Promise.all([first, second]);
  assert.equal(runs.length, 1, "the concurrent call joined the running one");
  assert.equal(runs[0].first, true);
  assert.deepEqual(a, b);

  const later = await keys.once("k1", { order, run });
  assert.equal(runs.length, 2);
  assert.deepEqual(runs[1], { orderId: runs[0].orderId, first: false }, "the same order, claimed before");
  assert.equal(later.orderId, a.orderId);
});

Deno.test("a key sent with another order is refused, running or not; the card's spacing is the same order", async () => {
  using kv = await Deno.openKv(":memory:");
  const keys = new IdempotencyKeys(kv, { retentionMs: 3_600_000 });
  const order = orderSchema.parse(validOrder());
  const gate = Promise.withResolvers<void>();
  const running = Promise.withResolvers<void>();
  const run = async (claim: KeyClaim) => {
    running.resolve();
    await gate.promise;
    return answer(claim.orderId);
  };
  const first = keys.once("k2", { order, run });
  // Two calls racing for a key are ordered by whichever is digested first: let the first one win, then send another.
  await running.promise;
  const other = { ...order, userComment: "something else" };
  const refused = (error: unknown) => error instanceof RpcError && error.code === "invalid_argument";
  await assert.rejects(() => keys.once("k2", { order: other, run }), refused, "while the first is running");
  gate.resolve();
  await first;
  await assert.rejects(() => keys.once("k2", { order: other, run }), refused, "after it finished");
  const spaced = {
    ...order,
    creditCard: { ...order.creditCard, number: order.creditCard.number.replace(/(\d{4})/g, "$1 ") },
  };
  assert.equal((await keys.once("k2", { order: spaced, run })).orderId, (await first).orderId);
});

Deno.test("the Idempotency-Key header: printable ASCII, 1-255 characters", () => {
  assert.equal(idempotencyKeyFrom(new Headers()), undefined);
  assert.equal(idempotencyKeyFrom(new Headers({ "idempotency-key": "abc-123" })), "abc-123");
  for (const bad of ["a b", "x".repeat(256), "é"]) {
    assert.throws(() => idempotencyKeyFrom(new Headers({ "idempotency-key": bad })), /Idempotency-Key/);
  }
});
