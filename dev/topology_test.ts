/** The topology with etcd: members first, queue replicas numbered, and every process's environment a valid config. */
import assert from "node:assert/strict";
import { loadConfig } from "@bookstore/lib/config";
import { buildTopology, configuredStore, DEFAULT_PORTS, etcdMemberNames, type ProcessSpec } from "./topology.ts";

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

Deno.test("each process a host: it binds to its address, its peers and the etcd members are named by theirs", () => {
  const names: string[] = [];
  const hostOf = (name: string) => {
    if (!names.includes(name)) names.push(name);
    return { namespace: `bks-1-${name}`, address: `127.77.1.${names.indexOf(name) + 1}` };
  };
  const specs = buildTopology({ ...base, store: { kind: "etcd", members }, queueReplicas: 2, hostOf });
  for (const spec of specs) {
    assert.deepEqual(spec.host, hostOf(spec.name), spec.name);
    if ("command" in spec) {
      // An etcd member listens and advertises on its own address; its peers on theirs.
      const args = spec.args.join(" ");
      assert.match(args, new RegExp(`--listen-client-urls=http://${hostOf(spec.name).address}:`));
      assert.doesNotMatch(args, /127\.0\.0\.1/);
      continue;
    }
    const config = configOf(spec);
    assert.equal(config.host, hostOf(spec.name).address, `${spec.name} binds to its host's address`);
    const urls = [
      ...config.store.etcdEndpoints,
      ...config.urls.orderQueue,
      config.urls.orchestrator,
      config.urls.transactionVerification,
      config.urls.fraudDetection,
      config.urls.suggestions,
      ...config.executor.peers.values(),
    ];
    for (const url of urls) assert.match(url, /^http:\/\/127\.77\.1\.\d+:\d+$/, `${spec.name}: ${url}`);
    assert.equal(config.urls.orchestrator, `http://${hostOf("orchestrator").address}:${DEFAULT_PORTS.orchestrator}`);
    assert.equal(config.store.etcdEndpoints[0], `http://${hostOf("etcd1").address}:${members[0].client}`);
  }
});
