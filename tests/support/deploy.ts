/**
 * What the deploy-file tests (tests/compose_test.ts, tests/compose_replicated_test.ts, tests/deploy_test.ts) hold
 * the files to: the dev topology of the replicated system, and its process kinds.
 *
 * @module
 */
import { type Config, DEFAULT_ETCD_PORTS, envSchema, loadConfig } from "@bookstore/lib/config";
import { buildTopology, type DenoProcessSpec, type ProcessSpec } from "@bookstore/dev/topology";

/** How many order queue replicas the replicated deploy files run: the configuration's default with etcd. */
export const QUEUE_REPLICAS = loadConfig({ BOOKSTORE_STORE: "etcd" }).queueReplicas.count;

/** The replicated system as `deno task dev` runs it: three etcd members, the queue replicas, four executors. */
export const replicatedTopology: ProcessSpec[] = buildTopology({
  dataDir: "/data",
  serviceToken: "x".repeat(32),
  fingerprintKey: "y".repeat(32),
  store: { kind: "etcd", members: DEFAULT_ETCD_PORTS },
  queueReplicas: QUEUE_REPLICAS,
});

/**
 * Whether this configuration knows `BOOKSTORE_REPLICAS` (validator URLs as lists): the replicated files' environment
 * is only valid under a configuration that does.
 */
export const SCALED_CONFIG = "BOOKSTORE_REPLICAS" in envSchema.shape;

if (!SCALED_CONFIG) {
  console.log(
    "lib/env.ts has no BOOKSTORE_REPLICAS yet: the replicated deploy files' configuration checks are skipped",
  );
}

/** A process's kind: its name without an instance number (`order_executor_3` → `order_executor`, `etcd2` → `etcd`). */
export function processKind(name: string): string {
  return name.replace(/_\d+$/, "").replace(/^etcd\d+$/, "etcd");
}

/** The processes of the dev topology by kind. */
export function topologyKinds(): Map<string, ProcessSpec[]> {
  const kinds = new Map<string, ProcessSpec[]>();
  for (const spec of replicatedTopology) {
    kinds.set(processKind(spec.name), [...kinds.get(processKind(spec.name)) ?? [], spec]);
  }
  return kinds;
}

/** The first process of a Deno kind in the dev topology (its entry point and default port). */
export function denoSpec(kind: string): DenoProcessSpec {
  const spec = topologyKinds().get(kind)?.[0];
  if (spec === undefined || !("entry" in spec)) throw new Error(`no Deno process ${kind} in the dev topology`);
  return spec;
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
