/**
 * Two instances of each validator in memory (`BOOKSTORE_REPLICAS=2`): every
 * message of an order reaches the instances its route names, forwards
 * included; an instance that cannot be reached is routed around, before any
 * event when InitOrder finds it down, or by the client's retry when a
 * forward does; the instances of a validator share one store, and an order
 * is counted once in it whichever instances saw it.
 */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { fraudDetectionService, type ValidatorName, VALIDATORS } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { rendezvous } from "@bookstore/lib/rendezvous";
import { createClient, type RpcError } from "@bookstore/lib/rpc";
import type { ServiceApp } from "@bookstore/lib/service";
import { createApp as createFraudDetection } from "@bookstore/fraud_detection";
import { createApp as createOrderQueue } from "@bookstore/order_queue";
import { createApp as createSuggestions } from "@bookstore/suggestions";
import { CoPurchases } from "../suggestions/copurchases.ts";
import { createApp as createTransactionVerification } from "@bookstore/transaction_verification";
import { validOrder } from "../../tests/support/orders.ts";
import { createApp as createOrchestrator } from "./app.ts";

const INSTANCES: Record<ValidatorName, string[]> = {
  transaction_verification: ["http://tv-1.test", "http://tv-2.test"],
  fraud_detection: ["http://fd-1.test", "http://fd-2.test"],
  suggestions: ["http://sg-1.test", "http://sg-2.test"],
};

interface Sent {
  validator: ValidatorName;
  instance: number;
  method: string;
  orderId: string;
  event?: string;
}

const ORCHESTRATORS = ["http://orchestrator-1.test", "http://orchestrator-2.test"];

async function scaledSystem() {
  const env = {
    BOOKSTORE_ENV: "test",
    BOOKSTORE_STORE: "etcd",
    BOOKSTORE_REPLICAS: "2",
    ORCHESTRATOR_URL: ORCHESTRATORS.join(","),
    TRANSACTION_VERIFICATION_URL: INSTANCES.transaction_verification.join(","),
    FRAUD_DETECTION_URL: INSTANCES.fraud_detection.join(","),
    SUGGESTIONS_URL: INSTANCES.suggestions.join(","),
    ORDER_QUEUE_URL: "http://order-queue.test",
    BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(),
    BOOKSTORE_FINGERPRINT_KEY: crypto.randomUUID(),
    BOOKSTORE_LOG_LEVEL: "error",
  };
  const config = loadConfig(env);
  const log = createLogger("test", { write: () => {} });
  const apps = new Map<string, ServiceApp>();
  const down = new Set<string>();
  const sent: Sent[] = [];
  const hooks: { before?: (sent: Sent) => void } = {};
  const reports: { orderId: string; orchestrator: number }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const validator = VALIDATORS.find((name) => INSTANCES[name].includes(url.origin));
    if (validator && init?.body) {
      const body = JSON.parse(String(init.body));
      const entry = {
        validator,
        instance: INSTANCES[validator].indexOf(url.origin) + 1,
        method: url.pathname.split("/").at(-1)!,
        orderId: body.orderId,
        event: body.event,
      };
      hooks.before?.(entry);
      sent.push(entry);
    }
    if (ORCHESTRATORS.includes(url.origin) && url.pathname.endsWith("/ReportOutcome")) {
      reports.push({
        orderId: JSON.parse(String(init?.body)).orderId,
        orchestrator: ORCHESTRATORS.indexOf(url.origin) + 1,
      });
    }
    const service = apps.get(url.origin);
    if (!service || down.has(url.origin)) {
      throw new TypeError(`error sending request for url (${url}): client error (Connect): connection refused`);
    }
    return await service.app.request(input instanceof Request ? input : url.href, init);
  };
  const kvs = await Promise.all(Array.from({ length: 4 }, () => Deno.openKv(":memory:")));
  const [orchestratorKv, fraudKv, suggestionsKv, queueKv] = kvs;
  const deps = { config, log, fetch };
  // Two orchestrators on one store, as behind the load balancer: each order's outcome must come back to its own.
  ORCHESTRATORS.forEach((url, i) => {
    const own = loadConfig({ ...env, BOOKSTORE_INSTANCE: String(i + 1) });
    apps.set(url, createOrchestrator({ ...deps, config: own, kv: orchestratorKv }));
  });
  // The instances of one validator share its store, as on etcd.
  for (const url of INSTANCES.transaction_verification) apps.set(url, createTransactionVerification(deps));
  for (const url of INSTANCES.fraud_detection) apps.set(url, createFraudDetection({ ...deps, kv: fraudKv }));
  for (const url of INSTANCES.suggestions) apps.set(url, createSuggestions({ ...deps, kv: suggestionsKv }));
  apps.set("http://order-queue.test", await createOrderQueue({ ...deps, kv: queueKv }));
  let placed = 0;
  return {
    config,
    fetch,
    fraudKv,
    sent,
    reports,
    down,
    hooks,
    /** Places an order at the orchestrators in turn, or at `at` (1 or 2). */
    async checkout(order: unknown, headers: Record<string, string> = {}, at = (placed++ % 2) + 1) {
      const response = await apps.get(ORCHESTRATORS[at - 1])!.app.request("/checkout", {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body: JSON.stringify(order),
      });
      return { status: response.status, body: await response.json() };
    },
    [Symbol.dispose]() {
      for (const kv of kvs) kv.close();
    },
  };
}

