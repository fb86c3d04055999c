/**
 * compose.replicated.yaml cannot run here (no Docker engine), so it is checked instead, as tests/compose_test.ts
 * checks compose.yaml: every process kind of the replicated dev topology is there (the scaled-out services
 * BOOKSTORE_REPLICAS times), each runs the same entry point, listens on the port it is health-checked on, reaches
 * its peers by their service names with a valid configuration, each numbered instance the dev topology's (its
 * BOOKSTORE_INSTANCE, its place in every URL list); HAProxy (deploy/haproxy/haproxy.cfg) spreads the
 * shop and the API over their instances.
 */
import { haproxyConfig } from "@bookstore/dev/load_balancer";
import assert from "node:assert/strict";
import { parse } from "yaml";
import { type Config, loadConfig } from "@bookstore/lib/config";
import { V8_FLAGS } from "@bookstore/dev/topology";
import { ROOT } from "./support/buf.ts";
import {
  assertNumbering,
  BALANCER,
  denoSpec,
  DEPLOY_REPLICAS,
  hostPort,
  listeningPort,
  nonLoopbackAddresses,
  numberedKinds,
  processKind,
  replicatedTopology,
  topologyKinds,
} from "./support/deploy.ts";

interface ComposeService {
  image?: string;
  command: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string }>;
  ports?: string[];
  volumes?: string[];
}

