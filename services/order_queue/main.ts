/**
 * The order queue: a durable priority queue of approved orders in Deno KV,
 * and the store executors commit orders and stock to, fenced by epoch.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createRpcRoutes } from "@bookstore/lib/rpc";
import { createServiceKit, openServiceKv, serve } from "@bookstore/lib/service";
import { OrderQueueStore } from "./store.ts";

const config = loadConfig();
const token = requireServiceToken(config);
const { app, log, faults } = createServiceKit("order_queue", config);
const kv = await openServiceKv(config, "order_queue");
const store = new OrderQueueStore(kv, { leaseMs: config.queue.leaseMs, maxAttempts: config.queue.maxAttempts, log });
const seeded = await store.seedStock(loadCatalog());
if (seeded > 0) log.info("stock seeded from the catalog", { books: seeded });

// Expired leases go back to the queue even while no leader is dequeuing.
const reclaimer = setInterval(() => {
  store.reclaim().catch((error) => log.error("reclaim failed", { error }));
}, Math.max(100, Math.floor(config.queue.leaseMs / 2)));

// Read-only counters, no order or customer data: open like /healthz for operators.
app.get("/status", async (c) => c.json(await store.status()));

app.route(
  "/",
  createRpcRoutes(orderQueueService, {
    log,
    token,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      Enqueue: async ({ orderId, items }) => ({ created: await store.enqueue(orderId, items) }),
      Dequeue: async (caller) => ({ lease: await store.dequeue(caller) }),
      Ack: (request) => store.ack(request),
      Nack: async (request) => ({ state: await store.nack(request) }),
      AcquireEpoch: async ({ executorId }) => ({ epoch: await store.acquireEpoch(executorId) }),
      GetOrderState: ({ orderId }) => store.orderState(orderId),
      GetQueueStatus: () => store.status(),
      ListStock: async () => ({ stock: await store.stock() }),
      ListDeadLetters: async () => ({ deadLetters: await store.deadLetters() }),
      RequeueDeadLetter: async ({ orderId }) => ({ requeued: await store.requeueDeadLetter(orderId) }),
    },
  }),
);

serve(app, {
  port: config.ports.orderQueue,
  hostname: config.host,
  log,
  onShutdown: () => {
    clearInterval(reclaimer);
    kv.close();
  },
});
