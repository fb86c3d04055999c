/**
 * The leader's work loop with its election in memory: a queue client that
 * answers as told and a BullyNode on a fake transport, on the real clock
 * with short timeouts (the loop's backoff runs on real timers).
 */
import assert from "node:assert/strict";
import type { orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import { type Client, RpcError } from "@bookstore/lib/rpc";
import { waitFor } from "../../tests/support/wait.ts";
import { BullyNode } from "./bully.ts";
import { OrderWorker } from "./worker.ts";

const log = createLogger("test", { write: () => {} });

Deno.test("a leader that cannot reach the queue past the heartbeat timeout steps down and is no candidate", async () => {
  const heartbeats: number[] = [];
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
      acquireEpoch: () => Promise.resolve(1),
    },
    onLead: () => {},
  });
  using _node = node;
  await node.startElection("replica started");
  assert.equal(node.role, "leader");
  let queueUp = false;
  const queue = {
    Dequeue: () =>
      queueUp ? Promise.resolve({}) : Promise.reject(new RpcError("unavailable", "order_queue is unreachable")),
  } as unknown as Client<typeof orderQueueService>;
  const worker = new OrderWorker({ id: 4, queue, leadership: node, log, pollIntervalMs: 10, workMs: 0 });
  const working = worker.work(node.epoch);
  const timer = setInterval(() => node.tick(), 20);
  try {
    await waitFor(() => node.role !== "leader", { timeoutMs: 3000, message: "the cut-off leader to step down" });
    await working;
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
