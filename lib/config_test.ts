import assert from "node:assert/strict";
import { envSchema, loadConfig, parsePeers, requireServiceToken } from "./config.ts";

Deno.test("every setting has a default except the credential", () => {
  const config = loadConfig({});
  assert.equal(config.ports.orchestrator, 8081);
  assert.equal(config.ports.fraudDetection, 50051);
  assert.equal(config.ports.transactionVerification, 50052);
  assert.equal(config.ports.suggestions, 50053);
  assert.equal(config.ports.orderQueue, 50055);
  assert.equal(config.web.port, 8000);
  assert.deepEqual([...config.executor.peers.keys()], [1, 2, 3, 4]);
  assert.equal(config.executor.peers.get(4), "http://127.0.0.1:50064");
  assert.equal(config.executor.port, 50061);
  assert.equal(config.dataDir, "./data");
  assert.equal(config.faults, false);
  assert.throws(() => requireServiceToken(config), /BOOKSTORE_SERVICE_TOKEN is not set/);
});

Deno.test("bad values fail loudly, naming the variable", () => {
  assert.throws(() => loadConfig({ ORCHESTRATOR_PORT: "eighty" }), /ORCHESTRATOR_PORT/);
  assert.throws(() => loadConfig({ BOOKSTORE_SERVICE_TOKEN: "short" }), /BOOKSTORE_SERVICE_TOKEN/);
  assert.throws(() => loadConfig({ BOOKSTORE_FAULTS: "maybe" }), /BOOKSTORE_FAULTS/);
  assert.throws(() => loadConfig({ EXECUTOR_PEERS: "1=http://a:1,1=http://b:2" }), /appears twice/);
});

Deno.test("settings that contradict each other are refused", () => {
  assert.throws(() => loadConfig({ EXECUTOR_HEARTBEAT_TIMEOUT_MS: "90" }), /at least twice/);
  assert.throws(
    () => loadConfig({ EXECUTOR_POLL_INTERVAL_MS: "200" }),
    /EXECUTOR_POLL_INTERVAL_MS must be below EXECUTOR_HEARTBEAT_TIMEOUT_MS/,
  );
  assert.throws(() => loadConfig({ EXECUTOR_WORK_MS: "6000" }), /shorter than QUEUE_LEASE_MS/);
  assert.throws(() => loadConfig({ RPC_TIMEOUT_MS: "9000" }), /must not exceed CHECKOUT_TIMEOUT_MS/);
  assert.throws(
    () => loadConfig({ ORDER_CACHE_TTL_MS: "5000" }),
    /ORDER_CACHE_TTL_MS must be above CHECKOUT_TIMEOUT_MS/,
  );
  assert.throws(
    () => loadConfig({ ORDER_CACHE_TTL_MS: "2000", CHECKOUT_TIMEOUT_MS: "3000", RPC_TIMEOUT_MS: "500" }),
    /ORDER_CACHE_TTL_MS must be above CHECKOUT_TIMEOUT_MS/,
  );
  assert.equal(loadConfig({ ORDER_CACHE_TTL_MS: "5001" }).orderCacheTtlMs, 5001);
});

Deno.test("fault injection is never enabled in production", () => {
  assert.equal(loadConfig({ BOOKSTORE_FAULTS: "true" }).faults, true);
  assert.equal(loadConfig({ BOOKSTORE_FAULTS: "true", BOOKSTORE_ENV: "production" }).faults, false);
});

Deno.test("EXECUTOR_PEERS lists replicas as id=url", () => {
  assert.deepEqual([...parsePeers("2=http://b:2, 1=http://a:1/")], [[2, "http://b:2"], [1, "http://a:1"]]);
  assert.throws(() => parsePeers("one=http://a"), /not of the form/);
  const config = loadConfig({ EXECUTOR_PEERS: "7=http://x:7007,9=http://y:9009", EXECUTOR_ID: "9" });
  assert.equal(config.executor.port, 9009);
});

