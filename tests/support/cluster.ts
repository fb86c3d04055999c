/**
 * Starts the real bookstore, every service its own process, on free loopback
 * ports in a temporary data directory, the same topology `deno task dev` runs
 * — with `store: "etcd"`, three etcd members first and two queue replicas.
 *
 * @module
 */
import { INSTANCE_PORT_STEP, loadConfig, localUrl } from "@bookstore/lib/config";
import { orderExecutorService, orderQueueService } from "@bookstore/lib/contracts";
import { createClient } from "@bookstore/lib/rpc";
import { type Kv, openStore } from "@bookstore/lib/store";
import { type Control, serveControl } from "@bookstore/dev/control";
import { startStore, stopSystem } from "@bookstore/dev/etcd";
import { Supervisor } from "@bookstore/dev/supervisor";
import {
  buildTopology,
  etcdMemberNames,
  type Ports,
  type ProcessSpec,
  queuePorts,
  type TopologyStore,
} from "@bookstore/dev/topology";
import { freePorts, freeStridedPorts } from "@bookstore/lib/free_ports";
import { createNetwork, type Host, type Network } from "@bookstore/dev/hosts/network";
import { ROOT } from "./buf.ts";
import { CLIENT_HOST, clientNamespace } from "./cluster_hosts.ts";

export { freePorts } from "@bookstore/lib/free_ports";

/** The ports of a whole topology on loopback, all distinct: its processes', and its etcd members' (client, peer). */
export interface TopologyPorts {
  /** Every process's port; the queue replicas' follow `ports.orderQueue`. */
  ports: Ports;
  /** Each etcd member's client and peer port. */
  etcd: { client: number; peer: number }[];
}

/**
 * Free ports for a topology with `queueReplicas` queue replicas, `etcdMembers` etcd members and `replicas` instances
 * of each validator, orchestrator and web app (each service's port, and its instances' 100 apart, all free).
 */
export function freeTopologyPorts(
  options: { queueReplicas?: number; etcdMembers?: number; replicas?: number } = {},
): TopologyPorts {
  const replicas = options.queueReplicas ?? 1;
  const members = options.etcdMembers ?? 0;
  const [orderQueue, ...rest] = freePorts(replicas + 10 + 2 * members, { consecutive: replicas });
  const others = rest.slice(replicas - 1 + 5);
  const [web, orchestrator, transactionVerification, fraudDetection, suggestions] = (options.replicas ?? 1) > 1
    ? stridedApart({ taken: [orderQueue, ...rest], instances: options.replicas! })
    : rest.slice(replicas - 1, replicas + 4);
  const executors = others.slice(0, 4);
  const etcd = Array.from({ length: members }, (_, i) => ({ client: others[4 + 2 * i], peer: others[5 + 2 * i] }));
  const loadBalancer = others[4 + 2 * members];
  return {
    ports: {
      web,
      orchestrator,
      transactionVerification,
      fraudDetection,
      suggestions,
      orderQueue,
      executors,
      loadBalancer,
    },
    etcd,
  };
}

// Five services' ports with their instances' ports (100 apart) free, and none of them one of `taken`'s.
function stridedApart(options: { taken: number[]; instances: number }): number[] {
  for (;;) {
    const bases = freeStridedPorts(5, { stride: INSTANCE_PORT_STEP, length: options.instances + 1 });
    const all = bases.flatMap((base) =>
      Array.from({ length: options.instances + 1 }, (_, i) => base + INSTANCE_PORT_STEP * i)
    );
    if (!all.some((port) => options.taken.includes(port))) return bases;
  }
}

/** Options for {@linkcode startCluster}. */
export interface ClusterOptions {
  /** Extra environment for every process. */
  env?: Record<string, string>;
  /** Only these processes (by name); every one by default. */
  only?: string[];
  /** Whether the supervisor restarts processes that die (default false: tests decide). */
  restart?: boolean;
  /** Include the web app (default false). */
  web?: boolean;
  /** Print every process's output (also with BOOKSTORE_TEST_VERBOSE=1). */
  verbose?: boolean;
  /** Extra flags for every process's `deno run` (the benchmark profiles with `--cpu-prof`). */
  denoFlags?: string[];
  /**
   * Where the services keep their state: their Deno KV files (default), or etcd — three members started first on
   * free ports under the supervisor, or the existing cluster at `etcdEndpoints`.
   */
  store?: "kv" | "etcd";
  /** An existing etcd cluster's client URLs to use instead of starting members (with `store: "etcd"`). */
  etcdEndpoints?: string[];
  /** How many order queue replicas run (default 1 with kv, 2 with etcd). */
  queueReplicas?: number;
  /**
   * How many instances of each validator, of the orchestrator and of the web app run (`BOOKSTORE_REPLICAS`; above 1
   * with `store: "etcd"`). No load balancer runs: {@linkcode Cluster.orchestrator} is instance 1. @default 1
   */
  replicas?: number;
  /**
   * Each process on a host of its own, the test on the host `client` (only in a run inside the client's namespace:
   * see `cluster_hosts.ts`). @default false
   */
  hosts?: boolean;
  /**
   * Called once the network is made and the store runs, before the services start: what it returns (relays the
   * services are pointed at, say) is closed when the cluster stops.
   */
  beforeServices?: (cluster: Cluster) => { close(): void }[];
}

