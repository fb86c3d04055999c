/**
 * The queue store on an in-memory Deno KV: priority, leases, fencing, dead
 * letters, stock and ack idempotency, without a process or a file.
 */
import assert from "node:assert/strict";
import { Catalog, type CatalogBook } from "@bookstore/lib/catalog";
import { createLogger } from "@bookstore/lib/log";
import { isFenced, type QueueItem } from "@bookstore/lib/contracts";
import { isLeaseLost, type RpcError } from "@bookstore/lib/rpc";
import { OrderQueueStore } from "./store.ts";

function book(bookId: string, stock: number): CatalogBook {
  return {
    bookId,
    title: `Title of ${bookId}`,
    author: "Someone",
    year: 2000,
    genres: ["fiction"],
    description: "A book.",
    price: 10,
    stock,
  };
}

/** A store on a fresh in-memory KV with three books in stock; dispose of it to close the KV. */
async function openStore(
  options: { leaseMs?: number; maxAttempts?: number; leaderLeaseMs?: number; agingMs?: number; now?: () => number } =
    {},
) {
  const kv = await Deno.openKv(":memory:");
  const store = new OrderQueueStore(kv, {
    leaseMs: options.leaseMs ?? 5000,
    maxAttempts: options.maxAttempts ?? 3,
    leaderLeaseMs: options.leaderLeaseMs,
    agingMs: options.agingMs,
    now: options.now,
    log: createLogger("test", { write: () => {} }),
  });
  await store.seedStock(new Catalog([book("dune", 5), book("emma", 1), book("ulysses", 10)]));
  return { kv, store, [Symbol.dispose]: () => kv.close() };
}

/** Queues `items` as order o1 and leases it to `executorId` under a fresh epoch. */
async function leased(store: OrderQueueStore, options: { items: QueueItem[]; executorId: number }) {
  await store.enqueue("o1", options.items);
  const epoch = await store.acquireEpoch(options.executorId);
  const lease = (await store.dequeue({ executorId: options.executorId, epoch }))!;
  return { orderId: "o1", leaseId: lease.leaseId, executorId: options.executorId, epoch };
}

Deno.test("seeding keeps existing stock and refuses unknown books", async () => {
  using queue = await openStore();
  const { store } = queue;
  assert.equal(await store.seedStock(new Catalog([book("dune", 99), book("new", 2)])), 1, "only the new book");
  const stock = new Map((await store.stock()).map((level) => [level.bookId, level.stock]));
  assert.equal(stock.get("dune"), 5);
  assert.equal(stock.get("new"), 2);
  await assert.rejects(() => store.enqueue("o1", [{ bookId: "nope", quantity: 1 }]), /unknown book/);
  await assert.rejects(() => store.enqueue("o1", [{ bookId: "dune", quantity: 0 }]), /at least 1/);
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
  for (let lease = await store.dequeue(caller); lease; lease = await store.dequeue(caller)) order.push(lease.orderId);
  assert.deepEqual(order, ["big", "small-z", "small-m", "small-a"]);
  assert.equal((await store.status()).leased, 4);
});

Deno.test("an ack executes the order once, taking its books from stock; a repeated ack answers the same", async () => {
  using queue = await openStore();
  const { store } = queue;
  const items = [{ bookId: "dune", quantity: 2 }, { bookId: "dune", quantity: 1 }];
  const ack = await leased(store, { items, executorId: 2 });
  assert.deepEqual(await store.ack(ack), { state: "executed", reason: "" });
  assert.deepEqual(await store.ack(ack), { state: "executed", reason: "" }, "the same answer, no second effect");
  const dune = (await store.stock()).find((level) => level.bookId === "dune");
  assert.equal(dune?.stock, 2, "5 - 3, once");
  const state = await store.orderState("o1");
  assert.equal(state.state, "executed");
  assert.equal(state.executorId, 2);
  assert.equal((await store.status()).executed, 1);
});