Deno.test("the README documents every variable with its default", async () => {
  const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));
  for (const [key, schema] of Object.entries(envSchema.shape)) {
    const row = readme.split("\n").find((line) => line.startsWith(`| \`${key}\``));
    assert.ok(row, `README lacks a row for ${key}`);
    const parsed = (schema as { safeParse: (v: unknown) => { success: boolean; data?: unknown } }).safeParse(undefined);
    const fallback = parsed.success && parsed.data !== undefined ? String(parsed.data) : undefined;
    if (fallback !== undefined) {
      assert.ok(row.includes(`\`${fallback}\``), `README row of ${key} lacks its default ${fallback}`);
    }
  }
});

Deno.test("CORS_ORIGINS: the shop's origin by default, else exactly the listed origins", () => {
  assert.deepEqual(loadConfig({}).corsOrigins, ["http://localhost:8000"]);
  assert.deepEqual(loadConfig({ WEB_ORIGIN: "https://shop.example/" }).corsOrigins, ["https://shop.example"]);
  const listed = loadConfig({
    CORS_ORIGINS: " http://localhost:8000, http://127.0.0.1:5500/ ,https://Course.Example ",
  });
  assert.deepEqual(listed.corsOrigins, ["http://localhost:8000", "http://127.0.0.1:5500", "https://course.example"]);
  assert.deepEqual(loadConfig({ CORS_ORIGINS: "http://a.example,http://a.example/" }).corsOrigins, [
    "http://a.example",
  ]);
});

Deno.test("CORS_ORIGINS refuses what is not an origin, naming the variable and the entry", () => {
  for (
    const bad of [
      "*",
      "null",
      "localhost:5500",
      "ftp://files.example",
      "http://a.example/page.html",
      "http://a.example?x=1",
      "http://user@a.example",
    ]
  ) {
    assert.throws(() => loadConfig({ CORS_ORIGINS: `http://ok.example,${bad}` }), (error: Error) => {
      assert.match(error.message, /CORS_ORIGINS/);
      assert.ok(error.message.includes(`"${bad}" is not an origin`), error.message);
      return true;
    }, bad);
  }
  assert.throws(() => loadConfig({ CORS_ORIGINS: " , " }), /CORS_ORIGINS: names no origin/);
});

Deno.test("a checkout deadline past what every server caps a call at is refused at start-up", () => {
  assert.throws(
    () => loadConfig({ CHECKOUT_TIMEOUT_MS: "60001", ORDER_CACHE_TTL_MS: "120000" }),
    /CHECKOUT_TIMEOUT_MS must be at most 60000/,
  );
  assert.equal(loadConfig({ CHECKOUT_TIMEOUT_MS: "60000", ORDER_CACHE_TTL_MS: "120000" }).checkoutTimeoutMs, 60_000);
});

Deno.test("BOOKSTORE_STORE: kv by default with one queue replica; etcd with two, on the dev cluster unless told", () => {
  const embedded = loadConfig({});
  assert.equal(embedded.store.kind, "kv");
  assert.deepEqual(embedded.urls.orderQueue, ["http://127.0.0.1:50055"]);
  const etcd = loadConfig({ BOOKSTORE_STORE: "etcd", ORDER_QUEUE_REPLICA: "2" });
  assert.deepEqual(etcd.urls.orderQueue, ["http://127.0.0.1:50055", "http://127.0.0.1:50056"]);
  assert.equal(etcd.ports.orderQueue, 50056, "replica 2 listens on the port after replica 1's");
  assert.deepEqual(etcd.store.etcdEndpoints, [
    "http://127.0.0.1:2379",
    "http://127.0.0.1:22379",
    "http://127.0.0.1:32379",
  ]);
  assert.equal(etcd.store.startsEtcd, true);
  const existing = loadConfig({
    BOOKSTORE_STORE: "etcd",
    BOOKSTORE_ETCD_ENDPOINTS: "http://127.0.0.9:2379/, http://127.0.0.8:2379",
  });
  assert.deepEqual(existing.store.etcdEndpoints, ["http://127.0.0.9:2379", "http://127.0.0.8:2379"]);
  assert.equal(existing.store.startsEtcd, false);
  assert.throws(() => loadConfig({ ORDER_QUEUE_REPLICAS: "2" }), /needs BOOKSTORE_STORE=etcd/);
  assert.throws(() => loadConfig({ BOOKSTORE_STORE: "etcd", ORDER_QUEUE_REPLICA: "3" }), /ORDER_QUEUE_REPLICA must/);
  assert.throws(() => loadConfig({ BOOKSTORE_ETCD_ENDPOINTS: "not a url" }), /BOOKSTORE_ETCD_ENDPOINTS/);
  assert.throws(() => loadConfig({ BOOKSTORE_STORE: "sqlite" }), /BOOKSTORE_STORE/);
});

