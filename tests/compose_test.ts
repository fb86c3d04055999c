/**
 * compose.yaml cannot run here (no Docker engine), so it is checked instead:
 * it parses, it has one container per process of the dev topology, each runs
 * the same entry point, listens on the same default port, and reaches its
 * peers by their service names; the configuration it sets is valid.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { loadConfig } from "@bookstore/lib/config";
import { buildTopology, DEFAULT_PORTS, V8_FLAGS } from "@bookstore/dev/topology";
import { ROOT } from "./support/buf.ts";

interface ComposeService {
  command: string[];
  environment: Record<string, string>;
  healthcheck: { test: string[] };
  ports?: string[];
  volumes?: string[];
}

const compose = parse(await Deno.readTextFile(new URL("compose.yaml", ROOT)), { merge: true }) as {
  services: Record<string, ComposeService>;
  volumes: Record<string, unknown>;
};
const topology = buildTopology({
  dataDir: "/data",
  serviceToken: "x".repeat(32),
  fingerprintKey: "y".repeat(32),
  ports: DEFAULT_PORTS,
});

Deno.test("compose.yaml has one container per process of the dev topology", () => {
  assert.deepEqual(Object.keys(compose.services).sort(), topology.map((p) => p.name).sort());
});

Deno.test("each container runs the same entry point on the same port, and is health-checked", () => {
  for (const spec of topology) {
    const service = compose.services[spec.name];
    assert.equal(service.command.at(-1), spec.entry, `${spec.name} entry point`);
    assert.equal(service.command[0], "run");
    assert.ok(service.command.includes("--allow-write=/data"), `${spec.name} may write only its data directory`);
    for (const flag of V8_FLAGS) assert.ok(service.command.includes(flag), `${spec.name} runs with ${flag}, as in dev`);
    assert.ok(service.healthcheck.test.join(" ").includes(`:${spec.port}/healthz`), `${spec.name} health check`);
  }
});

Deno.test("containers reach each other by service name, with valid configuration", () => {
  for (const spec of topology) {
    const env = { ...compose.services[spec.name].environment, BOOKSTORE_SERVICE_TOKEN: "t".repeat(32) };
    const config = loadConfig(env);
    assert.equal(config.host, "0.0.0.0", `${spec.name} listens on every interface`);
    assert.equal(config.env, "production");
    assert.equal(config.faults, false, "no fault injection in containers");
    for (const [peer, urls] of Object.entries(config.urls)) {
      const name = peer.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
      const target = topology.find((p) => p.name === name)!;
      assert.deepEqual([urls].flat(), [`http://${name}:${target.port}`], `${spec.name} → ${peer}`);
    }
    assert.deepEqual(
      [...config.executor.peers],
      [1, 2, 3, 4].map((id) => [id, `http://order_executor_${id}:${DEFAULT_PORTS.executors[id - 1]}`]),
    );
    if (spec.name.startsWith("order_executor_")) {
      assert.equal(String(config.executor.id), spec.env.EXECUTOR_ID);
      assert.equal(config.executor.port, spec.port);
    }
  }
});

Deno.test("only the services that fingerprint cards and contacts get the fingerprint key", () => {
  for (const spec of topology) {
    const has = "BOOKSTORE_FINGERPRINT_KEY" in compose.services[spec.name].environment;
    assert.equal(has, ["transaction_verification", "fraud_detection"].includes(spec.name), spec.name);
    assert.equal(has, "BOOKSTORE_FINGERPRINT_KEY" in spec.env, `${spec.name} in the dev topology`);
  }
});

Deno.test("every stateful service keeps its Deno KV file on a volume of its own", () => {
  for (const name of ["order_queue", "fraud_detection", "suggestions", "orchestrator"]) {
    assert.deepEqual(compose.services[name].volumes, [`${name}_data:/data`]);
    assert.ok(name + "_data" in compose.volumes);
  }
  assert.deepEqual(compose.services.web.ports, ["8000:8000"]);
  assert.deepEqual(compose.services.orchestrator.ports, ["8081:8081"]);
});
