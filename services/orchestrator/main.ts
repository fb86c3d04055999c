/**
 * The orchestrator: the public API (Connect `bookstore.v1.CheckoutService`
 * and the seeds' REST endpoints) and the internal outcome callback.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { loadCatalog } from "@bookstore/lib/catalog";
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import {
  checkoutService,
  fraudDetectionService,
  orderEventsService,
  orderQueueService,
  orderSchema,
  suggestionsService,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import { createClient, createRpcRoutes, describeIssues, RpcError } from "@bookstore/lib/rpc";
import { createServiceKit, openServiceKv, serve } from "@bookstore/lib/service";
import { Checkout } from "./checkout.ts";
import { OrderBook } from "./orders.ts";
import { createClusterReader, listBooks, orderView } from "./views.ts";

const config = loadConfig();
const token = requireServiceToken(config);
const { app, log, faults } = createServiceKit("orchestrator", config);
const catalog = loadCatalog();
const kv = await openServiceKv(config, "orchestrator");
const orders = new OrderBook(kv);
const peer = { token, timeoutMs: config.rpcTimeoutMs };
const queue = createClient(orderQueueService, { ...peer, baseUrl: config.urls.orderQueue, peer: "order_queue" });
const checkout = new Checkout({
  config,
  log,
  orders,
  catalog,
  peers: {
    transactionVerification: createClient(transactionVerificationService, {
      ...peer,
      baseUrl: config.urls.transactionVerification,
      peer: "transaction_verification",
    }),
    fraudDetection: createClient(fraudDetectionService, {
      ...peer,
      baseUrl: config.urls.fraudDetection,
      peer: "fraud_detection",
    }),
    suggestions: createClient(suggestionsService, { ...peer, baseUrl: config.urls.suggestions, peer: "suggestions" }),
    orderQueue: queue,
  },
});
const readCluster = createClusterReader({ peers: config.executor.peers, token, queue });

function loopbackAliases(origin: string): string[] {
  const url = new URL(origin);
  const loopback = ["localhost", "127.0.0.1", "[::1]"];
  if (!loopback.includes(url.hostname)) return [url.origin];
  return loopback.map((host) => `${url.protocol}//${host}${url.port ? `:${url.port}` : ""}`);
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

function idempotencyKey(headers: Headers): string | undefined {
  const key = headers.get("idempotency-key") ?? undefined;
  if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
    throw new RpcError("invalid_argument", "Idempotency-Key: must be 1-255 printable ASCII characters");
  }
  return key;
}

// The shop is reached as localhost or as 127.0.0.1 alike; both are its origin.
const webOrigins = loopbackAliases(config.web.origin);
app.use(
  "*",
  cors({
    origin: (origin) => webOrigins.includes(origin) ? origin : null,
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: ["Content-Type", "Connect-Protocol-Version", "Connect-Timeout-Ms", "Idempotency-Key"],
    maxAge: 600,
  }),
);

// The REST face answers errors as {error: {code, message}} with the Connect code's HTTP status.
const rest = new Hono();
rest.onError((error, c) => restError(c, error));

function restError(c: Context, error: unknown) {
  const rpc = error instanceof RpcError ? error : new RpcError("internal", "internal error");
  if (!(error instanceof RpcError)) log.error("request failed", { path: c.req.path, error });
  return c.json({ error: { code: rpc.code, message: rpc.message } }, rpc.httpStatus as 400);
}

rest.post(
  "/checkout",
  bodyLimit({
    maxSize: config.maxBodyBytes,
    onError: (c) =>
      c.json({
        error: { code: "resource_exhausted", message: `request body exceeds ${config.maxBodyBytes} bytes` },
      }, 413),
  }),
  async (c) => {
    // A form post from any web site is a "simple" request that skips CORS; only JSON may place an order.
    const contentType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
    if (contentType !== "application/json") {
      return c.json({
        error: {
          code: "invalid_argument",
          message: `Content-Type must be application/json, not "${contentType || "(none)"}"`,
        },
      }, 415);
    }
    let body: unknown;
    try {
      body = await c.req.json();
    } catch {
      throw new RpcError("invalid_argument", "request body is not valid JSON");
    }
    const parsed = orderSchema.safeParse(body);
    if (!parsed.success) throw new RpcError("invalid_argument", `invalid order: ${describeIssues(parsed.error)}`);
    const options = { idempotencyKey: idempotencyKey(c.req.raw.headers), signal: c.req.raw.signal };
    return c.json(await checkout.place(parsed.data, options));
  },
);
rest.get("/orders/:orderId", async (c) => c.json(await orderView(c.req.param("orderId"), { orders, queue })));
rest.get("/books", async (c) => c.json(await listBooks(c.req.query("q") ?? "", { catalog, queue })));
rest.get("/books/:bookId", async (c) => {
  const book = (await listBooks("", { catalog, queue })).find((b) => b.bookId === c.req.param("bookId"));
  if (!book) throw new RpcError("not_found", `no book ${c.req.param("bookId")}`);
  return c.json(book);
});
rest.get("/cluster", async (c) => c.json(await readCluster()));
app.route("/", rest);

app.route(
  "/",
  createRpcRoutes(checkoutService, {
    log,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      PlaceOrder: (order, ctx) =>
        checkout.place(order, { idempotencyKey: idempotencyKey(ctx.headers), signal: ctx.signal }),
      GetOrder: ({ orderId }) => orderView(orderId, { orders, queue }),
      ListBooks: async ({ query }) => ({ books: await listBooks(query, { catalog, queue }) }),
    },
  }),
);
app.route(
  "/",
  createRpcRoutes(orderEventsService, {
    log,
    token,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      ReportOutcome: (outcome) => {
        checkout.report(outcome);
        return {};
      },
    },
  }),
);

serve(app, { port: config.ports.orchestrator, hostname: config.host, log, onShutdown: () => kv.close() });
