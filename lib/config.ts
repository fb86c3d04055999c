/**
 * The one place configuration is read. Every setting is an environment
 * variable with a documented default, validated by zod at start-up so that a
 * typo fails loudly instead of silently running with a wrong value.
 *
 * @module
 */
import type { z } from "zod";
import { DEFAULT_ETCD_PORTS, type Env, envSchema, localUrl, parseOrigins, parsePeers } from "./env.ts";
import { MAX_TIMEOUT_MS } from "./rpc/server.ts";

export * from "./env.ts";
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
    /** Load balancers whose `X-Forwarded-For` names the client (`BOOKSTORE_TRUSTED_PROXIES`). @default [] */
    trustedProxies: env.BOOKSTORE_TRUSTED_PROXIES ?? [],
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
    /**
     * How many instances of each validator, of the orchestrator and of the web app run (`BOOKSTORE_REPLICAS`;
     * above 1 only with etcd). @default 1
     */
    replicas: env.BOOKSTORE_REPLICAS,
    /** This process's instance number among its service's replicas (`BOOKSTORE_INSTANCE`). @default 1 */
    instance: env.BOOKSTORE_INSTANCE,
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
     * @default { orchestrator: 8081, transactionVerification: 50052, fraudDetection: 50051, suggestions: 50053, orderQueue: 50055, loadBalancer: 8404 }
     */
    ports: {
      orchestrator: env.ORCHESTRATOR_PORT,
      transactionVerification: env.TRANSACTION_VERIFICATION_PORT,
      fraudDetection: env.FRAUD_DETECTION_PORT,
      suggestions: env.SUGGESTIONS_PORT,
      orderQueue: env.ORDER_QUEUE_PORT + env.ORDER_QUEUE_REPLICA - 1,
      loadBalancer: env.LOAD_BALANCER_PORT,
    },
    /**
     * Where peers reach each service (`*_URL`); a validator's every instance, instance k at index k − 1.
     * @default each port above on http://127.0.0.1
     */
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
    valid.BOOKSTORE_STORE === "kv" && valid.BOOKSTORE_REPLICAS > 1 &&
    "BOOKSTORE_REPLICAS above 1 needs BOOKSTORE_STORE=etcd (the instances of a service share its state, and a Deno KV file cannot be shared by two processes)",
    valid.BOOKSTORE_INSTANCE > valid.BOOKSTORE_REPLICAS &&
    "BOOKSTORE_INSTANCE must be between 1 and BOOKSTORE_REPLICAS",
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
 * assert.deepEqual(config.urls.suggestions, ["http://127.0.0.1:50053"], "the URL is set on its own");
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