// Every validator message of `orderId`, by validator: the instances it went to.
function instancesOf(sent: Sent[], orderId: string): Record<ValidatorName, Set<number>> {
  const seen = Object.fromEntries(VALIDATORS.map((name) => [name, new Set<number>()])) as Record<
    ValidatorName,
    Set<number>
  >;
  for (const entry of sent) if (entry.orderId === orderId) seen[entry.validator].add(entry.instance);
  return seen;
}

Deno.test("every message of an order, forwards included, reaches the instance of each validator its route names, and its outcome the orchestrator that placed it", async () => {
  using system = await scaledSystem();
  const used = new Set<string>();
  for (let i = 0; i < 12; i++) {
    const at = (i % 2) + 1;
    const { status, body } = await system.checkout(validOrder(), {}, at);
    assert.equal(status, 200, JSON.stringify(body));
    assert.equal(body.status, "Order Approved", JSON.stringify(body));
    const seen = instancesOf(system.sent, body.orderId);
    for (const validator of VALIDATORS) {
      const expected = rendezvous(body.orderId, [1, 2]);
      assert.deepEqual([...seen[validator]], [expected], `${validator} of order ${body.orderId}`);
      used.add(`${validator}/${expected}`);
    }
    const forwards = system.sent.filter((s) =>
      s.orderId === body.orderId && s.method === "Advance" && s.event !== "start"
    );
    assert.deepEqual(forwards.map((s) => s.event).sort(), ["b", "c", "e"], "the validators' own forwards were seen");
    const reportedTo = system.reports.filter((r) => r.orderId === body.orderId).map((r) => r.orchestrator);
    assert.deepEqual(reportedTo, [at], "the outcome went to the orchestrator that placed the order");
  }
  assert.equal(used.size, 6, `twelve orders use both instances of every validator (${[...used].join(", ")})`);
});

Deno.test("an instance InitOrder cannot reach is routed around before any event runs; the checkout succeeds", async () => {
  using system = await scaledSystem();
  // Whichever fraud_detection instance the order hashes to is down.
  system.hooks.before = (entry) => {
    if (entry.validator === "fraud_detection" && entry.method === "InitOrder" && system.down.size === 0) {
      system.down.add(INSTANCES.fraud_detection[entry.instance - 1]);
    }
  };
  const { status, body } = await system.checkout(validOrder());
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.status, "Order Approved");
  const dead = INSTANCES.fraud_detection.indexOf([...system.down][0]) + 1;
  const events = system.sent.filter((s) => s.orderId === body.orderId && s.validator === "fraud_detection");
  assert.ok(events.some((s) => s.instance === dead && s.method === "InitOrder"), "the first route named the dead one");
  assert.deepEqual(
    [...new Set(events.filter((s) => s.method !== "InitOrder").map((s) => s.instance))],
    [3 - dead],
    "every later message went to the other instance",
  );
  const starts = system.sent.filter((s) => s.orderId === body.orderId && s.event === "start");
  assert.equal(starts.length, 1, "the events started once, on the final route");
});

