/** The fence and the leader lease: only the current epoch's holder is admitted; a working holder keeps the fence. */
import assert from "node:assert/strict";
import { isFenced } from "@bookstore/lib/contracts";
import type { RpcError } from "@bookstore/lib/rpc";
import { ackOne, fakeClock, openStore, take } from "./testing.ts";

Deno.test("the fence refuses a deposed leader's dequeue and ack, and frees its leases for the new one", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const old = await store.acquireEpoch(1);
  const lease = (await take(store, { executorId: 1, epoch: old }))!;
  const current = await store.acquireEpoch(4);
  assert.ok(current > old);
  await assert.rejects(() => take(store, { executorId: 1, epoch: old }), (error: RpcError) => isFenced(error));
  await assert.rejects(
    () => ackOne(store, { orderId: "o1", leaseId: lease.leaseId, executorId: 1, epoch: old }),
    (error: RpcError) => isFenced(error) && /stale/.test(error.message),
  );
  await assert.rejects(
    () => take(store, { executorId: 3, epoch: current }),
    (error: RpcError) => isFenced(error) && /not issued to executor 3/.test(error.message),
  );
  // The new leader's first dequeue hands out the deposed leader's order again, without counting an attempt.
  const again = (await take(store, { executorId: 4, epoch: current }))!;
  assert.equal(again.orderId, "o1");
  assert.equal(again.attempt, 1);
  const late = await ackOne(store, { orderId: "o1", leaseId: lease.leaseId, executorId: 4, epoch: current });
  assert.equal(late.state, "lost", "the old lease is lost");
  const status = await store.status();
  assert.equal(status.epoch, current);
  assert.equal(status.leaderId, 4);
  assert.equal(status.fenced, 3);
});

Deno.test("the leader lease: a lower replica cannot take the fence from a holder that keeps calling", async () => {
  const clock = fakeClock();
  using queue = await openStore({ leaderLeaseMs: 500, now: clock.read });
  const { store } = queue;
  const epoch = await store.acquireEpoch(4);
  // Replica 3 cannot hear 4's heartbeats, but 4 keeps working the queue.
  for (let beat = 0; beat < 20; beat++) {
    clock.now += 100;
    assert.equal(await take(store, { executorId: 4, epoch }), undefined);
    await assert.rejects(
      () => store.acquireEpoch(3),
      (error: RpcError) => isFenced(error) && /executor 4 leads epoch/.test(error.message),
    );
  }
  assert.equal((await store.status()).epoch, epoch, "no epoch changed hands: no ping-pong");
  assert.equal(await store.acquireEpoch(4), epoch + 1, "the holder itself may take a new one");
  // Once the holder falls silent past the lease, anyone may take over.
  clock.now += 501;
  assert.equal(await store.acquireEpoch(3), epoch + 2);
  const held = await store.acquireEpoch(3);
  await take(store, { executorId: 3, epoch: held });
  assert.equal(await store.acquireEpoch(4), held + 1, "a higher replica still takes over (Bully)");
});

Deno.test("the leader lease holds from the issue of the epoch: an election already under way cannot depose it", async () => {
  const clock = fakeClock();
  using queue = await openStore({ leaderLeaseMs: 500, now: clock.read });
  const { store } = queue;
  const epoch = await store.acquireEpoch(4);
  // Replica 3 asks before replica 4's first dequeue has reached the queue.
  clock.now += 100;
  await assert.rejects(
    () => store.acquireEpoch(3),
    (error: RpcError) => isFenced(error) && /executor 4 leads epoch/.test(error.message),
  );
  assert.equal((await store.status()).epoch, epoch);
  // A holder that never calls loses the lease like any other.
  clock.now += 401;
  assert.equal(await store.acquireEpoch(3), epoch + 1);
});

Deno.test("an AcquireEpoch whose caller gave up issues no epoch", async () => {
  using queue = await openStore();
  const { store } = queue;
  const epoch = await store.acquireEpoch(4);
  const gaveUp = new AbortController();
  gaveUp.abort(new Error("the caller's deadline passed"));
  await assert.rejects(() => store.acquireEpoch(3, { signal: gaveUp.signal }), /deadline passed/);
  assert.equal((await store.status()).epoch, epoch, "no epoch issued to a caller that will never hear of it");
  assert.equal((await store.status()).leaderId, 4);
});