// A process's base URL: its host's address, or 127.0.0.1.
function urlOf(spec: ProcessSpec): string {
  return `http://${spec.host?.address ?? "127.0.0.1"}:${spec.port}`;
}

/** A running cluster. */
export class Cluster {
  /** The ports in use. */
  readonly ports: Ports;
  /** The service credential. */
  readonly token: string;
  /** The temporary data directory. */
  readonly dataDir: string;
  /** The supervisor running the processes. */
  readonly supervisor: Supervisor;
  /** Every order queue replica's URL, replica n at index n - 1. */
  readonly queueUrls: string[];
  /** The etcd cluster's client URLs (none with the embedded store). */
  readonly etcdEndpoints: string[];
  /** The names of the etcd members among the processes (none with the embedded store). */
  readonly etcdMembers: string[];
  /** The network of hosts the processes run on (with `hosts: true`). */
  readonly network: Network | undefined;
  /** What {@linkcode ClusterOptions.beforeServices} returned, closed on stop. */
  readonly closers: { close(): void }[] = [];
  readonly #control: Control | undefined;
  readonly #serviceEnv: Record<string, string>;

  /** Wraps a started supervisor (and the control endpoint the web app crashes etcd members through). */
  constructor(
    options: {
      ports: Ports;
      token: string;
      dataDir: string;
      supervisor: Supervisor;
      queueUrls?: string[];
      etcdEndpoints?: string[];
      control?: Control;
      /** The environment the services run with (it says where their store is). */
      serviceEnv: Record<string, string>;
      network?: Network;
    },
  ) {
    this.ports = options.ports;
    this.token = options.token;
    this.dataDir = options.dataDir;
    this.supervisor = options.supervisor;
    this.queueUrls = options.queueUrls ?? [localUrl(options.ports.orderQueue)];
    this.etcdEndpoints = options.etcdEndpoints ?? [];
    this.#control = options.control;
    this.#serviceEnv = options.serviceEnv;
    this.network = options.network;
    this.etcdMembers = etcdMemberNames(this.supervisor.names.map((name) => this.supervisor.spec(name)));
  }

  /** Base URL of a process. */
  url(name: string): string {
    return urlOf(this.supervisor.spec(name));
  }

  /** The host process `name` (or `client`, the test's) runs on; throws without hosts. */
  host(name: string): Host {
    if (!this.network) throw new Error("this cluster runs without hosts");
    return this.network.host(name);
  }

  /** The orchestrator's base URL (instance 1's, when several run). */
  get orchestrator(): string {
    return this.url(this.supervisor.names.includes("orchestrator") ? "orchestrator" : "orchestrator_1");
  }

  /** A client of the queue (every replica, failing over between them) with the credential. */
  queue() {
    return createClient(orderQueueService, {
      baseUrl: this.queueUrls,
      peer: "order_queue",
      token: this.token,
      timeoutMs: 5000,
      breaker: false,
    });
  }

  /** A client of executor replica `id`. */
  executor(id: number) {
    return createClient(orderExecutorService, {
      baseUrl: this.url(`order_executor_${id}`),
      peer: `order_executor_${id}`,
      token: this.token,
      timeoutMs: 2000,
      retries: 0,
      breaker: false,
    });
  }

  /** POSTs JSON to the orchestrator (REST). */
  async post(path: string, body: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(this.orchestrator + path, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: response.status, body: await response.json(), headers: response.headers };
  }

  /** GETs JSON from the orchestrator (REST). */
  async get(path: string) {
    const response = await fetch(this.orchestrator + path);
    return { status: response.status, body: await response.json() };
  }

