/** Acks: execution in one atomic commit, stock taken once, repeated acks answered the same, the fence in the commit. */
import assert from "node:assert/strict";
import { Catalog } from "@bookstore/lib/catalog";
import { isFenced, MAX_DISTINCT_BOOKS, MAX_LEASES_PER_CALL } from "@bookstore/lib/contracts";
import type { RpcError } from "@bookstore/lib/rpc";
import { OrderQueueStore } from "./store.ts";
import { limitedKv } from "@bookstore/lib/store/testing";
import { ackOne, book, hookedKv, type HookedRead, leased, openStore, silent, storeOn } from "./testing.ts";

Deno.test("an ack executes the order once, taking its books from stock; a repeated ack answers the same", async () => {
  using queue = await openStore();
  const { store } = queue;
  const items = [{ bookId: "dune", quantity: 2 }, { bookId: "dune", quantity: 1 }];
  const ack = await leased(store, { items, executorId: 2 });
  const executed = { orderId: "o1", state: "executed", reason: "" };
  assert.deepEqual(await ackOne(store, ack), executed);
  assert.deepEqual(await ackOne(store, ack), executed, "the same answer, no second effect");
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
  const outcome = await ackOne(store, await leased(store, { items, executorId: 1 }));
  assert.equal(outcome.state, "failed");
  assert.match(outcome.reason, /out of stock: emma \(wanted 2, 1 left\)/);
  const stock = new Map((await store.stock()).map((level) => [level.bookId, level.stock]));
  assert.equal(stock.get("emma"), 1);
  assert.equal(stock.get("dune"), 5);
});

Deno.test("an ack retried after the epoch changed still answers executed, not fenced", async () => {
  using queue = await openStore();
  const { store } = queue;
  const ack = await leased(store, { items: [{ bookId: "dune", quantity: 1 }], executorId: 2 });
  const executed = { orderId: "o1", state: "executed", reason: "" };
  assert.deepEqual(await ackOne(store, ack), executed);
  // The answer was lost; meanwhile another replica took over.
  await store.acquireEpoch(4);
  assert.deepEqual(await ackOne(store, ack), executed, "the retry hears what happened");
  const other = { ...ack, leaseId: "not-the-lease" };
  await assert.rejects(() => ackOne(store, other), (error: RpcError) => isFenced(error), "anything else is fenced");
  assert.equal((await store.stock()).find((level) => level.bookId === "dune")?.stock, 4, "taken once");
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

Deno.test("the largest batches fit every backend's commits: 32 leases in one, 32 acks of 50 books each in several", async () => {
  // 31 orders of 50 different books each, and a last one wanting a book of the first: it must fail, as it comes after.
  const books = Array.from({ length: 31 * MAX_DISTINCT_BOOKS }, (_, i) => book(`b${i}`, 1));
  using kv = await Deno.openKv(":memory:");
  const limited = limitedKv(kv);
  const store = new OrderQueueStore(limited.kv, { leaseMs: 5000, maxAttempts: 3, leaderLeaseMs: 1000, log: silent });
  await store.seedStock(new Catalog(books));
  const orderIds = Array.from({ length: MAX_LEASES_PER_CALL }, (_, o) => `o${String(o).padStart(2, "0")}`);
  for (const [o, orderId] of orderIds.entries()) {
    const own = o < 31 ? books.slice(o * MAX_DISTINCT_BOOKS, (o + 1) * MAX_DISTINCT_BOOKS) : books.slice(0, 1);
    await store.enqueue(orderId, own.map((b) => ({ bookId: b.bookId, quantity: 1 })));
  }
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1), requestId: "r1" };
  limited.commits.length = 0;
  const leases = await store.dequeueBatch(caller, { max: MAX_LEASES_PER_CALL });
  assert.equal(leases.length, MAX_LEASES_PER_CALL);
  assert.equal(limited.commits.length, 1, "every lease in one commit");
  limited.commits.length = 0;
  const results = await store.ackBatch(caller, leases.map(({ orderId, leaseId }) => ({ orderId, leaseId })));
  assert.deepEqual(results.map((r) => r.orderId), leases.map((lease) => lease.orderId), "in the order given");
  assert.deepEqual(results.map((r) => r.state), [...Array(31).fill("executed"), "failed"]);
  assert.ok(limited.commits.length > 1, `split in ${limited.commits.length} commits`);
  // Each order's own changes (its record and its lease's index entry) are in one commit, which also checks the fence.
  for (const orderId of orderIds) {
    const holding = limited.commits.filter((commit) => commit.writes.some(({ key }) => key[1] === orderId));
    assert.equal(holding.length, 1, `${orderId} changed in one commit`);
    const written = holding[0].writes.map(({ key }) => key.join("/"));
    assert.ok(written.includes(`order/${orderId}`) && written.includes(`leased/${orderId}`));
  }
  assert.ok((await store.stock()).every((level) => level.stock === 0));
  const status = await store.status();
  assert.deepEqual([status.executed, status.failed, status.leased], [31, 1, 0]);
});

Deno.test("the fence inside the commit: an ack overtaken by a new epoch between its fence read and its commit is refused", async () => {
  using kv = await Deno.openKv(":memory:");
  // Replica 4 takes the fence while replica 1's ack reads the stock, after its fence read.
  const isStock = (method: HookedRead, keys: Deno.KvKey[]) => method === "getMany" && keys[0][0] === "stock";
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
