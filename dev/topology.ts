/**
 * The processes that make up the bookstore on one machine: who runs which
 * entry point on which port with which environment. `deno task dev` and the
 * integration tests start the same topology, so tests exercise what people run.
 * Ports and defaults come from `@bookstore/lib/config`, the one place they
 * are read; the variables set here are checked against its schema's names.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildTopology } from "./topology.ts";
 * const specs = buildTopology({ dataDir: "/tmp/data", serviceToken: "t".repeat(16), fingerprintKey: "k".repeat(16) });
 * assert.ok(specs.find((spec) => spec.name === "orchestrator")?.port === 8081);
 * ```
 *
 * @module
 */
import { type Config, DEFAULT_PORTS, type Env, instancePorts, localUrl, type Ports } from "@bookstore/lib/config";
import { loadBalancerSpec } from "./load_balancer.ts";
import { etcdMemberArgs, etcdMembers } from "@bookstore/lib/store/etcd/cluster";

/** What every process of the system has, whatever runs it. */
interface ProcessBase {
  /** Unique name, used as the log prefix (`order_executor_3`). */
  name: string;
  /** Port it listens on. */
  port: number;
  /** Environment on top of the inherited one. */
  env: Record<string, string>;
  /** The path that answers 200 on `port` once the process serves. @default "/healthz" */
  healthPath?: string;
  /** The host it runs in (`deno task dev --hosts`): its network namespace and address. @default none, 127.0.0.1 */
  host?: { namespace: string; address: string };
}

/** A process of the system that runs a Deno entry point of this repository. */
export interface DenoProcessSpec extends ProcessBase {
  /** Entry point relative to the repository root. */
  entry: string;
}

/** A process of the system that runs another program (an etcd member). */
export interface CommandProcessSpec extends ProcessBase {
  /** The program, found on `PATH`. */
  command: string;
  /** Its arguments. */
  args: string[];
}

/** One process of the system. */
export type ProcessSpec = DenoProcessSpec | CommandProcessSpec;

/** The program an etcd member runs (Debian's `etcd-server` package installs it). */
export const ETCD_COMMAND = "etcd";

/**
 * Where the stateful services keep their state: each its embedded Deno KV
 * file (`kv`), or one etcd cluster — started as processes of the topology
 * on the given `client:peer` ports, or an existing one at `endpoints`.
 */
export type TopologyStore =
  | { kind: "kv" }
  | { kind: "etcd"; members: readonly { client: number; peer: number }[] }
  | { kind: "etcd"; endpoints: readonly string[] };

export { DEFAULT_PORTS, type Ports } from "@bookstore/lib/config";

/**
 * V8 settings every process of the system runs with (the supervisor passes
 * them, compose.yaml's commands list them, tests/compose_test.ts holds the
 * two together). Semi-spaces of 4 MB cap V8's young generation, which
 * costs a checkout less CPU and the system less memory than V8's default
 * (the runs are in bench/RESULTS.md).
 */
export const V8_FLAGS: readonly string[] = ["--v8-flags=--max-semi-space-size=4"];

/** Options for {@linkcode topologyEnv}. */
export interface TopologyEnvOptions {
  /** Every process's port. */
  ports: Ports;
  /** Data directory shared by every process. */
  dataDir: string;
  /** The service credential. */
  serviceToken: string;
  /** Where the services keep their state. @default { kind: "kv" } */
  store?: TopologyStore;
  /** How many order queue replicas run, on `ports.orderQueue`, +1, …. @default 1 */
  queueReplicas?: number;
  /** How many instances of each validator, of the orchestrator and of the web app run (`BOOKSTORE_REPLICAS`). @default 1 */
  replicas?: number;
  /** The address of the process named `name` (each process a host); 127.0.0.1 for all by default. */
  addressOf?: (name: string) => string;
}

/**
 * The environment that tells every process of a one-machine topology where
 * it and its peers listen, the data directory and the credential: the
 * variable names are written here only.
 */