const composeText = await Deno.readTextFile(new URL("compose.replicated.yaml", ROOT));
const compose = parse(composeText, { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const haproxy = await Deno.readTextFile(new URL("deploy/haproxy/haproxy.cfg", ROOT));
const replicas = Number(compose.services.web_1?.environment?.BOOKSTORE_REPLICAS);
const names = Object.keys(compose.services);
const ofKind = (kind: string) => names.filter((name) => name !== BALANCER && processKind(name) === kind);
const denoServices = names.filter((name) => compose.services[name].command?.[0] === "run");
const etcdServices = ofKind("etcd");

const configOf = (name: string) =>
  loadConfig({ ...compose.services[name].environment, BOOKSTORE_SERVICE_TOKEN: "t".repeat(32) });
const portOf = (name: string, config: Config = configOf(name)) => listeningPort(processKind(name), config);

// HAProxy's sections: each header line (`backend web`) with the lines under it.
const sections = new Map<string, string[]>();
let current = "";
for (const line of haproxy.split("\n").map((l) => l.replace(/#.*/, "").trimEnd()).filter(Boolean)) {
  if (/^\S/.test(line)) sections.set(current = line, []);
  else sections.get(current)!.push(line.trim());
}
const backendBehind = (port: number) => {
  const frontend = [...sections].find(([head, lines]) =>
    head.startsWith("frontend") && lines.includes(`bind :${port}`)
  );
  assert.ok(frontend, `HAProxy serves port ${port}`);
  const backend = frontend[1].find((l) => l.startsWith("default_backend "))!.split(" ")[1];
  return sections.get(`backend ${backend}`)!;
};

Deno.test("compose.replicated.yaml runs every process of the replicated topology, scaled-out ones N times", () => {
  assert.equal(replicas, DEPLOY_REPLICAS);
  assert.deepEqual(names.sort(), replicatedTopology.map((s) => s.name).sort());
  assert.equal(compose.services[BALANCER].image, "haproxy:2.6");
});

Deno.test("each container runs the dev topology's entry point on its port, health-checked there", () => {
  for (const name of denoServices) {
    const kind = processKind(name);
    const { command, healthcheck } = compose.services[name];
    assert.equal(command.at(-1), denoSpec(kind).entry, `${name} entry point`);
    assert.ok(command.includes("--allow-write=/data"), `${name} may write only its data directory`);
    for (const flag of V8_FLAGS) assert.ok(command.includes(flag), `${name} runs with ${flag}, as in dev`);
    const port = portOf(name);
    assert.equal(port, hostPort(name), `${name} listens on the dev topology's port for a host of its own`);
    assert.ok(healthcheck?.test.join(" ").includes(`:${port}/healthz`), `${name} is health-checked where it listens`);
  }
});

Deno.test("containers reach each other by service name, with valid configuration", () => {
  const etcdEndpoints = etcdServices.map((name) => `http://${name}:2379`);
  for (const name of denoServices) {
    const config = configOf(name);
    assert.equal(config.host, "0.0.0.0", `${name} listens on every interface`);
    assert.equal(config.env, "production");
    assert.equal(config.faults, false, "no fault injection in containers");
    assert.equal(config.store.kind, "etcd");
    assert.deepEqual(config.store.etcdEndpoints, etcdEndpoints);
    const executors = ofKind("order_executor");
    assert.deepEqual(
      [...config.executor.peers],
      executors.map((peerName) => [configOf(peerName).executor.id, `http://${peerName}:${portOf(peerName)}`]),
    );
    if (processKind(name) === "order_executor") assert.equal(`order_executor_${config.executor.id}`, name);
    if (processKind(name) === "order_queue") assert.equal(config.queueReplicas.count, ofKind("order_queue").length);
    assert.equal(
      "BOOKSTORE_FINGERPRINT_KEY" in compose.services[name].environment!,
      "BOOKSTORE_FINGERPRINT_KEY" in denoSpec(processKind(name)).env,
      `${name} gets the fingerprint key as in the dev topology`,
    );
  }
});

Deno.test("each instance has its dev number, and every URL list its order: entry k is the container numbered k", () => {
  for (const kind of numberedKinds()) {
    for (const name of ofKind(kind)) assert.ok("BOOKSTORE_INSTANCE" in compose.services[name].environment!, name);
  }
  assertNumbering(denoServices.map((name) => ({ name, host: name, config: configOf(name), numbered: true })));
});

Deno.test("no client address is trusted: Docker chooses the load balancer's, and this file writes none", () => {
  for (const name of denoServices) assert.deepEqual(configOf(name).trustedProxies, [], name);
  assert.deepEqual(nonLoopbackAddresses(`${composeText}\n${haproxy}`), []);
});

Deno.test("three etcd members, each on its volume, named in one initial cluster", () => {
  assert.equal(etcdServices.length, topologyKinds().get("etcd")!.length);
  for (const name of etcdServices) {
    const flags = new Map(
      compose.services[name].command.slice(1).map((a) => a.split(/=(.*)/s).slice(0, 2) as [string, string]),
    );
    assert.equal(flags.get("--name"), name);
    assert.equal(flags.get("--advertise-client-urls"), `http://${name}:2379`);
    assert.equal(flags.get("--initial-advertise-peer-urls"), `http://${name}:2380`);
    assert.equal(flags.get("--initial-cluster"), etcdServices.map((n) => `${n}=http://${n}:2380`).join(","));
    assert.deepEqual(compose.services[name].volumes, [`${name}_data:${flags.get("--data-dir")}`]);
    assert.ok(`${name}_data` in compose.volumes);
  }
});

Deno.test("containers start after the healthy ones they need; only the load balancer is published", () => {
  const needs = (name: string): string[] =>
    Object.entries(compose.services[name].depends_on ?? {}).flatMap(([dep, { condition }]) => {
      assert.equal(condition, "service_healthy", `${name} waits for ${dep} to be healthy`);
      assert.ok(compose.services[dep].healthcheck, `${dep} has a health check`);
      return [dep, ...needs(dep)];
    });
  for (const name of denoServices) {
    for (const etcd of etcdServices) assert.ok(needs(name).includes(etcd), `${name} starts after ${etcd}`);
    assert.equal(compose.services[name].ports, undefined, `${name} is reached through the load balancer`);
  }
  for (const name of [...ofKind("orchestrator"), ...ofKind("web")]) assert.ok(needs(BALANCER).includes(name));
  assert.deepEqual(compose.services[BALANCER].ports, ["8000:8000", "8081:8081"]);
  assert.deepEqual(compose.services[BALANCER].volumes, [
    "./deploy/haproxy/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro",
  ]);
});

Deno.test("HAProxy spreads the shop and the API over every instance, checking /healthz", () => {
  for (const kind of ["web", "orchestrator"]) {
    const backend = backendBehind(portOf(`${kind}_1`));
    assert.ok(backend.includes("option httpchk GET /healthz"), `${kind} instances are health-checked`);
    const balance = backend.find((l) => l.startsWith("balance "));
    // As dev's load balancer: a checkout's retries reach the orchestrator of its first attempt.
    assert.equal(balance, kind === "orchestrator" ? "balance hdr(Idempotency-Key)" : "balance roundrobin");
    assert.deepEqual(
      backend.filter((l) => l.startsWith("server ")),
      ofKind(kind).map((name) => `server ${name} ${name}:${portOf(name)}`),
    );
  }
});

Deno.test("HAProxy keeps server-sent events open, and asks only a loopback resolver", () => {
  const defaults = sections.get("defaults")!;
  for (const timeout of ["client", "server"]) {
    const value = defaults.find((l) => l.startsWith(`timeout ${timeout} `))?.split(" ")[2];
    assert.match(value ?? "", /^\d+h$/, `timeout ${timeout} outlasts a quiet event stream`);
  }
  const nameservers = [...sections.values()].flat().filter((l) => l.startsWith("nameserver "));
  assert.ok(nameservers.length > 0);
  for (const line of nameservers) assert.match(line.split(" ")[2], /^127\.\d+\.\d+\.\d+:53$/);
});

Deno.test("HAProxy retries and forwards as dev's load balancer does: never resends a request that reached an instance", () => {
  const dev = haproxyConfig({
    health: { host: "127.0.0.1", port: 8404 },
    frontends: [{
      name: "web",
      bind: { host: "127.0.0.1", port: 8000 },
      backends: [{ name: "web_1", host: "127.0.0.1", port: 8100 }],
    }],
  });
  const devDefaults = dev.slice(dev.indexOf("defaults"), dev.indexOf("frontend")).split("\n")
    .map((l) => l.trim()).filter((l) => /^(option (forwardfor|redispatch|httpclose)|retries|retry-on)\b/.test(l));
  assert.ok(devDefaults.length >= 5, `dev's defaults: ${devDefaults.join("; ")}`);
  const defaults = sections.get("defaults")!;
  for (const line of devDefaults) assert.ok(defaults.includes(line), `deploy/haproxy/haproxy.cfg lacks "${line}"`);
});
