/**
 * Two queue replicas on one store (two `OrderQueueStore`s on one in-memory KV): nothing authoritative stays in a
 * replica's memory, so a caller may move from one to the other at any point.
 */
import assert from "node:assert/strict";
import { isFenced } from "@bookstore/lib/contracts";
import type { RpcError } from "@bookstore/lib/rpc";
import type { Kv } from "@bookstore/lib/store";
import type { Caller, OrderQueueStore, StoreOptions } from "./store.ts";
import { limitedKv } from "@bookstore/lib/store/testing";
import { fakeClock, hookedKv, type HookedRead, storeOn, take } from "./testing.ts";

/** Replicas `a` and `b` on one in-memory KV, each watching the ready count as the app has it do. */
async function twoReplicas(
  options: Partial<StoreOptions> & { wrapB?: (kv: Kv) => Kv } = {},
): Promise<{ kv: Deno.Kv; a: OrderQueueStore; b: OrderQueueStore } & Disposable> {
  const kv = await Deno.openKv(":memory:");
  const a = await storeOn(kv, options);
  const b = await storeOn(options.wrapB?.(kv) ?? kv, options);
  const watches = [a.watchReady(), b.watchReady()];
  return {
    kv,
    a,
    b,
    [Symbol.dispose]() {
      for (const watch of watches) watch[Symbol.dispose]();
      kv.close();
    },
  };
}

const dune = [{ bookId: "dune", quantity: 1 }];

// How an order becomes ready on replica a: `setUp` runs first, `makeReady` while b's poll waits.
const madeReady: {
  how: string;
  maxAttempts?: number;
  setUp: (a: OrderQueueStore, options: { caller: Caller; clock: { now: number } }) => Promise<unknown>;
  makeReady: (a: OrderQueueStore, clock: { now: number }) => Promise<unknown>;
}[] = [
  { how: "queued", setUp: () => Promise.resolve(), makeReady: (a) => a.enqueue("o1", dune) },
  {
    how: "given back when its lease expired",
    setUp: async (a, { caller }) => (await a.enqueue("o1", dune), await take(a, caller)),
    makeReady: (a, clock) => (clock.now += 5001, a.reclaim()),
  },
  {
    how: "requeued from the dead letters",
    maxAttempts: 1,
    setUp: async (a, { caller, clock }) => {
      await a.enqueue("o1", dune);
      await take(a, caller);
      clock.now += 5001;
      assert.equal(await a.reclaim(), 1, "its one delivery expired: dead");
    },
    makeReady: (a) => a.requeueDeadLetter("o1"),
  },
];

for (const { how, maxAttempts, setUp, makeReady } of madeReady) {
  Deno.test(`an order ${how} on one replica wakes a long poll waiting on the other, promptly`, async () => {
    let looked!: () => void;
    const lookedAtEmptyQueue = new Promise<void>((resolve) => looked = resolve);
    const isReady = (method: HookedRead, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
    let hooked!: ReturnType<typeof hookedKv>;
    const clock = fakeClock();
    using replicas = await twoReplicas({
      maxAttempts: maxAttempts ?? 3,
      now: clock.read,
      wrapB: (kv) => (hooked = hookedKv(kv, { when: isReady, at: "after" })).kv,
    });
    const { a, b } = replicas;
    const caller = { executorId: 1, epoch: await a.acquireEpoch(1) };
    await setUp(a, { caller, clock });
    hooked.state.run = () => Promise.resolve(looked());
    const started = Date.now();
    const waiting = b.dequeueBatch(caller, { max: 4, waitMs: 10_000 });
    // Replica b found the queue empty; the order is made ready on replica a, whose commit wakes only a's polls.
    await lookedAtEmptyQueue;
    await makeReady(a, clock);
    const leases = await waiting;
    const waited = Date.now() - started;
    assert.deepEqual(leases.map((lease) => lease.orderId), ["o1"]);
    assert.ok(waited < 5000, `b's poll waited ${waited} ms: woken by the watch, not by its time running out`);
  });
}

Deno.test("the leader lease is in the store: a lower replica's AcquireEpoch on b is refused while the holder works via a", async () => {
  const clock = fakeClock();
  using replicas = await twoReplicas({ leaderLeaseMs: 500, now: clock.read });
  const { a, b } = replicas;
  const epoch = await a.acquireEpoch(4);
  for (let beat = 0; beat < 20; beat++) {
    clock.now += 100;
    assert.equal(await take(a, { executorId: 4, epoch }), undefined);
    await assert.rejects(
      () => b.acquireEpoch(3),
      (error: RpcError) => isFenced(error) && /executor 4 leads epoch/.test(error.message),
    );
  }
  assert.equal((await b.status()).epoch, epoch, "no epoch changed hands");
  // Once the holder falls silent past the lease, anyone may take over, on either replica.
  clock.now += 501;
  assert.equal(await b.acquireEpoch(3), epoch + 1);
});

Deno.test("the holder's lease costs a write a quarter lease at most, and an idle poll commits only then", async () => {
  const clock = fakeClock();
  using kv = await Deno.openKv(":memory:");
  const limited = limitedKv(kv);
  const store = await storeOn(limited.kv, { leaderLeaseMs: 400, now: clock.read });
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  limited.commits.length = 0;
  for (let call = 0; call < 100; call++) {
    clock.now += 10;
    await take(store, caller);
  }
  const renewals = limited.commits.filter((commit) => commit.writes.some(({ key }) => key[0] === "holder"));
  assert.equal(renewals.length, 10, "1000 ms of calls, one renewal each 100 ms");
  assert.equal(limited.commits.length, renewals.length, "an idle poll commits nothing else");
});

Deno.test("two replicas dequeuing at once never lease one order twice", async () => {
  using replicas = await twoReplicas();
  const { a, b } = replicas;
  const orderIds = Array.from({ length: 40 }, (_, i) => `o${i}`);
  for (const [i, orderId] of orderIds.entries()) await (i % 2 ? a : b).enqueue(orderId, dune);
  const epoch = await a.acquireEpoch(1);
  const batches = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      (i % 2 ? a : b).dequeueBatch({ executorId: 1, epoch, requestId: `r${i}` }, {
        max: 8,
      })),
  );
  const leased = batches.flat().map((lease) => lease.orderId);
  assert.equal(new Set(leased).size, leased.length, "no order in two leases");
  const rest = await b.dequeueBatch({ executorId: 1, epoch }, { max: 32 });
  assert.deepEqual([...leased, ...rest.map((lease) => lease.orderId)].sort(), orderIds.toSorted());
  for (const orderId of orderIds) assert.equal((await a.orderState(orderId)).attempts, 1, `${orderId} once`);
  const status = await b.status();
  assert.deepEqual([status.depth, status.leased], [0, 40]);
});