export function topologyEnv(options: TopologyEnvOptions): Record<string, string> {
  const { ports } = options;
  const store = options.store ?? { kind: "kv" };
  const queueReplicas = options.queueReplicas ?? 1;
  const instances = serviceInstances(ports, options.replicas ?? 1);
  const addressOf = options.addressOf;
  const url = (name: string, port: number) => addressOf ? `http://${addressOf(name)}:${port}` : localUrl(port);
  const urls = (service: keyof ServiceInstances) =>
    instances[service].map(({ name, port }) => url(name, port)).join(",");
  const env: Partial<Record<keyof Env, string>> = {
    BOOKSTORE_STORE: store.kind,
    // Members on hosts of their own are not on 127.0.0.1, where the ports alone would put them.
    ...("members" in store &&
      (addressOf
        ? { BOOKSTORE_ETCD_ENDPOINTS: etcdMembers(store.members).map((m) => url(m.name, m.clientPort)).join(",") }
        : { BOOKSTORE_ETCD_PORTS: store.members.map(({ client, peer }) => `${client}:${peer}`).join(",") })),
    ...("endpoints" in store && { BOOKSTORE_ETCD_ENDPOINTS: store.endpoints.join(",") }),
    BOOKSTORE_DATA_DIR: options.dataDir,
    BOOKSTORE_SERVICE_TOKEN: options.serviceToken,
    BOOKSTORE_REPLICAS: String(options.replicas ?? 1),
    ...((options.replicas ?? 1) > 1 && {
      BOOKSTORE_TRUSTED_PROXIES: addressOf?.(LOAD_BALANCER) ?? LOAD_BALANCER_SOURCE,
      LOAD_BALANCER_PORT: String(ports.loadBalancer),
    }),
    WEB_PORT: String(ports.web),
    WEB_ORIGIN: `http://localhost:${ports.web}`,
    ORCHESTRATOR_PORT: String(ports.orchestrator),
    ORCHESTRATOR_URL: urls("orchestrator"),
    ORCHESTRATOR_PUBLIC_URL: `http://localhost:${ports.orchestrator}`,
    TRANSACTION_VERIFICATION_PORT: String(ports.transactionVerification),
    TRANSACTION_VERIFICATION_URL: urls("transactionVerification"),
    FRAUD_DETECTION_PORT: String(ports.fraudDetection),
    FRAUD_DETECTION_URL: urls("fraudDetection"),
    SUGGESTIONS_PORT: String(ports.suggestions),
    SUGGESTIONS_URL: urls("suggestions"),
    ORDER_QUEUE_PORT: String(ports.orderQueue),
    ORDER_QUEUE_REPLICAS: String(queueReplicas),
    ORDER_QUEUE_URL: queuePorts(ports, queueReplicas).map((port, i) => url(queueName(i, queueReplicas), port)).join(
      ",",
    ),
    EXECUTOR_PEERS: ports.executors.map((port, i) => `${i + 1}=${url(executorName(i + 1), port)}`).join(","),
  };
  return env as Record<string, string>;
}

/** One instance of a scaled-out service: its process name and port. */
export interface ServiceInstance {
  /** The process name: the service's own with one instance, numbered (`fraud_detection_2`) with more. */
  name: string;
  /** The port it listens on. */
  port: number;
}

/** The instances of every service `BOOKSTORE_REPLICAS` scales out, by its key in {@linkcode Ports}. */
export type ServiceInstances = Record<
  "web" | "orchestrator" | "transactionVerification" | "fraudDetection" | "suggestions",
  ServiceInstance[]
>;

const SCALED: Readonly<Record<keyof ServiceInstances, { name: string; behindBalancer: boolean }>> = {
  transactionVerification: { name: "transaction_verification", behindBalancer: false },
  fraudDetection: { name: "fraud_detection", behindBalancer: false },
  suggestions: { name: "suggestions", behindBalancer: false },
  orchestrator: { name: "orchestrator", behindBalancer: true },
  web: { name: "web", behindBalancer: true },
};

