/** The queue's Connect methods in memory (createApp on an in-memory KV, reached through app.request). */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { createClient } from "@bookstore/lib/rpc";
import { createApp } from "./app.ts";

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
