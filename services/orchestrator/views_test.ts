import assert from "node:assert/strict";
import { type orderQueueService, type OrderState, rejection } from "@bookstore/lib/contracts";
import type { Client } from "@bookstore/lib/rpc";
import { OrderRecords } from "./order_records.ts";
import { orderView } from "./views.ts";

// A rejected order's view is its record alone: the queue is never asked.
const queue = {} as Client<typeof orderQueueService>;

const record = {
  orderId: "o1",
  approved: false,
  queued: false,
  reasons: ['ambiguous book "Tolkien": did you mean "The Hobbit"?'],
  items: [{ bookId: "the-fellowship-of-the-ring", title: "The Fellowship of the Ring", quantity: 2 }],
  events: [],
  suggestedBooks: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  response: { orderId: "o1", status: "Order Rejected" as const, suggestedBooks: [], reasons: [], rejections: [] },
};

Deno.test("an order's view says which book each name it was given meant", async () => {
  using kv = await Deno.openKv(":memory:");
  const orders = new OrderRecords(kv, { retentionMs: 3_600_000 });
  const resolvedNames = [{ name: "Lord of the Ring", bookId: "the-fellowship-of-the-ring" }];
  await orders.put({ ...record, resolvedNames, rejections: [] });
  assert.deepEqual((await orderView("o1", { orders, queue })).resolvedNames, resolvedNames);
});

Deno.test("a record kept before names were recorded reads as naming none", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(["order", "o1"], record);
  const view = await orderView("o1", { orders: new OrderRecords(kv, { retentionMs: 3_600_000 }), queue });
  assert.deepEqual(view.resolvedNames, []);
  assert.deepEqual(view.items, record.items);
});

const ambiguous = rejection("items.ambiguous_book", record.reasons[0], { field: "items.0.name" });

Deno.test("a rejected order's view carries its coded rejections, whose messages are its reasons", async () => {
  using kv = await Deno.openKv(":memory:");
  const orders = new OrderRecords(kv, { retentionMs: 3_600_000 });
  await orders.put({ ...record, resolvedNames: [], rejections: [ambiguous] });
  const view = await orderView("o1", { orders, queue });
  assert.deepEqual(view.rejections, [ambiguous]);
  assert.deepEqual(view.reasons, view.rejections.map((r) => r.message));
});

Deno.test("a record kept before codes were recorded reads its reasons as coded other", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(["order", "o1"], record);
  const view = await orderView("o1", { orders: new OrderRecords(kv, { retentionMs: 3_600_000 }), queue });
  assert.deepEqual(view.rejections, [rejection("other", record.reasons[0])]);
  assert.deepEqual(view.reasons, record.reasons);
});

for (
  const [state, code] of [["failed", "stock.out_of_stock"], ["dead", "execution.gave_up"]] as const
) {
  Deno.test(`an order the queue holds as ${state} is coded ${code}, with the queue's reason as its message`, async () => {
    using kv = await Deno.openKv(":memory:");
    const orders = new OrderRecords(kv, { retentionMs: 3_600_000 });
    await orders.put({ ...record, approved: true, queued: true, reasons: [], resolvedNames: [], rejections: [] });
    const reason = state === "failed" ? "out of stock: dune (wanted 2, 1 left)" : "lease expired";
    const held = { orderId: "o1", state, attempts: 1, executorId: 2, epoch: 3, reason } as OrderState;
    const queueHolding = { GetOrderState: () => Promise.resolve(held) } as unknown as Client<typeof orderQueueService>;
    const view = await orderView("o1", { orders, queue: queueHolding });
    assert.equal(view.status, "failed");
    assert.deepEqual(view.rejections, [rejection(code, reason)]);
    assert.deepEqual(view.reasons, [reason]);
  });
}
