/**
 * Every environment variable the bookstore reads: its name, default,
 * description and validation ({@linkcode envSchema}), and the ports and
 * lists they are parsed from. `./config.ts` turns the validated environment
 * into the configuration every process reads; the README's configuration
 * table documents the same list, and a test keeps them in step.
 *
 * @module
 */
import { z } from "zod";
import { MAX_LEASES_PER_CALL } from "./contracts/order_queue.ts";

/** Ports of every process: each service, the web app, and the executor replicas. */
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
  /** The load balancer's own `/healthz` and `/stats`, when it runs (`BOOKSTORE_REPLICAS` above 1). */
  loadBalancer: number;
}

/** The default ports of the brief; the environment's defaults below are these. */
export const DEFAULT_PORTS: Readonly<Ports> = {
  web: 8000,
  orchestrator: 8081,
  transactionVerification: 50052,
  fraudDetection: 50051,
  suggestions: 50053,
  orderQueue: 50055,
  executors: [50061, 50062, 50063, 50064],
  loadBalancer: 8404,
};

/**
 * The client and peer ports of the etcd members `deno task dev` starts with `BOOKSTORE_STORE=etcd`: etcd's own
 * convention for a cluster on one machine (its Procfile).
 */
export const DEFAULT_ETCD_PORTS: readonly { client: number; peer: number }[] = [
  { client: 2379, peer: 2380 },
  { client: 22379, peer: 22380 },
  { client: 32379, peer: 32380 },
];

/** The store every stateful service keeps its state in. */
export const STORE_KINDS = ["kv", "etcd"] as const;

/**
 * How far apart the ports of one service's instances are (`BOOKSTORE_REPLICAS`): validator instance k listens on
 * its service port + STEP·(k−1); orchestrator and web instance k, behind a load balancer on the public port, on
 * port + STEP·k.
 */
export const INSTANCE_PORT_STEP = 100;

/** Most instances of each stateless service (`BOOKSTORE_REPLICAS`): their ports must stay below the next service's. */
export const MAX_REPLICAS = 9;

/**
 * The ports of `count` instances of a service whose port is `port`. `behindBalancer` is for the orchestrator and
 * the web app: with more than one instance a load balancer holds `port` and instance k listens on port + 100·k;
 * a validator's instance k listens on port + 100·(k−1). One instance always keeps `port`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { instancePorts } from "./env.ts";
 * assert.deepEqual(instancePorts(50051, { count: 2 }), [50051, 50151]);
 * assert.deepEqual(instancePorts(8081, { count: 2, behindBalancer: true }), [8181, 8281]);
 * assert.deepEqual(instancePorts(8081, { count: 1, behindBalancer: true }), [8081]);
 * ```
 */
export function instancePorts(port: number, options: { count: number; behindBalancer?: boolean }): number[] {
  const first = options.behindBalancer && options.count > 1 ? 1 : 0;
  return Array.from({ length: options.count }, (_, i) => port + INSTANCE_PORT_STEP * (first + i));
}

/** Where a process on this machine listens on `port`. */
export function localUrl(port: number): string {
  return `http://127.0.0.1:${port}`;
}

const portNumber = z.coerce.number().int().min(0).max(65535);
const port = (fallback: number) => portNumber.default(fallback);
const millis = (fallback: number) => z.coerce.number().int().min(1).max(3_600_000).default(fallback);
const flag = (fallback: boolean) =>
  z.enum(["true", "false", "1", "0", ""]).default(fallback ? "true" : "false").transform((v) =>
    v === "true" || v === "1"
  );
