/**
 * The checkout coordinator with its peers in memory: the orchestrator, the
 * three validation services and the queue are each built by their
 * `createApp`, on in-memory Deno KVs, and reach each other through a `fetch`
 * that hands every request to the addressed app (`app.request`). The whole
 * validation protocol runs, no process or port involved.
 */
import assert from "node:assert/strict";
import { delay } from "@bookstore/lib/async";
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import type { ServiceApp } from "@bookstore/lib/service";
import { EVENT_NAMES, type Rejection, type ValidationEvent } from "@bookstore/lib/contracts";
import { createApp as createFraudDetection } from "@bookstore/fraud_detection";
import { createApp as createOrderQueue } from "@bookstore/order_queue";
import { createApp as createSuggestions } from "@bookstore/suggestions";
import { createApp as createTransactionVerification } from "@bookstore/transaction_verification";
import { clockFindings } from "../../tests/support/event_graph.ts";
import { cardNumber, validOrder } from "../../tests/support/orders.ts";
import { eventually } from "../../tests/support/wait.ts";
import { createApp as createOrchestrator } from "./app.ts";

const HOSTS = {
  ORCHESTRATOR_URL: "http://orchestrator.test",
  TRANSACTION_VERIFICATION_URL: "http://transaction-verification.test",
  FRAUD_DETECTION_URL: "http://fraud-detection.test",
  SUGGESTIONS_URL: "http://suggestions.test",
  ORDER_QUEUE_URL: "http://order-queue.test",
};

/**
 * Every checkout service in memory; `down` makes a host unreachable, and a
 * method named in `loseAnswers` (e.g. `OrderQueueService/Enqueue`) runs but
 * its answer is lost, as if the peer died before replying. `seen.hold` may
 * keep a request from its peer until the promise it answers settles (a
 * gate). Dispose of it to close the KVs.
 */
async function inMemorySystem(env: Record<string, string> = {}) {
  const config = loadConfig({
    // As the test clusters run: every process also validates what it sends.
    BOOKSTORE_ENV: "test",
    ...HOSTS,
    ...env,
    BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(),
    BOOKSTORE_FINGERPRINT_KEY: crypto.randomUUID(),
    BOOKSTORE_LOG_LEVEL: "error",
  });
  const lines: string[] = [];
  const log = createLogger("test", { level: "info", write: (line) => lines.push(line) });
  const apps = new Map<string, ServiceApp>();
  const down = new Set<string>();
  const loseAnswers = new Set<string>();
  const seen: {
    onRequest?: (url: URL) => void;
    hold?: (url: URL) => Promise<void> | undefined;
    onResponse?: (url: URL, body: unknown) => unknown;
  } = {};
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.onRequest?.(url);
    await seen.hold?.(url);
    const service = apps.get(url.origin);
    if (!service || down.has(url.origin)) {
      throw new TypeError(`error sending request for url (${url}): connection refused`);
    }
    const response = await service.app.request(input instanceof Request ? input : url.href, init);
    if ([...loseAnswers].some((method) => url.pathname.endsWith(method))) {
      throw new TypeError(`error reading a response from ${url}: connection reset`);
    }
    if (seen.onResponse && response.ok) {
      const body = seen.onResponse(url, await response.json());
      return Response.json(body, { status: response.status, headers: response.headers });
    }
    return response;
  };
  const kvs = await Promise.all(Array.from({ length: 4 }, () => Deno.openKv(":memory:")));
  const [orchestratorKv, fraudKv, suggestionsKv, queueKv] = kvs;
  const deps = { config, log, fetch };
  apps.set(HOSTS.ORCHESTRATOR_URL, createOrchestrator({ ...deps, kv: orchestratorKv }));
  apps.set(HOSTS.TRANSACTION_VERIFICATION_URL, createTransactionVerification(deps));
  apps.set(HOSTS.FRAUD_DETECTION_URL, createFraudDetection({ ...deps, kv: fraudKv }));
  apps.set(HOSTS.SUGGESTIONS_URL, createSuggestions({ ...deps, kv: suggestionsKv }));
  const queue = await createOrderQueue({ ...deps, kv: queueKv });
  apps.set(HOSTS.ORDER_QUEUE_URL, queue);
  const orchestrator = apps.get(HOSTS.ORCHESTRATOR_URL)!.app;
  return {
    queue: queue.store,
    suggestionsKv,
    seen,
    down,
    loseAnswers,
    lines,
    async checkout(order: unknown, headers: Record<string, string> = {}, signal?: AbortSignal) {
      const response = await orchestrator.request("/checkout", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(order),
        signal,
      });
      return { status: response.status, body: await response.json() };
    },
    async get(path: string) {
      const response = await orchestrator.request(path);
      return { status: response.status, body: await response.json() };
    },
    [Symbol.dispose]() {
      for (const kv of kvs) kv.close();
    },
  };
}

