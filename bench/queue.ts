/**
 * The order queue's throughput against the raw Deno KV atomic-commit rate
 * on the same disk in the same run (the floor every queue operation is built
 * from), and executor failover time over repeated leader kills.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { createLogger } from "@bookstore/lib/log";
import { OrderQueueStore } from "../services/order_queue/store.ts";
import { startCluster } from "../tests/support/cluster.ts";
import { replicaStatus, stableLeader } from "../tests/support/executors.ts";
import { median } from "./report.ts";

const ROUNDS = 2000;
/** Orders leased and acked per call in the batch rows (the executors' default, EXECUTOR_BATCH_SIZE). */
const BATCH = 16;
const FAILOVERS = 20;
const tmp = new URL(".tmp/", import.meta.url);
const silent = createLogger("bench", { level: "error", write: () => {} });

async function openFresh(name: string): Promise<Deno.Kv> {
  const path = new URL(`${name}-${crypto.randomUUID()}.kv`, tmp).pathname;
  return await Deno.openKv(path);
}

function rate(count: number, ms: number): number {
  return Math.round((count / ms) * 1000);
}

/** The floor: sequential atomic commits of one small value each. */
async function rawCommits(): Promise<number> {
  const kv = await openFresh("raw");
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    await kv.atomic().check({ key: ["k", i], versionstamp: null }).set(["k", i], { i }).commit();
  }
  const elapsed = performance.now() - started;
  kv.close();
  return rate(ROUNDS, elapsed);
}

interface Throughput {
  enqueue: number;
  dequeueAck: number;
  dequeueAckBatch: number;
}

/** The queue's store without HTTP: enqueue, then lease + ack everything, one order and a batch at a time. */
async function storeThroughput(): Promise<Throughput> {
  const kv = await openFresh("store");
  const store = new OrderQueueStore(kv, { leaseMs: 60_000, maxAttempts: 5, log: silent });
  await kv.set(["stock", "dune"], 1_000_000_000);
  let started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    await store.enqueue(`o${i}`, [{ bookId: "dune", quantity: 1 + (i % 5) }]);
  }
  const enqueue = rate(ROUNDS, performance.now() - started);
  const epoch = await store.acquireEpoch(1);
  const caller = { executorId: 1, epoch };
  started = performance.now();
  for (let i = 0; i < ROUNDS / 2; i++) {
    const [lease] = await store.dequeueBatch(caller, { max: 1 });
    await store.ackBatch(caller, [{ orderId: lease.orderId, leaseId: lease.leaseId }]);
  }
  const dequeueAck = rate(ROUNDS / 2, performance.now() - started);
  started = performance.now();
  for (let done = 0; done < ROUNDS / 2;) {
    const leases = await store.dequeueBatch(caller, { max: BATCH });
    await store.ackBatch(caller, leases.map(({ orderId, leaseId }) => ({ orderId, leaseId })));
    done += leases.length;
  }
  const dequeueAckBatch = rate(ROUNDS / 2, performance.now() - started);
  kv.close();
  return { enqueue, dequeueAck, dequeueAckBatch };
}

/** The queue as a service: Connect RPCs over loopback HTTP to its own process. */
async function serviceThroughput(): Promise<Throughput> {
  await using cluster = await startCluster({ only: ["order_queue"], env: { BOOKSTORE_ENV: "development" } });
  const queue = cluster.queue();
  const count = ROUNDS / 2;
  let started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    await queue.Enqueue({ orderId: `s${i}`, items: [{ bookId: "dune", quantity: 1 }] });
  }
  const enqueue = rate(ROUNDS, performance.now() - started);
  const { epoch } = await queue.AcquireEpoch({ executorId: 1 });
  const caller = { executorId: 1, epoch };
  started = performance.now();
  for (let i = 0; i < count; i++) {
    const { leases: [lease] } = await queue.DequeueBatch({ ...caller, maxLeases: 1 });
    await queue.AckBatch({ ...caller, acks: [{ orderId: lease.orderId, leaseId: lease.leaseId }] });
  }
  const dequeueAck = rate(count, performance.now() - started);
  started = performance.now();
  for (let done = 0; done < count;) {
    const { leases } = await queue.DequeueBatch({ ...caller, maxLeases: BATCH });
    await queue.AckBatch({ ...caller, acks: leases.map(({ orderId, leaseId }) => ({ orderId, leaseId })) });
    done += leases.length;
  }
  const dequeueAckBatch = rate(count, performance.now() - started);
  return { enqueue, dequeueAck, dequeueAckBatch };
}

