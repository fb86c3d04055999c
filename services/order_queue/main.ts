/**
 * The order queue: a durable priority queue of approved orders in Deno KV,
 * and the store executors commit orders and stock to, fenced by epoch.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import { orderQueueService, type QueueStatus } from "@bookstore/lib/contracts";
import { createRpcRoutes } from "@bookstore/lib/rpc";
import { createServiceKit, openServiceKv, serve } from "@bookstore/lib/service";
import { meter } from "@bookstore/lib/telemetry";
import { OrderQueueStore } from "./store.ts";

const config = loadConfig();
const token = requireServiceToken(config);
const { app, log, faults } = createServiceKit("order_queue", config);
const kv = await openServiceKv(config, "order_queue");
const store = new OrderQueueStore(kv, { leaseMs: config.queue.leaseMs, maxAttempts: config.queue.maxAttempts, log });
const seeded = await store.seedStock(loadCatalog());
if (seeded > 0) log.info("stock seeded from the catalog", { books: seeded });

// Gauges read the last status the housekeeping timer saw: observers must not wait on I/O.
let lastStatus: QueueStatus | undefined;
meter.createObservableGauge("bookstore.queue.depth", { description: "Orders waiting in the queue" })
  .addCallback((result) => lastStatus && result.observe(lastStatus.depth));
meter.createObservableGauge("bookstore.queue.leased", { description: "Orders leased to an executor" })
  .addCallback((result) => lastStatus && result.observe(lastStatus.leased));
meter.createObservableGauge("bookstore.queue.dead_letters", { description: "Orders in the dead-letter list" })
  .addCallback((result) => lastStatus && result.observe(lastStatus.deadLetters));

// Expired leases go back to the queue even while no leader is dequeuing.
const housekeeping = setInterval(async () => {
  try {
    await store.reclaim();
    lastStatus = await store.status();
  } catch (error) {
    log.error("housekeeping failed", { error });
  }
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
      Dequeue: async (caller, ctx) => ({ lease: await store.dequeue(caller, { signal: ctx.signal }) }),
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
    clearInterval(housekeeping);
    kv.close();
  },
});
