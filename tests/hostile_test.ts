/**
 * Hostile input against every public endpoint and every internal RPC of
 * the real processes: wrong types, missing and extra fields, huge strings
 * and arrays, deep nesting, prototype-pollution keys, control characters,
 * bad quantities, non-JSON, empty bodies, wrong content types, oversized
 * bodies, missing or wrong credentials, admin endpoints with faults off;
 * then property-based orders from fast-check. Every one gets a clear 4xx
 * naming the problem (or, for a well-formed order that breaks a business
 * rule, "Order Rejected" with its reasons), never a 5xx, a hang or a crash,
 * and a good order is placed afterwards. Last, the per-client rate limit.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  checkoutService,
  fraudDetectionService,
  orderEventsService,
  orderExecutorService,
  orderQueueService,
  suggestionsService,
  transactionVerificationService,
} from "@bookstore/lib/contracts";
import type { ServiceSpec } from "@bookstore/lib/rpc";
import { type Cluster, startCluster } from "./support/cluster.ts";
import { validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

/** One hostile request and what must come back. */
interface Case {
  name: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The status wanted (a 4xx). */
  status: number | number[];
  /** What the error message (or a rejection's reasons) must name. */
  names?: RegExp;
  /** A well-formed order that breaks a business rule may be answered "Order Rejected" with reasons instead. */
  orRejected?: boolean;
}

interface Answer {
  status: number;
  text: string;
  ms: number;
}

const JSON_HEADERS = { "content-type": "application/json" };

async function send(base: string, c: Pick<Case, "method" | "path" | "headers" | "body">): Promise<Answer> {
  const started = performance.now();
  try {
    const response = await fetch(base + c.path, {
      method: c.method ?? "POST",
      headers: c.headers ?? JSON_HEADERS,
      body: c.body,
      signal: AbortSignal.timeout(8000),
    });
    return { status: response.status, text: await response.text(), ms: performance.now() - started };
  } catch (error) {
    return { status: 0, text: `no answer: ${(error as Error).message}`, ms: performance.now() - started };
  }
}

/** Why an answer breaks the rules for its case, or undefined when it keeps them. */
function judge(c: Case, answer: Answer): string | undefined {
  const wanted = Array.isArray(c.status) ? c.status : [c.status];
  let body: { error?: { code?: string; message?: string }; code?: string; message?: string; status?: string } = {};
  try {
    body = JSON.parse(answer.text);
  } catch {
    // Judged below.
  }
  if (c.orRejected && answer.status === 200 && body.status === "Order Rejected") {
    const reasons = (body as { reasons?: string[] }).reasons ?? [];
    if (reasons.length === 0) return "rejected without a reason";
    return c.names && !reasons.some((r) => c.names!.test(r))
      ? `rejected for ${reasons} (wanted ${c.names})`
      : undefined;
  }
  if (!wanted.includes(answer.status)) return `answered ${answer.status} (wanted ${wanted.join("/")}): ${answer.text}`;
  const error = body.error ?? body;
  if (!error.code || !error.message) return `no {code, message} in the answer: ${answer.text.slice(0, 200)}`;
  if (c.names && !c.names.test(error.message)) return `"${error.message}" does not name ${c.names}`;
  return undefined;
}

function withOrder(change: (order: Record<string, unknown>) => void): string {
  const order: Record<string, unknown> = validOrder();
  change(order);
  return JSON.stringify(order);
}

/**
 * A valid order's JSON with raw text spliced in as its first fields (keys
 * JSON.stringify would not write); `replacing` is left out of the order so
 * that the raw field is the only one of its name.
 */
function withRawFields(raw: string, replacing?: string): string {
  const order: Record<string, unknown> = validOrder();
  if (replacing) delete order[replacing];
  return `{${raw},${JSON.stringify(order).slice(1)}`;
}

const deepArray = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

