/** The queue's Connect methods in memory (createApp on an in-memory KV, reached through app.request). */
import assert from "node:assert/strict";
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { createClient } from "@bookstore/lib/rpc";
import { createApp } from "./app.ts";
import { hookedKv, type HookedRead } from "./testing.ts";

Deno.test("ListDeadLetters pages through more than 10,000 dead letters", async () => {
  using kv = await Deno.openKv(":memory:");
  const token = crypto.randomUUID();
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: token, BOOKSTORE_LOG_LEVEL: "error" });
  using queue = await createApp({ config, kv, log: createLogger("test", { write: () => {} }) });
  const total = 10_001;
  // Written straight into the store's KV: what 10,001 orders that failed too often leave behind.
  for (let start = 0; start < total; start += 250) {
    const atomic = kv.atomic();
    for (let i = start; i < Math.min(total, start + 250); i++) {
      const orderId = `dead-${String(i).padStart(5, "0")}`;
      atomic.set(["order", orderId], {
        orderId,
        state: "dead",
        attempts: 5,
        executorId: 1,
        epoch: 1,
        reason: "lease expired",
        items: [{ bookId: "dune", quantity: 1 }],
        enqueuedAt: 0,
        updatedAt: 0,
        totalQuantity: 1,
        seq: i,
      });
      atomic.set(["dead", orderId], { deadAt: 0, reason: "lease expired" });
    }
    await atomic.commit();
  }
  const client = createClient(orderQueueService, {
    baseUrl: "http://order-queue.test",
    peer: "order_queue",
    token,
    timeoutMs: 30_000,
    fetch: (url, init) => queue.app.request(url, init),
  });
  const seen = new Set<string>();
  let pages = 0;
  let pageToken = "";
  do {
    const page = await client.ListDeadLetters({ pageSize: 1000, pageToken });
    for (const letter of page.deadLetters) seen.add(letter.orderId);
    pageToken = page.nextPageToken;
    pages += 1;
  } while (pageToken !== "" && pages < 20);
  assert.equal(seen.size, total, "every dead letter, once");
  assert.equal(pages, 11);
  const first = await client.ListDeadLetters({});
  assert.equal(first.deadLetters.length, 100, "a default page");
  assert.equal(first.deadLetters[0].orderId, "dead-00000");
  await assert.rejects(() => client.ListDeadLetters({ pageSize: 5000 }), /at most 1000/);
});

Deno.test("two started replicas on one store: a DequeueBatch long-polling on one is woken by an Enqueue on the other", async () => {
  using kv = await Deno.openKv(":memory:");
  const token = crypto.randomUUID();
  const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: token, BOOKSTORE_LOG_LEVEL: "error" });
  const log = createLogger("test", { write: () => {} });
  // b tells when its poll has looked at the queue and found it empty.
  let looked!: () => void;
  const lookedAtEmptyQueue = new Promise<void>((resolve) => looked = resolve);
  const isReady = (method: HookedRead, keys: Deno.KvKey[]) => method === "list" && keys[0][0] === "ready";
  const hooked = hookedKv(kv, { when: isReady, at: "after" });
  using a = await createApp({ config, kv, log });
  using b = await createApp({ config, kv: hooked.kv, log });
  a.start();
  b.start();
  const client = (replica: typeof a) =>
    createClient(orderQueueService, {
      baseUrl: "http://order-queue.test",
      peer: "order_queue",
      token,
      timeoutMs: 30_000,
      fetch: (url, init) => replica.app.request(url, init),
    });
  const { epoch } = await client(a).AcquireEpoch({ executorId: 1 });
  hooked.state.run = () => Promise.resolve(looked());
  const started = Date.now();
  const waiting = client(b).DequeueBatch({ executorId: 1, epoch, requestId: "r1", maxLeases: 4, waitMs: 10_000 });
  await lookedAtEmptyQueue;
  const bookId = loadCatalog().books[0].bookId;
  assert.deepEqual(await client(a).Enqueue({ orderId: "o1", items: [{ bookId, quantity: 1 }] }), { created: true });
  const { leases } = await waiting;
  const waited = Date.now() - started;
  assert.deepEqual(leases.map((lease) => lease.orderId), ["o1"]);
  assert.ok(waited < 5000, `b's poll waited ${waited} ms: woken across replicas, not by its time running out`);
});