Deno.test("an order the stock cannot cover fails without touching stock", async () => {
  using queue = await openStore();
  const { store } = queue;
  const items = [{ bookId: "emma", quantity: 2 }, { bookId: "dune", quantity: 1 }];
  const outcome = await store.ack(await leased(store, { items, executorId: 1 }));
  assert.equal(outcome.state, "failed");
  assert.match(outcome.reason, /out of stock: emma \(wanted 2, 1 left\)/);
  const stock = new Map((await store.stock()).map((level) => [level.bookId, level.stock]));
  assert.equal(stock.get("emma"), 1);
  assert.equal(stock.get("dune"), 5);
});

Deno.test("the fence refuses a deposed leader's dequeue and ack, and frees its leases for the new one", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const old = await store.acquireEpoch(1);
  const lease = (await store.dequeue({ executorId: 1, epoch: old }))!;
  const current = await store.acquireEpoch(4);
  assert.ok(current > old);
  await assert.rejects(() => store.dequeue({ executorId: 1, epoch: old }), (error: RpcError) => isFenced(error));
  await assert.rejects(
    () => store.ack({ orderId: "o1", leaseId: lease.leaseId, executorId: 1, epoch: old }),
    (error: RpcError) => isFenced(error) && /stale/.test(error.message),
  );
  await assert.rejects(
    () => store.dequeue({ executorId: 3, epoch: current }),
    (error: RpcError) => isFenced(error) && /not issued to executor 3/.test(error.message),
  );
  // The new leader's first dequeue hands out the deposed leader's order again, without counting an attempt.
  const again = (await store.dequeue({ executorId: 4, epoch: current }))!;
  assert.equal(again.orderId, "o1");
  assert.equal(again.attempt, 1);
  await assert.rejects(
    () => store.ack({ orderId: "o1", leaseId: lease.leaseId, executorId: 4, epoch: current }),
    (error: RpcError) => isLeaseLost(error),
  );
  const status = await store.status();
  assert.equal(status.epoch, current);
  assert.equal(status.leaderId, 4);
  assert.equal(status.fenced, 3);
});

Deno.test("an expired lease is handed out again; too many failed deliveries dead-letter the order", async () => {
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 2 });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const first = (await store.dequeue(caller))!;
  assert.equal(await store.reclaim(Date.now()), 0, "a live lease stays");
  assert.equal(await store.reclaim(first.expiresAt + 1), 1, "an expired one goes back to the queue");
  const second = (await store.dequeue(caller))!;
  assert.equal(second.attempt, 2);
  assert.equal(
    await store.nack({ ...caller, orderId: "o1", leaseId: second.leaseId, reason: "printer on fire" }),
    "dead",
  );
  assert.equal(await store.dequeue(caller), undefined, "a dead letter is not handed out");
  const [letter] = await store.deadLetters();
  assert.equal(letter.orderId, "o1");
  assert.equal(letter.reason, "printer on fire");
  assert.equal((await store.status()).deadLetters, 1);
  assert.equal(await store.requeueDeadLetter("o1"), true);
  assert.equal(await store.requeueDeadLetter("o1"), false, "only once");
  const third = (await store.dequeue(caller))!;
  assert.equal(third.attempt, 1, "a requeued dead letter starts its count afresh");
});

Deno.test("a nack below the limit queues the order again", async () => {
  using queue = await openStore({ maxAttempts: 3 });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const lease = (await store.dequeue(caller))!;
  assert.equal(await store.nack({ ...caller, orderId: "o1", leaseId: lease.leaseId, reason: "" }), "queued");
  assert.equal((await store.orderState("o1")).reason, "given back");
  assert.equal((await store.dequeue(caller))?.attempt, 2);
});

Deno.test("an ack retried after the epoch changed still answers executed, not fenced", async () => {
  using queue = await openStore();
  const { store } = queue;
  const ack = await leased(store, { items: [{ bookId: "dune", quantity: 1 }], executorId: 2 });
  assert.deepEqual(await store.ack(ack), { state: "executed", reason: "" });
  // The answer was lost; meanwhile another replica took over.
  await store.acquireEpoch(4);
  assert.deepEqual(await store.ack(ack), { state: "executed", reason: "" }, "the retry hears what happened");
  const other = { ...ack, leaseId: "not-the-lease" };
  await assert.rejects(() => store.ack(other), (error: RpcError) => isFenced(error), "anything else is fenced");
  assert.equal((await store.stock()).find((level) => level.bookId === "dune")?.stock, 4, "taken once");
});