/** The corpus against the public checkout, as REST `POST /checkout`. */
function checkoutCases(maxBodyBytes: number): Case[] {
  const path = "/checkout";
  return [
    { name: "not JSON", path, body: "{ not json", status: 400, names: /not valid JSON/ },
    { name: "an empty body", path, body: "", status: 400, orRejected: true },
    { name: "a JSON array", path, body: "[]", status: 400, names: /invalid request/ },
    { name: "JSON null", path, body: "null", status: 400, names: /invalid request/ },
    { name: "a JSON string", path, body: '"an order"', status: 400, names: /invalid request/ },
    { name: "items as a string", path, body: withOrder((o) => o.items = "Dune"), status: 400, names: /items/ },
    { name: "user as a number", path, body: withOrder((o) => o.user = 42), status: 400, names: /user/ },
    {
      name: "the card number as a number",
      path,
      body: withOrder((o) => o.creditCard = { ...(o.creditCard as object), number: 4111111111111111 }),
      status: 400,
      names: /creditCard\.number/,
    },
    {
      name: "termsAccepted as a string",
      path,
      body: withOrder((o) => o.termsAccepted = "yes"),
      status: 400,
      names: /termsAccepted/,
    },
    {
      name: "billingAddress as an array",
      path,
      body: withOrder((o) => o.billingAddress = []),
      status: 400,
      names: /billingAddress/,
    },
    {
      name: "a missing user",
      path,
      body: withOrder((o) => delete o.user),
      status: 400,
      orRejected: true,
      names: /name|user|contact/i,
    },
    {
      name: "missing items",
      path,
      body: withOrder((o) => delete o.items),
      status: 400,
      orRejected: true,
      names: /item/i,
    },
    { name: "an extra field", path, body: withOrder((o) => o.coupon = "FREE"), status: 400, names: /coupon/ },
    {
      name: "an extra nested field",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 1, price: 0 }]),
      status: 400,
      names: /items\.0\.price/,
    },
    {
      name: "a __proto__ key",
      path,
      body: withRawFields('"__proto__": {"isAdmin": true}'),
      status: 400,
      names: /__proto__/,
    },
    {
      name: "a constructor.prototype key",
      path,
      body: withRawFields('"constructor": {"prototype": {"isAdmin": true}}'),
      status: 400,
      names: /constructor/,
    },
    {
      name: "a __proto__ key in an item",
      path,
      body: withOrder((o) => o.items = [JSON.parse('{"bookId": "dune", "quantity": 1, "__proto__": {"x": 1}}')]),
      status: 400,
      names: /__proto__/,
    },
    {
      name: "unicode control characters in the name",
      path,
      body: withOrder((o) => o.user = { name: "Ada\u0000\u202e\u0007", contact: "ada@example.com" }),
      status: 400,
      orRejected: true,
      names: /name/i,
    },
    {
      name: "a negative quantity",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: -3 }]),
      status: 400,
      orRejected: true,
      names: /quantit/i,
    },
    {
      name: "a zero quantity",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 0 }]),
      status: 400,
      orRejected: true,
      names: /quantit/i,
    },
    {
      name: "a fractional quantity",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 1.5 }]),
      status: 400,
      names: /quantity/,
    },
    {
      name: "an enormous quantity",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 1e12 }]),
      status: 400,
      names: /quantity/,
    },
    {
      name: "a large but valid int32 quantity",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 2_000_000_000 }]),
      status: 400,
      orRejected: true,
      names: /quantit/i,
    },
    {
      name: "a quantity as a string",
      path,
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: "2" }]),
      status: 400,
      names: /quantity/,
    },
    {
      name: "an unknown book",
      path,
      body: withOrder((o) => o.items = [{ bookId: "no-such-book", quantity: 1 }]),
      status: 400,
      orRejected: true,
      names: /no-such-book|unknown|not found|catalog/i,
    },
    {
      name: "an unknown shipping method",
      path,
      body: withOrder((o) => o.shippingMethod = "Teleport"),
      status: 400,
      orRejected: true,
      names: /shipping/i,
    },
    {
      name: "a huge comment",
      path,
      body: withOrder((o) => o.userComment = "x".repeat(50_000)),
      status: 400,
      names: /userComment/,
    },
    {
      name: "a huge items array",
      path,
      body: withOrder((o) => o.items = Array.from({ length: 1000 }, () => ({ bookId: "dune", quantity: 1 }))),
      status: 400,
      names: /items/,
    },
    {
      name: "deep nesting in a field",
      path,
      body: withRawFields(`"userComment": ${deepArray(20_000)}`, "userComment"),
      status: 400,
      names: /userComment|not valid JSON/,
    },
    {
      name: "deep nesting as the body",
      path,
      body: deepArray(30_000),
      status: 400,
      names: /invalid request|not valid JSON/,
    },
    {
      name: "an oversized body",
      path,
      body: withOrder((o) => o.userComment = "x".repeat(maxBodyBytes)),
      status: 413,
      names: /exceeds/,
    },
    {
      name: "text/plain",
      path,
      headers: { "content-type": "text/plain" },
      body: withOrder(() => {}),
      status: 415,
      names: /application\/json/,
    },
    {
      name: "a form post",
      path,
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "user=ada",
      status: 415,
      names: /application\/json/,
    },
    {
      name: "no content type",
      path,
      headers: {},
      body: withOrder(() => {}),
      status: 415,
      names: /application\/json/,
    },
    {
      name: "a bad Idempotency-Key",
      path,
      headers: { ...JSON_HEADERS, "idempotency-key": "a key with spaces" },
      body: withOrder(() => {}),
      status: 400,
      names: /Idempotency-Key/,
    },
  ];
}

