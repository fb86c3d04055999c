/**
 * Retention in the orchestrator: an order's record is kept for the retention period, its idempotency key half as
 * long, and an order looked up once they are gone is a clear `not_found`.
 */
import assert from "node:assert/strict";
import { type orderQueueService, orderSchema, type PlaceOrderResponse } from "@bookstore/lib/contracts";
import { type Client, hasCode, RpcError } from "@bookstore/lib/rpc";
import type { Kv } from "@bookstore/lib/store";
import { validOrder } from "../../tests/support/orders.ts";
import { IdempotencyKeys } from "./idempotency.ts";
import { type OrderRecord, OrderRecords } from "./order_records.ts";
import { orderView } from "./views.ts";

// `kv` that notes the expiry each key is written with, by `set` or in an atomic commit.
function noteExpiries(kv: Kv): { kv: Kv; expiries: Map<string, number | undefined> } {
  const expiries = new Map<string, number | undefined>();
  const note = (key: Deno.KvKey, options?: { expireIn?: number }) => expiries.set(key.join("/"), options?.expireIn);
  const noting = new Proxy(kv, {
    get(target, name) {
      if (name === "set") {
        return (key: Deno.KvKey, value: unknown, options?: { expireIn?: number }) => {
          note(key, options);
          return target.set(key, value, options);
        };
      }
      if (name === "atomic") {
        return () => {
          const atomic = target.atomic();
          const noted = new Proxy(atomic, {
            get(op, method) {
              const value = Reflect.get(op, method);
              if (typeof value !== "function") return value;
              return (...args: unknown[]) => {
                if (method === "set") note(args[0] as Deno.KvKey, args[2] as { expireIn?: number });
                const result = value.apply(op, args);
                return result === op ? noted : result;
              };
            },
          });
          return noted;
        };
      }
      const value = Reflect.get(target, name);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return { kv: noting, expiries };
}

const DAY = 86_400_000;

const approved: OrderRecord = {
  orderId: "o1",
  approved: true,
  queued: true,
  reasons: [],
  rejections: [],
  items: [{ bookId: "dune", title: "Dune", quantity: 1 }],
  resolvedNames: [],
  events: [],
  suggestedBooks: [],
  createdAt: "2026-01-01T00:00:00.000Z",
  response: { orderId: "o1", status: "Order Approved", suggestedBooks: [], reasons: [], rejections: [] },
};

Deno.test("an order's record is kept for the retention period, its idempotency key for half of it", async () => {
  using kv = await Deno.openKv(":memory:");
  const noted = noteExpiries(kv);
  await new OrderRecords(noted.kv, { retentionMs: 2 * DAY }).put(approved);
  const keys = new IdempotencyKeys(noted.kv, { retentionMs: 2 * DAY });
  const order = orderSchema.parse(validOrder());
  const answer = (orderId: string): PlaceOrderResponse => ({ ...approved.response, orderId });
  await keys.once("k1", { order, run: ({ orderId }) => Promise.resolve(answer(orderId)) });
  assert.deepEqual(Object.fromEntries(noted.expiries), { "order/o1": 2 * DAY, "idempotency/k1": DAY });
});

Deno.test("an order looked up once its records are gone is a clear not_found, whichever went first", async () => {
  using kv = await Deno.openKv(":memory:");
  const orders = new OrderRecords(kv, { retentionMs: 2 * DAY });
  const gone = () => Promise.reject(new RpcError("not_found", "no order o1 in the queue"));
  const queue = { GetOrderState: gone } as unknown as Client<typeof orderQueueService>;
  await assert.rejects(
    () => orderView("o1", { orders, queue }),
    (error: RpcError) => hasCode(error, "not_found") && /placed longer ago than orders are kept/.test(error.message),
  );
  // The queue's record went first (a store that expires late): the order was queued, so it finished long ago.
  await orders.put(approved);
  await assert.rejects(
    () => orderView("o1", { orders, queue }),
    (error: RpcError) => hasCode(error, "not_found") && /finished longer ago than orders are kept/.test(error.message),
  );
});
