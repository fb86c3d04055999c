/**
 * What the deploy-file tests (tests/compose_test.ts, tests/compose_replicated_test.ts, tests/deploy_test.ts) hold
 * the files to: the dev topology of the replicated system, its process kinds, and its instance numbering.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Config, DEFAULT_ETCD_PORTS, DEFAULT_PORTS, loadConfig } from "@bookstore/lib/config";
import {
  buildTopology,
  type DenoProcessSpec,
  type ProcessSpec,
  type ServiceInstances,
  serviceInstances,
} from "@bookstore/dev/topology";

/** How many order queue replicas the replicated deploy files run: the configuration's default with etcd. */
export const QUEUE_REPLICAS = loadConfig({ BOOKSTORE_STORE: "etcd" }).queueReplicas.count;

/** How many instances of each validator, of the orchestrator and of the web app the deploy files run (`BOOKSTORE_REPLICAS`). */
export const DEPLOY_REPLICAS = 2;

/** The replicated system as `deno task dev` runs it with `BOOKSTORE_REPLICAS=2`: three etcd members, the queue replicas, four executors. */
export const replicatedTopology: ProcessSpec[] = buildTopology({
  dataDir: "/data",
  serviceToken: "x".repeat(32),
  fingerprintKey: "y".repeat(32),
  store: { kind: "etcd", members: DEFAULT_ETCD_PORTS },
  queueReplicas: QUEUE_REPLICAS,
  replicas: DEPLOY_REPLICAS,
});

/** A process's kind: its name without an instance number (`order_executor_3` → `order_executor`, `etcd2` → `etcd`). */
export function processKind(name: string): string {
  return name.replace(/_\d+$/, "").replace(/^etcd\d+$/, "etcd");
}

/** The name of the load balancer in the dev topology and in compose.replicated.yaml. */
export const BALANCER = "load_balancer";

/**
 * The processes of the dev topology by kind, but for the load balancer: HAProxy in compose (checked against dev's
 * by tests/compose_replicated_test.ts), Services in Kubernetes.
 */
export function topologyKinds(): Map<string, ProcessSpec[]> {
  const kinds = new Map<string, ProcessSpec[]>();
  for (const spec of replicatedTopology.filter((spec) => spec.name !== BALANCER)) {
    kinds.set(processKind(spec.name), [...kinds.get(processKind(spec.name)) ?? [], spec]);
  }
  return kinds;
}

/** The kinds the dev topology gives each instance a number (`BOOKSTORE_INSTANCE`): the scaled-out services. */
export function numberedKinds(): string[] {
  return [...topologyKinds()].filter(([, specs]) => "BOOKSTORE_INSTANCE" in specs[0].env).map(([kind]) => kind);
}

/** The first process of a Deno kind in the dev topology (its entry point). */
export function denoSpec(kind: string): DenoProcessSpec {
  const spec = topologyKinds().get(kind)?.[0];
  if (spec === undefined || !("entry" in spec)) throw new Error(`no Deno process ${kind} in the dev topology`);
  return spec;
}

/** A config field's process kind (`transactionVerification` → `transaction_verification`). */
export function kindOfField(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Where the dev topology's process `name` listens when it is a host of its own, as in a deploy file: an instance of
 * a scaled-out service keeps its service's port (the dev topology moves it only to share one machine's address with
 * the others, and the load balancer's public port); every other process keeps its own.
 */
export function hostPort(name: string): number {
  const spec = replicatedTopology.find((s) => s.name === name);
  assert.ok(spec, `no process ${name} in the dev topology`);
  const field = processKind(name).replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof ServiceInstances;
  return serviceInstances(DEFAULT_PORTS, 1)[field]?.[0].port ?? spec.port;
}

/** Where a process of `kind` listens, as its configuration says. */
export function listeningPort(kind: string, config: Config): number {
  if (kind === "web") return config.web.port;
  if (kind === "order_executor") return config.executor.port;
  const key = kind.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase()) as keyof Config["ports"];
  return config.ports[key];
}