/** The rest of the public API: Connect methods and the REST reads. */
function publicCases(): Case[] {
  const connect = (method: string) => `/${checkoutService.typeName}/${method}`;
  return [
    { name: "PlaceOrder with not JSON", path: connect("PlaceOrder"), body: "{", status: 400, names: /not valid JSON/ },
    {
      name: "PlaceOrder with an extra field",
      path: connect("PlaceOrder"),
      body: withOrder((o) => o.coupon = 1),
      status: 400,
      names: /coupon/,
    },
    {
      name: "PlaceOrder with a fractional quantity",
      path: connect("PlaceOrder"),
      body: withOrder((o) => o.items = [{ bookId: "dune", quantity: 0.5 }]),
      status: 400,
      names: /quantity/,
    },
    {
      name: "PlaceOrder in protobuf",
      path: connect("PlaceOrder"),
      headers: { "content-type": "application/proto" },
      body: "\x0a\x00",
      status: 415,
      names: /application\/json/,
    },
    {
      name: "GetOrder with a number",
      path: connect("GetOrder"),
      body: '{"orderId": 7}',
      status: 400,
      names: /orderId/,
    },
    {
      name: "GetOrder with a huge id",
      path: connect("GetOrder"),
      body: JSON.stringify({ orderId: "x".repeat(10_000) }),
      status: 400,
      names: /orderId/,
    },
    { name: "GetOrder of no order", path: connect("GetOrder"), body: '{"orderId": "nope"}', status: 404 },
    {
      name: "ListBooks with a huge query",
      path: connect("ListBooks"),
      body: JSON.stringify({ query: "q".repeat(5000) }),
      status: 400,
      names: /query/,
    },
    { name: "GET /orders of no order", method: "GET", path: "/orders/nope", status: 404 },
    {
      name: "GET /orders with a huge id",
      method: "GET",
      path: `/orders/${"x".repeat(5000)}`,
      status: [400, 404],
    },
    {
      name: "GET /orders with control characters",
      method: "GET",
      path: "/orders/%00%1b%E2%80%AE",
      status: [400, 404],
    },
    { name: "GET /books of no book", method: "GET", path: "/books/..%2F..%2Fetc%2Fpasswd", status: 404 },
    { name: "an unknown route", method: "GET", path: "/admin", status: 404 },
    { name: "an unknown Connect method", path: `/${checkoutService.typeName}/DropTables`, body: "{}", status: 404 },
  ];
}

/** Where each internal service is served. */
const INTERNAL: [ServiceSpec, string][] = [
  [transactionVerificationService, "transaction_verification"],
  [fraudDetectionService, "fraud_detection"],
  [suggestionsService, "suggestions"],
  [orderQueueService, "order_queue"],
  [orderExecutorService, "order_executor_1"],
  [orderEventsService, "orchestrator"],
];

