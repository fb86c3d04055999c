/**
 * A store call whose outcome is unknown (the etcd backend's `unavailable` when a commit's answer is lost): every
 * commit is atomic, so nothing is left half done, the error reaches RPC callers as `unavailable`, and the caller's
 * retry — the same order id, request id or lease ids, on this replica or another — has its effect once.
 */
import assert from "node:assert/strict";
import { Catalog, loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createClient, hasCode, type RpcError } from "@bookstore/lib/rpc";
import { createApp } from "./app.ts";
import { OrderQueueStore } from "./store.ts";
import { type CommitShape, unsureKv } from "@bookstore/lib/store/testing";
import { book, silent, storeOn } from "./testing.ts";

const writes = (prefix: string, orderId: string) => (shape: CommitShape) =>
  shape.writes.some(({ key }) => key[0] === prefix && key[1] === orderId);
const isUnavailable = (error: RpcError) => hasCode(error, "unavailable") && /outcome is unknown/.test(error.message);

Deno.test("Enqueue and DequeueBatch whose commits applied but lost their answers: the retries on the other replica count once", async () => {
  using kv = await Deno.openKv(":memory:");
  const unsure = unsureKv(kv);
  const a = await storeOn(unsure.kv);
  const b = await storeOn(kv);
  const items = [{ bookId: "dune", quantity: 1 }];
  unsure.state.lose = writes("order", "o1");
  await assert.rejects(() => a.enqueue("o1", items), isUnavailable);
  assert.equal(unsure.state.lost, 1);
  assert.equal(await b.enqueue("o1", items), false, "the retry finds the order queued");
  assert.equal((await b.status()).depth, 1, "queued once");
  const caller = { executorId: 1, epoch: await a.acquireEpoch(1), requestId: "r1" };
  unsure.state.lose = writes("leased", "o1");
  await assert.rejects(() => a.dequeueBatch(caller, { max: 4 }), isUnavailable);
  const [lease] = await b.dequeueBatch(caller, { max: 4 });
  assert.deepEqual([lease.orderId, lease.attempt], ["o1", 1], "the lease the lost answer held, one delivery");
  const status = await b.status();
  assert.deepEqual([status.depth, status.leased], [0, 1]);
});

Deno.test("an AckBatch split in commits whose second applied but lost its answer: the retry executes each order once", async () => {
  // 3 orders of 40 different books each: two fit in one commit, the third goes in a second.
  const books = Array.from({ length: 120 }, (_, i) => book(`b${i}`, 1));
  using kv = await Deno.openKv(":memory:");
  const unsure = unsureKv(kv);
  const options = { leaseMs: 5000, maxAttempts: 3, log: silent };
  const a = new OrderQueueStore(unsure.kv, options);
  const b = new OrderQueueStore(kv, options);
  await a.seedStock(new Catalog(books));
  for (let o = 0; o < 3; o++) {
    await a.enqueue(`o${o}`, books.slice(o * 40, o * 40 + 40).map((b) => ({ bookId: b.bookId, quantity: 1 })));
  }
  const caller = { executorId: 1, epoch: await a.acquireEpoch(1) };
  const acks = (await a.dequeueBatch(caller, { max: 3 })).map(({ orderId, leaseId }) => ({ orderId, leaseId }));
  unsure.state.lose = writes("order", "o2");
  await assert.rejects(() => a.ackBatch(caller, acks), isUnavailable);
  assert.equal(unsure.state.lost, 1, "the second commit was the one lost");
  const results = await b.ackBatch(caller, acks);
  assert.deepEqual(results.map((r) => r.state), ["executed", "executed", "executed"]);
  assert.ok((await b.stock()).every((level) => level.stock === 0), "every book taken once");
  const status = await b.status();
  assert.deepEqual([status.executed, status.failed, status.leased], [3, 0, 0]);
});

Deno.test("over RPC, a lost commit answers unavailable, and the client's retry of the same call has its effect once", async () => {
  using kv = await Deno.openKv(":memory:");
  const unsure = unsureKv(kv);
  const token = crypto.randomUUID();
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: token, BOOKSTORE_LOG_LEVEL: "error" });
  using queue = await createApp({ config, kv: unsure.kv, log: silent });
  const client = (retries: number) =>
    createClient(orderQueueService, {
      baseUrl: "http://order-queue.test",
      peer: "order_queue",
      token,
      timeoutMs: 5000,
      retries,
      fetch: (url, init) => queue.app.request(url, init),
    });
  const bookId = loadCatalog().books[0].bookId;
  const request = { orderId: "o1", items: [{ bookId, quantity: 1 }] };
  unsure.state.lose = writes("order", "o1");
  await assert.rejects(() => client(0).Enqueue(request), isUnavailable);
  assert.deepEqual(await client(0).Enqueue(request), { created: false }, "the order was queued, once");
  // A client that retries by itself (Enqueue is idempotent) hears the retry's answer.
  unsure.state.lose = writes("order", "o2");
  assert.deepEqual(await client(2).Enqueue({ ...request, orderId: "o2" }), { created: false });
  assert.equal(unsure.state.lost, 2);
  assert.equal((await client(0).GetQueueStatus({})).depth, 2);
});