/** Every URL a configuration gives a peer, as a list whether the configuration reads one URL or several. */
export function urlsOf(value: string | readonly string[]): string[] {
  return [value].flat();
}

/** One process of a deploy file, after `loadConfig` read the environment the file gives it. */
export interface DeployedProcess {
  /** The dev topology's process it stands for (`orchestrator_2`). */
  name: string;
  /** The host name its peers reach it by (`orchestrator_2`, `orchestrator-1.orchestrator-pods`). */
  host: string;
  /** Its configuration. */
  config: Config;
  /** Whether the file gives it its number, as the dev topology does (a Kubernetes Deployment's pods have none). */
  numbered: boolean;
}

// A process's number among its kind: the instance, queue replica or Bully id its configuration gives it.
function numberOf(name: string, config: Config): number {
  const kind = processKind(name);
  if (kind === "order_queue") return config.queueReplicas.self;
  if (kind === "order_executor") return config.executor.id;
  return config.instance;
}

/**
 * Holds a deploy file's processes to the dev topology's numbering: each numbered one has the number
 * (`BOOKSTORE_INSTANCE`, `ORDER_QUEUE_REPLICA`) its counterpart has there, and every URL list it is given has the
 * dev topology's length and order, its k-th entry resolving to the process that stands for the dev topology's k-th
 * (same name, same number), at the port that process listens on. A load balancer's address, or a Service that
 * spreads over instances, resolves to no process and fails.
 */
export function assertNumbering(deployed: readonly DeployedProcess[]): void {
  const topologyConfig = (name: string) => {
    const spec = replicatedTopology.find((s) => s.name === name);
    assert.ok(spec, `no process ${name} in the dev topology`);
    return loadConfig(spec.env);
  };
  for (const process of deployed) {
    const dev = topologyConfig(process.name);
    if (process.numbered) {
      assert.equal(numberOf(process.name, process.config), numberOf(process.name, dev), `${process.name}'s number`);
    }
    for (const [field, urls] of Object.entries(process.config.urls)) {
      const devUrls = urlsOf(dev.urls[field as keyof Config["urls"]]);
      const at = `${process.name} → ${field}`;
      assert.equal(urls.length, devUrls.length, `${at}: as many entries as in the dev topology`);
      urlsOf(urls).forEach((url, i) => {
        const devPort = Number(new URL(devUrls[i]).port);
        const devTarget = replicatedTopology.find((s) =>
          processKind(s.name) === kindOfField(field) && s.port === devPort
        );
        assert.ok(devTarget, `${at}: the dev topology's entry ${i + 1} is a process of it`);
        const target = deployed.find((d) => d.host === new URL(url).hostname);
        assert.ok(target, `${at}: entry ${i + 1} (${url}) is no process of the deploy file`);
        assert.equal(target.name, devTarget.name, `${at}: entry ${i + 1} is ${devTarget.name}, as in the dev topology`);
        assert.ok(target.numbered, `${at}: entry ${i + 1} (${url}) has a number`);
        assert.equal(
          numberOf(target.name, target.config),
          numberOf(devTarget.name, topologyConfig(devTarget.name)),
          `${at}: entry ${i + 1} is the process numbered so`,
        );
        assert.equal(
          Number(new URL(url).port),
          listeningPort(processKind(target.name), target.config),
          `${at}: entry ${i + 1} names the port ${target.name} listens on`,
        );
      });
    }
  }
}

/**
 * The IPv4 literals in `text` outside loopback (0.0.0.0, "every interface", aside): a deploy file names peers by
 * name, and an address of a private or public network written in this repository could be sent to.
 */
export function nonLoopbackAddresses(text: string): string[] {
  return [...text.matchAll(/\b\d{1,3}(?:\.\d{1,3}){3}\b/g)].map(([ip]) => ip)
    .filter((ip) => !ip.startsWith("127.") && ip !== "0.0.0.0");
}
