import assert from "node:assert/strict";
import type { orderQueueService } from "@bookstore/lib/contracts";
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
  response: { orderId: "o1", status: "Order Rejected" as const, suggestedBooks: [], reasons: [] },
};

Deno.test("an order's view says which book each name it was given meant", async () => {
  using kv = await Deno.openKv(":memory:");
  const orders = new OrderRecords(kv);
  const resolvedNames = [{ name: "Lord of the Ring", bookId: "the-fellowship-of-the-ring" }];
  await orders.put({ ...record, resolvedNames });
  assert.deepEqual((await orderView("o1", { orders, queue })).resolvedNames, resolvedNames);
});

Deno.test("a record kept before names were recorded reads as naming none", async () => {
  using kv = await Deno.openKv(":memory:");
  await kv.set(["order", "o1"], record);
  const view = await orderView("o1", { orders: new OrderRecords(kv), queue });
  assert.deepEqual(view.resolvedNames, []);
  assert.deepEqual(view.items, record.items);
});