Deno.test("a valid order is approved after events a..f, in their partial order, and queued", async () => {
  using system = await inMemorySystem();
  const { status, body } = await system.checkout(validOrder());
  assert.equal(status, 200);
  assert.equal(body.status, "Order Approved");
  assert.deepEqual(body.reasons, []);
  assert.ok(body.suggestedBooks.length > 0);
  for (const book of body.suggestedBooks) assert.ok(!["dune", "foundation"].includes(book.bookId));

  const view = await system.get(`/orders/${body.orderId}`);
  assert.equal(view.status, 200);
  assert.equal(view.body.status, "queued");
  const events: ValidationEvent[] = view.body.events;
  assert.deepEqual(events.map((e) => e.name).sort(), [...EVENT_NAMES]);
  // All fifteen pairs, as the event graph has them: the listed relations, and every other pair concurrent.
  assert.deepEqual(clockFindings(events), []);
  assert.equal((await system.queue.orderState(body.orderId)).state, "queued");
  assert.ok(!system.lines.some((line) => line.includes('"level":"error"')), "no clock was found inconsistent");
});

Deno.test("a rejected order names its reason, stops every service and is not queued", async () => {
  using system = await inMemorySystem();
  const expired = validOrder({ creditCard: { number: cardNumber(), expirationDate: "01/20", cvv: "123" } });
  const { status, body } = await system.checkout(expired);
  assert.equal(status, 200);
  assert.equal(body.status, "Order Rejected");
  assert.match(body.reasons.join(" "), /expired/);
  assert.deepEqual(
    body.rejections.map((r: Rejection) => [r.code, r.field]),
    [["card.expired", "creditCard.expirationDate"]],
    "the reason carries the code of the check that produced it",
  );
  assert.deepEqual(body.reasons, body.rejections.map((r: Rejection) => r.message));
  assert.deepEqual(body.suggestedBooks, []);
  assert.equal((await system.queue.status()).depth, 0);
  const view = await system.get(`/orders/${body.orderId}`);
  assert.equal(view.body.status, "rejected");
  assert.deepEqual([view.body.reasons, view.body.rejections], [body.reasons, body.rejections]);
  assert.ok(
    !view.body.events.some((e: ValidationEvent) => ["e", "f"].includes(e.name)),
    "nothing ran after the failure",
  );
});

Deno.test("the same Idempotency-Key answers the same order, and refuses a different one", async () => {
  using system = await inMemorySystem();
  const order = validOrder();
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  const [first, second] = await Promise.all([system.checkout(order, headers), system.checkout(order, headers)]);
  assert.equal(first.body.orderId, second.body.orderId);
  const third = await system.checkout(order, headers);
  assert.deepEqual(third.body, first.body);
  assert.equal((await system.queue.status()).depth, 1, "queued once");
  const other = await system.checkout(validOrder(), headers);
  assert.equal(other.status, 400);
  assert.match(other.body.error.message, /already used for a different order/);
});

Deno.test("a key reused for a different order while the first is still running is refused, not answered as the first", async () => {
  using system = await inMemorySystem();
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  // The first placement is held at its first call to transaction verification until the second has been answered.
  let reached!: () => void;
  const atGate = new Promise<void>((resolve) => reached = resolve);
  let open!: () => void;
  const gate = new Promise<void>((resolve) => open = resolve);
  system.seen.hold = (url) => {
    if (url.origin !== HOSTS.TRANSACTION_VERIFICATION_URL) return undefined;
    reached();
    return gate;
  };
  const first = system.checkout(validOrder(), headers);
  const held = await Promise.race([atGate.then(() => true), first.then(() => false)]);
  assert.ok(held, "the first placement reached transaction verification");
  system.seen.hold = undefined;
  const second = system.checkout(validOrder(), headers);
  // The gate opens once the second is answered, or after a bound: a second call that joined the first (the bug
  // this catches) can only be answered once the first goes on.
  const bound = new AbortController();
  await Promise.race([second, delay(500, { signal: bound.signal }).catch(() => {})]);
  bound.abort();
  open();
  const other = await second;
  assert.equal(other.status, 400, JSON.stringify(other.body));
  assert.equal(other.body.error.code, "invalid_argument");
  assert.match(other.body.error.message, /Idempotency-Key: this key was already used for a different order/);
  const placed = await first;
  assert.equal(placed.body.status, "Order Approved", JSON.stringify(placed.body));
  assert.equal((await system.queue.status()).depth, 1, "only the first order is queued");
});