Deno.test("a call repeated on the other replica has its effect once: Enqueue, DequeueBatch, AckBatch", async () => {
  using replicas = await twoReplicas();
  const { a, b } = replicas;
  assert.equal(await a.enqueue("o1", [{ bookId: "dune", quantity: 2 }]), true);
  assert.equal(await b.enqueue("o1", [{ bookId: "dune", quantity: 2 }]), false, "already queued");
  const caller = { executorId: 1, epoch: await a.acquireEpoch(1) };
  const viaA = await a.dequeueBatch({ ...caller, requestId: "r1" }, { max: 4 });
  const viaB = await b.dequeueBatch({ ...caller, requestId: "r1" }, { max: 4 });
  assert.deepEqual(viaB, viaA, "the same lease");
  assert.equal((await b.orderState("o1")).attempts, 1);
  const acks = viaA.map(({ orderId, leaseId }) => ({ orderId, leaseId }));
  // A lease taken via a is acked via b, and the ack repeated via a answers the same.
  const executed = [{ orderId: "o1", state: "executed", reason: "" }];
  assert.deepEqual(await b.ackBatch(caller, acks), executed);
  assert.deepEqual(await a.ackBatch(caller, acks), executed);
  assert.equal((await a.stock()).find((level) => level.bookId === "dune")?.stock, 3, "5 - 2, once");
  const status = await a.status();
  assert.deepEqual([status.depth, status.leased, status.executed], [0, 0, 1]);
});

Deno.test("one DequeueBatch on two replicas at once leases once: the slower commit finds the faster's marker", async () => {
  // Replica a reads the head (o1); before it commits, a bigger order (o0) jumps the line and the same request,
  // repeated on replica b by a caller that gave up on a, leases o0. Both commits check different heads, so only the
  // request's marker can tell a that the request already has its leases.
  await using kv = await Deno.openKv(":memory:");
  const hooked = hookedKv(kv, { when: (method, [key]) => method === "list" && key[0] === "ready", at: "after" });
  const a = await storeOn(hooked.kv);
  const b = await storeOn(kv);
  await a.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await a.acquireEpoch(1), requestId: "r1" };
  let viaB: Awaited<ReturnType<OrderQueueStore["dequeueBatch"]>> = [];
  hooked.state.run = async () => {
    await b.enqueue("o0", [{ bookId: "dune", quantity: 3 }]);
    viaB = await b.dequeueBatch(caller, { max: 1 });
  };
  const viaA = await a.dequeueBatch(caller, { max: 1 });
  assert.equal(hooked.state.ran, 1);
  assert.deepEqual(viaB.map((lease) => lease.orderId), ["o0"], "b leased the new head");
  assert.deepEqual(viaA, viaB, "a answers b's leases");
  assert.equal((await a.orderState("o1")).state, "queued", "o1 was not leased to a request no one hears");
  const status = await b.status();
  assert.deepEqual([status.depth, status.leased], [1, 1]);
});
