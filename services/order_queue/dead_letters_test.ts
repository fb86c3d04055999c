/** The dead-letter list: paged, and put back in the queue by an operator. */
import assert from "node:assert/strict";
import { fakeClock, openStore } from "./testing.ts";

Deno.test("dead letters are listed a page at a time", async () => {
  const clock = fakeClock();
  using queue = await openStore({ maxAttempts: 1, now: clock.read });
  const { store } = queue;
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  for (let i = 0; i < 25; i++) await store.enqueue(`o${i}`, [{ bookId: "dune", quantity: 1 }]);
  assert.equal((await store.dequeueBatch(caller, { max: 25 })).length, 25);
  clock.now += 5000;
  assert.equal(await store.reclaim(), 25, "each one's only delivery expired");
  const ids: string[] = [];
  const sizes: number[] = [];
  let pageToken = "";
  do {
    const page = await store.deadLetterPage({ pageSize: 10, pageToken });
    ids.push(...page.deadLetters.map((letter) => letter.orderId));
    sizes.push(page.deadLetters.length);
    pageToken = page.nextPageToken;
  } while (pageToken);
  assert.deepEqual(sizes, [10, 10, 5]);
  assert.equal(new Set(ids).size, 25);
});

Deno.test("a requeued dead letter is queued again, fresh, and wakes a waiting poll", async () => {
  const clock = fakeClock();
  using queue = await openStore({ maxAttempts: 1, now: clock.read });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  await store.dequeueBatch(caller, { max: 1 });
  clock.now += 5000;
  await store.reclaim();
  assert.equal(await store.requeueDeadLetter("nowhere"), false, "not a dead letter");
  const waiting = store.dequeueBatch(caller, { max: 1, waitMs: 10_000 });
  const started = Date.now();
  assert.equal(await store.requeueDeadLetter("o1"), true);
  const [lease] = await waiting;
  assert.ok(Date.now() - started < 5000, "woken by the requeue");
  assert.deepEqual([lease.orderId, lease.attempt], ["o1", 1]);
  const state = await store.orderState("o1");
  assert.deepEqual([state.state, state.reason], ["leased", ""]);
  assert.deepEqual((await store.deadLetterPage()).deadLetters, []);
});
