/** Leases that end without an ack: expired ones are failed deliveries (dead-lettered past the limit), all on a fake clock. */
import assert from "node:assert/strict";
import { ackOne, fakeClock, openStore, take } from "./testing.ts";

Deno.test("an expired lease is handed out again; too many failed deliveries dead-letter the order", async () => {
  const clock = fakeClock();
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 2, now: clock.read });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const first = (await take(store, caller))!;
  assert.equal(await store.reclaim(), 0, "a live lease stays");
  clock.now = first.expiresAt + 1;
  assert.equal(await store.reclaim(), 1, "an expired one goes back to the queue");
  const second = (await take(store, caller))!;
  assert.equal(second.attempt, 2);
  clock.now = second.expiresAt;
  assert.equal(await store.reclaim(), 1, "the second delivery expired too");
  assert.equal(await take(store, caller), undefined, "a dead letter is not handed out");
  const [letter] = (await store.deadLetterPage()).deadLetters;
  assert.equal(letter.orderId, "o1");
  assert.equal(letter.reason, "lease expired");
  assert.equal(letter.deadAt, clock.now, "dead-lettered at the queue's time");
  assert.equal((await store.status()).deadLetters, 1);
  assert.equal(await store.requeueDeadLetter("o1"), true);
  assert.equal(await store.requeueDeadLetter("o1"), false, "only once");
  const third = (await take(store, caller))!;
  assert.equal(third.attempt, 1, "a requeued dead letter starts its count afresh");
});

Deno.test("a fake clock expires every lease without real waiting: acks are lost, reclaim requeues them all", async () => {
  const clock = fakeClock();
  using queue = await openStore({ leaseMs: 60_000, now: clock.read });
  const { store } = queue;
  for (const orderId of ["a", "b", "c"]) await store.enqueue(orderId, [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const leases = await store.dequeueBatch(caller, { max: 3 });
  assert.deepEqual(leases.map((lease) => lease.expiresAt), [1, 2, 3].map(() => clock.now + 60_000));
  clock.now += 60_000;
  const late = await ackOne(store, { ...caller, orderId: leases[0].orderId, leaseId: leases[0].leaseId });
  assert.equal(late.state, "lost");
  assert.match(late.reason, /expired/);
  assert.equal(await store.reclaim(), 3, "every lease expired");
  const status = await store.status();
  assert.deepEqual([status.depth, status.leased, status.executed], [3, 0, 0]);
  assert.equal((await store.orderState("a")).updatedAt, clock.now, "requeued at the queue's time");
});