/**
 * The instances of each scaled-out service with `replicas` of each, on the
 * port scheme of `instancePorts` (lib/env.ts): one instance keeps the
 * service's name and port; with more, validator instance k listens on
 * port + 100·(k−1), and orchestrator and web instance k on port + 100·k,
 * leaving the public port to the load balancer.
 */
export function serviceInstances(ports: Ports, replicas: number): ServiceInstances {
  const entries = Object.entries(SCALED).map(([key, { name, behindBalancer }]) => [
    key,
    instancePorts(ports[key as keyof ServiceInstances], { count: replicas, behindBalancer }).map((port, i) => ({
      name: replicas === 1 ? name : `${name}_${i + 1}`,
      port,
    })),
  ]);
  return Object.fromEntries(entries) as ServiceInstances;
}

/**
 * What a load balancer in front of the orchestrators and the web apps needs:
 * each one's instances (process name and port) with `replicas` of each; it
 * listens itself on `ports.orchestrator` and `ports.web` when `replicas` > 1.
 */
export function frontInstances(
  replicas: number,
  ports: Ports = DEFAULT_PORTS,
): { orchestrator: ServiceInstance[]; web: ServiceInstance[] } {
  const instances = serviceInstances(ports, replicas);
  return { orchestrator: instances.orchestrator, web: instances.web };
}

/** The ports of `count` order queue replicas: replica n on `ports.orderQueue + n - 1`, as the configuration says. */
export function queuePorts(ports: Ports, count: number): number[] {
  return Array.from({ length: count }, (_, i) => ports.orderQueue + i);
}

/** The name of order queue replica `index` (0-based) of `count`: one queue keeps today's name; replicas are numbered. */
export function queueName(index: number, count: number): string {
  return count === 1 ? "order_queue" : `order_queue_${index + 1}`;
}

/** The process (and host) name of executor replica `id` (1-based). */
export function executorName(id: number): string {
  return `order_executor_${id}`;
}

/** The environment of one executor replica on top of {@linkcode topologyEnv}. */
export function executorEnv(id: number): Record<string, string> {
  return { EXECUTOR_ID: String(id) } satisfies Partial<Record<keyof Env, string>>;
}

/** The environment that gives a process the fingerprint key. */
export function fingerprintEnv(key: string): Record<string, string> {
  return { BOOKSTORE_FINGERPRINT_KEY: key } satisfies Partial<Record<keyof Env, string>>;
}

/** The ports a configuration names, executors included (what `deno task dev` starts). */
export function configuredPorts(config: Config): Ports {
  return {
    web: config.web.port,
    ...config.ports,
    executors: [...config.executor.peers.values()].map((url) => Number(new URL(url).port)),
  };
}

/** Where a configuration keeps the services' state, as a topology runs it. */
export function configuredStore(config: Config): TopologyStore {
  if (config.store.kind === "kv") return { kind: "kv" };
  return config.store.startsEtcd
    ? { kind: "etcd", members: config.store.etcdPorts }
    : { kind: "etcd", endpoints: config.store.etcdEndpoints };
}

/** The names of the etcd members among `specs` (the processes a topology's services need first). */
export function etcdMemberNames(specs: readonly ProcessSpec[]): string[] {
  return specs.flatMap((spec) => "command" in spec && spec.command === ETCD_COMMAND ? [spec.name] : []);
}

