/** The topology with etcd: members first, queue replicas numbered, and every process's environment a valid config. */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import {
  buildTopology,
  configuredStore,
  DEFAULT_PORTS,
  etcdMemberNames,
  frontInstances,
  LOAD_BALANCER,
  type ProcessSpec,
} from "./topology.ts";

const base = { dataDir: "/tmp/d", serviceToken: "t".repeat(16), fingerprintKey: "k".repeat(16) };
const members = [{ client: 4001, peer: 4002 }, { client: 4011, peer: 4012 }, { client: 4021, peer: 4022 }];

function configOf(spec: ProcessSpec) {
  return loadConfig(spec.env);
}

Deno.test("the embedded default: one queue named order_queue, no etcd member, no supervisor URL", () => {
  const specs = buildTopology(base);
  assert.deepEqual(etcdMemberNames(specs), []);
  assert.deepEqual(specs.filter((s) => s.name.startsWith("order_queue")).map((s) => s.name), ["order_queue"]);
  for (const spec of specs) {
    const config = configOf(spec);
    assert.equal(config.store.kind, "kv", spec.name);
    assert.deepEqual(config.urls.orderQueue, [`http://127.0.0.1:${DEFAULT_PORTS.orderQueue}`]);
  }
  assert.equal(specs.find((s) => s.name === "web")!.env.BOOKSTORE_SUPERVISOR_URL, undefined);
});

Deno.test("with etcd members the members come first, the queue replicas are numbered on consecutive ports", () => {
  const specs = buildTopology({
    ...base,
    store: { kind: "etcd", members },
    queueReplicas: 2,
    supervisorUrl: "http://127.0.0.1:4999",
  });
  assert.deepEqual(specs.slice(0, 3).map((s) => s.name), ["etcd1", "etcd2", "etcd3"]);
  assert.deepEqual(etcdMemberNames(specs), ["etcd1", "etcd2", "etcd3"]);
  const etcd2 = specs[1];
  assert.ok("command" in etcd2);
  assert.equal(etcd2.command, "etcd");
  assert.equal(etcd2.port, 4011);
  assert.equal(etcd2.healthPath, "/health", "etcd answers /health with 200 only while it has a leader");
  assert.ok(etcd2.args.includes("--data-dir=/tmp/d/etcd/etcd2.etcd"));
  assert.ok(etcd2.args.includes("--listen-peer-urls=http://127.0.0.1:4012"));

  const queues = specs.filter((s) => s.name.startsWith("order_queue"));
  assert.deepEqual(queues.map((s) => [s.name, s.port]), [
    ["order_queue_1", DEFAULT_PORTS.orderQueue],
    ["order_queue_2", DEFAULT_PORTS.orderQueue + 1],
  ]);
  for (const queue of queues) {
    const config = configOf(queue);
    assert.equal(config.ports.orderQueue, queue.port, `${queue.name} listens where the topology says`);
    assert.ok("entry" in queue && queue.entry === "services/order_queue/main.ts");
  }
  for (const spec of specs.filter((s) => "entry" in s)) {
    const config = configOf(spec);
    assert.equal(config.store.kind, "etcd", spec.name);
    assert.deepEqual(config.store.etcdEndpoints, members.map((m) => `http://127.0.0.1:${m.client}`), spec.name);
    assert.equal(config.queueReplicas.count, 2);
    assert.equal(config.urls.orderQueue.length, 2, `${spec.name} knows every queue replica`);
  }
  const supervised = specs.filter((s) => s.env.BOOKSTORE_SUPERVISOR_URL !== undefined).map((s) => s.name);
  assert.deepEqual(supervised, ["web"], "only the web app is told where the supervisor is");
});

Deno.test("an existing cluster runs no member; the services get its endpoints", () => {
  const endpoints = ["http://127.0.0.9:2379", "http://127.0.0.8:2379"];
  const specs = buildTopology({ ...base, store: { kind: "etcd", endpoints }, queueReplicas: 3 });
  assert.deepEqual(etcdMemberNames(specs), []);
  assert.deepEqual(configOf(specs.find((s) => s.name === "orchestrator")!).store.etcdEndpoints, endpoints);
  const queues = specs.filter((s) => s.name.startsWith("order_queue_"));
  assert.equal(queues.length, 3);
  for (const queue of queues) {
    const config = configOf(queue);
    assert.equal(config.queueReplicas.count, 3, `${queue.name} knows there are three`);
    assert.equal(config.ports.orderQueue, queue.port);
  }
});

Deno.test("a configuration's store is what the topology runs", () => {
  assert.deepEqual(configuredStore(loadConfig({})), { kind: "kv" });
  assert.deepEqual(configuredStore(loadConfig({ BOOKSTORE_STORE: "etcd", BOOKSTORE_ETCD_PORTS: "4001:4002" })), {
    kind: "etcd",
    members: [{ client: 4001, peer: 4002 }],
  });
  assert.deepEqual(
    configuredStore(loadConfig({ BOOKSTORE_STORE: "etcd", BOOKSTORE_ETCD_ENDPOINTS: "http://127.0.0.9:2379" })),
    { kind: "etcd", endpoints: ["http://127.0.0.9:2379"] },
  );
});

