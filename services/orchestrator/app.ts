/**
 * The orchestrator: the public API (Connect `bookstore.v1.CheckoutService`
 * and the seeds' REST endpoints) and the internal outcome callback.
 *
 * @module
 */
import { type Context, Hono } from "hono";
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
import { describeIssues, limitBody, parseJsonBody, RpcError } from "@bookstore/lib/rpc";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { Checkout } from "./checkout.ts";
import { corsFor } from "./cors.ts";
import { idempotencyKeyFrom, IdempotencyKeys } from "./idempotency.ts";
import { OrderRecords } from "./order_records.ts";
import { rateLimit, RateLimiter } from "./rate_limit.ts";
import { createClusterReader, listBooks, orderView } from "./views.ts";

/** Builds the orchestrator on `deps`; importing this module starts nothing. */
export function createApp(deps: KvServiceDeps): ServiceApp {
  const { config, kv } = deps;
  const kit = createServiceKit("orchestrator", deps);
  const { app, log } = kit;
  const catalog = loadCatalog();
  const orders = new OrderRecords(kv);
  // Checkouts and reads reach the queue through clients of their own: slow or failing reads
  // (an operator's /cluster, say) must not open the circuit that approved checkouts go through.
  const queue = kit.peer(orderQueueService);
  const queueReads = kit.peer(orderQueueService);
  const checkout = new Checkout({
    config,
    log,
    orders,
    keys: new IdempotencyKeys(kv),
    catalog,
    peers: {
      transactionVerification: kit.peer(transactionVerificationService),
      fraudDetection: kit.peer(fraudDetectionService),
      suggestions: kit.peer(suggestionsService),
      orderQueue: queue,
    },
  });
  const readCluster = createClusterReader({ peers: config.executor.peers, queue: queueReads, connect: kit.peer });

  app.use("*", corsFor(config.corsOrigins));

  // Per-client rate limit of placing orders, REST and Connect alike, before the body is read.
  const limiter = new RateLimiter({ limit: config.checkoutRateLimit });
  if (limiter.enabled) {
    app.post("/checkout", rateLimit({ limiter, shape: "rest" }));
    app.post(`/${checkoutService.typeName}/PlaceOrder`, rateLimit({ limiter, shape: "connect" }));
  }

  // The REST face answers errors as {error: {code, message}} with the Connect code's HTTP status.
  const rest = new Hono();
  rest.onError((error, c) => restError(c, error));

  function restError(c: Context, error: unknown) {
    if (!(error instanceof RpcError)) log.error("request failed", { path: c.req.path, error });
    const rpc = RpcError.from(error, "internal");
    return c.json({ error: rpc.toJSON() }, rpc.httpStatus as 400);
  }

  rest.post("/checkout", limitBody(config.maxBodyBytes), async (c) => {
    // A form post from any web site is a "simple" request that skips CORS; only JSON may place an order.
    const contentType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (contentType !== "application/json") {
      const message = `Content-Type must be application/json, not "${contentType || "(none)"}"`;
      return c.json({ error: { code: "invalid_argument", message } }, 415);
    }
    const order = await parseJsonBody(c, orderSchema);
    const options = { idempotencyKey: idempotencyKeyFrom(c.req.raw.headers), signal: c.req.raw.signal };
    return c.json(await checkout.place(order, options));
  });
  rest.get("/orders/:orderId", async (c) => {
    // The same check as GetOrder's input: an id that could never be an order's is refused before any read.
    const parsed = getOrderRequestSchema.safeParse({ orderId: c.req.param("orderId") });
    if (!parsed.success) throw new RpcError("invalid_argument", `invalid order id: ${describeIssues(parsed.error)}`);
    return c.json(await orderView(parsed.data.orderId, { orders, queue: queueReads }));
  });
  rest.get("/books", async (c) => c.json(await listBooks(c.req.query("q") ?? "", { catalog, queue: queueReads })));
  rest.get("/books/:bookId", async (c) => {
    const book = (await listBooks("", { catalog, queue: queueReads })).find((b) => b.bookId === c.req.param("bookId"));
    if (!book) throw new RpcError("not_found", `no book ${c.req.param("bookId")}`);
    return c.json(book);
  });
  rest.get("/cluster", async (c) => c.json(await readCluster()));
  app.route("/", rest);

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
