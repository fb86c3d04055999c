/**
 * The executor's calls to a replicated queue: two queue replicas in memory
 * on one store, the first cutting the connection after it handled a request
 * (it acted; the executor cannot know), so that the call moves to the second.
 * Each call has its effect once: a repeated dequeue answers the leases the
 * first took, a repeated ack the outcome it had; an epoch whose answer was
 * lost is never used by anyone.
 */
import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import { isFenced } from "@bookstore/lib/contracts";
import type { RpcError } from "@bookstore/lib/rpc";
import { QUEUE_REPLICA_URLS, queueReplicas } from "../../tests/support/queue_replicas.ts";
import { eventually } from "../../tests/support/wait.ts";
import { OrderWorker } from "./worker.ts";

const [ONE, TWO] = QUEUE_REPLICA_URLS;
const EXECUTOR = 2;

async function stockOf(queue: Awaited<ReturnType<typeof queueReplicas>>, bookId: string): Promise<number> {
  return (await queue.replicas[0].store.stock()).find((level) => level.bookId === bookId)!.stock;
}

Deno.test("a DequeueBatch cut after replica 1 leased: replica 2 answers the same leases, under the same request id", async () => {
  using queue = await queueReplicas();
  const store = queue.replicas[0].store;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1 }]);
  const epoch = await store.acquireEpoch(EXECUTOR);
  queue.network.set(ONE, "cut");
  const request = { executorId: EXECUTOR, epoch, requestId: crypto.randomUUID(), maxLeases: 2, waitMs: 0 };
  const { leases } = await queue.client().DequeueBatch(request);
  assert.deepEqual(queue.calls(1), ["DequeueBatch"]);
  assert.deepEqual(queue.calls(2), ["DequeueBatch"]);
  assert.deepEqual(leases.map((lease) => [lease.orderId, lease.attempt]), [["o1", 1], ["o2", 1]]);
  for (const lease of leases) {
    const state = await store.orderState(lease.orderId);
    assert.equal(state.state, "leased");
    assert.equal(state.attempts, 1, "leased once, by replica 1");
  }
  const sent = queue.network.requests.map((r) => JSON.parse(r.body).requestId);
  assert.deepEqual(sent, [request.requestId, request.requestId]);
});

Deno.test("an AckBatch cut after replica 1 executed it: replica 2 answers the same results, and stock moved once", async () => {
  using queue = await queueReplicas();
  const store = queue.replicas[0].store;
  const before = await stockOf(queue, "dune");
  await store.enqueue("o1", [{ bookId: "dune", quantity: 2 }]);
  await store.enqueue("o2", [{ bookId: "dune", quantity: 1_000 }]);
  const epoch = await store.acquireEpoch(EXECUTOR);
  const leases = await store.dequeueBatch({ executorId: EXECUTOR, epoch }, { max: 2 });
  const acks = leases.map(({ orderId, leaseId }) => ({ orderId, leaseId }));
  queue.network.set(ONE, "cut");
  const { results } = await queue.client().AckBatch({ executorId: EXECUTOR, epoch, acks });
  assert.deepEqual(queue.calls(1), ["AckBatch"]);
  assert.deepEqual(queue.calls(2), ["AckBatch"]);
  assert.deepEqual(Object.fromEntries(results.map(({ orderId, state }) => [orderId, state])), {
    o1: "executed",
    o2: "failed",
  });
  assert.equal(await stockOf(queue, "dune"), before - 2, "o1's books taken once; o2 (out of stock) none");
  queue.network.set(ONE, undefined);
  const again = await queue.client().AckBatch({ executorId: EXECUTOR, epoch, acks });
  assert.deepEqual(again.results, results, "asked anywhere, any number of times: the same answer");
});

Deno.test("an AcquireEpoch cut after replica 1 issued an epoch is not sent on; the next one, at replica 2, supersedes the lost epoch", async () => {
  using queue = await queueReplicas();
  const store = queue.replicas[0].store;
  const client = queue.client({ retries: 0 });
  queue.network.set(ONE, "cut");
  const lost: RpcError = await client.AcquireEpoch({ executorId: EXECUTOR }).catch((error) => error);
  assert.equal(lost.code, "unavailable");
  assert.deepEqual(queue.calls(2), [], "not idempotent: not repeated at replica 2 within the call");
  assert.deepEqual(await store.status().then(({ epoch, leaderId }) => ({ epoch, leaderId })), {
    epoch: 1,
    leaderId: EXECUTOR,
  }, "replica 1 did issue epoch 1, which its caller never heard of");
  // The election asks again; the call starts at replica 2, and the same executor is not refused by its own lost epoch.
  const { epoch } = await client.AcquireEpoch({ executorId: EXECUTOR });
  assert.equal(epoch, 2);
  assert.deepEqual(queue.calls(2), ["AcquireEpoch"]);
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  const stale = await client.DequeueBatch({ executorId: EXECUTOR, epoch: 1, maxLeases: 1, waitMs: 0 }).catch((e) => e);
  assert.ok(isFenced(stale), "the lost epoch can lease nothing, should anyone present it");
  const { leases } = await client.DequeueBatch({ executorId: EXECUTOR, epoch, maxLeases: 1, waitMs: 0 });
  assert.equal(leases.length, 1);
});

