/**
 * The orchestrator: the public API (Connect `bookstore.v1.CheckoutService`
 * and the seeds' REST endpoints) and the internal outcome callback.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { cors } from "hono/cors";
import { loadCatalog } from "@bookstore/lib/catalog";
import {
  checkoutService,
  fraudDetectionService,
  orderEventsService,
  orderQueueService,
  orderSchema,
  suggestionsService,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import { limitBody, parseJsonBody, RpcError } from "@bookstore/lib/rpc";
import { createServiceKit, type KvServiceDeps, type ServiceApp } from "@bookstore/lib/service";
import { Checkout } from "./checkout.ts";
import { idempotencyKeyFrom, OrderRecords } from "./order_records.ts";
import { createClusterReader, listBooks, orderView } from "./views.ts";

/** Builds the orchestrator on `deps`; importing this module starts nothing. */
export function createApp(deps: KvServiceDeps): ServiceApp {
  const { config, kv } = deps;
  const kit = createServiceKit("orchestrator", deps);
  const { app, log } = kit;
  const catalog = loadCatalog();
  const orders = new OrderRecords(kv);
  const queue = kit.peer(orderQueueService);
  const checkout = new Checkout({
    config,
    log,
    orders,
    catalog,
    peers: {
      transactionVerification: kit.peer(transactionVerificationService),
      fraudDetection: kit.peer(fraudDetectionService),
      suggestions: kit.peer(suggestionsService),
      orderQueue: queue,
    },
  });
  const readCluster = createClusterReader({ peers: config.executor.peers, queue, connect: kit.peer });

  app.use(
    "*",
    cors({
      origin: config.web.origin,
      allowMethods: ["GET", "POST", "OPTIONS"],
      allowHeaders: ["Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Idempotency-Key"],
      maxAge: 600,
    }),
  );

  // The REST face answers errors as {error: {code, message}} with the Connect code's HTTP status.
  const rest = new Hono();
  rest.onError((error, c) => restError(c, error));

  function restError(c: Context, error: unknown) {
    if (!(error instanceof RpcError)) log.error("request failed", { path: c.req.path, error });
    const rpc = RpcError.from(error, "internal");
    return c.json({ error: rpc.toJSON() }, rpc.httpStatus as 400);
  }

  rest.post("/checkout", limitBody(config.maxBodyBytes), async (c) => {
    const order = await parseJsonBody(c, orderSchema);
    const options = { idempotencyKey: idempotencyKeyFrom(c.req.raw.headers), signal: c.req.raw.signal };
    return c.json(await checkout.place(order, options));
  });
  rest.get("/orders/:orderId", async (c) => c.json(await orderView(c.req.param("orderId"), { orders, queue })));
  rest.get("/books", async (c) => c.json(await listBooks(c.req.query("q") ?? "", { catalog, queue })));
  rest.get("/books/:bookId", async (c) => {
    const book = (await listBooks("", { catalog, queue })).find((b) => b.bookId === c.req.param("bookId"));
    if (!book) throw new RpcError("not_found", `no book ${c.req.param("bookId")}`);
    return c.json(book);
  });
  rest.get("/cluster", async (c) => c.json(await readCluster()));
  app.route("/", rest);

  kit.rpc(checkoutService, {
    PlaceOrder: (order, ctx) =>
      checkout.place(order, { idempotencyKey: idempotencyKeyFrom(ctx.headers), signal: ctx.signal }),
    GetOrder: ({ orderId }) => orderView(orderId, { orders, queue }),
    ListBooks: async ({ query }) => ({ books: await listBooks(query, { catalog, queue }) }),
  });
  kit.rpc(orderEventsService, {
    ReportOutcome: (outcome) => {
      checkout.report(outcome);
      return {};
    },
  });

  return kit.service();
}
