/**
 * What the web app reads and does, over the system's own APIs: the catalog
 * and orders through the orchestrator's public Connect service, similar books
 * from suggestions, the cluster from the orchestrator's `/cluster`, and — only
 * when fault injection is enabled — the services' admin endpoints and the
 * supervisor's (for the etcd members it runs), called with the service
 * credential the browser never sees.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import { type Config, requireServiceToken } from "@bookstore/lib/config";
import {
  type Book,
  type BookRef,
  checkoutService,
  type ClusterView,
  clusterViewSchema,
  type HostsView,
  hostsViewSchema,
  type OrderView,
  type PartitionScope,
  suggestionsService,
  type ValidatorName,
  VALIDATORS,
} from "@bookstore/lib/contracts";
import { abortable, timeoutSignal } from "@bookstore/lib/async";
import { type Fetch, RpcError } from "@bookstore/lib/rpc";
import { peerClient } from "@bookstore/lib/service";
import { routedUrls } from "@bookstore/lib/order_route";

/** A catalog book with its current stock and our description. */
export type BookDetails = Book & { description: string };

/** The cluster as the page shows it: the orchestrator's view, and with `--hosts` the supervisor's hosts. */
export type ShopCluster = ClusterView & { hosts?: HostsView };

/** How a fault button treats a validator. */
export const VALIDATOR_FAULT_MODES = ["slow", "fail", "clear"] as const;

/** How a fault button treats a validator. */
export type ValidatorFaultMode = typeof VALIDATOR_FAULT_MODES[number];

/** Options for {@linkcode createShopApi}. */
export interface ShopApiOptions {
  /** Where every service is reached, the service credential and the deadline (doubled here: a page waits on it). */
  config: Config;
  /** The shipped catalog, for descriptions. */
  catalog: Catalog;
  /** How peers are reached (default the global `fetch`; an in-memory test hands requests to the apps). */
  fetch?: Fetch;
  /** How long the book list with stock is reused (default 1000 ms). */
  booksTtlMs?: number;
}

/** The web app's view of the system. */
export interface ShopApi {
  /** Every book with current stock, fresh within `booksTtlMs`. */
  books(): Promise<Book[]>;
  /** One book with its description, or `undefined`. */
  book(bookId: string): Promise<BookDetails | undefined>;
  /** Books similar to `bookId` (empty when suggestions cannot be reached). */
  similar(bookId: string): Promise<BookRef[]>;
  /** An order's view, or `undefined` when there is no such order. */
  order(orderId: string): Promise<OrderView | undefined>;
  /** The cluster: replicas and queue, and the hosts when the supervisor runs the processes on hosts. */
  cluster(): Promise<ShopCluster>;
  /** Crashes executor replica `id` (as SIGKILL would). */
  crashReplica(id: number): Promise<void>;
  /** Stops replica `id`'s event loop for `ms`, as SIGSTOP would. */
  pauseReplica(id: number, ms: number): Promise<void>;
  /** Crashes order queue replica `replica` (1, 2, …) as SIGKILL would. */
  crashQueueReplica(replica: number): Promise<void>;
  /** Has the supervisor that runs etcd member `name` SIGKILL it (`BOOKSTORE_SUPERVISOR_URL`). */
  crashEtcdMember(name: string): Promise<void>;
  /** Has the supervisor cut host `name` (an executor's) off from its peers, or from every host. */
  partitionHost(name: string, options?: { from?: PartitionScope }): Promise<void>;
  /** Has the supervisor heal every cut link. */
  healLinks(): Promise<void>;
  /** Makes a validator slow, failing, or well again. */
  setValidatorFault(name: ValidatorName, mode: ValidatorFaultMode): Promise<void>;
}

/** How long "slow" delays every call of a validator: longer than any RPC deadline. */
export const SLOW_VALIDATOR_DELAY_MS = 3000;

/**
 * The deadline of the supervisor's host calls: each runs iptables in
 * several hosts, a process each, which a loaded machine makes slow.
 */
export const HOSTS_TIMEOUT_MS = 10_000;