/** Options for {@linkcode buildTopology}. */
export interface TopologyOptions {
  /** Data directory shared by every process (each owns its own KV file in it). */
  dataDir: string;
  /** The service credential. */
  serviceToken: string;
  /** The fingerprint key, given only to the services that fingerprint cards and contacts. */
  fingerprintKey: string;
  /** Ports; the defaults of the brief otherwise. */
  ports?: Ports;
  /** Extra environment for every process (timeouts, faults, log level…). */
  env?: Record<string, string>;
  /** Whether to include the web app (default true). */
  web?: boolean;
  /** Where the services keep their state; with etcd `members`, they are processes of the topology. @default { kind: "kv" } */
  store?: TopologyStore;
  /** How many order queue replicas run (more than one needs etcd). @default 1 */
  queueReplicas?: number;
  /**
   * How many instances of each validator, of the orchestrator and of the web app run (more than one needs etcd;
   * the load balancer in front of the orchestrators and the web apps is not part of this list). @default 1
   */
  replicas?: number;
  /** Where the web app asks the supervisor to crash an etcd member (`dev/control.ts`); none by default. */
  supervisorUrl?: string;
  /** The host each process runs in, by its name (`deno task dev --hosts`); none by default. */
  hostOf?: (name: string) => { namespace: string; address: string };
}

/** Every process of the system with its environment. */
export function buildTopology(options: TopologyOptions): ProcessSpec[] {
  const ports = options.ports ?? DEFAULT_PORTS;
  const store = options.store ?? { kind: "kv" };
  const queueReplicas = options.queueReplicas ?? 1;
  const replicas = options.replicas ?? 1;
  const { hostOf } = options;
  const addressOf = hostOf && ((name: string) => hostOf(name).address);
  const shared: Record<string, string> = {
    ...topologyEnv({
      ports,
      dataDir: options.dataDir,
      serviceToken: options.serviceToken,
      store,
      queueReplicas,
      replicas,
      addressOf,
    }),
    ...options.env,
  };
  const service = (name: string, port: number, env: Record<string, string> = {}): DenoProcessSpec => ({
    name,
    entry: `services/${name.replace(/_\d+$/, "")}/main.ts`,
    port,
    env: { ...shared, OTEL_SERVICE_NAME: name, ...env },
  });
  const fingerprinting = fingerprintEnv(options.fingerprintKey);
  const queues = queuePorts(ports, queueReplicas).map((port, i) =>
    service(queueName(i, queueReplicas), port, queueReplicas === 1 ? {} : queueReplicaEnv(i + 1))
  );
  const instances = serviceInstances(ports, replicas);
  // Each instance listens on its own port and knows its number; every one lists all instances of each service.
  const scaled = (key: keyof ServiceInstances, env: Record<string, string> = {}) =>
    instances[key].map(({ name, port }, i) =>
      service(name, port, { ...env, ...instanceEnv({ key, port, instance: i + 1 }) })
    );
  const processes: ProcessSpec[] = [
    ...("members" in store ? etcdMemberSpecs(store.members, { dataDir: options.dataDir, addressOf }) : []),
    ...queues,
    ...scaled("transactionVerification", fingerprinting),
    ...scaled("fraudDetection", fingerprinting),
    ...scaled("suggestions"),
    ...scaled("orchestrator"),
    ...ports.executors.map((port, i) => service(executorName(i + 1), port, executorEnv(i + 1))),
  ];
  if (replicas > 1) {
    processes.push(loadBalancer({ instances, ports, dataDir: options.dataDir, web: options.web ?? true, addressOf }));
  }
  if (options.web ?? true) {
    const supervisor: Partial<Record<keyof Env, string>> = options.supervisorUrl === undefined
      ? {}
      : { BOOKSTORE_SUPERVISOR_URL: options.supervisorUrl };
    processes.push(...instances.web.map(({ name, port }, i) => ({
      name,
      entry: "main.tsx",
      port,
      env: { ...shared, ...supervisor, OTEL_SERVICE_NAME: name, ...instanceEnv({ key: "web", port, instance: i + 1 }) },
    })));
  }
  return hostOf ? processes.map((spec) => inHost(spec, hostOf(spec.name))) : processes;
}

