/**
 * Wire compatibility with the official Connect tooling: a client generated
 * from proto/ by buf + protoc-gen-es, on @connectrpc/connect's transport,
 * calls the running services, and gets proper Connect errors for bad input.
 */
import assert from "node:assert/strict";
import type { DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { startCluster } from "./support/cluster.ts";
import { ROOT, runBuf } from "./support/buf.ts";

await runBuf(["generate"]);
const generated = (name: string) => new URL(`tests/.gen/bookstore/v1/${name}_pb.ts`, ROOT).href;
// Generated at test time, so typed here by what the test uses.
const { OrderQueueService } = await import(generated("order_queue")) as { OrderQueueService: DescService };
const { CheckoutService } = await import(generated("orchestrator")) as { CheckoutService: DescService };

interface Item {
  bookId: string;
  quantity: number;
}
interface QueueClient {
  enqueue(request: { orderId: string; items: Item[] }): Promise<{ created: boolean }>;
  getOrderState(request: { orderId: string }): Promise<{ state: string; items: Item[] }>;
  getQueueStatus(request: object): Promise<{ depth: number }>;
}
interface CheckoutClient {
  listBooks(request: { query: string }): Promise<{ books: { bookId: string }[] }>;
  getOrder(request: { orderId: string }): Promise<unknown>;
}

Deno.test("a generated Connect client talks to the real services", async () => {
  await using cluster = await startCluster({ only: ["order_queue", "orchestrator"] });
  const bearer: Interceptor = (next) => (request) => {
    request.header.set("authorization", `Bearer ${cluster.token}`);
    return next(request);
  };
  const queue = createClient(
    OrderQueueService,
    createConnectTransport({ baseUrl: cluster.url("order_queue"), interceptors: [bearer] }),
  ) as unknown as QueueClient;
  const checkout = createClient(
    CheckoutService,
    createConnectTransport({ baseUrl: cluster.orchestrator }),
  ) as unknown as CheckoutClient;

  const created = await queue.enqueue({ orderId: "interop-1", items: [{ bookId: "dune", quantity: 2 }] });
  assert.equal(created.created, true);
  const again = await queue.enqueue({ orderId: "interop-1", items: [{ bookId: "dune", quantity: 2 }] });
  assert.equal(again.created, false, "Enqueue is idempotent by order id");
  const state = await queue.getOrderState({ orderId: "interop-1" });
  assert.equal(state.state, "queued");
  assert.deepEqual(state.items.map((i) => [i.bookId, i.quantity]), [["dune", 2]]);
  const status = await queue.getQueueStatus({});
  assert.equal(status.depth, 1);

  const books = await checkout.listBooks({ query: "dune" });
  assert.ok(books.books.some((b) => b.bookId === "dune"));

  await assert.rejects(() => queue.enqueue({ orderId: "interop-2", items: [] }), (error: unknown) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.InvalidArgument);
    assert.match(error.rawMessage, /items/);
    return true;
  });
  await assert.rejects(() => checkout.getOrder({ orderId: "nope" }), (error: unknown) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.NotFound);
    return true;
  });
  const anonymous = createClient(
    OrderQueueService,
    createConnectTransport({ baseUrl: cluster.url("order_queue") }),
  ) as unknown as QueueClient;
  await assert.rejects(() => anonymous.getQueueStatus({}), (error: unknown) => {
    assert.ok(error instanceof ConnectError);
    assert.equal(error.code, Code.Unauthenticated);
    return true;
  });
});