/** Creates the web app's API client. */
export function createShopApi(options: ShopApiOptions): ShopApi {
  const { config } = options;
  const fetch = options.fetch ?? globalThis.fetch;
  const token = requireServiceToken(config);
  const timeoutMs = config.rpcTimeoutMs * 2;
  const checkout = peerClient(checkoutService, { config, fetch, timeoutMs, breaker: false });
  const suggestions = peerClient(suggestionsService, { config, fetch, timeoutMs, retries: 0 });
  const ttl = options.booksTtlMs ?? 1000;
  let cached: { at: number; books: Promise<Book[]> } | undefined;

  const admin = async (baseUrl: string, path: string, init: { method: string; body?: unknown; timeoutMs?: number }) => {
    const response = await fetch(new URL(path, baseUrl).href, {
      method: init.method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(init.timeoutMs ?? timeoutMs),
    });
    if (!response.ok) {
      // A target that says it has no such thing is not a target that is down.
      const code = response.status === 404 ? "not_found" : "unavailable";
      throw new RpcError(code, `${path} answered ${response.status}: ${await response.text()}`);
    }
    await response.body?.cancel();
  };
  const supervisor = () => {
    if (config.supervisorUrl === undefined) {
      throw new RpcError("not_found", "no supervisor runs the processes (BOOKSTORE_SUPERVISOR_URL is not set)");
    }
    return config.supervisorUrl;
  };
  // A supervisor that answers 404 runs no hosts, and will not for its lifetime: asked once.
  let runsHosts = config.supervisorUrl !== undefined;
  // A busy supervisor (it reads every host's rules) may miss a read: the page keeps the hosts it last had.
  let lastHosts: HostsView | undefined;
  let reading: Promise<void> | undefined;
  const readHosts = async () => {
    try {
      const response = await fetch(new URL("/hosts", supervisor()).href, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(HOSTS_TIMEOUT_MS),
      });
      if (response.status === 404) runsHosts = false;
      if (!response.ok) return void await response.body?.cancel();
      lastHosts = hostsViewSchema.parse(await response.json());
    } catch {
      // The hosts are an addition to the page: a supervisor that does not answer leaves them as they were.
    }
  };
  // The cluster is not held up past the usual deadline for them: a slow read finishes in the background, one at a time.
  const hosts = async (): Promise<HostsView | undefined> => {
    if (!runsHosts) return undefined;
    reading ??= readHosts().finally(() => reading = undefined);
    using wait = timeoutSignal(timeoutMs);
    await abortable(reading, wait.signal).catch(() => {});
    return runsHosts ? lastHosts : undefined;
  };
  const replicaUrl = (id: number) => {
    const url = config.executor.peers.get(id);
    if (!url) throw new RpcError("not_found", `no executor replica ${id}`);
    return url;
  };
  // A validator's fault goes to every instance of it: the orchestrator would route around one that alone fails.
  const validators = routedUrls(config);

  const orchestratorCluster = async () => {
    // Any orchestrator instance reads the same cluster: the first that answers.
    let failure: unknown;
    for (const url of config.urls.orchestrator) {
      try {
        const response = await fetch(new URL("/cluster", url).href, { signal: AbortSignal.timeout(timeoutMs) });
        if (!response.ok) throw new RpcError("unavailable", `the orchestrator answered ${response.status}`);
        return clusterViewSchema.parse(await response.json());
      } catch (error) {
        failure = error;
      }
    }
    throw failure;
  };

  return {
    books() {
      const now = Date.now();
      if (!cached || now - cached.at > ttl) {
        const books = checkout.ListBooks({ query: "" }).then((answer) => answer.books);
        cached = { at: now, books };
        // A failed read must not be reused by the next request.
        books.catch(() => {
          if (cached?.books === books) cached = undefined;
        });
      }
      return cached.books;
    },
    async book(bookId) {
      const shipped = options.catalog.get(bookId);
      if (!shipped) return undefined;
      const book = (await this.books()).find((b) => b.bookId === bookId);
      return book && { ...book, description: shipped.description };
    },
    async similar(bookId) {
      try {
        return (await suggestions.Suggest({ bookIds: [bookId], limit: 4 })).books;
      } catch {
        return [];
      }
    },
    async order(orderId) {
      try {
        return await checkout.GetOrder({ orderId });
      } catch (error) {
        if (error instanceof RpcError && (error.code === "not_found" || error.code === "invalid_argument")) {
          return undefined;
        }
        throw error;
      }
    },
    async cluster() {
      const [view, shown] = await Promise.all([orchestratorCluster(), hosts()]);
      return shown ? { ...view, hosts: shown } : view;
    },
    crashReplica: (id) => admin(replicaUrl(id), "/admin/crash", { method: "POST", body: {} }),
    pauseReplica: (id, ms) => admin(replicaUrl(id), "/admin/pause", { method: "POST", body: { ms } }),
    async crashQueueReplica(replica) {
      const url = config.urls.orderQueue[replica - 1];
      if (url === undefined) throw new RpcError("not_found", `no order queue replica ${replica}`);
      await admin(url, "/admin/crash", { method: "POST", body: {} });
    },
    async crashEtcdMember(name) {
      await admin(supervisor(), `/processes/${encodeURIComponent(name)}/crash`, { method: "POST" });
    },
    partitionHost: (name, options) =>
      admin(supervisor(), "/partition", {
        method: "POST",
        body: { host: name, from: options?.from ?? "group" },
        timeoutMs: HOSTS_TIMEOUT_MS,
      }),
    healLinks: () => admin(supervisor(), "/heal", { method: "POST", body: {}, timeoutMs: HOSTS_TIMEOUT_MS }),
    async setValidatorFault(name, mode) {
      if (!VALIDATORS.includes(name)) throw new RpcError("not_found", `no validator ${name}`);
      const rule = mode === "slow" ? { method: "*", delayMs: SLOW_VALIDATOR_DELAY_MS } : {
        method: "*",
        failWith: "unavailable",
      };
      await Promise.all(
        validators[name].map((url) =>
          mode === "clear"
            ? admin(url, "/admin/faults", { method: "DELETE" })
            : admin(url, "/admin/faults", { method: "POST", body: { rules: [rule] } })
        ),
      );
    },
  };
}
