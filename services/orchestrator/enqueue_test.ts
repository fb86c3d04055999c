import assert from "node:assert/strict";
import type { orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { type Client, RpcError } from "@bookstore/lib/rpc";
import { QUEUE_REPLICA_URLS, queueReplicas } from "../../tests/support/queue_replicas.ts";
import { queueApproved } from "./enqueue.ts";
import { type OrderRecord, OrderRecords } from "./order_records.ts";

const record: OrderRecord = {
  orderId: "o1",
  approved: true,
  queued: false,
  reasons: [],
  rejections: [],
  items: [{ bookId: "dune", title: "Dune", quantity: 1 }],
  resolvedNames: [],
  events: [],
  suggestedBooks: [],
  createdAt: new Date(0).toISOString(),
  response: { orderId: "o1", status: "Order Approved", suggestedBooks: [], reasons: [], rejections: [] },
};

/** A queue whose Enqueue and GetOrderState answer what the test says, recording the calls. */
function queueOf(answers: { enqueue: (() => Promise<unknown>)[]; state?: () => Promise<unknown> }) {
  const calls: string[] = [];
  const queue = {
    Enqueue: () => {
      calls.push("Enqueue");
      return answers.enqueue.shift()!();
    },
    GetOrderState: () => {
      calls.push("GetOrderState");
      return answers.state!();
    },
  } as unknown as Client<typeof orderQueueService>;
  return { queue, calls };
}

async function queueing(queue: Client<typeof orderQueueService>) {
  const kv = await Deno.openKv(":memory:");
  const orders = new OrderRecords(kv, { retentionMs: 3_600_000 });
  const log = createLogger("test", { write: () => {} });
  const result = await queueApproved(record, { queue, orders, log, signal: new AbortController().signal }).then(
    () => undefined,
    (error: RpcError) => error,
  );
  const stored = await orders.get("o1");
  kv.close();
  return { result, stored };
}

const lost = () => Promise.reject(new RpcError("deadline_exceeded", "no answer"));

Deno.test("an Enqueue answered: the order is recorded as queued", async () => {
  const { queue, calls } = queueOf({ enqueue: [() => Promise.resolve({})] });
  const { result, stored } = await queueing(queue);
  assert.equal(result, undefined);
  assert.equal(stored?.queued, true);
  assert.deepEqual(calls, ["Enqueue"]);
});

Deno.test("an Enqueue refused: nothing was queued, nothing recorded, the client is told it was not placed", async () => {
  const { queue, calls } = queueOf({ enqueue: [() => Promise.reject(new RpcError("invalid_argument", "no"))] });
  const { result, stored } = await queueing(queue);
  assert.equal(result?.code, "unavailable");
  assert.match(result!.message, /was not placed/);
  assert.equal(stored, undefined, "a retry validates it again under the same id");
  assert.deepEqual(calls, ["Enqueue"]);
});

Deno.test("an Enqueue whose answer was lost: the queue is asked, and holds it", async () => {
  const { queue, calls } = queueOf({ enqueue: [lost], state: () => Promise.resolve({ state: "queued" }) });
  const { result, stored } = await queueing(queue);
  assert.equal(result, undefined);
  assert.equal(stored?.queued, true);
  assert.deepEqual(calls, ["Enqueue", "GetOrderState"]);
});

Deno.test("an Enqueue whose answer was lost, the queue lacks it: queued again under the same id", async () => {
  const { queue, calls } = queueOf({
    enqueue: [lost, () => Promise.resolve({})],
    state: () => Promise.reject(new RpcError("not_found", "no order o1")),
  });
  const { result, stored } = await queueing(queue);
  assert.equal(result, undefined);
  assert.equal(stored?.queued, true);
  assert.deepEqual(calls, ["Enqueue", "GetOrderState", "Enqueue"]);
});

Deno.test("an Enqueue whose answer was lost, the queue cannot say: recorded as not known to be queued, never 'not placed'", async () => {
  const { queue } = queueOf({ enqueue: [lost], state: () => Promise.reject(new RpcError("unavailable", "down")) });
  const { result, stored } = await queueing(queue);
  assert.equal(result?.code, "unavailable");
  assert.match(result!.message, /may have been placed/);
  assert.doesNotMatch(result!.message, /was not placed/);
  assert.equal(stored?.queued, false);
});

Deno.test("two queue replicas: an Enqueue replica 1 committed before its connection was cut is answered by replica 2 as created: false, which places the order once", async () => {
  using queue = await queueReplicas();
  queue.network.set(QUEUE_REPLICA_URLS[0], "cut");
  const client = queue.client();
  const answers: unknown[] = [];
  const spied = {
    ...client,
    Enqueue: async (...args: Parameters<typeof client.Enqueue>) => {
      const answer = await client.Enqueue(...args);
      answers.push(answer);
      return answer;
    },
  };
  const { result, stored } = await queueing(spied);
  assert.equal(result, undefined, "placed");
  assert.equal(stored?.queued, true);
  assert.deepEqual(answers, [{ created: false }], "one call, failed over within itself");
  assert.deepEqual(queue.calls(1), ["Enqueue"]);
  assert.deepEqual(queue.calls(2), ["Enqueue"]);
  const status = await queue.replicas[1].store.status();
  assert.equal(status.depth, 1, "queued once");
  assert.equal((await queue.replicas[0].store.orderState("o1")).state, "queued");
});