Deno.test("a dequeue retried under its request id answers the same lease, so lost answers dead-letter nothing", async () => {
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 2 });
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  // The first answer is lost; the executor asks again with the same request id, twice.
  const lost = (await store.dequeue({ ...caller, requestId: "r1" }))!;
  const again = (await store.dequeue({ ...caller, requestId: "r1" }))!;
  assert.deepEqual(again, lost, "the same lease, not a second one");
  assert.deepEqual(await store.dequeue({ ...caller, requestId: "r1" }), lost);
  assert.equal((await store.orderState(lost.orderId)).attempts, 1, "one delivery, however often it was asked");
  const next = (await store.dequeue({ ...caller, requestId: "r2" }))!;
  assert.notEqual(next.orderId, lost.orderId, "another request takes the next order");
  assert.deepEqual(await store.ack({ ...caller, orderId: lost.orderId, leaseId: again.leaseId }), {
    state: "executed",
    reason: "",
  });
  // Once the lease is finished, the old request id takes nothing it cannot ack.
  assert.equal(await store.dequeue({ ...caller, requestId: "r1" }), undefined);
});

Deno.test("the leader lease: a lower replica cannot take the fence from a holder that keeps calling", async () => {
  const clock = { now: 1_000_000 };
  using queue = await openStore({ leaderLeaseMs: 500, now: () => clock.now });
  const { store } = queue;
  const epoch = await store.acquireEpoch(4);
  // Replica 3 cannot hear 4's heartbeats, but 4 keeps working the queue.
  for (let beat = 0; beat < 20; beat++) {
    clock.now += 100;
    assert.equal(await store.dequeue({ executorId: 4, epoch }), undefined);
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
  await store.dequeue({ executorId: 3, epoch: held });
  assert.equal(await store.acquireEpoch(4), held + 1, "a higher replica still takes over (Bully)");
});

Deno.test("status is read from counts kept in the same commits, never by scanning", async () => {
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 1 });
  const { kv } = queue;
  // The store under test lists only what it must: never the ready, leased or dead prefixes for a status.
  const scanned: string[] = [];
  const watched = new Proxy(kv, {
    get(target, key) {
      if (key === "list") {
        return (selector: { prefix: Deno.KvKey }, options?: Deno.KvListOptions) => {
          scanned.push(String(selector.prefix[0]));
          return target.list(selector, options);
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  const store = new OrderQueueStore(watched, {
    leaseMs: 1000,
    maxAttempts: 1,
    log: createLogger("test", { write: () => {} }),
  });
  for (const orderId of ["a", "b", "c", "d"]) await store.enqueue(orderId, [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const a = (await store.dequeue(caller))!;
  const b = (await store.dequeue(caller))!;
  const c = (await store.dequeue(caller))!;
  await store.ack({ ...caller, orderId: a.orderId, leaseId: a.leaseId });
  assert.equal(await store.nack({ ...caller, orderId: b.orderId, leaseId: b.leaseId, reason: "no" }), "dead");
  assert.equal(await store.reclaim(c.expiresAt + 1), 1, "c's lease expired: dead after its one attempt");
  assert.equal(await store.requeueDeadLetter(b.orderId), true);
  scanned.length = 0;
  const status = await store.status();
  assert.deepEqual(scanned, [], "no scan");
  assert.deepEqual(
    { depth: status.depth, leased: status.leased, deadLetters: status.deadLetters, executed: status.executed },
    { depth: 2, leased: 0, deadLetters: 1, executed: 1 },
  );
});

Deno.test("aging: a small order is not starved by a steady stream of larger ones", async () => {
  const clock = { now: 1_000_000 };
  using queue = await openStore({ agingMs: 1000, now: () => clock.now });
  const { store } = queue;
  await store.enqueue("small", [{ bookId: "dune", quantity: 1 }]);
  // A 3-book order arrives every second; the leader takes one order per second.
  const epoch = await store.acquireEpoch(1);
  const taken: string[] = [];
  for (let i = 1; i <= 5; i++) {
    clock.now += 1000;
    await store.enqueue(`big-${i}`, [{ bookId: "ulysses", quantity: 3 }]);
    taken.push((await store.dequeue({ executorId: 1, epoch }))!.orderId);
  }
  // small ranks 1000 - 1; big-i ranks 1000 + i - 3: from big-2 on, small has waited long enough.
  assert.deepEqual(taken, ["big-1", "small", "big-2", "big-3", "big-4"]);

  // Among orders that arrive together, more books still go first.
  using fresh = await openStore({ agingMs: 1000, now: () => clock.now });
  await fresh.store.enqueue("one", [{ bookId: "dune", quantity: 1 }]);
  clock.now += 10;
  await fresh.store.enqueue("two", [{ bookId: "dune", quantity: 2 }]);
  const e = await fresh.store.acquireEpoch(1);
  assert.equal((await fresh.store.dequeue({ executorId: 1, epoch: e }))!.orderId, "two");
});

Deno.test("dead letters are listed a page at a time", async () => {
  using queue = await openStore({ maxAttempts: 1 });
  const { store } = queue;
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  for (let i = 0; i < 25; i++) {
    await store.enqueue(`o${i}`, [{ bookId: "dune", quantity: 1 }]);
    const lease = (await store.dequeue(caller))!;
    await store.nack({ ...caller, orderId: lease.orderId, leaseId: lease.leaseId, reason: "no" });
  }
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

Deno.test("a batch is executed in the order given: each order takes what the ones before it left", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("first", [{ bookId: "emma", quantity: 1 }, { bookId: "dune", quantity: 2 }]);
  await store.enqueue("second", [{ bookId: "emma", quantity: 1 }]);
  await store.enqueue("third", [{ bookId: "dune", quantity: 3 }]);
  const caller = { executorId: 2, epoch: await store.acquireEpoch(2) };
  const leases = await store.dequeueBatch(caller, { max: 3 });
  const acks = leases.map(({ orderId, leaseId }) => ({ orderId, leaseId }));
  assert.deepEqual(acks.map((ack) => ack.orderId), ["first", "third", "second"], "3 books, 3 books, then 1");
  const results = await store.ackBatch(caller, acks);
  assert.deepEqual(results.map((r) => [r.orderId, r.state]), [
    ["first", "executed"],
    ["third", "executed"],
    ["second", "failed"],
  ]);
  assert.match(results[2].reason, /out of stock: emma \(wanted 1, 0 left\)/);
  const stock = new Map((await store.stock()).map((level) => [level.bookId, level.stock]));
  assert.equal(stock.get("dune"), 0, "5 - 2 - 3");
  assert.equal(stock.get("emma"), 0, "taken once, by the first order only");
  assert.deepEqual(await store.ackBatch(caller, acks), results, "a repeated batch answers the same, no second effect");
  const status = await store.status();
  assert.deepEqual([status.executed, status.failed, status.leased], [2, 1, 0]);
});

Deno.test("a batch answers each order's own fate: lost leases and unknown orders do not stop the others", async () => {
  using queue = await openStore({ leaseMs: 1000 });
  const { store } = queue;
  await store.enqueue("kept", [{ bookId: "dune", quantity: 2 }]);
  await store.enqueue("other", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const [lease] = await store.dequeueBatch(caller, { max: 2 });
  const results = await store.ackBatch(caller, [
    { orderId: "other", leaseId: "not-its-lease" },
    { orderId: "nowhere", leaseId: "x" },
    { orderId: "kept", leaseId: lease.leaseId },
  ]);
  assert.deepEqual(results.map((r) => r.state), ["lost", "unknown", "executed"]);
  assert.match(results[0].reason, /no longer held/);
});

Deno.test("an order acked twice in one batch is refused before anything is done", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "emma", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const [lease] = await store.dequeueBatch(caller, { max: 1 });
  const ack = { orderId: lease.orderId, leaseId: lease.leaseId };
  await assert.rejects(
    () => store.ackBatch(caller, [ack, ack]),
    (error: RpcError) => error.code === "invalid_argument" && /o1 appears more than once/.test(error.message),
  );
  assert.equal((await store.orderState("o1")).state, "leased");
  assert.deepEqual((await store.ackBatch(caller, [ack])).map((r) => r.state), ["executed"]);
});

Deno.test("a dequeue marker written by a queue before batches (one lease) is still answered", async () => {
  using queue = await openStore();
  const { kv, store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1), requestId: "r1" };
  const [lease] = await store.dequeueBatch(caller, { max: 1 });
  await kv.set(["dequeued", 1, "r1"], { orderId: lease.orderId, leaseId: lease.leaseId });
  assert.deepEqual(await store.dequeueBatch(caller, { max: 4 }), [lease]);
});

Deno.test("a deposed leader's batch is refused whole, but a batch of repeats still answers what happened", async () => {
  using queue = await openStore();
  const { store } = queue;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1 }]);
  const old = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const [l1, l2] = await store.dequeueBatch(old, { max: 2 });
  const done = await store.ackBatch(old, [{ orderId: l1.orderId, leaseId: l1.leaseId }]);
  await store.acquireEpoch(4);
  await assert.rejects(
    () => store.ackBatch(old, [{ orderId: l2.orderId, leaseId: l2.leaseId }]),
    (error: RpcError) => isFenced(error),
  );
  assert.deepEqual(await store.ackBatch(old, [{ orderId: l1.orderId, leaseId: l1.leaseId }]), done);
  assert.equal((await store.orderState(l2.orderId)).state, "leased", "the refused ack did nothing");
});

Deno.test("a batch too large for one commit is executed in several, in order, each order once", async () => {
  // 3 orders of 40 different books each: 1 + 3 + 120 checks do not fit in one commit (100 at most).
  const books = Array.from({ length: 120 }, (_, i) => book(`b${i}`, 1));
  using kv = await Deno.openKv(":memory:");
  const store = new OrderQueueStore(kv, { leaseMs: 5000, maxAttempts: 3, log: createLogger("t", { write: () => {} }) });
  await store.seedStock(new Catalog(books));
  for (let o = 0; o < 3; o++) {
    await store.enqueue(`o${o}`, books.slice(o * 40, o * 40 + 40).map((b) => ({ bookId: b.bookId, quantity: 1 })));
  }
  // One more order wanting a book of the first: it must fail, as it comes after it.
  await store.enqueue("late", [{ bookId: "b0", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const leases = await store.dequeueBatch(caller, { max: 4 });
  const results = await store.ackBatch(caller, leases.map(({ orderId, leaseId }) => ({ orderId, leaseId })));
  assert.deepEqual(results.map((r) => [r.orderId, r.state]), [
    ["o0", "executed"],
    ["o1", "executed"],
    ["o2", "executed"],
    ["late", "failed"],
  ]);
  assert.ok((await store.stock()).every((level) => level.stock === 0));
  assert.equal((await store.status()).executed, 3);
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

/**
 * `kv` with a hook: once armed (`state.run`), it runs once, the first time
 * `when` matches a read, before the read (`at: "before"`) or after it has
 * read everything (`"after"`; for a list, once it is exhausted). What the
 * hook does (through the store, as another caller would) happens between
 * that read and whatever the reader does next.
 */
function hookedKv(
  kv: Deno.Kv,
  hook: { when: (method: "get" | "getMany" | "list", keys: Deno.KvKey[]) => boolean; at: "before" | "after" },
) {
  const state = { run: undefined as (() => Promise<unknown>) | undefined, ran: 0 };
  const fire = async (method: "get" | "getMany" | "list", keys: Deno.KvKey[], at: "before" | "after") => {
    const run = state.run;
    if (run === undefined || hook.at !== at || !hook.when(method, keys)) return;
    state.run = undefined;
    state.ran += 1;
    await run();
  };
  const wrapped = new Proxy(kv, {
    get(target, key) {
      if (key === "get") {
        return async (k: Deno.KvKey, options?: { consistency?: Deno.KvConsistencyLevel }) => {
          await fire("get", [k], "before");
          const entry = await target.get(k, options);
          await fire("get", [k], "after");
          return entry;
        };
      }
      if (key === "getMany") {
        return async (keys: Deno.KvKey[], options?: { consistency?: Deno.KvConsistencyLevel }) => {
          await fire("getMany", keys, "before");
          const entries = await target.getMany(keys, options);
          await fire("getMany", keys, "after");
          return entries;
        };
      }
      if (key === "list") {
        return (selector: { prefix: Deno.KvKey }, options?: Deno.KvListOptions) => {
          async function* read() {
            await fire("list", [selector.prefix], "before");
            yield* target.list(selector, options);
            await fire("list", [selector.prefix], "after");
          }
          return read();
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: wrapped, state };
}

/** A store on `kv` with the three books of {@linkcode openStore} (no leader lease: any replica may take the fence). */
async function storeOn(kv: Deno.Kv) {
  const store = new OrderQueueStore(kv, {
    leaseMs: 5000,
    maxAttempts: 3,
    log: createLogger("test", { write: () => {} }),
  });
  await store.seedStock(new Catalog([book("dune", 5), book("emma", 1), book("ulysses", 10)]));
  return store;
}

Deno.test("a long poll that read an empty queue just before an order was queued still wakes for it", async () => {
  using kv = await Deno.openKv(":memory:");
  const isReady = (method: string, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
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
  const isReady = (method: string, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
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

Deno.test("the fence inside the commit: an ack overtaken by a new epoch between its fence read and its commit is refused", async () => {
  using kv = await Deno.openKv(":memory:");
  // Replica 4 takes the fence while replica 1's ack reads the stock, after its fence read.
  const isStock = (method: string, keys: Deno.KvKey[]) => method === "getMany" && keys[0][0] === "stock";
  const hooked = hookedKv(kv, { when: isStock, at: "before" });
  const store = await storeOn(hooked.kv);
  const hook = () => store.acquireEpoch(4);
  await store.enqueue("o1", [{ bookId: "dune", quantity: 2 }]);
  const old = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const [lease] = await store.dequeueBatch(old, { max: 1 });
  hooked.state.run = hook;
  await assert.rejects(
    () => store.ackBatch(old, [{ orderId: "o1", leaseId: lease.leaseId }]),
    (error: RpcError) => isFenced(error) && /epoch 1 is stale/.test(error.message),
  );
  assert.equal(hooked.state.ran, 1, "the new epoch came between the fence read and the commit");
  assert.equal((await store.stock()).find((level) => level.bookId === "dune")?.stock, 5, "no book taken");
  const order = await store.orderState("o1");
  assert.deepEqual([order.state, order.epoch], ["leased", 1], "the order was not executed");
  const status = await store.status();
  assert.deepEqual([status.executed, status.failed, status.epoch], [0, 0, 2]);
});

Deno.test("the fence inside the commit: a nack overtaken by a new epoch between its fence read and its commit is refused", async () => {
  using kv = await Deno.openKv(":memory:");
  // Replica 4 takes the fence while replica 1's nack reads the order, after its fence read.
  const isOrder = (method: string, keys: Deno.KvKey[]) => method === "get" && keys[0][0] === "order";
  const hooked = hookedKv(kv, { when: isOrder, at: "before" });
  const store = await storeOn(hooked.kv);
  const hook = () => store.acquireEpoch(4);
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const old = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const [lease] = await store.dequeueBatch(old, { max: 1 });
  hooked.state.run = hook;
  await assert.rejects(
    () => store.nack({ ...old, orderId: "o1", leaseId: lease.leaseId, reason: "no" }),
    (error: RpcError) => isFenced(error) && /epoch 1 is stale/.test(error.message),
  );
  assert.equal(hooked.state.ran, 1, "the new epoch came between the fence read and the commit");
  const order = await store.orderState("o1");
  assert.deepEqual([order.state, order.attempts, order.epoch], ["leased", 1, 1], "the nack changed nothing");
});
