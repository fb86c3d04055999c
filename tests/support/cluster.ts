/**
 * Starts the real bookstore, every service its own process, on free loopback
 * ports in a temporary data directory, the same topology `deno task dev` runs.
 *
 * @module
 */
import { orderExecutorService, orderQueueService } from "@bookstore/lib/contracts";
import { createClient } from "@bookstore/lib/rpc";
import { Supervisor } from "@bookstore/dev/supervisor";
import { buildTopology, type Ports } from "@bookstore/dev/topology";
import { freePorts } from "@bookstore/lib/free_ports";
import { ROOT } from "./buf.ts";

export { freePorts } from "@bookstore/lib/free_ports";

// What every order queue replica runs, whatever the topology names it.
const QUEUE_ENTRY = "services/order_queue/main.ts";

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

  /** Wraps a started supervisor. */
  constructor(options: { ports: Ports; token: string; dataDir: string; supervisor: Supervisor }) {
    this.ports = options.ports;
    this.token = options.token;
    this.dataDir = options.dataDir;
    this.supervisor = options.supervisor;
  }

  /** Base URL of a process. */
  url(name: string): string {
    return `http://127.0.0.1:${this.supervisor.spec(name).port}`;
  }

  /** The orchestrator's base URL. */
  get orchestrator(): string {
    return this.url("orchestrator");
  }

  /** Every order queue replica's base URL, in the order the system's clients try them. */
  get queueUrls(): string[] {
    return this.supervisor.names.filter((name) => this.supervisor.spec(name).entry === QUEUE_ENTRY).map((name) =>
      this.url(name)
    );
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

  /** Stops every process and removes the data directory. */
  async stop(): Promise<void> {
    await this.supervisor.stopAll();
    await Deno.remove(this.dataDir, { recursive: true }).catch(() => {});
  }

  /** Lets `await using cluster = …` stop it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts the cluster and waits until every process is healthy. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const [web, orchestrator, transactionVerification, fraudDetection, suggestions, orderQueue, ...executors] = freePorts(
    10,
  );
  const ports: Ports = {
    web,
    orchestrator,
    transactionVerification,
    fraudDetection,
    suggestions,
    orderQueue,
    executors,
  };
  const token = crypto.randomUUID().replaceAll("-", "");
  const dataDir = await Deno.makeTempDir({ prefix: "bookstore-test-" });
  const specs = buildTopology({
    dataDir,
    serviceToken: token,
    fingerprintKey: crypto.randomUUID().replaceAll("-", ""),
    ports,
    web: options.web ?? false,
    // No rate limit unless a test turns it on: test flows and benchmarks are one client on loopback.
    env: { BOOKSTORE_ENV: "test", BOOKSTORE_FAULTS: "true", CHECKOUT_RATE_LIMIT: "0", ...options.env },
  }).filter((spec) => !options.only || options.only.includes(spec.name));
  const verbose = options.verbose || Deno.env.get("BOOKSTORE_TEST_VERBOSE") === "1";
  const supervisor = new Supervisor(specs, {
    root: ROOT,
    restart: options.restart ?? false,
    denoFlags: options.denoFlags,
    onLine: verbose ? (name, line) => console.log(`${name} │ ${line}`) : undefined,
  });
  supervisor.start();
  const cluster = new Cluster({ ports, token, dataDir, supervisor });
  try {
    await supervisor.waitHealthy({ timeoutMs: 60_000 });
  } catch (error) {
    const tail = supervisor.names.flatMap((name) => supervisor.lines(name).slice(-5).map((l) => `${name} │ ${l}`));
    await cluster.stop();
    throw new Error(`${(error as Error).message}\n${tail.join("\n")}`);
  }
  return cluster;
}