Deno.test("a forward that cannot reach its instance fails the checkout, retryably; the retry is routed around it and counted once", async () => {
  using system = await scaledSystem();
  // Fraud detection has run d and e (counted the contact and the card) and forwards e's clock to suggestions,
  // whose instance is down; the fraud_detection instance dies with it.
  system.hooks.before = (entry) => {
    if (entry.validator === "suggestions" && entry.method === "Advance" && system.down.size === 0) {
      system.down.add(INSTANCES.suggestions[entry.instance - 1]);
      system.down.add(INSTANCES.fraud_detection[rendezvous(entry.orderId, [1, 2]) - 1]);
    }
  };
  const order = validOrder();
  const first = await system.checkout(order, { "Idempotency-Key": "scale-retry" }, 1);
  assert.equal(first.status, 503, JSON.stringify(first.body));
  assert.equal(first.body.error.code, "unavailable");
  assert.match(first.body.error.message, /suggestions/);
  const orderId = system.sent.find((s) => s.method === "InitOrder")!.orderId;
  const dead = Object.fromEntries(
    VALIDATORS.map((name) => [name, INSTANCES[name].findIndex((url) => system.down.has(url)) + 1]),
  );

  const mark = system.sent.length;
  const retried = await system.checkout(order, { "Idempotency-Key": "scale-retry" }, 1);
  assert.equal(retried.status, 200, JSON.stringify(retried.body));
  assert.equal(retried.body.status, "Order Approved");
  assert.equal(retried.body.orderId, orderId, "the retry is the same order");
  const retry = system.sent.slice(mark);
  // Suggestions' instance was reported unreachable by fraud detection: the retry never tries it, not even InitOrder.
  const suggestions = new Set(retry.filter((s) => s.validator === "suggestions").map((s) => s.instance));
  assert.deepEqual([...suggestions], [3 - dead.suggestions], "the retry's suggestions messages went to the live one");
  // Fraud detection's instance was not known dead: InitOrder finds it so and routes around it before any event.
  const events = retry.slice(retry.findIndex((s) => s.event === "start"));
  const fraud = new Set(events.filter((s) => s.validator === "fraud_detection").map((s) => s.instance));
  assert.deepEqual([...fraud], [3 - dead.fraud_detection], "the retry's fraud_detection events ran on the live one");

  // Events d and e ran on both fraud_detection instances, one attempt each: one order, one count of each.
  for (const kind of ["contact", "card"]) {
    let counted = 0;
    for await (const entry of system.fraudKv.list<Deno.KvU64>({ prefix: ["velocity", kind] })) {
      counted += Number(entry.value.value);
    }
    assert.equal(counted, 1, `the ${kind}'s velocity counts the order once`);
  }
});

Deno.test("a validator refuses a route naming an instance it does not know, naming the field", async () => {
  using system = await scaledSystem();
  const client = createClient(fraudDetectionService, {
    baseUrl: INSTANCES.fraud_detection[1],
    peer: "fraud_detection",
    token: system.config.serviceToken,
    timeoutMs: 1000,
    fetch: system.fetch,
  });
  const order = { user: { name: "A", contact: "a@example.com" } };
  for (
    const [field, value] of [
      ["fraudDetection", 3],
      ["suggestions", 7],
      ["transactionVerification", 3],
      ["orchestrator", 3],
    ] as const
  ) {
    await assert.rejects(
      () => client.InitOrder({ orderId: "o1", order, route: { ...{ [field]: value } } }),
      (error: RpcError) =>
        error.code === "invalid_argument" && error.message.includes(`route.${field}: instance ${value}`),
    );
  }
  await client.InitOrder({ orderId: "o2", order, route: { fraudDetection: 2, suggestions: 1 } });
});

Deno.test("two instances counting the same order in one store count it once: velocity and co-purchases", async () => {
  using system = await scaledSystem();
  const kv = system.fraudKv;
  const [a, b] = [new CoPurchases(kv, { retentionMs: 60_000 }), new CoPurchases(kv, { retentionMs: 60_000 })];
  const counted = await Promise.all([
    a.record({ orderId: "o1", bookIds: ["dune", "foundation"] }),
    b.record({ orderId: "o1", bookIds: ["dune", "foundation"] }),
  ]);
  assert.deepEqual(counted.filter(Boolean).length, 1, "one of the two instances counts the order");
  assert.deepEqual([...(await a.with(["dune"]))], [["foundation", 1]]);
});
