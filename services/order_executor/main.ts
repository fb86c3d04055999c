/**
 * An order executor replica. Replicas elect a leader with the Bully
 * algorithm (`bully.ts`); only the leader dequeues, and every dequeue and ack
 * carries its epoch, so a deposed leader's late calls are refused by the
 * queue's fence and it steps down.
 *
 * @module
 */
import { loadConfig, requireServiceToken } from "@bookstore/lib/config";
import { orderExecutorService, orderQueueService } from "@bookstore/lib/contracts";
import { createClient, createRpcRoutes, RpcError } from "@bookstore/lib/rpc";
import { createServiceKit, serve } from "@bookstore/lib/service";
import { meter } from "@bookstore/lib/telemetry";
import { BullyNode } from "./bully.ts";

const config = loadConfig();
const token = requireServiceToken(config);
const { id, peers, heartbeatIntervalMs, heartbeatTimeoutMs, electionTimeoutMs, pollIntervalMs, workMs } =
  config.executor;
if (!peers.has(id)) throw new Error(`EXECUTOR_ID ${id} is not among EXECUTOR_PEERS (${[...peers.keys()].join(", ")})`);
const { app, log, faults } = createServiceKit(`order_executor_${id}`, config);
const executedCounter = meter.createCounter("bookstore.executor.orders", { description: "Orders executed by outcome" });

const queue = createClient(orderQueueService, {
  baseUrl: config.urls.orderQueue,
  peer: "order_queue",
  token,
  timeoutMs: config.rpcTimeoutMs,
});
const replicas = new Map(
  [...peers].filter(([peerId]) => peerId !== id).map(([peerId, url]) => [
    peerId,
    createClient(orderExecutorService, {
      baseUrl: url,
      peer: `order_executor_${peerId}`,
      token,
      // Timeouts are the failure detector here: no retries, no circuit breaker.
      timeoutMs: electionTimeoutMs,
      retries: 0,
      breaker: false,
    }),
  ]),
);

let executed = 0;
let fenced = 0;

const node = new BullyNode({
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
    work(epoch).catch((error) => log.error("work loop failed", { epoch, error }));
  },
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// The queue answers a stale epoch with failed_precondition (this replica no
// longer leads) and a lost lease with aborted (the order went to someone else).
function isFenced(error: unknown): error is RpcError {
  return error instanceof RpcError && error.code === "failed_precondition";
}

function isLeaseLost(error: unknown): error is RpcError {
  return error instanceof RpcError && error.code === "aborted";
}

/** The leader's loop: lease the head of the queue, execute it, repeat, for as long as it leads `epoch`. */
async function work(epoch: number) {
  log.info("work loop started", { epoch });
  let failures = 0;
  while (node.leads(epoch)) {
    let lease;
    try {
      lease = (await queue.Dequeue({ executorId: id, epoch })).lease;
    } catch (error) {
      if (isFenced(error)) {
        fenced += 1;
        log.warn("dequeue refused by the fence", { epoch, reason: error.message });
        node.stepDown(error.message, { led: epoch });
        break;
      }
      failures += 1;
      log.warn("dequeue failed", { epoch, failures, error });
      // Back off while the queue is unreachable instead of hammering it.
      await sleep(Math.min(pollIntervalMs * 2 ** failures, 1000));
      continue;
    }
    failures = 0;
    if (!lease) {
      await sleep(pollIntervalMs);
      continue;
    }
    log.info("executing", { orderId: lease.orderId, epoch, attempt: lease.attempt });
    // Simulated work (packing, shipping label…). The fence, not this replica's
    // own view of its role, decides whether the result may be committed.
    if (workMs > 0) await sleep(workMs);
    try {
      const outcome = await queue.Ack({ orderId: lease.orderId, leaseId: lease.leaseId, executorId: id, epoch });
      executed += 1;
      executedCounter.add(1, { state: outcome.state });
      log.info(outcome.state === "executed" ? "order executed" : "order failed", {
        orderId: lease.orderId,
        epoch,
        reason: outcome.reason,
      });
    } catch (error) {
      if (isFenced(error)) {
        fenced += 1;
        log.warn("ack refused by the fence", { orderId: lease.orderId, epoch, reason: error.message });
        node.stepDown(error.message, { led: epoch });
        break;
      }
      if (isLeaseLost(error)) {
        log.warn("lease lost before the ack", { orderId: lease.orderId, epoch, reason: error.message });
        continue;
      }
      // The lease expires and the order is handed out again; nothing is lost.
      log.warn("ack failed", { orderId: lease.orderId, epoch, error });
    }
  }
  log.info("work loop ended", { epoch });
}

function status() {
  return { ...node.status(), pid: Deno.pid, executed, fenced };
}

app.get("/status", (c) => c.json(status()));
app.route(
  "/",
  createRpcRoutes(orderExecutorService, {
    log,
    token,
    faults,
    maxBodyBytes: config.maxBodyBytes,
    handlers: {
      Heartbeat: (request) => node.onHeartbeat(request),
      Election: (request) => node.onElection(request),
      Coordinator: (request) => node.onCoordinator(request),
      GetExecutorStatus: () => status(),
    },
  }),
);

serve(app, { port: config.executor.port, hostname: config.host, log, onShutdown: () => node.stop() });
node.start();
