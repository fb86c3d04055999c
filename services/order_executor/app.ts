/**
 * An order executor replica. Replicas elect a leader with the Bully
 * algorithm (`bully.ts`); only the leader dequeues (`worker.ts`), and every
 * dequeue and ack carries its epoch, so a deposed leader's late calls are
 * refused by the queue's fence and it steps down.
 *
 * @module
 */
import { orderExecutorService, orderQueueService } from "@bookstore/lib/contracts";
import { createServiceKit, type ServiceApp, type ServiceDeps } from "@bookstore/lib/service";
import { BullyNode } from "./bully.ts";
import { OrderWorker } from "./worker.ts";

/** Builds executor replica `config.executor.id`; importing this module starts nothing. */
export function createApp(deps: ServiceDeps): ServiceApp {
  const { config } = deps;
  const { id, peers, heartbeatIntervalMs, heartbeatTimeoutMs, electionTimeoutMs, pollIntervalMs, batchSize, workMs } =
    config.executor;
  if (!peers.has(id)) {
    throw new Error(`EXECUTOR_ID ${id} is not among EXECUTOR_PEERS (${[...peers.keys()].join(", ")})`);
  }
  const kit = createServiceKit(`order_executor_${id}`, deps);
  const { app, log } = kit;
  const queue = kit.peer(orderQueueService);
  const replicas = new Map(
    [...peers].filter(([peerId]) => peerId !== id).map(([peerId, url]) => [
      peerId,
      kit.peer(orderExecutorService, {
        baseUrl: url,
        peer: `order_executor_${peerId}`,
        // Timeouts are the failure detector here: no retries, no circuit breaker.
        timeoutMs: electionTimeoutMs,
        retries: 0,
        breaker: false,
      }),
    ]),
  );

  const node: BullyNode = new BullyNode({
    id,
    peerIds: [...replicas.keys()],
    log,
    timing: { heartbeatIntervalMs, heartbeatTimeoutMs },
    transport: {
      heartbeat: (peerId, request) => replicas.get(peerId)!.Heartbeat(request, { timeoutMs: heartbeatIntervalMs * 2 }),
      election: async (peerId, request) => (await replicas.get(peerId)!.Election(request)).ok,
      coordinator: async (peerId, request) => {
        await replicas.get(peerId)!.Coordinator(request);
      },
      acquireEpoch: async () => (await queue.AcquireEpoch({ executorId: id })).epoch,
    },
    onLead: (epoch) => {
      worker.work(epoch).catch((error) => log.error("work loop failed", { epoch, error }));
    },
  });
  const worker = new OrderWorker({ id, queue, leadership: node, log, pollIntervalMs, batchSize, workMs });

  const status = () => ({ ...node.status(), pid: Deno.pid, executed: worker.executed, fenced: worker.fenced });
  app.get("/status", (c) => c.json(status()));
  kit.rpc(orderExecutorService, {
    Heartbeat: (request) => node.onHeartbeat(request),
    Election: (request) => node.onElection(request),
    Coordinator: (request) => node.onCoordinator(request),
    GetExecutorStatus: () => status(),
  });

  return kit.service(node);
}
