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
import { type Config, DEFAULT_PORTS, type Env, localUrl, type Ports } from "@bookstore/lib/config";

/** One process of the system. */
export interface ProcessSpec {
  /** Unique name, used as the log prefix (`order_executor_3`). */
  name: string;
  /** Entry point relative to the repository root. */
  entry: string;
  /** Port it listens on. */
  port: number;
  /** Environment on top of the shared one. */
  env: Record<string, string>;
}

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
}

/**
 * The environment that tells every process of a one-machine topology where
 * it and its peers listen, the data directory and the credential: the
 * variable names are written here only.
 */
export function topologyEnv(options: TopologyEnvOptions): Record<string, string> {
  const { ports } = options;
  const env: Partial<Record<keyof Env, string>> = {
    BOOKSTORE_DATA_DIR: options.dataDir,
    BOOKSTORE_SERVICE_TOKEN: options.serviceToken,
    WEB_PORT: String(ports.web),
    WEB_ORIGIN: `http://localhost:${ports.web}`,
    ORCHESTRATOR_PORT: String(ports.orchestrator),
    ORCHESTRATOR_URL: localUrl(ports.orchestrator),
    ORCHESTRATOR_PUBLIC_URL: `http://localhost:${ports.orchestrator}`,
    TRANSACTION_VERIFICATION_PORT: String(ports.transactionVerification),
    TRANSACTION_VERIFICATION_URL: localUrl(ports.transactionVerification),
    FRAUD_DETECTION_PORT: String(ports.fraudDetection),
    FRAUD_DETECTION_URL: localUrl(ports.fraudDetection),
    SUGGESTIONS_PORT: String(ports.suggestions),
    SUGGESTIONS_URL: localUrl(ports.suggestions),
    ORDER_QUEUE_PORT: String(ports.orderQueue),
    ORDER_QUEUE_URL: localUrl(ports.orderQueue),
    EXECUTOR_PEERS: ports.executors.map((port, i) => `${i + 1}=${localUrl(port)}`).join(","),
  };
  return env as Record<string, string>;
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
}

/** Every process of the system with its environment. */
export function buildTopology(options: TopologyOptions): ProcessSpec[] {
  const ports = options.ports ?? DEFAULT_PORTS;
  const shared: Record<string, string> = {
    ...topologyEnv({ ports, dataDir: options.dataDir, serviceToken: options.serviceToken }),
    ...options.env,
  };
  const service = (name: string, port: number, env: Record<string, string> = {}): ProcessSpec => ({
    name,
    entry: `services/${name.replace(/_\d+$/, "")}/main.ts`,
    port,
    env: { ...shared, OTEL_SERVICE_NAME: name, ...env },
  });
  const fingerprinting = fingerprintEnv(options.fingerprintKey);
  const processes: ProcessSpec[] = [
    service("order_queue", ports.orderQueue),
    service("transaction_verification", ports.transactionVerification, fingerprinting),
    service("fraud_detection", ports.fraudDetection, fingerprinting),
    service("suggestions", ports.suggestions),
    service("orchestrator", ports.orchestrator),
    ...ports.executors.map((port, i) => service(`order_executor_${i + 1}`, port, executorEnv(i + 1))),
  ];
  if (options.web ?? true) {
    processes.push({ name: "web", entry: "main.tsx", port: ports.web, env: { ...shared, OTEL_SERVICE_NAME: "web" } });
  }
  return processes;
}
