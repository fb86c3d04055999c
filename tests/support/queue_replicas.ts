/**
 * Two order queue replicas in memory, as a replicated queue runs: two
 * `createApp`s on one shared store (one `Deno.openKv(":memory:")`), reached
 * through a {@linkcode replicaNetwork} whose faults a test sets per replica,
 * and clients built the way the services build theirs (`peerClient` over
 * `config.urls.orderQueue`, every replica's URL).
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { orderQueueService } from "@bookstore/lib/contracts";
import { createLogger } from "@bookstore/lib/log";
import type { Client, ClientOptions } from "@bookstore/lib/rpc";
import { peerClient } from "@bookstore/lib/service";
import { createApp, type OrderQueueApp } from "@bookstore/order_queue";
import { type ReplicaNetwork, replicaNetwork } from "./replica_network.ts";

/** The replicas' URLs, in the order clients try them (loopback ports no test listens on: the network is in memory). */
export const QUEUE_REPLICA_URLS = ["http://127.0.0.1:50055", "http://127.0.0.1:50056"] as const;

/** Two queue replicas on one store; dispose of them to close it. */
export interface QueueReplicas extends Disposable {
  /** The shared store. */
  readonly kv: Deno.Kv;
  /** Replica 1 and replica 2. */
  readonly replicas: readonly OrderQueueApp[];
  /** The network between the clients and the replicas. */
  readonly network: ReplicaNetwork;
  /** The calls that reached each replica by method name (`Enqueue`…), answered or not, in order. */
  calls(replica: 1 | 2): string[];
  /** A client of the queue over both replicas, as the orchestrator and the executors make theirs. */
  client(options?: Partial<ClientOptions>): Client<typeof orderQueueService>;
}

/** Starts two queue replicas on one in-memory store. */
export async function queueReplicas(): Promise<QueueReplicas> {
  const config = loadConfig({
    BOOKSTORE_SERVICE_TOKEN: crypto.randomUUID(),
    BOOKSTORE_LOG_LEVEL: "error",
    BOOKSTORE_ENV: "test",
    ORDER_QUEUE_URL: QUEUE_REPLICA_URLS.join(","),
  });
  const kv = await Deno.openKv(":memory:");
  const log = createLogger("test", { write: () => {} });
  const replicas = [await createApp({ config, kv, log }), await createApp({ config, kv, log })];
  const network = replicaNetwork(
    Object.fromEntries(
      QUEUE_REPLICA_URLS.map((url, i) => [url, (input, init) => replicas[i].app.request(input, init)]),
    ),
  );
  return {
    kv,
    replicas,
    network,
    calls: (replica) =>
      network.requests.filter((r) => r.origin === QUEUE_REPLICA_URLS[replica - 1]).map((r) =>
        r.path.split("/").at(-1)!
      ),
    client: (options = {}) => peerClient(orderQueueService, { config, fetch: network.fetch, ...options }),
    [Symbol.dispose]() {
      for (const replica of replicas) replica[Symbol.dispose]();
      kv.close();
    },
  };
}
