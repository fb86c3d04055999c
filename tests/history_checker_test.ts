/**
 * The chaos suite's history checker, in memory: a clean history passes, and
 * each broken rule is named in plain words, so that a chaos scenario passing
 * means something.
 */
import assert from "node:assert/strict";
import { type Call, checkRules, type Readback, type StoredOrder } from "./support/history.ts";

const CLOCKS = {
  a: { "transaction_verification.items": 1 },
  b: { "transaction_verification.user": 1 },
  c: { "transaction_verification.items": 2 },
  d: { "transaction_verification.user": 2, fraud_detection: 1 },
  e: { "transaction_verification.items": 2, "transaction_verification.user": 2, fraud_detection: 2 },
  f: { "transaction_verification.items": 2, "transaction_verification.user": 2, fraud_detection: 2, suggestions: 1 },
};

function events(clocks: Record<string, Record<string, number>> = CLOCKS) {
  return Object.entries(clocks).map(([name, clock]) => ({ name, service: "s", clock, ok: true }));
}

function approvedCall(orderId: string, key?: string): Call {
  return {
    client: 0,
    key,
    items: [{ bookId: "capital", quantity: 2 }],
    attempts: [{ start: 0, end: 1, status: 200, answer: "Order Approved", orderId }],
    verdict: "approved",
    orderId,
  };
}

function stored(orderId: string, overrides: Partial<StoredOrder> = {}): StoredOrder {
  return {
    orderId,
    state: "executed",
    items: [{ bookId: "capital", quantity: 2 }],
    executorId: 4,
    epoch: 1,
    attempts: 1,
    reason: "",
    ...overrides,
  };
}

/** A clean history of two executed orders of 2× capital each, from stock 10. */
function clean(): { calls: Call[]; readback: Readback; initial: Map<string, number> } {
  return {
    calls: [approvedCall("o1", "k1"), approvedCall("o2")],
    readback: {
      queued: new Map([["o1", stored("o1")], ["o2", stored("o2")]]),
      views: new Map([
        ["o1", { status: 200, body: { status: "executed", events: events() } }],
        ["o2", { status: 200, body: { status: "executed", events: events() } }],
      ]),
      stock: new Map([["capital", 6]]),
      executedCounter: 2,
      executions: [
        { replica: 4, orderId: "o1", epoch: 1, state: "executed" },
        { replica: 4, orderId: "o2", epoch: 1, state: "executed" },
      ],
    },
    initial: new Map([["capital", 10]]),
  };
}

function findings(change: (history: ReturnType<typeof clean>) => void): string[] {
  const history = clean();
  change(history);
  return checkRules(history.calls, history.readback, history.initial);
}

Deno.test("a clean history has no findings", () => {
  assert.deepEqual(findings(() => {}), []);
});

Deno.test("an approved order the queue never had is lost", () => {
  const found = findings(({ readback }) => {
    readback.queued.delete("o2");
    readback.executions.pop();
    readback.executedCounter = 1;
    readback.stock.set("capital", 8);
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /answered approved as o2, but the queue never had it: lost/);
});

Deno.test("an approved order that ends dead-lettered is named", () => {
  const found = findings(({ readback }) => {
    readback.queued.set("o2", stored("o2", { state: "dead", attempts: 5, reason: "lease expired" }));
    readback.executions.pop();
    readback.executedCounter = 1;
    readback.stock.set("capital", 8);
  });
  assert.ok(found.some((f) => /o2\) was approved but ended "dead" after 5 deliveries/.test(f)), found.join("\n"));
});

Deno.test("an order executed twice, by two replicas in one epoch, and stock taken twice", () => {
  const found = findings(({ readback }) => {
    readback.executions.push({ replica: 3, orderId: "o1", epoch: 1, state: "executed" });
    readback.stock.set("capital", 4);
  });
  assert.ok(found.some((f) => /order o1 was executed 2 times: by replica 4 in epoch 1 and replica 3/.test(f)));
  assert.ok(found.some((f) => /in epoch 1, replicas 4, 3 all executed orders/.test(f)));
  assert.ok(found.some((f) => /stock of capital is 4, but 10 minus the 4 executed makes 6/.test(f)));
});