Deno.test("BOOKSTORE_REPLICAS=2: two numbered instances of each validator, orchestrator and web app, on the port scheme", () => {
  const specs = buildTopology({ ...base, store: { kind: "etcd", members }, queueReplicas: 2, replicas: 2 });
  const named = (prefix: string) => specs.filter((s) => s.name.startsWith(prefix)).map((s) => [s.name, s.port]);
  assert.deepEqual(named("transaction_verification"), [
    ["transaction_verification_1", 50052],
    ["transaction_verification_2", 50152],
  ]);
  assert.deepEqual(named("fraud_detection"), [["fraud_detection_1", 50051], ["fraud_detection_2", 50151]]);
  assert.deepEqual(named("suggestions"), [["suggestions_1", 50053], ["suggestions_2", 50153]]);
  assert.deepEqual(named("orchestrator"), [["orchestrator_1", 8181], ["orchestrator_2", 8281]]);
  assert.deepEqual(named("web"), [["web_1", 8100], ["web_2", 8200]]);
  assert.deepEqual(frontInstances(2), {
    orchestrator: [{ name: "orchestrator_1", port: 8181 }, { name: "orchestrator_2", port: 8281 }],
    web: [{ name: "web_1", port: 8100 }, { name: "web_2", port: 8200 }],
  });
  assert.equal(new Set(specs.map((s) => s.port)).size, specs.length, "no two processes share a port");
  for (const spec of specs.filter((s) => "entry" in s)) {
    const config = configOf(spec);
    assert.equal(config.replicas, 2, spec.name);
    assert.deepEqual(config.urls.fraudDetection, ["http://127.0.0.1:50051", "http://127.0.0.1:50151"], spec.name);
    assert.deepEqual(config.urls.orchestrator, ["http://127.0.0.1:8181", "http://127.0.0.1:8281"], spec.name);
    assert.equal(config.web.orchestratorPublicUrl, "http://localhost:8081", "browsers go through the load balancer");
  }
  for (const spec of specs.filter((s) => /_\d$/.test(s.name) && !/^(order_|etcd)/.test(s.name))) {
    const config = configOf(spec);
    assert.equal(config.instance, Number(spec.name.at(-1)), `${spec.name} knows its number`);
    const own = spec.name.startsWith("web") ? config.web.port : config.ports[portKey(spec.name)];
    assert.equal(own, spec.port, `${spec.name} listens where the topology says`);
  }
  assert.ok(
    specs.find((s) => s.name === "fraud_detection_2")!.env.BOOKSTORE_FINGERPRINT_KEY,
    "every fraud_detection instance fingerprints",
  );
});

Deno.test("one replica keeps today's names and ports", () => {
  const names = buildTopology(base).map((s) => s.name);
  for (const name of ["transaction_verification", "fraud_detection", "suggestions", "orchestrator", "web"]) {
    assert.ok(names.includes(name), name);
  }
  assert.deepEqual(frontInstances(1), {
    orchestrator: [{ name: "orchestrator", port: 8081 }],
    web: [{ name: "web", port: 8000 }],
  });
});

function portKey(name: string): "orchestrator" | "transactionVerification" | "fraudDetection" | "suggestions" {
  const base = name.replace(/_\d+$/, "");
  return base === "transaction_verification"
    ? "transactionVerification"
    : base === "fraud_detection"
    ? "fraudDetection"
    : base as "orchestrator" | "suggestions";
}

Deno.test("each process a host: it binds to its address, its peers and the etcd members are named by theirs", () => {
  const names: string[] = [];
  const hostOf = (name: string) => {
    if (!names.includes(name)) names.push(name);
    return { namespace: `bks-1-${name}`, address: `127.77.1.${names.indexOf(name) + 1}` };
  };
  const specs = buildTopology({ ...base, store: { kind: "etcd", members }, queueReplicas: 2, replicas: 2, hostOf });
  assert.ok(specs.some((spec) => spec.name === LOAD_BALANCER));
  for (const spec of specs) {
    assert.deepEqual(spec.host, hostOf(spec.name), spec.name);
    if ("command" in spec) {
      // An etcd member listens and advertises on its own address, HAProxy binds to its own; each names the others
      // by theirs.
      const args = spec.args.join(" ");
      if (spec.name === LOAD_BALANCER) {
        assert.match(args, new RegExp(`bind ${hostOf(LOAD_BALANCER).address.replaceAll(".", "\\.")}:`));
        assert.match(args, new RegExp(`${hostOf("orchestrator_2").address.replaceAll(".", "\\.")}:`));
      } else assert.match(args, new RegExp(`--listen-client-urls=http://${hostOf(spec.name).address}:`));
      assert.doesNotMatch(args, /127\.0\.0\.1/);
      continue;
    }
    const config = configOf(spec);
    assert.equal(config.host, hostOf(spec.name).address, `${spec.name} binds to its host's address`);
    const urls = [
      config.store.etcdEndpoints,
      config.urls.orderQueue,
      config.urls.orchestrator,
      config.urls.transactionVerification,
      config.urls.fraudDetection,
      config.urls.suggestions,
      [...config.executor.peers.values()],
    ].flat();
    for (const url of urls) assert.match(url, /^http:\/\/127\.77\.1\.\d+:\d+$/, `${spec.name}: ${url}`);
    assert.deepEqual(
      [config.urls.orchestrator].flat(),
      frontInstances(2).orchestrator.map(({ name, port }) => `http://${hostOf(name).address}:${port}`),
    );
    assert.equal(config.store.etcdEndpoints[0], `http://${hostOf("etcd1").address}:${members[0].client}`);
  }
});
