/** Leasing: batches in priority order, repeated requests, the long poll, and the fence checked inside the commit. */
import assert from "node:assert/strict";
import { isFenced } from "@bookstore/lib/contracts";
import type { RpcError } from "@bookstore/lib/rpc";
import { ackOne, fakeClock, hookedKv, type HookedRead, openStore, storeOn, take } from "./testing.ts";

Deno.test("a dequeue retried under its request id answers the same lease, so lost answers dead-letter nothing", async () => {
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 2 });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  // The first answer is lost; the executor asks again with the same request id, twice.
  const lost = (await take(store, { ...caller, requestId: "r1" }))!;
  const again = (await take(store, { ...caller, requestId: "r1" }))!;
  assert.deepEqual(again, lost, "the same lease, not a second one");
  assert.deepEqual(await take(store, { ...caller, requestId: "r1" }), lost);
  assert.equal((await store.orderState(lost.orderId)).attempts, 1, "one delivery, however often it was asked");
  const next = (await take(store, { ...caller, requestId: "r2" }))!;
  assert.notEqual(next.orderId, lost.orderId, "another request takes the next order");
  assert.deepEqual(await ackOne(store, { ...caller, orderId: lost.orderId, leaseId: again.leaseId }), {
    orderId: lost.orderId,
    state: "executed",
    reason: "",
  });
  // Once the lease is finished, the old request id takes nothing it cannot ack.
  assert.equal(await take(store, { ...caller, requestId: "r1" }), undefined);
});

Deno.test("a batch is leased in priority order, up to its size, and counted", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("small", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("big", [{ bookId: "ulysses", quantity: 4 }]);
  await store.enqueue("middle", [{ bookId: "dune", quantity: 2 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const first = await store.dequeueBatch(caller, { max: 2 });
  assert.deepEqual(first.map((lease) => lease.orderId), ["big", "middle"]);
  assert.equal(new Set(first.map((lease) => lease.leaseId)).size, 2, "a lease of its own for each order");
  assert.deepEqual((await store.dequeueBatch(caller, { max: 2 })).map((lease) => lease.orderId), ["small"]);
  assert.deepEqual(await store.dequeueBatch(caller, { max: 2 }), []);
  const status = await store.status();
  assert.equal(status.depth, 0);
  assert.equal(status.leased, 3);
});

Deno.test("a batch dequeue retried under its request id answers the same leases", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o3", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1), requestId: "r1" };
  const first = await store.dequeueBatch(caller, { max: 2 });
  assert.deepEqual(await store.dequeueBatch(caller, { max: 2 }), first, "the answer that was lost, again");
  assert.equal((await store.status()).depth, 1, "o3 still waits");
});

Deno.test("a long-polling dequeue waits for an order and wakes as soon as one is queued", async () => {
  using queue = await openStore();
  const { store } = queue;
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const started = Date.now();
  assert.deepEqual(await store.dequeueBatch(caller, { max: 4, waitMs: 30 }), [], "nothing came");
  assert.ok(Date.now() - started >= 30, "it waited");
  const waiting = store.dequeueBatch(caller, { max: 4, waitMs: 10_000 });
  const queuedAt = Date.now();
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const leases = await waiting;
  assert.deepEqual(leases.map((lease) => lease.orderId), ["o1"]);
  assert.ok(Date.now() - queuedAt < 5000, "woken by the enqueue, not by its time running out");
  const gone = new AbortController();
  const abandoned = store.dequeueBatch(caller, { max: 4, waitMs: 10_000, signal: gone.signal });
  gone.abort();
  assert.deepEqual(await abandoned, [], "a caller that left stops the wait");
});

Deno.test("a long poll ends when its wait is over, even on a fake clock that stands still", async () => {
  const clock = fakeClock();
  using queue = await openStore({ now: clock.read });
  const { store } = queue;
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const started = Date.now();
  assert.deepEqual(await store.dequeueBatch(caller, { max: 4, waitMs: 30 }), [], "nothing came");
  const waited = Date.now() - started;
  assert.ok(waited >= 30 && waited < 5000, `it waited ${waited} ms, its wait and no more`);
});

Deno.test("a long poll that read an empty queue just before an order was queued still wakes for it", async () => {
  using kv = await Deno.openKv(":memory:");
  const isReady = (method: HookedRead, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
  // The Enqueue commits (and wakes the waiting) right after the poll found the ready list empty.
  const hooked = hookedKv(kv, { when: isReady, at: "after" });
  const store = await storeOn(hooked.kv);
  const hook = () => store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  hooked.state.run = hook;
  const started = Date.now();
  const leases = await store.dequeueBatch(caller, { max: 4, waitMs: 10_000 });
  const waited = Date.now() - started;
  assert.equal(hooked.state.ran, 1, "the enqueue ran inside the poll");
  assert.deepEqual(leases.map((lease) => lease.orderId), ["o1"]);
  assert.ok(waited < 5000, `the poll waited ${waited} ms for an order queued while it looked`);
});

// The fence is read, then the commit is built on what was read: another replica taking the fence in between must make
// the commit fail (its `.check` of the fence), and the retry that reads the fence again refuses the deposed caller.

Deno.test("the fence inside the commit: a dequeue overtaken by a new epoch between its fence read and its commit is refused", async () => {
  using kv = await Deno.openKv(":memory:");
  // Replica 4 takes the fence while replica 1's dequeue reads the head of the queue, after its fence read.
  const isReady = (method: HookedRead, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
  const hooked = hookedKv(kv, { when: isReady, at: "before" });
  const store = await storeOn(hooked.kv);
  const hook = () => store.acquireEpoch(4);
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const old = { executorId: 1, epoch: await store.acquireEpoch(1) };
  hooked.state.run = hook;
  await assert.rejects(
    () => store.dequeueBatch(old, { max: 4 }),
    (error: RpcError) => isFenced(error) && /epoch 1 is stale/.test(error.message),
  );
  assert.equal(hooked.state.ran, 1, "the new epoch came between the fence read and the commit");
  const order = await store.orderState("o1");
  assert.deepEqual([order.state, order.attempts, order.epoch], ["queued", 0, 0], "the order was not taken");
  const status = await store.status();
  assert.deepEqual([status.depth, status.leased, status.epoch, status.leaderId], [1, 0, 2, 4]);
});
