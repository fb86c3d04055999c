/** Priority: the rank the key layout sorts by, and the order the store hands orders out in. */
import assert from "node:assert/strict";
import { rank } from "./keys.ts";
import { fakeClock, openStore, take } from "./testing.ts";

Deno.test("rank: more books rank first; with aging, waiting agingMs counts as one more book", () => {
  const order = (enqueuedAt: number, totalQuantity: number) => ({ enqueuedAt, totalQuantity });
  assert.equal(rank(order(5000, 3), { agingMs: 0 }), -3, "no aging: size alone");
  assert.ok(rank(order(0, 3), { agingMs: 0 }) < rank(order(0, 1), { agingMs: 0 }), "more books first");
  assert.equal(rank(order(5000, 3), { agingMs: 1000 }), 2);
  // small (1 book) arrived 2 s before big (3 books): they rank equal; a third second and small goes first.
  assert.equal(rank(order(1000, 1), { agingMs: 1000 }), rank(order(3000, 3), { agingMs: 1000 }));
  assert.ok(rank(order(1000, 1), { agingMs: 1000 }) < rank(order(4000, 3), { agingMs: 1000 }));
});

Deno.test("more books first, earliest first among equals; an order is queued once", async () => {
  using queue = await openStore();
  const { store } = queue;
  // The equals' ids sort in the reverse of their arrival, so that ranking them by id would show.
  assert.equal(await store.enqueue("small-z", [{ bookId: "dune", quantity: 1 }]), true);
  assert.equal(await store.enqueue("big", [{ bookId: "ulysses", quantity: 3 }]), true);
  assert.equal(await store.enqueue("small-m", [{ bookId: "dune", quantity: 1 }]), true);
  assert.equal(await store.enqueue("small-a", [{ bookId: "dune", quantity: 1 }]), true);
  assert.equal(await store.enqueue("big", [{ bookId: "ulysses", quantity: 3 }]), false, "a repeat is not queued");
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const order = [];
  for (let lease = await take(store, caller); lease; lease = await take(store, caller)) order.push(lease.orderId);
  assert.deepEqual(order, ["big", "small-z", "small-m", "small-a"]);
  assert.equal((await store.status()).leased, 4);
});

Deno.test("aging: a small order is not starved by a steady stream of larger ones", async () => {
  const clock = fakeClock();
  using queue = await openStore({ agingMs: 1000, now: clock.read });
  const { store } = queue;
  await store.enqueue("small", [{ bookId: "dune", quantity: 1 }]);
  // A 3-book order arrives every second; the leader takes one order per second.
  const epoch = await store.acquireEpoch(1);
  const taken: string[] = [];
  for (let i = 1; i <= 5; i++) {
    clock.now += 1000;
    await store.enqueue(`big-${i}`, [{ bookId: "ulysses", quantity: 3 }]);
    taken.push((await take(store, { executorId: 1, epoch }))!.orderId);
  }
  // small ranks 1000 - 1; big-i ranks 1000 + i - 3: from big-2 on, small has waited long enough.
  assert.deepEqual(taken, ["big-1", "small", "big-2", "big-3", "big-4"]);

  // Among orders that arrive together, more books still go first.
  using fresh = await openStore({ agingMs: 1000, now: clock.read });
  await fresh.store.enqueue("one", [{ bookId: "dune", quantity: 1 }]);
  clock.now += 10;
  await fresh.store.enqueue("two", [{ bookId: "dune", quantity: 2 }]);
  const e = await fresh.store.acquireEpoch(1);
  assert.equal((await take(fresh.store, { executorId: 1, epoch: e }))!.orderId, "two");
});
