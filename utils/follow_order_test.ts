import assert from "node:assert/strict";
import type { OrderView } from "@bookstore/lib/contracts";
import { eventually } from "../tests/support/wait.ts";
import { followOrder, type FollowState, STREAM_FAILURES_BEFORE_POLLING } from "./follow_order.ts";
import { FakeEventSource } from "./fake_event_source.ts";
import { EVENT_SOURCE_CLOSED } from "./live_events.ts";

const view = (status: OrderView["status"]): OrderView => ({
  orderId: "o/1",
  status,
  reasons: [],
  items: [],
  events: [],
  suggestedBooks: [],
  createdAt: "",
  executorId: 0,
  epoch: 0,
  attempts: 0,
  resolvedNames: [],
  rejections: [],
});

function follow(options: { fetch?: typeof fetch } = {}) {
  FakeEventSource.opened = [];
  const states: FollowState[] = [];
  const orders: OrderView["status"][] = [];
  const polls: string[] = [];
  const stop = followOrder("o/1", {
    onOrder: (order) => orders.push(order.status),
    onState: (state) => states.push(state),
    EventSource: FakeEventSource,
    fetch: options.fetch ?? ((input) => {
      polls.push(String(input));
      return Promise.resolve(Response.json(view("queued")));
    }),
    pollMs: 5,
  });
  return { source: FakeEventSource.opened[0], states, orders, polls, stop };
}

Deno.test("the order's events are followed until it is finished", () => {
  const { source, states, orders, stop } = follow();
  assert.equal(source.url, "/orders/o%2F1/events");
  source.emit("open");
  source.emit("order", view("executing"));
  source.emit("order", view("executed"));
  assert.deepEqual(orders, ["executing", "executed"]);
  assert.deepEqual(states, ["live", "done"]);
  assert.ok(source.closed);
  stop();
});

Deno.test("an order the shop no longer has ends the following: said once, the stream closed, no polling", () => {
  const { source, states, polls, stop } = follow();
  source.emit("open");
  source.emit("missing", { orderId: "o/1" });
  assert.deepEqual(states, ["live", "missing"]);
  assert.ok(source.closed, "closed, so the browser does not reconnect");
  // What a stream that kept going would do next: fail repeatedly and fall back to polling.
  source.closed = false;
  for (let i = 0; i < STREAM_FAILURES_BEFORE_POLLING; i++) source.emit("error");
  source.emit("open");
  assert.deepEqual(states, ["live", "missing"]);
  assert.deepEqual(polls, []);
  stop();
});

Deno.test("a stream that keeps failing is replaced by polling, which stops at a 404 as at `missing`", async () => {
  let answer: Response = Response.json(view("queued"));
  const polls: string[] = [];
  const { source, states, orders } = follow({
    fetch: (input) => {
      polls.push(String(input));
      return Promise.resolve(answer.clone());
    },
  });
  for (let i = 0; i < STREAM_FAILURES_BEFORE_POLLING; i++) source.emit("error");
  assert.ok(source.closed);
  assert.deepEqual(states, ["polling"]);
  await eventually(() => orders.length > 0, { timeoutMs: 5000, message: "a poll" });
  assert.equal(polls[0], "/api/orders/o%2F1");
  answer = Response.json({ error: "no such order" }, { status: 404 });
  await eventually(() => states.includes("missing"), { timeoutMs: 5000, message: "the 404" });
  assert.deepEqual(states, ["polling", "missing"]);
  // Never stopped by the test: the 404 stopped the polling itself, or Deno's sanitizer fails the leaked interval.
});

Deno.test("a stream the shop refuses (429 or 503: the browser gives up) is replaced by polling at once", async () => {
  const { source, states, orders, stop } = follow();
  source.readyState = EVENT_SOURCE_CLOSED;
  source.emit("error");
  assert.ok(source.closed);
  assert.deepEqual(states, ["polling"]);
  await eventually(() => orders.length > 0, { timeoutMs: 5000, message: "a poll" });
  stop();
});