  /** Sets fault rules on a process (fault injection must be enabled). */
  async faults(name: string, rules: unknown[]) {
    const response = await fetch(`${this.url(name)}/admin/faults`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${this.token}` },
      body: JSON.stringify({ rules }),
    });
    if (!response.ok) throw new Error(`setting faults failed: ${response.status} ${await response.text()}`);
    await response.body?.cancel();
  }

  /** Every output line of every process. */
  allLines(): string[] {
    return this.supervisor.names.flatMap((name) => [...this.supervisor.lines(name)]);
  }

  /** Starts a stopped process again and waits until it is healthy. */
  async restart(name: string): Promise<void> {
    this.supervisor.start([name]);
    await this.supervisor.waitHealthy({ timeoutMs: 30_000, names: [name] });
  }

  /**
   * Opens the store of service `name` as the service opens its own: its
   * KV file (only once the service has stopped: a KV file has one owner), or
   * its prefix of the etcd cluster (while the members run).
   */
  async store(name: string): Promise<Kv> {
    return await openStore(loadConfig(this.#serviceEnv), name);
  }

  /** Stops every service, leaving the etcd members running, so that the services' state can be read back. */
  async stopServices(): Promise<void> {
    const services = this.supervisor.names.filter((name) => !this.etcdMembers.includes(name));
    await Promise.all(services.map((name) => this.supervisor.stop(name)));
  }

  /** Stops every process (the services, then the store's members) and removes the data directory. */
  async stop(): Promise<void> {
    await stopSystem(this.supervisor, this.supervisor.names.map((name) => this.supervisor.spec(name)));
    await this.#control?.[Symbol.asyncDispose]();
    for (const closer of this.closers) closer.close();
    await this.network?.[Symbol.asyncDispose]();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }

  /** Lets `await using cluster = …` stop it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/**
 * Starts the cluster — with etcd, its members first, until they have a
 * leader — and waits until every process is healthy.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const etcd = options.store === "etcd";
  const queueReplicas = options.queueReplicas ?? (etcd ? 2 : 1);
  const starts = etcd && options.etcdEndpoints === undefined;
  const { ports, etcd: members } = freeTopologyPorts({
    queueReplicas,
    etcdMembers: starts ? 3 : 0,
    replicas: options.replicas,
  });
  const store: TopologyStore = !etcd
    ? { kind: "kv" }
    : starts
    ? { kind: "etcd", members }
    : { kind: "etcd", endpoints: options.etcdEndpoints! };
  const token = crypto.randomUUID().replaceAll("-", "");
  const dataDir = await Deno.makeTempDir({ prefix: "bookstore-test-" });
  const topologyOptions = {
    dataDir,
    serviceToken: token,
    fingerprintKey: crypto.randomUUID().replaceAll("-", ""),
    ports,
    web: options.web ?? false,
    store,
    queueReplicas,
    replicas: options.replicas,
    // No rate limit unless a test turns it on: test flows and benchmarks are one client on loopback.
    env: { BOOKSTORE_ENV: "test", BOOKSTORE_FAULTS: "true", CHECKOUT_RATE_LIMIT: "0", ...options.env },
  };
  const chosen = (specs: ProcessSpec[]) =>
    specs.filter((spec) => !options.only || options.only.includes(spec.name) || etcdMemberNames([spec]).length > 0);
  const network = options.hosts ? await clusterNetwork(chosen(buildTopology(topologyOptions))) : undefined;
  // As in `deno task dev`: the cluster page crashes the members it runs through the supervisor.
  const control = starts
    ? serveControl({
      token,
      crashable: members.map((_, i) => `etcd${i + 1}`),
      kill: (name) => supervisor.kill(name),
      hostname: network?.host(CLIENT_HOST).address,
    })
    : undefined;
  const specs = chosen(buildTopology({ ...topologyOptions, supervisorUrl: control?.url, hostOf: network?.host }));
  const verbose = options.verbose || Deno.env.get("BOOKSTORE_TEST_VERBOSE") === "1";
  const supervisor = new Supervisor(specs, {
    root: ROOT,
    restart: options.restart ?? false,
    denoFlags: options.denoFlags,
    onLine: verbose ? (name, line) => console.log(`${name} │ ${line}`) : undefined,
  });
  const storeNames = etcdMemberNames(specs);
  // Where the process listening on `port` is; one a cluster of `only` some services does not run is on 127.0.0.1.
  const urlAt = (port: number) => {
    const spec = specs.find((spec) => spec.port === port);
    return spec ? urlOf(spec) : localUrl(port);
  };
  const cluster = new Cluster({
    // Every service shares the topology's environment: any one's says where the store is.
    serviceEnv: specs.find((spec) => !storeNames.includes(spec.name))!.env,
    ports,
    token,
    dataDir,
    supervisor,
    // Straight to the processes, whatever the scenario points the services at.
    queueUrls: queuePorts(ports, queueReplicas).map(urlAt),
    etcdEndpoints: "endpoints" in store ? [...store.endpoints] : members.map(({ client }) => urlAt(client)),
    control,
    network,
  });
  try {
    await startStore(supervisor, { store, specs });
    cluster.closers.push(...options.beforeServices?.(cluster) ?? []);
    supervisor.start(specs.map((spec) => spec.name).filter((name) => !storeNames.includes(name)));
    await supervisor.waitHealthy({ timeoutMs: 60_000 });
  } catch (error) {
    const tail = supervisor.names.flatMap((name) => supervisor.lines(name).slice(-5).map((l) => `${name} │ ${l}`));
    await cluster.stop();
    throw new Error(`${(error as Error).message}\n${tail.join("\n")}`);
  }
  return cluster;
}

// The cluster's network: a host per process, and the test's own namespace joined as the first host, `client`.
async function clusterNetwork(specs: ProcessSpec[]): Promise<Network> {
  const namespace = clientNamespace();
  if (namespace === undefined) {
    throw new Error(
      "startCluster({ hosts: true }) runs only inside a client namespace: see tests/support/cluster_hosts.ts",
    );
  }
  return await createNetwork({
    names: [CLIENT_HOST, ...specs.map((spec) => spec.name)],
    joins: { [CLIENT_HOST]: namespace },
  });
}