Deno.test("BOOKSTORE_ETCD_PORTS moves the members dev starts, and the services' endpoints with them", () => {
  const moved = loadConfig({ BOOKSTORE_STORE: "etcd", BOOKSTORE_ETCD_PORTS: "4001:4002, 4011:4012,4021:4022" });
  assert.deepEqual(moved.store.etcdPorts, [
    { client: 4001, peer: 4002 },
    { client: 4011, peer: 4012 },
    { client: 4021, peer: 4022 },
  ]);
  assert.deepEqual(moved.store.etcdEndpoints, [
    "http://127.0.0.1:4001",
    "http://127.0.0.1:4011",
    "http://127.0.0.1:4021",
  ]);
  assert.equal(moved.store.startsEtcd, true);
  assert.deepEqual(loadConfig({}).store.etcdPorts.map((p) => p.client), [2379, 22379, 32379]);
  assert.throws(
    () => loadConfig({ BOOKSTORE_ETCD_PORTS: "4001" }),
    /BOOKSTORE_ETCD_PORTS.0: each member is client:peer/,
  );
  assert.throws(() => loadConfig({ BOOKSTORE_ETCD_PORTS: "4001:4002,4002:4003" }), /a port appears twice/);
  assert.throws(() => loadConfig({ BOOKSTORE_ETCD_PORTS: "0:4002" }), /BOOKSTORE_ETCD_PORTS/);
  assert.throws(
    () => loadConfig({ BOOKSTORE_ETCD_PORTS: "4001:4002", BOOKSTORE_ETCD_ENDPOINTS: "http://127.0.0.1:4001" }),
    /it starts none with BOOKSTORE_ETCD_ENDPOINTS/,
  );
});

Deno.test("BOOKSTORE_SUPERVISOR_URL is a loopback address only: the web app sends it the credential", () => {
  assert.equal(
    loadConfig({ BOOKSTORE_SUPERVISOR_URL: "http://127.0.0.1:4000" }).supervisorUrl,
    "http://127.0.0.1:4000",
  );
  assert.throws(() => loadConfig({ BOOKSTORE_SUPERVISOR_URL: "http://example.com:4000" }), /BOOKSTORE_SUPERVISOR_URL/);
  assert.throws(() => loadConfig({ BOOKSTORE_SUPERVISOR_URL: "http://127.0.0.1.example:4000" }), /loopback/);
});

Deno.test("BOOKSTORE_REPLICAS: 1 by default; above 1 only with etcd, refused in one line naming both variables", () => {
  assert.equal(loadConfig({}).replicas, 1);
  assert.equal(loadConfig({ BOOKSTORE_REPLICAS: "2", BOOKSTORE_STORE: "etcd" }).replicas, 2);
  assert.throws(
    () => loadConfig({ BOOKSTORE_REPLICAS: "2" }),
    (error: Error) =>
      /BOOKSTORE_REPLICAS above 1 needs BOOKSTORE_STORE=etcd/.test(error.message) && !error.message.includes("\n"),
  );
  assert.throws(() => loadConfig({ BOOKSTORE_REPLICAS: "0", BOOKSTORE_STORE: "etcd" }), /BOOKSTORE_REPLICAS/);
});

Deno.test("validator URLs are lists, instance k at position k", () => {
  const config = loadConfig({ FRAUD_DETECTION_URL: "http://127.0.0.1:50051, http://127.0.0.1:50151/" });
  assert.deepEqual(config.urls.fraudDetection, ["http://127.0.0.1:50051", "http://127.0.0.1:50151"]);
  assert.deepEqual(config.urls.suggestions, ["http://127.0.0.1:50053"]);
  assert.throws(() => loadConfig({ SUGGESTIONS_URL: "," }), /SUGGESTIONS_URL/);
});