Deno.test("an unreachable validator fails the checkout fast, naming it; an unreachable queue places nothing until a retry", async () => {
  using system = await inMemorySystem();
  system.down.add(HOSTS.FRAUD_DETECTION_URL);
  const failed = await system.checkout(validOrder());
  assert.equal(failed.status, 503);
  assert.equal(failed.body.error.code, "unavailable");
  assert.match(failed.body.error.message, /fraud_detection/);
  system.down.clear();

  const order = validOrder();
  system.down.add(HOSTS.ORDER_QUEUE_URL);
  const unqueued = await system.checkout(order, { "Idempotency-Key": "retry-me" });
  assert.equal(unqueued.status, 503);
  assert.match(unqueued.body.error.message, /retry with the same Idempotency-Key/);
  system.down.clear();
  const retried = await system.checkout(order, { "Idempotency-Key": "retry-me" });
  assert.equal(retried.body.status, "Order Approved", "the retry queues the approved order");
  assert.equal((await system.queue.orderState(retried.body.orderId)).state, "queued");
});

Deno.test("an Enqueue whose answer is lost is resolved by asking the queue, never reported as not placed", async () => {
  using system = await inMemorySystem();
  // The queue commits every Enqueue but no answer comes back; its other methods answer.
  system.loseAnswers.add("OrderQueueService/Enqueue");
  const answered = await system.checkout(validOrder());
  assert.equal(answered.status, 200, JSON.stringify(answered.body));
  assert.equal(answered.body.status, "Order Approved");
  assert.equal((await system.queue.orderState(answered.body.orderId)).state, "queued");
  assert.equal((await system.get(`/orders/${answered.body.orderId}`)).body.status, "queued");

  // The queue commits and then dies: nothing it does can be learned until it is back.
  system.loseAnswers.add("OrderQueueService/GetOrderState");
  system.loseAnswers.add("OrderQueueService/GetQueueStatus");
  const before = (await system.queue.status()).depth;
  const unknown = await system.checkout(validOrder());
  assert.equal(unknown.status, 503);
  assert.doesNotMatch(unknown.body.error.message, /not placed/);
  assert.match(unknown.body.error.message, /may have been placed/);
  assert.equal((await system.queue.status()).depth, before + 1, "the queue holds the order the client was not sure of");
  const orderId = unknown.body.error.message.match(/order ([0-9a-f-]{36})/)?.[1];
  assert.ok(orderId, "the answer names the order, so the client can look it up");
  system.loseAnswers.clear();
  const view = await system.get(`/orders/${orderId}`);
  assert.equal(view.status, 200, "the order the queue holds is not a 404");
  assert.equal(view.body.status, "queued");
});

Deno.test("a retry under the same key counts once for velocity, and co-purchases only once it is approved", async () => {
  using system = await inMemorySystem({ CHECKOUT_TIMEOUT_MS: "300", RPC_TIMEOUT_MS: "100" });
  const order = validOrder();
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  // Every event runs, but no outcome reaches the orchestrator: the client sees timeouts and retries.
  system.down.add(HOSTS.ORCHESTRATOR_URL);
  for (let attempt = 0; attempt < 6; attempt++) {
    const { status } = await system.checkout(order, headers);
    assert.equal(status, 504);
  }
  const copurchases = async () => {
    let count = 0;
    for await (const entry of system.suggestionsKv.list<Deno.KvU64>({ prefix: ["copurchase"] })) {
      count += Number(entry.value.value);
    }
    return count;
  };
  assert.equal(await copurchases(), 0, "nothing learned from orders the orchestrator did not approve");
  system.down.clear();
  // The validators' client may hold its circuit open a moment; the customer keeps retrying.
  const answer = await eventually(async () => {
    const { status, body } = await system.checkout(order, headers);
    return status === 200 && body;
  }, { message: "an answer to the retried checkout" });
  assert.equal(answer.status, "Order Approved", `a retrying customer is not fraud: ${answer.reasons}`);
  assert.equal(await copurchases(), 2, "dune and foundation, both ways, once");
});