Deno.test("one replica executing an order twice in one epoch is named", () => {
  const found = findings(({ readback }) => {
    readback.executions.push({ replica: 4, orderId: "o1", epoch: 1, state: "executed" });
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /order o1 was executed 2 times: by replica 4 in epoch 1 and replica 4 in epoch 1/);
});

Deno.test("stock below zero is named", () => {
  const found = findings(({ readback, initial }) => {
    initial.set("capital", 3);
    readback.stock.set("capital", -1);
  });
  assert.ok(found.some((f) => /stock of capital is -1, below zero/.test(f)), found.join("\n"));
});

Deno.test("an order placed although its client was told it was not", () => {
  const found = findings(({ calls, readback }) => {
    calls.push({
      client: 1,
      items: [{ bookId: "capital", quantity: 2 }],
      attempts: [{ start: 0, end: 1, status: 503, code: "unavailable", answer: "the order was not placed" }],
      verdict: "not_placed",
    });
    readback.queued.set("o3", stored("o3"));
    readback.executedCounter = 3;
    readback.stock.set("capital", 4);
    readback.notQueued = new Set(["o3"]);
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /1 orders reached the queue that no client was told were approved \(o3 executed\)/);
  assert.match(found[0], /the orchestrator logged "could not queue" for o3, which the queue holds/);
  assert.match(found[0], /told they were not \(1 such answers/);
});

Deno.test("an order whose client got no answer may be placed", () => {
  const found = findings(({ calls, readback }) => {
    calls.push({
      client: 1,
      items: [{ bookId: "capital", quantity: 2 }],
      attempts: [{ start: 0, end: 1, answer: "no answer: connection reset" }],
      verdict: "unknown",
    });
    readback.queued.set("o3", stored("o3"));
    readback.executedCounter = 3;
    readback.stock.set("capital", 4);
  });
  assert.deepEqual(found, []);
});

Deno.test("two orders for one key, and a valid order rejected", () => {
  const found = findings(({ calls }) => {
    calls[0].attempts.push({ start: 2, end: 3, status: 200, answer: "Order Approved", orderId: "o9" });
    calls.push({
      client: 2,
      key: "k2",
      items: [{ bookId: "capital", quantity: 1 }],
      attempts: [{ start: 0, end: 1, status: 200, answer: "Order Rejected", orderId: "o4", reasons: ["velocity"] }],
      verdict: "rejected",
      orderId: "o4",
    });
  });
  assert.ok(found.some((f) => /got 2 different order ids for one key: o1,o9/.test(f)), found.join("\n"));
  assert.ok(found.some((f) => /\(o4\) is valid but was rejected: velocity/.test(f)), found.join("\n"));
});

Deno.test("clocks that break a‖b or e→f are named", () => {
  const found = findings(({ readback }) => {
    const late = { ...CLOCKS, b: CLOCKS.c, f: CLOCKS.d };
    readback.views.set("o1", { status: 200, body: { status: "executed", events: events(late) } });
  });
  assert.ok(found.some((f) => /order o1: event a .* and b .* are before, not concurrent/.test(f)), found.join("\n"));
  assert.ok(found.some((f) => /order o1: event e .* and f .* are after, not e before f/.test(f)), found.join("\n"));
});

Deno.test("clocks that order events the graph leaves concurrent are named: b → c, and c → d", () => {
  const found = findings(({ readback }) => {
    // c ticked b's slot as well as its own: b happened before c.
    const cAfterB = { ...CLOCKS, c: { ...CLOCKS.c, "transaction_verification.user": 1 } };
    readback.views.set("o1", { status: 200, body: { status: "executed", events: events(cAfterB) } });
    // d merged c's clock: a and c happened before d.
    const dAfterC = { ...CLOCKS, d: { ...CLOCKS.d, "transaction_verification.items": 2 } };
    readback.views.set("o2", { status: 200, body: { status: "executed", events: events(dAfterC) } });
  });
  assert.deepEqual(found.map((f) => f.replace(/\{[^}]*\}/g, "{…}")), [
    "order o1: event b {…} and c {…} are before, not concurrent.",
    "order o2: event a {…} and d {…} are before, not concurrent.",
    "order o2: event c {…} and d {…} are before, not concurrent.",
  ]);
});

Deno.test("an approved order missing an event, and one GET /orders answers 404 for", () => {
  const found = findings(({ readback }) => {
    readback.views.set("o2", { status: 404, body: { events: events({ a: CLOCKS.a }) } });
  });
  assert.ok(found.some((f) => /GET \/orders\/o2 answered 404/.test(f)), found.join("\n"));
  assert.ok(found.some((f) => /approved order o2 has no recorded event b, c, d, e, f/.test(f)), found.join("\n"));
});

Deno.test("an answer that the request ended, given to a live request", () => {
  const found = findings(({ calls }) => {
    calls[0].attempts.unshift({
      start: 0,
      end: 1,
      status: 504,
      code: "deadline_exceeded",
      answer: "the request ended before the approved order was queued; retry with the same Idempotency-Key",
    });
  });
  assert.equal(found.length, 1, found.join("\n"));
  assert.match(found[0], /was told "the request ended before .*though its request was alive to hear it/);
});
