/**
 * The leader's work loop against a fake queue: it executes what it leases
 * with its epoch, stops when it no longer leads, and steps down when the
 * queue's fence refuses it; and, with its election in memory (a BullyNode on
 * a fake transport, real timers with short timeouts), it steps down when it
 * cannot reach the queue.
 */
import assert from "node:assert/strict";
import type { DequeueBatchRequest, Lease, LeaseRef, orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { type Client, RpcError } from "@bookstore/lib/rpc";
import { eventually } from "../../tests/support/wait.ts";
import { BullyNode } from "./bully.ts";
import { OrderWorker } from "./worker.ts";

function lease(orderId: string): Lease {
  return { orderId, leaseId: `lease-${orderId}`, items: [{ bookId: "dune", quantity: 1 }], attempt: 1, expiresAt: 0 };
}

// Dequeues after which the fake queue deposes the worker: a loop that does not stop when it should ends (and its test
// fails on what it did) instead of hanging the suite.
const MAX_DEQUEUES = 20;

/**
 * A worker for replica 2 on a queue that answers as `queue` says; `leading` is its epoch while it leads. With
 * `ignoreStepDown`, the election keeps it leading whatever the worker says, so only the worker itself can end its term.
 */
function worker(queue: {
  dequeue: (request: DequeueBatchRequest) => Lease[];
  ack?: (ack: LeaseRef, request: { executorId: number; epoch: number }) => "executed" | "lost";
  batchSize?: number;
  ignoreStepDown?: boolean;
}) {
  const calls = { dequeues: 0, acks: [] as (LeaseRef & { epoch: number })[], stepDowns: [] as string[] };
  const leadership = {
    leading: 7 as number | undefined,
    leads: (epoch: number) => leadership.leading === epoch,
    stepDown: (reason: string, options: { led: number }) => {
      if (leadership.leading === options.led && !queue.ignoreStepDown) leadership.leading = undefined;
      calls.stepDowns.push(reason);
    },
  };
  const fake = {
    DequeueBatch: (request: DequeueBatchRequest) =>
      Promise.resolve().then(() => {
        if (++calls.dequeues > MAX_DEQUEUES) leadership.leading = undefined;
        return { leases: queue.dequeue(request) };
      }),
    AckBatch: (request: { executorId: number; epoch: number; acks: LeaseRef[] }) =>
      Promise.resolve().then(() => ({
        results: request.acks.map((ack) => {
          const state = queue.ack?.(ack, request) ?? "executed";
          if (state === "executed") calls.acks.push({ ...ack, epoch: request.epoch });
          return { orderId: ack.orderId, state, reason: "" };
        }),
      })),
  };
  const instance = new OrderWorker({
    id: 2,
    queue: fake as unknown as Client<typeof orderQueueService>,
    leadership,
    log: createLogger("test", { write: () => {} }),
    pollIntervalMs: 1,
    batchSize: queue.batchSize,
    workMs: 0,
  });
  /** Runs the loop for epoch 7; fails, rather than hangs, if it has not ended within `ms`. */
  const work = (ms = 5000) => bounded(instance.work(7), { ms, stop: () => leadership.leading = undefined });
  return { instance, leadership, calls, work };
}

/** Waits for `work` at most `ms` milliseconds; past that, calls `stop` (to end the loop) and fails. */
async function bounded(work: Promise<void>, options: { ms: number; stop?: () => void }): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      options.stop?.();
      reject(new Error(`the work loop was still running after ${options.ms} ms`));
    }, options.ms);
  });
  try {
    await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("the leader executes what it leases, with its epoch, until it no longer leads", async () => {
  const pending = ["a", "b", "c"];
  const { instance, leadership, calls, work } = worker({
    dequeue: (request) => {
      const { requestId, ...rest } = request;
      assert.deepEqual(rest, { executorId: 2, epoch: 7, maxLeases: 1, waitMs: 1 });
      assert.ok(requestId, "every dequeue carries a request id");
      const next = pending.shift();
      if (next === undefined) leadership.leading = undefined; // deposed once the queue is empty
      return next === undefined ? [] : [lease(next)];
    },
  });
  await work();
  assert.deepEqual(calls.acks.map((ack) => [ack.orderId, ack.leaseId, ack.epoch]), [
    ["a", "lease-a", 7],
    ["b", "lease-b", 7],
    ["c", "lease-c", 7],
  ]);
  assert.equal(instance.executed, 3);
  assert.equal(instance.fenced, 0);
});

Deno.test("the leader leases and acks a batch at a time, in the order leased", async () => {
  const pending = ["a", "b", "c", "d", "e"];
  const batches: string[][] = [];
  const { instance, leadership, calls, work } = worker({
    batchSize: 2,
    dequeue: (request) => {
      const batch = pending.splice(0, request.maxLeases);
      if (batch.length === 0) leadership.leading = undefined;
      batches.push(batch);
      return batch.map(lease);
    },
  });
  await work();
  assert.deepEqual(batches, [["a", "b"], ["c", "d"], ["e"], []]);
  assert.deepEqual(calls.acks.map((ack) => ack.orderId), ["a", "b", "c", "d", "e"]);
  assert.equal(instance.executed, 5);
});

Deno.test("a dequeue refused by the fence makes the leader step down at once", async () => {
  const { instance, leadership, calls, work } = worker({
    dequeue: () => {
      throw new RpcError("failed_precondition", "dequeue refused: epoch 7 is stale");
    },
  });
  await work();
  assert.equal(leadership.leading, undefined);
  assert.deepEqual(calls.stepDowns, ["dequeue refused: epoch 7 is stale"]);
  assert.equal(instance.fenced, 1);
  assert.equal(calls.dequeues, 1);
});

Deno.test("a dequeue refused by the fence ends the term even while the election still says it leads", async () => {
  const { instance, calls, work } = worker({
    ignoreStepDown: true,
    dequeue: () => {
      throw new RpcError("failed_precondition", "dequeue refused: epoch 7 is stale");
    },
  });
  await work();
  assert.equal(calls.dequeues, 1, "no dequeue after the fence refused one");
  assert.equal(instance.fenced, 1);
});

Deno.test("a lost lease is skipped; an ack refused by the fence ends the term, even while the election says it leads", async () => {
  // Batches of two: [lost, kept] is acked, [fenced, refused-with-it] is refused, [next-1, next-2] waits in the queue.
  const pending = ["lost", "kept", "fenced", "refused-with-it", "next-1", "next-2"];
  const { instance, calls, work } = worker({
    batchSize: 2,
    ignoreStepDown: true,
    dequeue: (request) => pending.splice(0, request.maxLeases).map(lease),
    ack: ({ orderId }) => {
      if (orderId === "fenced") throw new RpcError("failed_precondition", "ack refused: epoch 7 is stale");
      return orderId === "lost" ? "lost" : "executed";
    },
  });
  await work();
  assert.deepEqual(pending, ["next-1", "next-2"], "the batch after the refused ack is never dequeued");
  assert.equal(calls.dequeues, 2);
  assert.deepEqual(calls.acks.map((ack) => ack.orderId), ["kept"]);
  assert.equal(instance.executed, 1, "the lost lease is not counted");
  assert.equal(instance.fenced, 1);
  assert.deepEqual(calls.stepDowns, ["ack refused: epoch 7 is stale"]);
});

const log = createLogger("test", { write: () => {} });

Deno.test("a leader that cannot reach the queue past the heartbeat timeout steps down and is no candidate", async () => {
  const heartbeats: number[] = [];
  // One queue for the worker and the election alike: a follower's own election must not find it up while it is down.
  let queueUp = true;
  const unreachable = () => Promise.reject(new RpcError("unavailable", "order_queue is unreachable"));
  const node = new BullyNode({
    id: 4,
    peerIds: [1, 2, 3],
    log,
    timing: { heartbeatIntervalMs: 20, heartbeatTimeoutMs: 150 },
    transport: {
      heartbeat: (peerId, request) => {
        heartbeats.push(peerId);
        return Promise.resolve({ accepted: true, ...request });
      },
      election: () => Promise.resolve(false),
      coordinator: () => Promise.resolve(),
      acquireEpoch: () => queueUp ? Promise.resolve(1) : unreachable(),
    },
    onLead: () => {},
  });
  using _node = node;
  await node.startElection("replica started");
  assert.equal(node.role, "leader");
  queueUp = false;
  const queue = {
    DequeueBatch: () => queueUp ? Promise.resolve({ leases: [] }) : unreachable(),
  } as unknown as Client<typeof orderQueueService>;
  const worker = new OrderWorker({ id: 4, queue, leadership: node, log, pollIntervalMs: 10, workMs: 0 });
  const working = worker.work(node.epoch);
  const timer = setInterval(() => node.tick(), 20);
  try {
    await eventually(() => node.role !== "leader", { timeoutMs: 3000, message: "the cut-off leader to step down" });
    await bounded(working, { ms: 5000 });
    const sent = heartbeats.length;
    node.tick();
    assert.equal(heartbeats.length, sent, "no heartbeats once it stepped down");
    assert.deepEqual(node.onElection({ candidateId: 3 }), { ok: false, responderId: 4 }, "no candidate");
    // Once it reaches the queue again it is a candidate like any other.
    queueUp = true;
    node.noteQueue(true);
    assert.equal(node.onElection({ candidateId: 3 }).ok, true);
  } finally {
    clearInterval(timer);
  }
});