const url = (fallback: string) => z.url().default(fallback);
const urlList = z.string().transform((spec) => spec.split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(z.array(z.url().transform((u) => u.replace(/\/$/, ""))).min(1, "names no URL"));
const memberPort = z.number().int().min(1).max(65535);
const etcdPortList = z.string().transform((spec) => spec.split(",").map((s) => s.trim()).filter(Boolean))
  .pipe(
    z.array(
      z.string().regex(/^\d+:\d+$/, { message: "each member is client:peer, e.g. 2379:2380", abort: true })
        .transform((pair) => {
          const [client, peer] = pair.split(":").map(Number);
          return { client, peer };
        })
        .pipe(z.object({ client: memberPort, peer: memberPort })),
    ).min(1, "names no member").max(7, "names more than 7 members"),
  );

/**
 * Every environment variable the bookstore reads, with its default and a
 * description. The README's configuration table documents the same list and a
 * test keeps them in step.
 */
export const envSchema = z.object({
  BOOKSTORE_ENV: z.enum(["development", "test", "production"]).default("development")
    .describe(
      "Deployment flavour; faults and admin endpoints are refused in production, and in test every process also validates the messages it sends.",
    ),
  BOOKSTORE_HOST: z.string().min(1).default("127.0.0.1")
    .describe("Interface every service binds to (0.0.0.0 in containers)."),
  BOOKSTORE_TRUSTED_PROXIES: z.string().transform((spec) => spec.split(",").map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.union([z.ipv4(), z.ipv6()], { error: "each entry is an IP address" }))).optional()
    .describe(
      "Addresses of load balancers in front of the orchestrator and the web app, comma separated: a request from one of them is counted, for the per-client limits, as the client its `X-Forwarded-For` names. None by default; `deno task dev` sets the load balancer's when it runs one.",
    ),
  BOOKSTORE_DATA_DIR: z.string().min(1).default("./data")
    .describe("Directory holding each service's Deno KV file (and, with `deno task dev`, the etcd members' data)."),
  BOOKSTORE_STORE: z.enum(STORE_KINDS).default("kv")
    .describe(
      "Where the stateful services keep their state: `kv`, an embedded Deno KV file per service, or `etcd`, one replicated etcd cluster shared by all (each service under its own key prefix).",
    ),
  BOOKSTORE_REPLICAS: z.coerce.number().int().min(1).max(MAX_REPLICAS).default(1)
    .describe(
      "How many instances of each validator, of the orchestrator and of the web app `deno task dev` runs; above 1 needs `BOOKSTORE_STORE=etcd`. Validator instance k listens on its port + 100·(k−1); orchestrator and web instance k, behind the load balancer on the public port, on port + 100·k.",
    ),
  BOOKSTORE_INSTANCE: z.coerce.number().int().min(1).max(MAX_REPLICAS).default(1)
    .describe(
      "This process's instance number among its service's BOOKSTORE_REPLICAS (set by `deno task dev`): an orchestrator names itself in the route of each order it places, so that the order's outcome comes back to it.",
    ),
  BOOKSTORE_ETCD_ENDPOINTS: urlList.optional()
    .describe(
      "Client URLs of an existing etcd cluster, comma separated (with `BOOKSTORE_STORE=etcd`); when unset, `deno task dev` starts a three-member cluster on 127.0.0.1 ports 2379, 22379 and 32379.",
    ),
  BOOKSTORE_ETCD_PORTS: etcdPortList.optional()
    .describe(
      "The etcd members `deno task dev` starts when BOOKSTORE_ETCD_ENDPOINTS is unset: each member's client and peer port on 127.0.0.1 as `client:peer`, comma separated; their client URLs are the services' endpoints.",
    ),
  BOOKSTORE_ETCD_TIMEOUT_MS: millis(2000)
    .describe(
      "Deadline of one etcd call; past it the call fails with `unavailable` instead of waiting out a partition.",
    ),
  BOOKSTORE_SUPERVISOR_URL: z.url().refine((u) => /^http:\/\/127\.\d{1,3}\.\d{1,3}\.\d{1,3}:\d+\/?$/.test(u), {
    message: "must be http://127.x.y.z:port: the supervisor listens on loopback only, and it is sent the credential",
  }).optional()
    .describe(
      "Set by `deno task dev` for the web app, not by hand: where its supervisor takes the cluster page's Crash of an etcd member it runs (etcd has no /admin/crash of its own) and, with --hosts, shows the hosts and cuts and heals the executor leader's links; with fault injection only.",
    ),
  BOOKSTORE_SERVICE_TOKEN: z.string().min(16).optional()
    .describe("Shared service credential for internal RPCs; `deno task dev` generates one."),
  BOOKSTORE_FINGERPRINT_KEY: z.string().min(16).optional()
    .describe(
      "Key of the card and contact fingerprints (HMAC) used for velocity counting; only transaction verification and fraud detection get it, and it never travels.",
    ),
  BOOKSTORE_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info")
    .describe("Lowest log level written to stdout."),
  BOOKSTORE_FAULTS: flag(false)
    .describe(
      "Enables the fault endpoints /admin/faults, /admin/crash and /admin/pause (dev and test only; `deno task dev` turns it on).",
    ),
  BOOKSTORE_MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(65_536)
    .describe("Largest accepted request body; larger ones get resource_exhausted."),
  WEB_PORT: port(DEFAULT_PORTS.web).describe("Port of the web app."),
  WEB_ORIGIN: url(`http://localhost:${DEFAULT_PORTS.web}`)
    .describe("Origin of the web app; the one CORS admits on the orchestrator unless CORS_ORIGINS says otherwise."),
  CORS_ORIGINS: z.string().superRefine((spec, ctx) => {
    for (const problem of parseOrigins(spec).problems) ctx.addIssue({ code: "custom", message: problem });
  }).optional()
    .describe(
      "Origins whose pages may call the orchestrator's public API from a browser (CORS), comma separated, e.g. `http://localhost:8000,http://localhost:5500`; WEB_ORIGIN when unset. A loopback origin admits its localhost, 127.0.0.1 and [::1] spellings. Never with credentials.",
    ),
  ORCHESTRATOR_PORT: port(DEFAULT_PORTS.orchestrator).describe("Port of the orchestrator (public API)."),
  ORCHESTRATOR_URL: urlList.default([localUrl(DEFAULT_PORTS.orchestrator)])
    .describe(
      "Where services reach the orchestrator: every instance's URL, comma separated, instance k at position k (a validator reports an order's outcome to the instance that placed it; the web app moves past one it cannot reach).",
    ),
  ORCHESTRATOR_PUBLIC_URL: url(`http://localhost:${DEFAULT_PORTS.orchestrator}`)
    .describe("Where browsers reach the orchestrator's public API (the checkout page calls it)."),
  TRANSACTION_VERIFICATION_PORT: port(DEFAULT_PORTS.transactionVerification).describe(
    "Port of transaction verification.",
  ),
  TRANSACTION_VERIFICATION_URL: urlList.default([localUrl(DEFAULT_PORTS.transactionVerification)])
    .describe(
      "Where peers reach transaction verification: every instance's URL, comma separated, instance k at position k (an order's route names instances by number).",
    ),
  FRAUD_DETECTION_PORT: port(DEFAULT_PORTS.fraudDetection).describe("Port of fraud detection."),
  FRAUD_DETECTION_URL: urlList.default([localUrl(DEFAULT_PORTS.fraudDetection)])
    .describe(
      "Where peers reach fraud detection: every instance's URL, comma separated, instance k at position k (an order's route names instances by number).",
    ),
  SUGGESTIONS_PORT: port(DEFAULT_PORTS.suggestions).describe("Port of suggestions."),
  SUGGESTIONS_URL: urlList.default([localUrl(DEFAULT_PORTS.suggestions)])
    .describe(
      "Where peers reach suggestions: every instance's URL, comma separated, instance k at position k (an order's route names instances by number).",
    ),
  LOAD_BALANCER_PORT: port(DEFAULT_PORTS.loadBalancer).describe(
    "Port of the load balancer's own `/healthz` and `/stats` page, when `deno task dev` runs one (`BOOKSTORE_REPLICAS` above 1); the shop and the API stay on WEB_PORT and ORCHESTRATOR_PORT.",
  ),
  ORDER_QUEUE_PORT: port(DEFAULT_PORTS.orderQueue)
    .describe("Port of order queue replica 1; replica n listens on this + n - 1."),
  ORDER_QUEUE_REPLICAS: z.coerce.number().int().min(1).max(16).optional()
    .describe(
      "Number of order queue replicas: 1 with `BOOKSTORE_STORE=kv` (a KV file has one owner), 2 with `etcd` when unset.",
    ),
  ORDER_QUEUE_REPLICA: z.coerce.number().int().min(1).max(16).default(1)
    .describe("This order queue replica's number, 1 to ORDER_QUEUE_REPLICAS."),
  ORDER_QUEUE_URL: urlList.optional()
    .describe(
      "Where peers reach the order queue: every replica's URL, comma separated (a client moves to the next when one cannot be reached); derived from ORDER_QUEUE_PORT and ORDER_QUEUE_REPLICAS when unset.",
    ),
  RPC_TIMEOUT_MS: millis(1000).describe("Deadline of one internal RPC."),
  CHECKOUT_TIMEOUT_MS: millis(5000).describe("Deadline of a whole checkout validation."),
  CHECKOUT_RATE_LIMIT: z.coerce.number().int().min(0).max(1_000_000).default(20)
    .describe(
      "Checkouts a second per client address on the public checkout (burst: one second's worth); over it, 429 resource_exhausted with Retry-After. `0` turns it off.",
    ),
  ORDER_CACHE_TTL_MS: millis(30_000)
    .describe("How long a validator keeps an order that never finished."),
  ORDER_RETENTION_MS: z.coerce.number().int().min(60_000).max(365 * 86_400_000).default(172_800_000)
    .describe(
      "How long a finished order is kept: the queue's record of an executed or failed order (from when it finished) and the orchestrator's record (from checkout); then both are deleted and the order is looked up as unknown (`not_found`). Idempotency keys are kept half as long, so a key never outlives its order. Dead letters stay until requeued.",
    ),
  QUEUE_LEASE_MS: millis(5000).describe("How long a dequeued order stays leased before it is handed out again."),
  QUEUE_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(5)
    .describe("Deliveries after which an order goes to the dead-letter list."),
  QUEUE_AGING_MS: z.coerce.number().int().min(0).max(86_400_000).default(10_000)
    .describe("Waiting that counts as one more book in the queue's priority (aging); 0 turns aging off."),
  EXECUTOR_ID: z.coerce.number().int().min(1).max(1000).default(1)
    .describe("This executor replica's unique id (higher wins elections)."),
  EXECUTOR_REPLICAS: z.coerce.number().int().min(1).max(16).default(DEFAULT_PORTS.executors.length)
    .describe("Number of executor replicas when EXECUTOR_PEERS is not set."),
  EXECUTOR_BASE_PORT: port(DEFAULT_PORTS.executors[0])
    .describe("Port of executor 1; replica n listens on base + n - 1."),
  EXECUTOR_PEERS: z.string().optional()
    .describe("Every replica as `id=url` pairs, comma separated; derived from the two above when unset."),
  EXECUTOR_HEARTBEAT_INTERVAL_MS: millis(50).describe("How often the leader sends heartbeats."),
  EXECUTOR_HEARTBEAT_TIMEOUT_MS: millis(200)
    .describe("Silence after which a follower calls an election."),
  EXECUTOR_ELECTION_TIMEOUT_MS: millis(100)
    .describe("How long a candidate waits for a higher replica to answer Election."),
  EXECUTOR_POLL_INTERVAL_MS: millis(100)
    .describe(
      "How long an idle leader's dequeue waits at the queue for an order (a long poll: the queue answers as soon as one is queued); below EXECUTOR_HEARTBEAT_TIMEOUT_MS.",
    ),
  EXECUTOR_BATCH_SIZE: z.coerce.number().int().min(1).max(MAX_LEASES_PER_CALL).default(16)
    .describe("Most orders the leader leases, executes and acks at a time (one queue commit each way)."),
  EXECUTOR_WORK_MS: z.coerce.number().int().min(0).max(60_000).default(0)
    .describe("Simulated work per order before it is committed (for demos and fault tests)."),
});