// A process on a host of its own binds to its address, and the supervisor starts and probes it there.
function inHost(spec: ProcessSpec, host: { namespace: string; address: string }): ProcessSpec {
  const binds: Partial<Record<keyof Env, string>> = "entry" in spec ? { BOOKSTORE_HOST: host.address } : {};
  return { ...spec, host, env: { ...spec.env, ...binds } };
}

/** The load balancer's process name (its host's, with `--hosts`). */
export const LOAD_BALANCER = "load_balancer";

/** The address the load balancer answers on, on one machine. */
const LOAD_BALANCER_HOST = "127.0.0.1";

/**
 * The address it connects to the instances from on one machine, the only one they believe `X-Forwarded-For` from:
 * not 127.0.0.1, where every other local client comes from. (On hosts, its host's own address.)
 */
const LOAD_BALANCER_SOURCE = "127.0.0.2";

/**
 * The header that sends a checkout's retries to the orchestrator that took the first attempt: an attempt still
 * running is known only to its orchestrator, and another would place the order a second time beside it.
 */
const STICKY_HEADER = "Idempotency-Key";

// HAProxy on the public ports in front of the orchestrators' (and the web apps') instances.
function loadBalancer(
  options: {
    instances: ServiceInstances;
    ports: Ports;
    dataDir: string;
    web: boolean;
    addressOf?: (name: string) => string;
  },
): CommandProcessSpec {
  const { instances, ports } = options;
  // On hosts, HAProxy answers on its own host's address and reaches each instance at its host's.
  const hostOf = (name: string) => options.addressOf?.(name) ?? LOAD_BALANCER_HOST;
  const frontend = (name: "web" | "orchestrator") => ({
    name,
    bind: { host: hostOf(LOAD_BALANCER), port: ports[name] },
    ...(name === "orchestrator" && { stickyHeader: STICKY_HEADER }),
    ...(!options.addressOf && { source: LOAD_BALANCER_SOURCE }),
    backends: instances[name].map((instance) => ({
      name: instance.name,
      host: hostOf(instance.name),
      port: instance.port,
    })),
  });
  return loadBalancerSpec({
    config: {
      health: { host: hostOf(LOAD_BALANCER), port: ports.loadBalancer },
      frontends: options.web ? [frontend("web"), frontend("orchestrator")] : [frontend("orchestrator")],
    },
    dataDir: options.dataDir,
    name: LOAD_BALANCER,
  });
}

const PORT_VARIABLES: Readonly<Record<keyof ServiceInstances, keyof Env>> = {
  web: "WEB_PORT",
  orchestrator: "ORCHESTRATOR_PORT",
  transactionVerification: "TRANSACTION_VERIFICATION_PORT",
  fraudDetection: "FRAUD_DETECTION_PORT",
  suggestions: "SUGGESTIONS_PORT",
};

// The environment of one instance of a scaled-out service: its own port and number.
function instanceEnv(options: { key: keyof ServiceInstances; port: number; instance: number }): Record<string, string> {
  return {
    [PORT_VARIABLES[options.key]]: String(options.port),
    BOOKSTORE_INSTANCE: String(options.instance),
  } satisfies Partial<Record<keyof Env, string>>;
}

function queueReplicaEnv(replica: number): Record<string, string> {
  return { ORDER_QUEUE_REPLICA: String(replica) } satisfies Partial<Record<keyof Env, string>>;
}

// Every member keeps its data under <data dir>/etcd; etcd answers /health with 200 only while the cluster has a
// leader, which is what the services need before they start.
function etcdMemberSpecs(
  ports: readonly { client: number; peer: number }[],
  options: { dataDir: string; addressOf?: (name: string) => string },
): CommandProcessSpec[] {
  const members = etcdMembers(ports);
  return members.map((member) => ({
    name: member.name,
    command: ETCD_COMMAND,
    args: etcdMemberArgs(member, { members, dataDir: `${options.dataDir}/etcd`, hostOf: options.addressOf }),
    port: member.clientPort,
    env: {},
    healthPath: "/health",
  }));
}
