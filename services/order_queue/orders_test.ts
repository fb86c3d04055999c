/** Orders in and counts out: seeding stock, validating an order, and a status read from counts, never by scanning. */
import assert from "node:assert/strict";
import { Catalog } from "@bookstore/lib/catalog";
import { limitedKv } from "@bookstore/lib/store/testing";
import { COUNT_SHARDS } from "./keys.ts";
import { OrderQueueStore } from "./store.ts";
import { ackOne, book, fakeClock, openStore, silent, take } from "./testing.ts";

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

Deno.test("replicas seeding at once seed each book once, in commits that fit every backend", async () => {
  using kv = await Deno.openKv(":memory:");
  const catalog = new Catalog(Array.from({ length: 250 }, (_, i) => book(`b${i}`, i)));
  await kv.set(["stock", "b7"], 1);
  const replicas = [0, 1, 2].map(() =>
    new OrderQueueStore(limitedKv(kv).kv, { leaseMs: 1000, maxAttempts: 1, log: silent })
  );
  const seeded = await Promise.all(replicas.map((replica) => replica.seedStock(catalog)));
  assert.equal(seeded.reduce((sum, n) => sum + n, 0), 249, "every book but the one already stocked, once");
  const stock = new Map((await replicas[0].stock()).map((level) => [level.bookId, level.stock]));
  assert.equal(stock.size, 250);
  assert.equal(stock.get("b7"), 1, "existing stock is kept");
  assert.equal(stock.get("b200"), 200);
});

Deno.test("a count is split in shards that concurrent enqueues add to, and read as their sum", async () => {
  using queue = await openStore();
  const { kv, store } = queue;
  // A store from before the counts were sharded: its one key counts as one more shard.
  await kv.set(["count", "ready"], new Deno.KvU64(2n));
  await Promise.all(Array.from({ length: 40 }, (_, i) => store.enqueue(`o${i}`, [{ bookId: "dune", quantity: 1 }])));
  const shards = await Array.fromAsync(kv.list<Deno.KvU64>({ prefix: ["count", "ready"] }));
  assert.ok(shards.length > 2, `40 enqueues added to ${shards.length - 1} shards`);
  assert.ok(shards.every((entry) => entry.key.length === 2 || Number(entry.key[2]) < COUNT_SHARDS));
  assert.equal((await store.status()).depth, 42);
});

Deno.test("status is read from counts kept in the same commits, never by scanning", async () => {
  using queue = await openStore({ leaseMs: 1000, maxAttempts: 1 });
  const { kv } = queue;
  const clock = fakeClock();
  // The store under test lists only what it must: the counts' shards, never the ready, leased or dead prefixes.
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
  const store = new OrderQueueStore(watched, { leaseMs: 1000, maxAttempts: 1, log: silent, now: clock.read });
  for (const orderId of ["a", "b", "c", "d"]) await store.enqueue(orderId, [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  const a = (await take(store, caller))!;
  const b = (await take(store, caller))!;
  const c = (await take(store, caller))!;
  await ackOne(store, { ...caller, orderId: a.orderId, leaseId: a.leaseId });
  clock.now = c.expiresAt + 1;
  assert.equal(await store.reclaim(), 2, "b's and c's leases expired: dead after their one attempt");
  assert.equal(b.expiresAt, c.expiresAt, "both expired together");
  assert.equal(await store.requeueDeadLetter(b.orderId), true);
  scanned.length = 0;
  const status = await store.status();
  assert.deepEqual(scanned, ["count"], "no scan: only the counts' few shards are read");
  assert.deepEqual(
    { depth: status.depth, leased: status.leased, deadLetters: status.deadLetters, executed: status.executed },
    { depth: 2, leased: 0, deadLetters: 1, executed: 1 },
  );
});