/** The raw, validated environment. */
export type Env = z.infer<typeof envSchema>;

/**
 * Parses `CORS_ORIGINS` (`http://host:port,https://host`): each entry must be
 * an http(s) origin, scheme, host and port alone (a trailing `/` is
 * forgiven). `*` and `null` are refused: admitting every page, or every
 * sandboxed one, is not a list of origins.
 */
export function parseOrigins(spec: string): { origins: string[]; problems: string[] } {
  const origins: string[] = [];
  const problems: string[] = [];
  for (const entry of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    let origin: string | undefined;
    try {
      const url = new URL(entry);
      const bare = url.pathname === "/" && !url.search && !url.hash && !url.username && !url.password;
      if (["http:", "https:"].includes(url.protocol) && bare) origin = url.origin;
    } catch {
      // Not a URL at all: reported below.
    }
    if (origin === undefined) {
      problems.push(
        `"${entry.slice(0, 100)}" is not an origin (http(s)://host[:port], no path; "*" and "null" are not allowed)`,
      );
    } else if (!origins.includes(origin)) {
      origins.push(origin);
    }
  }
  if (origins.length === 0 && problems.length === 0) problems.push("names no origin (leave it unset for WEB_ORIGIN)");
  return { origins, problems };
}

/** Parses `EXECUTOR_PEERS` (`1=http://host:port,2=…`) into a map from id to URL. */
export function parsePeers(spec: string): Map<number, string> {
  const peers = new Map<number, string>();
  for (const part of spec.split(",").map((s) => s.trim()).filter(Boolean)) {
    const match = /^(\d+)=(https?:\/\/\S+)$/.exec(part);
    if (!match) throw new Error(`EXECUTOR_PEERS: "${part}" is not of the form id=url`);
    const id = Number(match[1]);
    if (peers.has(id)) throw new Error(`EXECUTOR_PEERS: id ${id} appears twice`);
    peers.set(id, match[2].replace(/\/$/, ""));
  }
  return peers;
}