/** Hostile calls of every method of every internal service, with, without and with a wrong credential. */
function internalCases(cluster: Cluster, maxBodyBytes: number): [string, Case][] {
  const cases: [string, Case][] = [];
  const auth = { ...JSON_HEADERS, authorization: `Bearer ${cluster.token}` };
  for (const [service, process] of INTERNAL) {
    for (const method of Object.keys(service.methods)) {
      const path = `/${service.typeName}/${method}`;
      const add = (c: Omit<Case, "path">) => cases.push([process, { ...c, path, name: `${method}: ${c.name}` }]);
      add({ name: "no credential", body: "{}", status: 401, names: /credential/ });
      add({
        name: "a wrong credential",
        headers: { ...JSON_HEADERS, authorization: `Bearer ${"w".repeat(32)}` },
        body: "{}",
        status: 401,
        names: /credential/,
      });
      add({
        name: "a credential in the wrong scheme",
        headers: { ...JSON_HEADERS, authorization: `Basic ${cluster.token}` },
        body: "{}",
        status: 401,
        names: /credential/,
      });
      add({ name: "not JSON", headers: auth, body: "{", status: 400, names: /not valid JSON/ });
      add({ name: "a JSON array", headers: auth, body: "[1]", status: 400, names: /invalid request/ });
      add({ name: "JSON null", headers: auth, body: "null", status: 400, names: /invalid request/ });
      add({
        name: "prototype-pollution keys",
        headers: auth,
        body: '{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}',
        status: 400,
        names: /__proto__|constructor|invalid request/,
      });
      add({
        name: "deep nesting",
        headers: auth,
        body: `{"orderId": ${deepArray(20_000)}}`,
        status: 400,
        names: /invalid request|not valid JSON/,
      });
      add({
        name: "an oversized body",
        headers: auth,
        body: JSON.stringify({ orderId: "x".repeat(maxBodyBytes) }),
        status: 413,
        names: /exceeds/,
      });
      add({
        name: "text/plain",
        headers: { ...auth, "content-type": "text/plain" },
        body: "{}",
        status: 415,
        names: /application\/json/,
      });
      add({
        name: "a bad deadline",
        headers: { ...auth, "connect-timeout-ms": "-5" },
        body: "{}",
        status: 400,
        names: /connect-timeout-ms/,
      });
    }
  }
  return cases;
}

const ADMIN = [
  { path: "/admin/faults", body: JSON.stringify({ rules: [{ method: "*", failWith: "internal" }] }) },
  { path: "/admin/crash", body: "{}" },
  { path: "/admin/pause", body: JSON.stringify({ ms: 5000 }) },
];

Deno.test("hostile input gets a clear 4xx, never a 5xx, a hang or a crash", async (t) => {
  const maxBodyBytes = 65_536;
  await using cluster = await startCluster({
    env: { BOOKSTORE_FAULTS: "false", BOOKSTORE_MAX_BODY_BYTES: String(maxBodyBytes) },
  });
  const pids = new Map(cluster.supervisor.names.map((name) => [name, cluster.supervisor.pid(name)]));
  const problems: string[] = [];
  const run = async (base: string, c: Case) => {
    const answer = await send(base, c);
    const problem = judge(c, answer);
    if (problem) problems.push(`${c.name}: ${problem}`);
    if (answer.ms > 5000) problems.push(`${c.name}: took ${answer.ms.toFixed(0)} ms`);
  };

  await t.step("the public checkout", async () => {
    for (const c of checkoutCases(maxBodyBytes)) await run(cluster.orchestrator, c);
  });
  await t.step("the rest of the public API", async () => {
    for (const c of publicCases()) await run(cluster.orchestrator, c);
  });
  await t.step("every internal RPC", async () => {
    for (const [process, c] of internalCases(cluster, maxBodyBytes)) await run(cluster.url(process), c);
  });
  await t.step("admin endpoints do not exist when faults are off", async () => {
    for (const name of cluster.supervisor.names) {
      for (const admin of ADMIN) {
        await run(cluster.url(name), {
          name: `${name} ${admin.path}`,
          path: admin.path,
          headers: { ...JSON_HEADERS, authorization: `Bearer ${cluster.token}` },
          body: admin.body,
          status: 404,
        });
      }
    }
  });
  assert.deepEqual(problems, [], `hostile input was mishandled:\n- ${problems.join("\n- ")}`);

  await t.step("property-based orders: any shape gets a clear answer", async () => {
    const field = fc.oneof(
      fc.anything({ maxDepth: 3 }),
      fc.string({ maxLength: 300 }),
      fc.integer(),
      fc.double(),
      fc.constantFrom("__proto__", "", "\u0000", "Dune", "dune"),
    );
    const keys = ["user", "creditCard", "userComment", "items", "billingAddress", "shippingMethod", "termsAccepted"];
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.constantFrom(...keys), field, { maxKeys: 3 }), async (changes) => {
        const answer = await send(cluster.orchestrator, {
          path: "/checkout",
          body: JSON.stringify({ ...validOrder(), ...changes }),
        });
        assert.ok(answer.status > 0, `no answer for ${JSON.stringify(changes)}: ${answer.text}`);
        assert.ok(answer.status < 500, `${answer.status} for ${JSON.stringify(changes)}: ${answer.text}`);
        const body = JSON.parse(answer.text);
        if (answer.status === 200) assert.ok(["Order Approved", "Order Rejected"].includes(body.status));
        else assert.ok(body.error?.code && body.error?.message, answer.text);
      }),
      { numRuns: 60 },
    );
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const answer = await send(cluster.orchestrator, { path: "/checkout", body: JSON.stringify(value) });
        assert.ok(answer.status > 0 && answer.status < 500, `${answer.status} for ${JSON.stringify(value)}`);
      }),
      { numRuns: 40 },
    );
  });

  await t.step("nothing crashed, and a good order is placed afterwards", async () => {
    for (const [name, pid] of pids) assert.equal(cluster.supervisor.pid(name), pid, `${name} was restarted or died`);
    const placed = await eventually(async () => {
      const { body } = await cluster.post("/checkout", validOrder());
      return body.status === "Order Approved" && body;
    }, { message: "a good order to be approved after the hostile input" });
    const view = await cluster.get(`/orders/${placed.orderId}`);
    assert.equal(view.status, 200);
  });
});

