/**
 * The cluster as `GET /cluster` shows it: every executor replica's status,
 * every order queue replica (the queue's counts from the first that
 * answers), and the store — with etcd, each member's own word on who leads
 * and in which Raft term. Everything is read in parallel within a short
 * deadline, each part reachable or not, so a page that polls it never
 * waits on a part that is down.
 *
 * @module
 */
import {
  type ClusterView,
  type EtcdMemberView,
  orderExecutorService,
  orderQueueService,
  type QueueReplicaView,
  type ReplicaView,
} from "@bookstore/lib/contracts";
import type { Client, ClientOptions, ServiceSpec } from "@bookstore/lib/rpc";
import { type EtcdMemberEntry, etcdMemberList, etcdMemberStatus } from "@bookstore/lib/store/etcd/cluster";

/** How long each part of the cluster has to answer (default). */
const READ_TIMEOUT_MS = 300;

/** Options for {@linkcode createClusterReader}. */
export interface ClusterReaderOptions {
  /** Every executor replica's URL by id. */
  peers: Map<number, string>;
  /** Every order queue replica's URL, replica n at index n - 1. */
  queueReplicas: readonly string[];
  /** Where the services keep their state: with etcd, its members' client URLs. */
  store: { kind: "kv" } | { kind: "etcd"; endpoints: readonly string[] };
  /** Makes a client of a peer from the given options (the service kit's `peer`). */
  connect: <S extends ServiceSpec>(service: S, options: Partial<ClientOptions>) => Client<S>;
  /** How long each part has to answer. @default 300 */
  timeoutMs?: number;
}

/** Reads the whole cluster, in parallel, within a short deadline. */
export function createClusterReader(options: ClusterReaderOptions): () => Promise<ClusterView> {
  const timeoutMs = options.timeoutMs ?? READ_TIMEOUT_MS;
  const once = { timeoutMs, retries: 0, breaker: false } as const;
  const executors = [...options.peers].map(([id, url]) => ({
    id,
    url,
    client: options.connect(orderExecutorService, { ...once, baseUrl: url, peer: `order_executor_${id}` }),
  }));
  const queues = options.queueReplicas.map((url, i) => ({
    replica: i + 1,
    url,
    client: options.connect(orderQueueService, { ...once, baseUrl: url, peer: `order_queue_${i + 1}` }),
  }));
  const { store } = options;
  return async () => {
    const [executorViews, queueStatuses, members] = await Promise.all([
      Promise.all(executors.map(async ({ id, url, client }): Promise<ReplicaView> => {
        try {
          return { ...(await client.GetExecutorStatus({})), url, reachable: true };
        } catch (error) {
          return { id, url, reachable: false, error: (error as Error).message };
        }
      })),
      Promise.all(
        queues.map(({ client }) => client.GetQueueStatus({}).then((status) => ({ status }), (error) => ({ error }))),
      ),
      store.kind === "etcd" ? readEtcdMembers(store.endpoints, timeoutMs) : undefined,
    ]);
    const queueReplicas = queues.map(({ replica, url }, i): QueueReplicaView => {
      const answer = queueStatuses[i];
      return "status" in answer
        ? { replica, url, reachable: true }
        : { replica, url, reachable: false, error: (answer.error as Error).message };
    });
    // Every replica reads the same store: the first that answers speaks for the queue.
    const first = queueStatuses.find((answer) => "status" in answer);
    const queue = first && "status" in first
      ? { reachable: true as const, ...first.status }
      : { reachable: false as const, error: unreachableQueue(queueReplicas) };
    return {
      executors: executorViews,
      queue,
      queueReplicas,
      store: members ? { kind: "etcd" as const, members } : { kind: "kv" as const },
    };
  };
}

function unreachableQueue(replicas: QueueReplicaView[]): string {
  const errors = replicas.flatMap((replica) => replica.reachable ? [] : [replica.error]);
  return replicas.length === 1 ? errors[0] : `no replica answered (${errors.join("; ")})`;
}

/**
 * Each member's status, named as the cluster knows it: the member list comes
 * from the first member that answered, and names the ones that are down too.
 */
async function readEtcdMembers(endpoints: readonly string[], timeoutMs: number): Promise<EtcdMemberView[]> {
  const statuses = await Promise.all(
    endpoints.map((endpoint) =>
      etcdMemberStatus(endpoint, { timeoutMs }).then((status) => ({ status }), (error: Error) => ({ error }))
    ),
  );
  const answered = endpoints.find((_, i) => "status" in statuses[i]);
  const list: EtcdMemberEntry[] = answered === undefined
    ? []
    : await etcdMemberList(answered, { timeoutMs }).catch(() => []);
  return endpoints.map((endpoint, i): EtcdMemberView => {
    const name = list.find((member) => member.clientUrls.includes(endpoint))?.name || new URL(endpoint).host;
    const answer = statuses[i];
    if ("error" in answer) return { name, endpoint, reachable: false, error: answer.error.message };
    const { memberId, isLeader, raftTerm, dbSize } = answer.status;
    return { name, endpoint, reachable: true, memberId, isLeader, raftTerm, dbSize };
  });
}
