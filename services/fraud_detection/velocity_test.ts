/** Velocity counters on an in-memory Deno KV: one count per order id, however often it is validated. */
import assert from "node:assert/strict";
import { unsureKv } from "@bookstore/lib/store/testing";
import { recordAndCount } from "./velocity.ts";

Deno.test("the same order counts once; another order counts again", async () => {
  using kv = await Deno.openKv(":memory:");
  const subject = { kind: "card" as const, fingerprint: "f1", now: 1_000_000 };
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o1" }), 1);
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o1" }), 1, "a retry of o1 is not a second order");
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o2" }), 2);
  assert.equal(await recordAndCount(kv, { ...subject, kind: "contact", orderId: "o1" }), 1, "kinds count apart");
});

Deno.test("only the last ten minutes count", async () => {
  using kv = await Deno.openKv(":memory:");
  const subject = { kind: "contact" as const, fingerprint: "f2" };
  const minute = 60_000;
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o1", now: 100 * minute }), 1);
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o2", now: 109 * minute }), 2, "nine minutes later");
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o3", now: 110 * minute }), 2, "o1's minute has left");
});

Deno.test("a count whose commit's outcome was unknown is tried again, and counts once", async () => {
  using memory = await Deno.openKv(":memory:");
  const { kv, state } = unsureKv(memory);
  const subject = { kind: "card" as const, fingerprint: "f1", now: 1_000_000 };
  state.lose = () => true;
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o1" }), 1, "applied, answer lost, retried: once");
  assert.equal(state.lost, 1);
  assert.equal(await recordAndCount(kv, { ...subject, orderId: "o2" }), 2);
});