Deno.test("the checkout's per-client rate limit answers 429 resource_exhausted with Retry-After", async () => {
  await using cluster = await startCluster({ only: ["orchestrator"], env: { CHECKOUT_RATE_LIMIT: "5" } });
  // Twenty at once from one address: the burst of five passes on to validation, the rest are refused.
  const answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      fetch(`${cluster.orchestrator}/checkout`, {
        method: "POST",
        headers: JSON_HEADERS,
        body: "{",
        signal: AbortSignal.timeout(5000),
      })),
  );
  const refused = answers.filter((r) => r.status === 429);
  assert.ok(refused.length >= 10, `${refused.length} of 20 refused`);
  assert.ok(answers.filter((r) => r.status === 400).length >= 1, "the first ones passed the limit");
  const body = await refused[0].json();
  assert.equal(body.error.code, "resource_exhausted");
  assert.match(body.error.message, /too many checkouts/);
  assert.ok(Number(refused[0].headers.get("retry-after")) >= 1);
  await Promise.all(answers.filter((r) => !r.bodyUsed).map((r) => r.body?.cancel()));
  // After Retry-After the client is served again.
  await eventually(async () => {
    const response = await fetch(`${cluster.orchestrator}/checkout`, {
      method: "POST",
      headers: JSON_HEADERS,
      body: "{",
    });
    await response.body?.cancel();
    return response.status === 400;
  }, { timeoutMs: 5000, message: "the client to be served again" });
});

Deno.test("hostile requests to the shop's pages get a page or a 4xx, never a 5xx or a hang", async () => {
  await using cluster = await startCluster({ web: true, env: { BOOKSTORE_FAULTS: "false" } });
  const shop = cluster.url("web");
  const huge = "x".repeat(5000);
  const pages = [
    `/?q=${huge}`,
    "/?q=%00%1b%E2%80%AE&genre=%3Cscript%3E",
    `/?page=-1`,
    `/?page=99999999999999999999`,
    `/books/${huge}`,
    "/books/..%2F..%2Fetc%2Fpasswd",
    `/orders/${huge}`,
    "/orders/%00",
    `/orders/${huge}/events`,
    `/api/orders/${huge}`,
    `/api/books?q=${huge}`,
    "/_frsh/js/nope/client.js",
  ];
  const problems: string[] = [];
  for (const path of pages) {
    const answer = await send(shop, { method: "GET", path, headers: {} });
    if (answer.status === 0 || answer.status >= 500) problems.push(`GET ${path.slice(0, 60)}: ${answer.status}`);
  }
  // With faults off the admin routes do not exist, whatever is sent.
  for (const path of ["/admin/validators/suggestions", "/admin/replicas/4/crash", "/admin/replicas/4/pause"]) {
    for (const body of ['{"mode": "fail"}', "{", ""]) {
      const answer = await send(shop, { path, body, headers: { ...JSON_HEADERS, origin: "https://evil.example" } });
      if (answer.status !== 404) problems.push(`POST ${path} ${body}: ${answer.status} (wanted 404)`);
    }
  }
  assert.deepEqual(problems, [], `the shop mishandled hostile requests:\n- ${problems.join("\n- ")}`);
  for (const name of cluster.supervisor.names) assert.ok(cluster.supervisor.pid(name), `${name} is still running`);
});
