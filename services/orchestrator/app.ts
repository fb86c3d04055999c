/**
 * The orchestrator: the public API (Connect `bookstore.v1.CheckoutService`
 * and the seeds' REST endpoints) and the internal outcome callback.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import {
  checkoutService,
  fraudDetectionService,
  getOrderRequestSchema,
  orderEventsService,
  orderQueueService,
  orderSchema,
  suggestionsService,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import { mediaType } from "@bookstore/lib/http";
import { describeIssues, limitBody, parseJsonBody, RpcError } from "@bookstore/lib/rpc";
import { instanceCounts } from "@bookstore/lib/order_route";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { Checkout } from "./checkout.ts";
import { corsFor } from "./cors.ts";
import { idempotencyKeyFrom, IdempotencyKeys } from "./idempotency.ts";
import { OrderRecords } from "./order_records.ts";
import { rateLimit, RateLimiter } from "./rate_limit.ts";
import { createClusterReader } from "./cluster_reader.ts";
import { probeHealth, ValidatorRouter } from "./routing.ts";
import { listBooks, orderView } from "./views.ts";

// Validators report an order's outcome to the orchestrator instance its route names: this one must be in their list.
function orchestratorInstance(config: KvServiceDeps["config"]): number {
  if (config.instance > config.urls.orchestrator.length) {
    throw new Error(
      `BOOKSTORE_INSTANCE ${config.instance} is not in ORCHESTRATOR_URL (${config.urls.orchestrator.length} instance(s)): outcomes could not come back to this orchestrator`,
    );
  }
  return config.instance;
}

/** Builds the orchestrator on `deps`; importing this module starts nothing. */
export function createApp(deps: KvServiceDeps): ServiceApp {
  const { config, kv } = deps;
  const kit = createServiceKit("orchestrator", deps);
  const { app, log } = kit;
  const catalog = loadCatalog();
  const orders = new OrderRecords(kv, { retentionMs: config.orderRetentionMs });
  // Checkouts and reads reach the queue through clients of their own: slow or failing reads
  // (an operator's /cluster, say) must not open the circuit that approved checkouts go through.
  const queue = kit.peer(orderQueueService);
  const queueReads = kit.peer(orderQueueService);
  const checkout = new Checkout({
    config,
    log,
    orders,
    keys: new IdempotencyKeys(kv, { retentionMs: config.orderRetentionMs }),
    catalog,
    peers: {
      transactionVerification: kit.instances(transactionVerificationService),
      fraudDetection: kit.instances(fraudDetectionService),
      suggestions: kit.instances(suggestionsService),
      orderQueue: queue,
    },
    router: new ValidatorRouter({
      counts: instanceCounts(config),
      self: orchestratorInstance(config),
      probe: probeHealth(config, deps),
      log,
    }),
  });
  const readCluster = createClusterReader({
    peers: config.executor.peers,
    queueReplicas: config.urls.orderQueue,
    store: config.store.kind === "etcd" ? { kind: "etcd", endpoints: config.store.etcdEndpoints } : { kind: "kv" },
    connect: kit.peer,
  });

  app.use("*", corsFor(config.corsOrigins));

  // Per-client rate limit of placing orders, REST and Connect alike, before the body is read.
  const limiter = new RateLimiter({ limit: config.checkoutRateLimit });
  if (limiter.enabled) {
    const limit = rateLimit(limiter, { trustedProxies: config.trustedProxies });
    app.post("/checkout", limit);
    app.post(`/${checkoutService.typeName}/PlaceOrder`, limit);
  }

  // The REST face's errors go to the kit's one handler, which answers them as {error: {code, message}}.
  app.post("/checkout", limitBody(config.maxBodyBytes), async (c) => {
    // A form post from any web site is a "simple" request that skips CORS; only JSON may place an order.
    const type = mediaType(c.req.raw.headers);
    if (type !== "application/json") {
      throw new RpcError("invalid_argument", `Content-Type must be application/json, not "${type || "(none)"}"`, {
        status: 415,
      });
    }
    const order = await parseJsonBody(c, orderSchema);
    const options = { idempotencyKey: idempotencyKeyFrom(c.req.raw.headers), signal: c.req.raw.signal };
    return c.json(await checkout.place(order, options));
  });
  app.get("/orders/:orderId", async (c) => {
    // The same check as GetOrder's input: an id that could never be an order's is refused before any read.
    const parsed = getOrderRequestSchema.safeParse({ orderId: c.req.param("orderId") });
    if (!parsed.success) throw new RpcError("invalid_argument", `invalid order id: ${describeIssues(parsed.error)}`);
    return c.json(await orderView(parsed.data.orderId, { orders, queue: queueReads }));
  });
  app.get("/books", async (c) => c.json(await listBooks(c.req.query("q") ?? "", { catalog, queue: queueReads })));
  app.get("/books/:bookId", async (c) => {
    const book = (await listBooks("", { catalog, queue: queueReads })).find((b) => b.bookId === c.req.param("bookId"));
    if (!book) throw new RpcError("not_found", `no book ${c.req.param("bookId")}`);
    return c.json(book);
  });
  app.get("/cluster", async (c) => c.json(await readCluster()));

  kit.rpc(checkoutService, {
    PlaceOrder: (order, ctx) =>
      checkout.place(order, { idempotencyKey: idempotencyKeyFrom(ctx.headers), signal: ctx.signal }),
    GetOrder: ({ orderId }) => orderView(orderId, { orders, queue: queueReads }),
    ListBooks: async ({ query }) => ({ books: await listBooks(query, { catalog, queue: queueReads }) }),
  });
  kit.rpc(orderEventsService, {
    ReportOutcome: (outcome) => {
      checkout.report(outcome);
      return {};
    },
  });

  return kit.service();
}
