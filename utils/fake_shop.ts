/**
 * The web app's state for in-memory tests of its real routes: the shipped
 * catalog at its initial stock, a cluster of four replicas with replica 4
 * leading, one queue replica, the embedded store, no orders, and admin
 * actions recorded instead of sent. Nothing is
 * reached over the network.
 *
 * @module
 */
import { loadCatalog } from "@bookstore/lib/catalog";
import { EventStreams } from "../web/sse.ts";
import { ClusterWatcher } from "./cluster_watcher.ts";
import type { ShopApi, ShopCluster } from "./shop_api.ts";
import type { State } from "./state.ts";

/** A fake shop and what its admin endpoints were asked to do. */
export interface FakeShop {
  /** The web app's state around the fake. */
  state: State;
  /**
   * Every admin action, in order: `crash 4`, `pause 4 1000`, `crash queue 2`, `crash etcd1`,
   * `fault suggestions fail`, `partition order_executor_4`, `heal`.
   */
  actions: string[];
}

/** The hosts of {@linkcode fakeCluster} with hosts: executor n on 127.77.1.n, then the others. */
const HOST_NAMES = [
  "order_executor_1",
  "order_executor_2",
  "order_executor_3",
  "order_executor_4",
  "order_queue",
  "web",
];

/**
 * The fake's cluster: four replicas with replica 4 leading, one queue
 * replica, the embedded store; with `hosts`, each process on a host of its
 * own (`deno task dev --hosts`), no link cut.
 */
export function fakeCluster(options: { hosts: boolean }): ShopCluster {
  const address = (i: number) => options.hosts ? `127.77.1.${i}` : "127.0.0.1";
  return {
    executors: [1, 2, 3, 4].map((id) => ({
      id,
      url: `http://${address(id)}:5006${id}`,
      reachable: true as const,
      role: id === 4 ? "leader" as const : "follower" as const,
      leaderId: 4,
      epoch: 1,
      pid: 1000 + id,
      lastHeartbeatMs: id === 4 ? 0 : 20,
      executed: 0,
      fenced: 0,
    })),
    queue: {
      reachable: true,
      depth: 0,
      leased: 0,
      deadLetters: 0,
      epoch: 1,
      leaderId: 4,
      executed: 0,
      failed: 0,
      fenced: 0,
    },
    queueReplicas: [{ replica: 1, url: `http://${address(5)}:50055`, reachable: true }],
    store: { kind: "kv" },
    ...(options.hosts && {
      hosts: {
        hosts: HOST_NAMES.map((name, i) => ({ name, address: address(i + 1), cutFrom: [] })),
        partitionable: HOST_NAMES.slice(0, 4),
      },
    }),
  };
}

/**
 * A fake shop; `state` replaces parts of its state (the origin, faults, the
 * streams' caps), `options.cluster` the cluster it shows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { fakeShop } from "./fake_shop.ts";
 *
 * const { state, actions } = fakeShop({ faults: true });
 * await state.shop.crashReplica(4);
 * assert.deepEqual(actions, ["crash 4"]);
 * ```
 */
export function fakeShop(state: Partial<State> = {}, options: { cluster?: ShopCluster } = {}): FakeShop {
  const cluster = options.cluster ?? fakeCluster({ hosts: false });
  const catalog = loadCatalog();
  const actions: string[] = [];
  const shop: ShopApi = {
    books: () => Promise.resolve(catalog.books.map(({ description: _, ...book }) => book)),
    book: (bookId) => Promise.resolve(catalog.get(bookId)),
    similar: () => Promise.resolve([]),
    order: () => Promise.resolve(undefined),
    cluster: () => Promise.resolve(cluster),
    crashReplica: (id) => Promise.resolve(void actions.push(`crash ${id}`)),
    crashQueueReplica: (replica) => Promise.resolve(void actions.push(`crash queue ${replica}`)),
    crashEtcdMember: (name) => Promise.resolve(void actions.push(`crash ${name}`)),
    pauseReplica: (id, ms) => Promise.resolve(void actions.push(`pause ${id} ${ms}`)),
    setValidatorFault: (name, mode) => Promise.resolve(void actions.push(`fault ${name} ${mode}`)),
    partitionHost: (name, options) => Promise.resolve(void actions.push(`partition ${name} from ${options?.from}`)),
    healLinks: () => Promise.resolve(void actions.push("heal")),
  };
  return {
    state: {
      shop,
      catalog,
      cluster: new ClusterWatcher(() => shop.cluster()),
      faults: false,
      crashesEtcd: false,
      orchestratorPublicUrl: "http://localhost:8081",
      origin: "http://localhost:8000",
      streams: new EventStreams(),
      ...state,
    },
    actions,
  };
}