Deno.test("an AcquireEpoch whose connection replica 1 refused moves on to replica 2 within the call", async () => {
  using queue = await queueReplicas();
  queue.network.set(ONE, "refuse");
  assert.deepEqual(await queue.client({ retries: 0 }).AcquireEpoch({ executorId: EXECUTOR }), { epoch: 1 });
  assert.deepEqual(queue.calls(2), ["AcquireEpoch"]);
});

const log = createLogger("test", { write: () => {} });

/** A worker for executor 2 leading `epoch` over `queue`'s client; `stop()` ends its loop and waits for it. */
function workerOn(queue: Awaited<ReturnType<typeof queueReplicas>>, epoch: number, batchSize = 1) {
  const leadership = { leading: true, leads: () => leadership.leading, stepDown: () => leadership.leading = false };
  const worker = new OrderWorker({
    id: EXECUTOR,
    queue: queue.client(),
    leadership,
    log,
    pollIntervalMs: 20,
    batchSize,
    workMs: 0,
  });
  const working = worker.work(epoch);
  return {
    worker,
    async stop() {
      leadership.leading = false;
      await working;
    },
  };
}

Deno.test("the worker over two replicas, acks cut after replica 1 executed them, dequeues refused by replica 2: every order executed once, stock exact", async () => {
  using queue = await queueReplicas();
  const store = queue.replicas[0].store;
  const before = await stockOf(queue, "rebecca");
  const orders = ["o1", "o2", "o3", "o4", "o5"];
  for (const orderId of orders) await store.enqueue(orderId, [{ bookId: "rebecca", quantity: 1 }]);
  // Every ack fails over from 1 to 2, every dequeue then from 2 back to 1: each round crosses both ways.
  queue.network.set(ONE, "cut", { method: "AckBatch" });
  queue.network.set(TWO, "refuse", { method: "DequeueBatch" });
  const { worker, stop } = workerOn(queue, await store.acquireEpoch(EXECUTOR), 2);
  try {
    await eventually(async () => (await store.status()).executed === orders.length, {
      timeoutMs: 10_000,
      message: "every order to be executed",
    });
  } finally {
    await stop();
  }
  for (const orderId of orders) {
    const state = await store.orderState(orderId);
    assert.deepEqual([state.state, state.attempts], ["executed", 1], orderId);
  }
  assert.equal(await stockOf(queue, "rebecca"), before - orders.length, "each order's book taken once");
  assert.equal(worker.executed, orders.length, "each ack's answer counted once");
  const acks = queue.network.requests.filter((r) => r.path.endsWith("AckBatch"));
  assert.ok(acks.some((r) => r.origin === ONE && r.fault === "cut"), "an ack was cut at replica 1");
  assert.ok(acks.some((r) => r.origin === TWO && r.fault === undefined), "and repeated at replica 2");
  const refused = queue.network.requests.filter((r) => r.path.endsWith("DequeueBatch") && r.fault === "refuse");
  assert.ok(refused.length > 0, "a dequeue moved from replica 2 back to replica 1");
});

Deno.test("a dequeue no replica answered is asked again under the same request id, and answers the leases it took", async () => {
  using queue = await queueReplicas();
  const store = queue.replicas[0].store;
  await store.enqueue("o1", [{ bookId: "dune", quantity: 1 }]);
  // Replica 1 leases o1 and the connection is cut; replica 2 cannot be reached: the worker's dequeue fails.
  queue.network.set(ONE, "cut", { method: "DequeueBatch" });
  queue.network.set(TWO, "refuse");
  const { stop } = workerOn(queue, await store.acquireEpoch(EXECUTOR));
  const dequeues = () => queue.network.requests.filter((r) => r.path.endsWith("DequeueBatch"));
  try {
    // Past the client's own retries: the worker's loop asks again.
    await eventually(() => dequeues().length >= 8, { timeoutMs: 10_000, message: "the worker to ask again" });
    queue.network.set(ONE, undefined);
    queue.network.set(TWO, undefined);
    await eventually(async () => (await store.orderState("o1")).state === "executed", {
      timeoutMs: 10_000,
      message: "o1 to be executed",
    });
  } finally {
    await stop();
  }
  assert.equal((await store.orderState("o1")).attempts, 1, "leased once: the retry answered replica 1's lease");
  const answered = dequeues().findIndex((r) => r.fault === undefined);
  const ids = dequeues().slice(0, answered + 1).map((r) => JSON.parse(r.body).requestId);
  assert.ok(ids.length > 8, "the worker's own retries as well as its client's");
  assert.equal(new Set(ids).size, 1, "one request id until it was answered");
});
