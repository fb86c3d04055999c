/**
 * The processes that make up the bookstore on one machine: who runs which
 * entry point on which port with which environment. `deno task dev` and the
 * integration tests start the same topology, so tests exercise what people run.
 *
 * @module
 */

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

/** Ports of every process. */
export interface Ports {
  /** The web app. */
  web: number;
  /** The orchestrator. */
  orchestrator: number;
  /** Transaction verification. */
  transactionVerification: number;
  /** Fraud detection. */
  fraudDetection: number;
  /** Suggestions. */
  suggestions: number;
  /** The order queue. */
  orderQueue: number;
  /** Executor replicas, replica n at index n - 1. */
  executors: number[];
}

/** The default ports of the brief. */
export const DEFAULT_PORTS: Ports = {
  web: 8000,
  orchestrator: 8081,
  transactionVerification: 50052,
  fraudDetection: 50051,
  suggestions: 50053,
  orderQueue: 50055,
  executors: [50061, 50062, 50063, 50064],
};

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
  const url = (port: number) => `http://127.0.0.1:${port}`;
  const shared: Record<string, string> = {
    BOOKSTORE_DATA_DIR: options.dataDir,
    BOOKSTORE_SERVICE_TOKEN: options.serviceToken,
    WEB_PORT: String(ports.web),
    WEB_ORIGIN: `http://localhost:${ports.web}`,
    ORCHESTRATOR_PORT: String(ports.orchestrator),
    ORCHESTRATOR_URL: url(ports.orchestrator),
    ORCHESTRATOR_PUBLIC_URL: `http://localhost:${ports.orchestrator}`,
    TRANSACTION_VERIFICATION_PORT: String(ports.transactionVerification),
    TRANSACTION_VERIFICATION_URL: url(ports.transactionVerification),
    FRAUD_DETECTION_PORT: String(ports.fraudDetection),
    FRAUD_DETECTION_URL: url(ports.fraudDetection),
    SUGGESTIONS_PORT: String(ports.suggestions),
    SUGGESTIONS_URL: url(ports.suggestions),
    ORDER_QUEUE_PORT: String(ports.orderQueue),
    ORDER_QUEUE_URL: url(ports.orderQueue),
    EXECUTOR_PEERS: ports.executors.map((port, i) => `${i + 1}=${url(port)}`).join(","),
    ...options.env,
  };
  const service = (name: string, port: number, env: Record<string, string> = {}): ProcessSpec => ({
    name,
    entry: `services/${name.replace(/_\d+$/, "")}/main.ts`,
    port,
    env: { ...shared, OTEL_SERVICE_NAME: name, ...env },
  });
  const fingerprinting = { BOOKSTORE_FINGERPRINT_KEY: options.fingerprintKey };
  const processes: ProcessSpec[] = [
    service("order_queue", ports.orderQueue),
    service("transaction_verification", ports.transactionVerification, fingerprinting),
    service("fraud_detection", ports.fraudDetection, fingerprinting),
    service("suggestions", ports.suggestions),
    service("orchestrator", ports.orchestrator),
    ...ports.executors.map((port, i) => service(`order_executor_${i + 1}`, port, { EXECUTOR_ID: String(i + 1) })),
  ];
  if (options.web ?? true) {
    processes.push({ name: "web", entry: "main.tsx", port: ports.web, env: { ...shared, OTEL_SERVICE_NAME: "web" } });
  }
  return processes;
}
