/**
 * The one place configuration is read. Every setting is an environment
 * variable with a documented default, validated by zod at start-up so that a
 * typo fails loudly instead of silently running with a wrong value.
 *
 * @module
 */
import { z } from "zod";
import { MAX_LEASES_PER_CALL } from "./contracts/order_queue.ts";
import { MAX_TIMEOUT_MS } from "./rpc/server.ts";

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
  BOOKSTORE_DATA_DIR: z.string().min(1).default("./data")
    .describe("Directory holding each service's Deno KV file (and, with `deno task dev`, the etcd members' data)."),
  BOOKSTORE_STORE: z.enum(STORE_KINDS).default("kv")
    .describe(
      "Where the stateful services keep their state: `kv`, an embedded Deno KV file per service, or `etcd`, one replicated etcd cluster shared by all (each service under its own key prefix).",
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
  BOOKSTORE_SUPERVISOR_URL: z.url().optional()
    .describe(
      "Set by `deno task dev` for the web app, not by hand: where its supervisor takes the cluster page's Crash of an etcd member it runs (etcd has no /admin/crash of its own); with fault injection only.",
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
  ORCHESTRATOR_URL: url(localUrl(DEFAULT_PORTS.orchestrator)).describe("Where services reach the orchestrator."),
  ORCHESTRATOR_PUBLIC_URL: url(`http://localhost:${DEFAULT_PORTS.orchestrator}`)
    .describe("Where browsers reach the orchestrator's public API (the checkout page calls it)."),
  TRANSACTION_VERIFICATION_PORT: port(DEFAULT_PORTS.transactionVerification).describe(
    "Port of transaction verification.",
  ),
  TRANSACTION_VERIFICATION_URL: url(localUrl(DEFAULT_PORTS.transactionVerification))
    .describe("Where peers reach transaction verification."),
  FRAUD_DETECTION_PORT: port(DEFAULT_PORTS.fraudDetection).describe("Port of fraud detection."),
  FRAUD_DETECTION_URL: url(localUrl(DEFAULT_PORTS.fraudDetection)).describe("Where peers reach fraud detection."),
  SUGGESTIONS_PORT: port(DEFAULT_PORTS.suggestions).describe("Port of suggestions."),
  SUGGESTIONS_URL: url(localUrl(DEFAULT_PORTS.suggestions)).describe("Where peers reach suggestions."),
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

// One KV file has one owner; etcd is shared, and two replicas survive the loss of one.
function queueReplicaCount(env: Env): number {
  return env.ORDER_QUEUE_REPLICAS ?? (env.BOOKSTORE_STORE === "etcd" ? 2 : 1);
}

// Each field's doc and @default are the documentation of `Config`: its type is this function's result.
function toConfig(env: Env) {
  const queueReplicas = queueReplicaCount(env);
  const etcdPorts = env.BOOKSTORE_ETCD_PORTS ?? DEFAULT_ETCD_PORTS;
  const peers = env.EXECUTOR_PEERS !== undefined ? parsePeers(env.EXECUTOR_PEERS) : new Map(
    Array.from(
      { length: env.EXECUTOR_REPLICAS },
      (_, i) => [i + 1, localUrl(env.EXECUTOR_BASE_PORT + i)] as const,
    ),
  );
  return {
    /** Deployment flavour (`BOOKSTORE_ENV`). @default "development" */
    env: env.BOOKSTORE_ENV,
    /** Interface every service binds to (`BOOKSTORE_HOST`). @default "127.0.0.1" */
    host: env.BOOKSTORE_HOST,
    /** Directory of each service's Deno KV file (`BOOKSTORE_DATA_DIR`). @default "./data" */
    dataDir: env.BOOKSTORE_DATA_DIR,
    /** Where the stateful services keep their state. */
    store: {
      /** `kv` (a Deno KV file per service) or `etcd` (`BOOKSTORE_STORE`). @default "kv" */
      kind: env.BOOKSTORE_STORE,
      /**
       * The etcd cluster's client URLs (`BOOKSTORE_ETCD_ENDPOINTS`).
       * @default the three members `deno task dev` starts, on 127.0.0.1:2379, 22379 and 32379
       */
      etcdEndpoints: env.BOOKSTORE_ETCD_ENDPOINTS ?? etcdPorts.map(({ client }) => localUrl(client)),
      /**
       * The client and peer ports of the members `deno task dev` starts (`BOOKSTORE_ETCD_PORTS`).
       * @default 2379:2380, 22379:22380 and 32379:32380
       */
      etcdPorts,
      /** Whether `deno task dev` starts the etcd cluster itself (`BOOKSTORE_ETCD_ENDPOINTS` unset). @default true */
      startsEtcd: env.BOOKSTORE_ETCD_ENDPOINTS === undefined,
      /** Deadline of one etcd call (`BOOKSTORE_ETCD_TIMEOUT_MS`). @default 2000 */
      etcdTimeoutMs: env.BOOKSTORE_ETCD_TIMEOUT_MS,
    },
    /** Where the supervisor of `deno task dev` takes a Crash of a process it runs (`BOOKSTORE_SUPERVISOR_URL`); none by default. */
    supervisorUrl: env.BOOKSTORE_SUPERVISOR_URL,
    /** The shared service credential (`BOOKSTORE_SERVICE_TOKEN`); no default. */
    serviceToken: env.BOOKSTORE_SERVICE_TOKEN,
    /** Key of card and contact fingerprints (`BOOKSTORE_FINGERPRINT_KEY`); no default. */
    fingerprintKey: env.BOOKSTORE_FINGERPRINT_KEY,
    /** Lowest log level written (`BOOKSTORE_LOG_LEVEL`). @default "info" */
    logLevel: env.BOOKSTORE_LOG_LEVEL,
    /** Whether `/admin/faults` is mounted (`BOOKSTORE_FAULTS`, never in production). @default false */
    faults: env.BOOKSTORE_FAULTS && env.BOOKSTORE_ENV !== "production",
    /** Largest accepted request body (`BOOKSTORE_MAX_BODY_BYTES`). @default 65536 */
    maxBodyBytes: env.BOOKSTORE_MAX_BODY_BYTES,
    /**
     * Whether a process also validates the messages it sends (requests before
     * they go out, responses before they are answered), and not only those it
     * receives: on in test (`BOOKSTORE_ENV=test`), so that a sender's bug fails
     * at its source; elsewhere each message is validated once, by its receiver.
     * @default false
     */
    checkSentMessages: env.BOOKSTORE_ENV === "test",
    /**
     * The web app (`WEB_PORT`, `WEB_ORIGIN`) and where browsers reach the orchestrator (`ORCHESTRATOR_PUBLIC_URL`).
     * @default { port: 8000, origin: "http://localhost:8000", orchestratorPublicUrl: "http://localhost:8081" }
     */
    web: { port: env.WEB_PORT, origin: env.WEB_ORIGIN, orchestratorPublicUrl: env.ORCHESTRATOR_PUBLIC_URL },
    /**
     * Origins whose pages may call the orchestrator's public API from a browser (`CORS_ORIGINS`), without
     * credentials. @default [web.origin]
     */
    corsOrigins: env.CORS_ORIGINS === undefined
      ? [new URL(env.WEB_ORIGIN).origin]
      : parseOrigins(env.CORS_ORIGINS).origins,
    /**
     * Where each service listens (`*_PORT`).
     * @default { orchestrator: 8081, transactionVerification: 50052, fraudDetection: 50051, suggestions: 50053, orderQueue: 50055 }
     */
    ports: {
      orchestrator: env.ORCHESTRATOR_PORT,
      transactionVerification: env.TRANSACTION_VERIFICATION_PORT,
      fraudDetection: env.FRAUD_DETECTION_PORT,
      suggestions: env.SUGGESTIONS_PORT,
      orderQueue: env.ORDER_QUEUE_PORT + env.ORDER_QUEUE_REPLICA - 1,
    },
    /** Where peers reach each service (`*_URL`). @default each port above on http://127.0.0.1 */
    urls: {
      orchestrator: env.ORCHESTRATOR_URL,
      transactionVerification: env.TRANSACTION_VERIFICATION_URL,
      fraudDetection: env.FRAUD_DETECTION_URL,
      suggestions: env.SUGGESTIONS_URL,
      /** Every order queue replica, in the order clients try them. @default ORDER_QUEUE_REPLICAS from ORDER_QUEUE_PORT */
      orderQueue: env.ORDER_QUEUE_URL ??
        Array.from({ length: queueReplicas }, (_, i) => localUrl(env.ORDER_QUEUE_PORT + i)),
    },
    /** Deadline of one internal RPC (`RPC_TIMEOUT_MS`). @default 1000 */
    rpcTimeoutMs: env.RPC_TIMEOUT_MS,
    /** Deadline of a whole checkout validation (`CHECKOUT_TIMEOUT_MS`). @default 5000 */
    checkoutTimeoutMs: env.CHECKOUT_TIMEOUT_MS,
    /** Checkouts a second per client address, 0 for no limit (`CHECKOUT_RATE_LIMIT`). @default 20 */
    checkoutRateLimit: env.CHECKOUT_RATE_LIMIT,
    /** How long a validator keeps an unfinished order (`ORDER_CACHE_TTL_MS`). @default 30000 */
    orderCacheTtlMs: env.ORDER_CACHE_TTL_MS,
    /**
     * How long a finished order's records are kept (`ORDER_RETENTION_MS`); idempotency keys half as long.
     * @default 172800000
     */
    orderRetentionMs: env.ORDER_RETENTION_MS,
    /**
     * The queue's leases (`QUEUE_LEASE_MS`), delivery limit (`QUEUE_MAX_ATTEMPTS`) and aging (`QUEUE_AGING_MS`:
     * an order that has waited this long ranks like one with one more book than it has; 0 turns aging off).
     * @default { leaseMs: 5000, maxAttempts: 5, agingMs: 10000 }
     */
    queue: { leaseMs: env.QUEUE_LEASE_MS, maxAttempts: env.QUEUE_MAX_ATTEMPTS, agingMs: env.QUEUE_AGING_MS },
    /**
     * How many order queue replicas there are (`ORDER_QUEUE_REPLICAS`) and which one this process is
     * (`ORDER_QUEUE_REPLICA`). @default { replicas: 1 with kv, 2 with etcd; replica: 1 }
     */
    queueReplicas: { count: queueReplicas, self: env.ORDER_QUEUE_REPLICA },
    /** The executor replica's settings. */
    executor: {
      /** This replica's unique id (`EXECUTOR_ID`; higher wins elections). @default 1 */
      id: env.EXECUTOR_ID,
      /** Every replica's URL by id (`EXECUTOR_PEERS`, or `EXECUTOR_REPLICAS` from `EXECUTOR_BASE_PORT`). @default 1-4 on 50061-50064 */
      peers,
      /** The port this replica listens on, from its own entry in `peers`. @default 50061 */
      port: Number(new URL(peers.get(env.EXECUTOR_ID) ?? `http://x:${env.EXECUTOR_BASE_PORT}`).port),
      /** How often the leader sends heartbeats (`EXECUTOR_HEARTBEAT_INTERVAL_MS`). @default 50 */
      heartbeatIntervalMs: env.EXECUTOR_HEARTBEAT_INTERVAL_MS,
      /** Silence after which a follower calls an election (`EXECUTOR_HEARTBEAT_TIMEOUT_MS`). @default 200 */
      heartbeatTimeoutMs: env.EXECUTOR_HEARTBEAT_TIMEOUT_MS,
      /** How long a candidate waits for a higher replica (`EXECUTOR_ELECTION_TIMEOUT_MS`). @default 100 */
      electionTimeoutMs: env.EXECUTOR_ELECTION_TIMEOUT_MS,
      /** How long an idle leader's dequeue waits at the queue for an order (`EXECUTOR_POLL_INTERVAL_MS`). @default 100 */
      pollIntervalMs: env.EXECUTOR_POLL_INTERVAL_MS,
      /** Most orders leased, executed and acked at a time (`EXECUTOR_BATCH_SIZE`). @default 16 */
      batchSize: env.EXECUTOR_BATCH_SIZE,
      /** Simulated work per order (`EXECUTOR_WORK_MS`). @default 0 */
      workMs: env.EXECUTOR_WORK_MS,
    },
  };
}

function hasDuplicates(values: number[]): boolean {
  return new Set(values).size !== values.length;
}

// Settings that are each fine alone but not together.
function checkCombinations(valid: Env, ctx: z.RefinementCtx) {
  const conflicts = [
    valid.EXECUTOR_HEARTBEAT_TIMEOUT_MS < 2 * valid.EXECUTOR_HEARTBEAT_INTERVAL_MS &&
    "EXECUTOR_HEARTBEAT_TIMEOUT_MS must be at least twice EXECUTOR_HEARTBEAT_INTERVAL_MS (one lost heartbeat must not depose a leader)",
    valid.EXECUTOR_WORK_MS >= valid.QUEUE_LEASE_MS &&
    "EXECUTOR_WORK_MS must be shorter than QUEUE_LEASE_MS (every lease would expire before its order is committed)",
    valid.EXECUTOR_POLL_INTERVAL_MS >= valid.EXECUTOR_HEARTBEAT_TIMEOUT_MS &&
    "EXECUTOR_POLL_INTERVAL_MS must be below EXECUTOR_HEARTBEAT_TIMEOUT_MS (a waiting dequeue must not outlast the queue's leader lease)",
    valid.CHECKOUT_TIMEOUT_MS > MAX_TIMEOUT_MS &&
    `CHECKOUT_TIMEOUT_MS must be at most ${MAX_TIMEOUT_MS} (every server caps a call's deadline at that)`,
    valid.RPC_TIMEOUT_MS > valid.CHECKOUT_TIMEOUT_MS &&
    "RPC_TIMEOUT_MS must not exceed CHECKOUT_TIMEOUT_MS (one call cannot outlast the whole checkout)",
    valid.BOOKSTORE_STORE === "kv" && queueReplicaCount(valid) > 1 &&
    "ORDER_QUEUE_REPLICAS above 1 needs BOOKSTORE_STORE=etcd (a Deno KV file cannot be shared by two processes)",
    valid.BOOKSTORE_ETCD_PORTS !== undefined && valid.BOOKSTORE_ETCD_ENDPOINTS !== undefined &&
    "BOOKSTORE_ETCD_PORTS names the members `deno task dev` starts, and it starts none with BOOKSTORE_ETCD_ENDPOINTS: set one of the two",
    valid.BOOKSTORE_ETCD_PORTS &&
    hasDuplicates(valid.BOOKSTORE_ETCD_PORTS.flatMap(({ client, peer }) => [client, peer])) &&
    "BOOKSTORE_ETCD_PORTS: a port appears twice",
    valid.ORDER_QUEUE_REPLICA > queueReplicaCount(valid) &&
    "ORDER_QUEUE_REPLICA must be between 1 and ORDER_QUEUE_REPLICAS",
    valid.ORDER_CACHE_TTL_MS <= valid.CHECKOUT_TIMEOUT_MS &&
    "ORDER_CACHE_TTL_MS must be above CHECKOUT_TIMEOUT_MS (a validator would drop an order its checkout is still waiting for)",
  ];
  for (const conflict of conflicts) {
    if (typeof conflict === "string") ctx.addIssue({ code: "custom", message: conflict });
  }
}

/**
 * The environment read into the configuration: each variable validated
 * ({@linkcode envSchema}), their combinations checked, then shaped.
 */
export const configSchema = envSchema.superRefine(checkCombinations).transform(toConfig);

/** The validated configuration every process reads; each field's variable is in {@linkcode envSchema}. */
export type Config = z.output<typeof configSchema>;

/**
 * Validates an environment (by default the process's) and returns the
 * configuration; throws an error naming every bad variable.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 *
 * const config = loadConfig({ SUGGESTIONS_PORT: "6000", EXECUTOR_REPLICAS: "2" });
 * assert.equal(config.ports.suggestions, 6000);
 * assert.equal(config.urls.suggestions, "http://127.0.0.1:50053", "the URL is set on its own");
 * assert.deepEqual([...config.executor.peers.keys()], [1, 2]);
 * assert.throws(() => loadConfig({ ORDER_QUEUE_PORT: "many" }), /ORDER_QUEUE_PORT/);
 * ```
 */
export function loadConfig(env: Record<string, string> = Deno.env.toObject()): Config {
  const known = Object.fromEntries(
    Object.keys(envSchema.shape).filter((key) => env[key] !== undefined).map((key) => [key, env[key]]),
  );
  const parsed = configSchema.safeParse(known);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) =>
      i.path.length > 0 ? `${i.path.join(".")}: ${i.message}` : i.message
    );
    throw new Error(`invalid configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}

/** The fingerprint key, or a clear start-up error when it is missing. */
export function requireFingerprintKey(config: Config): string {
  if (config.fingerprintKey === undefined) {
    throw new Error(
      "BOOKSTORE_FINGERPRINT_KEY is not set: card and contact fingerprints need a key of at least 16 characters (`deno task dev` generates one)",
    );
  }
  return config.fingerprintKey;
}

/** The service credential, or a clear start-up error when it is missing. */
export function requireServiceToken(config: Config): string {
  if (config.serviceToken === undefined) {
    throw new Error(
      "BOOKSTORE_SERVICE_TOKEN is not set: internal RPCs need a shared credential of at least 16 characters (`deno task dev` generates one)",
    );
  }
  return config.serviceToken;
}
