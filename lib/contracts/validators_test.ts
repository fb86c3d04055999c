/**
 * The event graph as `VALIDATION_EVENTS` defines it, and the validators'
 * messages: what `eventOrder` derives from the graph, that clocks ticked the
 * way the event protocol ticks them show exactly that order, and that fraud
 * detection never receives card data.
 */
import assert from "node:assert/strict";
import { findUnknownFields } from "../rpc/unknown_fields.ts";
import { compare, merge, tick, type VectorClock, zeroClock } from "../vector_clock.ts";
import { orderSchema } from "./common.ts";
import {
  CLOCK_PROCESSES,
  EVENT_NAMES,
  eventGraph,
  type EventName,
  eventOrder,
  fraudOrderOf,
  initFraudRequestSchema,
  VALIDATION_EVENTS,
  VALIDATION_GRAPH,
} from "./validators.ts";

const pairs = EVENT_NAMES.flatMap((x, i) => EVENT_NAMES.slice(i + 1).map((y) => [x, y] as const));

Deno.test("happened-before is the transitive closure of the brief's edges; every other pair is concurrent", () => {
  // Edges two and three steps long, which no event lists directly.
  for (const [x, y] of [["a", "e"], ["b", "e"], ["a", "f"], ["b", "f"], ["c", "f"], ["d", "f"]] as const) {
    assert.equal(eventOrder(x, y), "before", `${x} → ${y}`);
    assert.equal(eventOrder(y, x), "after", `${y} ← ${x}`);
  }
  for (const [x, y] of [["a", "b"], ["a", "d"], ["b", "c"], ["c", "d"]] as const) {
    assert.equal(eventOrder(x, y), "concurrent", `${x} ‖ ${y}`);
    assert.equal(eventOrder(y, x), "concurrent", `${y} ‖ ${x}`);
  }
  assert.equal(pairs.length, 15);
  const counts = Object.groupBy(pairs, ([x, y]) => eventOrder(x, y));
  assert.deepEqual({ before: counts.before?.length, concurrent: counts.concurrent?.length }, {
    before: 11,
    concurrent: 4,
  });
  for (const name of EVENT_NAMES) assert.equal(eventOrder(name, name), "equal");
});

Deno.test("who waits for what and where each clock goes are derived from the graph", () => {
  const graph = VALIDATION_GRAPH;
  assert.deepEqual(graph.names, ["a", "b", "c", "d", "e", "f"]);
  assert.deepEqual([graph.roots, graph.startsAt, graph.last], [["a", "b"], ["transaction_verification"], "f"]);
  assert.deepEqual(graph.advancesOn("transaction_verification"), ["start"]);
  assert.deepEqual(graph.advancesOn("fraud_detection"), ["b", "c"]);
  assert.deepEqual(graph.advancesOn("suggestions"), ["e"]);
  const next = Object.fromEntries(EVENT_NAMES.map((name) => [name, graph.forwardsTo(name)]));
  assert.deepEqual(next, {
    a: [],
    b: ["fraud_detection"],
    c: ["fraud_detection"],
    d: [],
    e: ["suggestions"],
    f: [],
  });
  assert.deepEqual(graph.successors("a"), ["c"], "a's clock stays in its process for c");
  assert.deepEqual(graph.waitsFor("a"), ["start"]);
  assert.deepEqual(graph.waitsFor("e"), ["c", "d"]);
});

Deno.test("a graph the clocks cannot follow is refused", () => {
  const { a, b, c, d, e, f } = VALIDATION_EVENTS;
  assert.throws(() => eventGraph({ a: { ...a, after: ["c"] }, b, c, d, e, f }), /a → c → a is a cycle/);
  assert.throws(() => eventGraph({ a, b, c: { ...c, after: ["x"] }, d, e, f }), /c follows no event "x"/);
  assert.throws(
    () => eventGraph({ a, b, c: { ...c, after: [] }, d, e: { ...e, after: ["d"] }, f }),
    /a and c tick transaction_verification.items but neither follows the other/,
  );
  assert.throws(() => eventGraph({ a, b, c, d, f: { ...f, after: ["c"] } }), /one event must be last, not d, f/);
  assert.throws(() => eventGraph({ a, b, c, d, e: { ...e, after: ["d"] }, f }), /one event must be last, not c, f/);
});

/** The clocks the event protocol gives the events when they run in `order` (merge the causal basis, tick). */
function clocksWhenRunIn(order: readonly EventName[]): Map<EventName, VectorClock> {
  const clocks = new Map<EventName, VectorClock>();
  const processClocks = new Map<string, VectorClock>();
  for (const name of order) {
    const { process, after } = VALIDATION_EVENTS[name];
    let basis = processClocks.get(process) ?? zeroClock(CLOCK_PROCESSES);
    for (const previous of after as readonly EventName[]) basis = merge(basis, clocks.get(previous)!);
    const clock = tick(basis, process);
    processClocks.set(process, clock);
    clocks.set(name, clock);
  }
  return clocks;
}

Deno.test("each event's clock process keeps the order: the clocks show exactly the graph, whichever root runs first", () => {
  // Two events of one process are always ordered by their clocks, so they must be ordered in the graph too.
  for (const order of [["a", "b", "c", "d", "e", "f"], ["b", "d", "a", "c", "e", "f"]] as const) {
    const clocks = clocksWhenRunIn(order);
    for (const [x, y] of pairs) {
      assert.equal(compare(clocks.get(x)!, clocks.get(y)!), eventOrder(x, y), `${x}, ${y} when run ${order.join("")}`);
    }
  }
});

Deno.test("fraud detection's view of an order has no card data, and its request refuses one by name", () => {
  const order = orderSchema.parse({
    user: { name: "Ada Lovelace", contact: "ada@example.com" },
    creditCard: { number: "4111111111111111", expirationDate: "12/39", cvv: "123" },
    items: [{ bookId: "dune", quantity: 1 }],
  });
  const fraudOrder = fraudOrderOf(order);
  assert.ok(!JSON.stringify(fraudOrder).includes("4111111111111111"));
  assert.deepEqual(fraudOrder.user, order.user);
  assert.deepEqual(fraudOrder.items, order.items);
  const request = { orderId: "o1", order: { ...fraudOrder, creditCard: order.creditCard } };
  assert.deepEqual(findUnknownFields(initFraudRequestSchema, request), ["order.creditCard"]);
  assert.ok(!("creditCard" in initFraudRequestSchema.parse(request).order));
});
