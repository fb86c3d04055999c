/**
 * The order queue: a durable priority queue of approved orders in the
 * store, and the store executors commit orders and stock to, fenced by
 * epoch. Stateless: with etcd, several replicas serve the same queue.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { orderQueueService, type QueueStatus } from "@bookstore/lib/contracts";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { meter } from "@bookstore/lib/telemetry";
import { Housekeeping } from "./housekeeping.ts";
import { OrderQueueStore } from "./store.ts";

/** The order queue service; `store` is exposed for tests and tools. */
export interface OrderQueueApp extends ServiceApp {
  /** The queue's state. */
  readonly store: OrderQueueStore;
}

/**
 * Builds the queue on `deps` and seeds the stock of catalog books that have
 * none yet; importing this module starts nothing.
 */
export async function createApp(deps: KvServiceDeps): Promise<OrderQueueApp> {
  const { config, kv } = deps;
  const kit = createServiceKit("order_queue", deps);
  const { app, log } = kit;
  const store = new OrderQueueStore(kv, {
    leaseMs: config.queue.leaseMs,
    maxAttempts: config.queue.maxAttempts,
    agingMs: config.queue.agingMs,
    // The leader lease lasts as long as the executors wait for a silent leader.
    leaderLeaseMs: config.executor.heartbeatTimeoutMs,
    retentionMs: config.orderRetentionMs,
    log,
  });
  const seeded = await store.seedStock(loadCatalog());
  if (seeded > 0) log.info("stock seeded from the catalog", { books: seeded });

  // Read-only counters, no order or customer data: open like /healthz for operators.
  app.get("/status", async (c) => c.json(await store.status()));

  kit.rpc(orderQueueService, {
    Enqueue: async ({ orderId, items }) => ({ created: await store.enqueue(orderId, items) }),
    DequeueBatch: async ({ maxLeases, waitMs, ...caller }, ctx) => {
      // A long poll answers well before the caller's deadline, even when nothing came.
      const waitFor = ctx.deadline === undefined ? waitMs : Math.min(waitMs, 0.8 * (ctx.deadline - Date.now()));
      return { leases: await store.dequeueBatch(caller, { max: maxLeases, waitMs: waitFor, signal: ctx.signal }) };
    },
    AckBatch: async ({ acks, ...caller }) => ({ results: await store.ackBatch(caller, acks) }),
    AcquireEpoch: async ({ executorId }, ctx) => ({
      epoch: await store.acquireEpoch(executorId, { signal: ctx.signal }),
    }),
    GetOrderState: ({ orderId }) => store.orderState(orderId),
    GetQueueStatus: () => store.status(),
    ListStock: async () => ({ stock: await store.stock() }),
    ListDeadLetters: (page) => store.deadLetterPage(page),
    RequeueDeadLetter: async ({ orderId }) => ({ requeued: await store.requeueDeadLetter(orderId) }),
  });

  // Expired leases go back to the queue even while no leader is dequeuing.
  const housekeeping = new Housekeeping(store, {
    intervalMs: Math.max(100, Math.floor(config.queue.leaseMs / 2)),
    log,
  });
  let gauges = false;
  let watch: Disposable | undefined;
  return {
    app,
    log,
    store,
    start() {
      if (!gauges) {
        gauges = true;
        // Gauges read the last status housekeeping saw: observers must not wait on I/O.
        const last = (): QueueStatus | undefined => housekeeping.lastStatus;
        meter.createObservableGauge("bookstore.queue.depth", { description: "Orders waiting in the queue" })
          .addCallback((result) => last() && result.observe(last()!.depth));
        meter.createObservableGauge("bookstore.queue.leased", { description: "Orders leased to an executor" })
          .addCallback((result) => last() && result.observe(last()!.leased));
        meter.createObservableGauge("bookstore.queue.dead_letters", { description: "Orders in the dead-letter list" })
          .addCallback((result) => last() && result.observe(last()!.deadLetters));
      }
      housekeeping.start();
      // Orders queued on other replicas wake this one's long polls too.
      watch ??= store.watchReady();
    },
    [Symbol.dispose]() {
      housekeeping[Symbol.dispose]();
      watch?.[Symbol.dispose]();
      watch = undefined;
    },
  };
}