/** Time from SIGKILL of the leader until the survivors agree on a new one. */
async function failover(): Promise<number[]> {
  await using cluster = await startCluster({
    only: ["order_queue", ...[1, 2, 3, 4].map((i) => `order_executor_${i}`)],
  });
  const times: number[] = [];
  for (let round = 0; round < FAILOVERS; round++) {
    const leader = await stableLeader(cluster, { leader: 4 });
    const killed = performance.now();
    cluster.supervisor.kill("order_executor_4", "SIGKILL");
    await stableLeader(cluster, { among: [1, 2, 3], aboveEpoch: leader.epoch, timeoutMs: 30_000 });
    times.push(performance.now() - killed);
    await cluster.restart("order_executor_4");
    await stableLeader(cluster, { leader: 4 });
    if (!(await replicaStatus(cluster, 4))) throw new Error("replica 4 did not come back");
  }
  return times;
}

/** Runs the queue and failover benchmarks and answers their Markdown report. */
export async function benchQueue(): Promise<string> {
  await Deno.mkdir(tmp, { recursive: true });
  const raw = await rawCommits();
  const store = await storeThroughput();
  const service = await serviceThroughput();
  const times = await failover();
  await Deno.remove(tmp, { recursive: true });
  const timing = loadConfig().executor;
  const pct = (value: number) => `${Math.round((value / raw) * 100)}%`;
  const ofStore = (value: number, inProcess: number) => `${Math.round((value / inProcess) * 100)}%`;
  return `
### Queue and failover

| measurement | result | vs. raw KV commits | over Connect vs. in process |
| --- | ---: | ---: | ---: |
| raw Deno KV atomic commits (floor), sequential | ${raw} commits/s | 100% | |
| queue store: Enqueue | ${store.enqueue} orders/s | ${pct(store.enqueue)} | |
| queue store: DequeueBatch + AckBatch, one order at a time | ${store.dequeueAck} orders/s | ${
    pct(store.dequeueAck)
  } | |
| queue store: DequeueBatch + AckBatch, ${BATCH} at a time | ${store.dequeueAckBatch} orders/s | ${
    pct(store.dequeueAckBatch)
  } | |
| queue service over Connect/HTTP: Enqueue | ${service.enqueue} orders/s | ${pct(service.enqueue)} | ${
    ofStore(service.enqueue, store.enqueue)
  } |
| queue service over Connect/HTTP: DequeueBatch + AckBatch, one order at a time | ${service.dequeueAck} orders/s | ${
    pct(service.dequeueAck)
  } | ${ofStore(service.dequeueAck, store.dequeueAck)} |
| queue service over Connect/HTTP: DequeueBatch + AckBatch, ${BATCH} at a time (what the executors do) | ${service.dequeueAckBatch} orders/s | ${
    pct(service.dequeueAckBatch)
  } | ${ofStore(service.dequeueAckBatch, store.dequeueAckBatch)} |
| failover after SIGKILL of the leader (${FAILOVERS} runs) | median ${Math.round(median(times))} ms, worst ${
    Math.round(Math.max(...times))
  } ms | | |

Failover runs: ${
    times.map((t) => Math.round(t)).join(", ")
  } ms (heartbeat ${timing.heartbeatIntervalMs} ms, timeout ${timing.heartbeatTimeoutMs} ms, election ${timing.electionTimeoutMs} ms).
`;
}