Deno.test("a retry that joins a running checkout is not ended by the first caller going away", async () => {
  using system = await inMemorySystem();
  const order = validOrder();
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  const first = new AbortController();
  // The first client disconnects once validation has reached its last event, while its retry still waits.
  system.seen.onRequest = (url) => {
    if (url.pathname.endsWith("OrderEventsService/ReportOutcome")) first.abort();
  };
  const gone = system.checkout(order, headers, first.signal);
  const retry = system.checkout(order, headers);
  const [, answer] = await Promise.all([gone, retry]);
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.status, "Order Approved");
  assert.equal((await system.queue.orderState(answer.body.orderId)).state, "queued");

  // A placement whose every caller went away does not queue; a later retry with the key does.
  const alone = new AbortController();
  const other = validOrder();
  const otherHeaders = { "Idempotency-Key": crypto.randomUUID() };
  system.seen.onRequest = (url) => {
    if (url.pathname.endsWith("OrderEventsService/ReportOutcome")) alone.abort();
  };
  const abandoned = await system.checkout(other, otherHeaders, alone.signal);
  assert.equal(abandoned.status, 504);
  system.seen.onRequest = undefined;
  const later = await system.checkout(other, otherHeaders);
  assert.equal(later.body.status, "Order Approved");
  assert.equal((await system.queue.orderState(later.body.orderId)).state, "queued");
});

Deno.test("a retry arriving just after every earlier caller went away finishes the order", async () => {
  using system = await inMemorySystem();
  const order = validOrder();
  const headers = { "Idempotency-Key": crypto.randomUUID() };
  const first = new AbortController();
  let retry: ReturnType<typeof system.checkout> | undefined;
  // The first client gives up late in validation and its retry comes in at once, while the abandoned placement runs on.
  system.seen.onRequest = (url) => {
    if (url.pathname.endsWith("OrderEventsService/ReportOutcome") && !first.signal.aborted) {
      first.abort();
      retry = system.checkout(order, headers);
    }
  };
  const gone = await system.checkout(order, headers, first.signal);
  assert.equal(gone.status, 504);
  system.seen.onRequest = undefined;
  const answer = await retry!;
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  assert.equal(answer.body.status, "Order Approved");
  assert.equal((await system.queue.orderState(answer.body.orderId)).state, "queued");
});

Deno.test("an approval whose history has a failed event is not approved and not queued", async () => {
  using system = await inMemorySystem();
  // Fraud detection reports approval's way along, but its ClearOrder answer has event e failed.
  system.seen.onResponse = (url, body) => {
    if (url.origin !== HOSTS.FRAUD_DETECTION_URL || !url.pathname.endsWith("/ClearOrder")) return body;
    const answer = body as { events: ValidationEvent[] };
    return { ...answer, events: answer.events.map((e) => e.name === "e" ? { ...e, ok: false } : e) };
  };
  const { status, body } = await system.checkout(validOrder());
  assert.notEqual(body.status, "Order Approved", JSON.stringify(body));
  assert.ok(status >= 500, `answered ${status}: ${JSON.stringify(body)}`);
  const queue = await system.queue.status();
  assert.equal(queue.depth + queue.leased + queue.executed, 0, "nothing was queued");
  assert.ok(system.lines.some((line) => line.includes("approval reported without every event passing")));
});

Deno.test("failing operator reads of the queue do not open the circuit approved checkouts go through", async () => {
  using system = await inMemorySystem();
  system.loseAnswers.add("OrderQueueService/GetQueueStatus");
  for (let read = 0; read < 8; read++) {
    const cluster = await system.get("/cluster");
    assert.equal(cluster.body.queue.reachable, false);
  }
  const { status, body } = await system.checkout(validOrder());
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.status, "Order Approved");
});

Deno.test("the final-clock check catches a validator that ticked after it was stopped, even one that does not notice", async () => {
  using system = await inMemorySystem();
  // Fraud detection answers ClearOrder with one more tick than it answered CancelOrder with
  // (an event after the stop), and claims its clock is consistent.
  system.seen.onResponse = (url, body) => {
    if (url.origin !== HOSTS.FRAUD_DETECTION_URL || !url.pathname.endsWith("/ClearOrder")) return body;
    const answer = body as { clock: Record<string, number>; consistent: boolean };
    const late = { ...answer.clock, fraud_detection: (answer.clock.fraud_detection ?? 0) + 1 };
    return { ...answer, clock: late, consistent: true };
  };
  const expired = validOrder({ creditCard: { number: cardNumber(), expirationDate: "01/20", cvv: "123" } });
  const { body } = await system.checkout(expired);
  assert.equal(body.status, "Order Rejected");
  const errors = system.lines.filter((line) => line.includes("a service's clock is not <= the final clock"));
  assert.equal(errors.length, 1, "the late tick is reported");
  assert.match(errors[0], /fraud_detection/);
  assert.ok(system.lines.some((line) => line.includes("final clock checked")), "the check ran");
});
