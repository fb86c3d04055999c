/**
 * deploy/k8s cannot be applied here (no cluster), so it is checked instead: `kubectl kustomize` builds it offline,
 * every object is valid for its Kubernetes schema (kubernetes-models), and each pod, with the environment Kubernetes
 * would give it (ConfigMap, Secret, its own name, its start-up wrapper run for real), is a process of the dev
 * topology: same entry point, listening on the port its probes and its Service name, reaching its peers by the names
 * their Services give them, with a configuration `loadConfig` accepts; each numbered instance is the dev topology's
 * (its BOOKSTORE_INSTANCE from its ordinal, its place in every URL list), reached by its own pod's name.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { ConfigMap, type IContainer, type IPodTemplateSpec, Secret, Service } from "kubernetes-models/v1";
import { Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { type Config, loadConfig } from "@bookstore/lib/config";
import { frontInstances, V8_FLAGS } from "@bookstore/dev/topology";
import { ROOT } from "./support/buf.ts";
import {
  assertNumbering,
  denoSpec,
  DEPLOY_REPLICAS,
  type DeployedProcess,
  hostPort,
  kindOfField,
  listeningPort,
  nonLoopbackAddresses,
  numberedKinds,
  topologyKinds,
} from "./support/deploy.ts";

const MODELS = { ConfigMap, Secret, Service, Deployment, StatefulSet, PodDisruptionBudget };
type Workload = StatefulSet | Deployment;

async function kustomize(): Promise<string | undefined> {
  try {
    const { success, stdout, stderr } = await new Deno.Command("kubectl", {
      args: ["kustomize", new URL("deploy/k8s", ROOT).pathname],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(success, `kubectl kustomize failed: ${new TextDecoder().decode(stderr)}`);
    return new TextDecoder().decode(stdout);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    console.log("kubectl is not installed: deploy/k8s is not checked");
    return undefined;
  }
}

const built = await kustomize();
const noKubectl = built === undefined;
const objects = parseAllDocuments(built ?? "").map((doc) => doc.toJS()).map((obj) => {
  const Model = MODELS[obj.kind as keyof typeof MODELS];
  assert.ok(Model, `deploy/k8s has a ${obj.kind}, which this test does not know`);
  // deno-lint-ignore no-explicit-any
  return new Model(obj as any);
});
const ofKind = <T>(model: new (...args: never[]) => T) => objects.filter((o): o is T & typeof o => o instanceof model);
const workloads: Workload[] = [...ofKind(StatefulSet), ...ofKind(Deployment)];
const configMaps = new Map(ofKind(ConfigMap).map((c) => [c.metadata!.name!, c.data ?? {}]));
const secrets = new Map(ofKind(Secret).map((s) => [s.metadata!.name!, s.data ?? {}]));
const kindOf = (w: Workload) => w.metadata!.name!.replaceAll("-", "_");
const workload = (kind: string) => workloads.find((w) => kindOf(w) === kind)!;
const serverOf = (template: IPodTemplateSpec) => template.spec!.containers[0];
const httpPort = (c: IContainer) => c.ports!.find((p) => p.name === "http")?.containerPort;
const DENO_KINDS = [...topologyKinds().keys()].filter((kind) => kind !== "etcd");
const serviceNamed = (name: string) => ofKind(Service).find((s) => s.metadata!.name === name);
// The kinds some process reaches through a list of URLs (the orchestrator, the validators, the queue replicas).
const ADDRESSED = Object.keys(loadConfig({}).urls).map(kindOfField);

// Kubernetes' own expansion of command, args and env values: $(NAME) from the container's environment, $$ for $.
function expand(text: string, env: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g,
    (match, name?: string) => name === undefined ? "$" : env[name] ?? match,
  );
}

// The environment Kubernetes gives `container` in the pod named `podName`.
function podEnv(container: IContainer, podName: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, configMaps.get(from.configMapRef!.name!));
  for (const { name, value, valueFrom } of container.env ?? []) {
    if (value !== undefined) env[name] = expand(value, env);
    else if (valueFrom?.secretKeyRef) {
      env[name] = atob(secrets.get(valueFrom.secretKeyRef.name!)![valueFrom.secretKeyRef.key]);
    } else if (valueFrom?.fieldRef?.fieldPath === "metadata.name") env[name] = podName;
    else assert.fail(`${podName}: ${name} comes from where this test cannot tell`);
  }
  return env;
}

const fakeDeno = await Deno.makeTempDir({ prefix: "deploy_test_" });
globalThis.addEventListener("unload", () => Deno.removeSync(fakeDeno, { recursive: true }));
await Deno.writeTextFile(`${fakeDeno}/deno`, `#!/bin/sh\nfor a in "$@"; do printf 'ARG %s\\n' "$a"; done\nenv\n`, {
  mode: 0o755,
});

/** What the pod `ordinal` of a Deno workload runs: its `deno` arguments and environment, after its wrapper ran. */
async function denoPod(w: Workload, ordinal: number): Promise<{ args: string[]; env: Record<string, string> }> {
  const container = serverOf(w.spec!.template);
  const env = podEnv(container, `${w.metadata!.name}-${ordinal}`);
  const args = (container.args ?? []).map((a) => expand(a, env));
  if (container.command === undefined) return { args, env };
  // The wrapper is run by a real shell with a `deno` that only says how it was called.
  const command = container.command.map((c) => expand(c, env));
  const { success, stdout } = await new Deno.Command(command[0], {
    args: [...command.slice(1), ...args],
    env: { ...env, PATH: `${fakeDeno}:/usr/bin:/bin` },
    clearEnv: true,
    stdout: "piped",
  }).output();
  assert.ok(success, `${w.metadata!.name}'s wrapper failed`);
  const lines = new TextDecoder().decode(stdout).trimEnd().split("\n");
  return {
    args: lines.filter((l) => l.startsWith("ARG ")).map((l) => l.slice(4)),
    env: Object.fromEntries(lines.filter((l) => !l.startsWith("ARG ")).map((l) => l.split(/=(.*)/s).slice(0, 2))),
  };
}

// Each Deno pod as the dev topology process it stands for: pod k-1 of a kind is its k-th, reached as
// <pod>.<headless Service>; a Deployment's pods only through their Service, with no number.
async function deployedPods(): Promise<DeployedProcess[]> {
  const pods: DeployedProcess[] = [];
  for (const kind of DENO_KINDS) {
    const w = workload(kind);
    for (let ordinal = 0; ordinal < w.spec!.replicas!; ordinal++) {
      const pod = `${w.metadata!.name}-${ordinal}`;
      pods.push({
        name: topologyKinds().get(kind)![ordinal].name,
        host: w instanceof StatefulSet ? `${pod}.${w.spec!.serviceName}` : w.metadata!.name!,
        config: loadConfig((await denoPod(w, ordinal)).env),
        numbered: w instanceof StatefulSet,
      });
    }
  }
  return pods;
}

async function eachDenoPod(check: (pod: { kind: string; ordinal: number; w: Workload; config: Config }) => void) {
  for (const kind of DENO_KINDS) {
    const w = workload(kind);
    for (let ordinal = 0; ordinal < w.spec!.replicas!; ordinal++) {
      check({ kind, ordinal, w, config: loadConfig((await denoPod(w, ordinal)).env) });
    }
  }
}

// Where a peer of `kind` is reached: every pod by its own name through a StatefulSet's headless Service, a
// Deployment's pods through their Service.
function peerUrls(kind: string): string[] {
  const w = workload(kind);
  const service = ofKind(Service).find((s) =>
    s.metadata!.name === (w instanceof StatefulSet ? w.spec!.serviceName : w.metadata!.name)
  )!;
  const port = service.spec!.ports!.find((p) => p.name === "http")!.port;
  if (!(w instanceof StatefulSet)) return [`http://${service.metadata!.name}:${port}`];
  return Array.from(
    { length: w.spec!.replicas! },
    (_, i) => `http://${w.metadata!.name}-${i}.${service.metadata!.name}:${port}`,
  );
}

function etcdClientUrls(): string[] {
  const etcd = workload("etcd") as StatefulSet;
  const service = ofKind(Service).find((s) => s.metadata!.name === etcd.spec!.serviceName)!;
  const port = service.spec!.ports!.find((p) => p.name === "client")!.port;
  return Array.from(
    { length: etcd.spec!.replicas! },
    (_, i) => `http://${etcd.metadata!.name}-${i}.${service.metadata!.name}:${port}`,
  );
}

Deno.test(
  { name: "kubectl kustomize builds deploy/k8s, and every object is valid for its schema", ignore: noKubectl },
  () => {
    assert.ok(objects.length > 0);
    for (const obj of objects) obj.validate();
  },
);

Deno.test({ name: "every process kind of the dev topology runs, as many times as there", ignore: noKubectl }, () => {
  assert.deepEqual(workloads.map(kindOf).sort(), [...topologyKinds().keys()].sort());
  assert.equal(Number(configMaps.values().next().value?.BOOKSTORE_REPLICAS), DEPLOY_REPLICAS);
  for (const [kind, specs] of topologyKinds()) assert.equal(workload(kind).spec!.replicas, specs.length, kind);
  // A Deployment's pods have no stable names or numbers: only for what no URL list addresses instance by instance.
  for (const w of ofKind(Deployment)) {
    assert.ok(!ADDRESSED.includes(kindOf(w)), `${kindOf(w)} is addressed one instance at a time: a StatefulSet`);
  }
});

Deno.test({
  name: "each pod runs the dev topology's entry point on its port, probed on /healthz there",
  ignore: noKubectl,
}, async () => {
  for (const kind of DENO_KINDS) {
    const w = workload(kind);
    const { args } = await denoPod(w, 0);
    assert.equal(args.at(-1), denoSpec(kind).entry, `${kind} entry point`);
    assert.equal(args[0], "run");
    assert.ok(args.includes("--allow-write=/data"), `${kind} may write only its data directory`);
    for (const flag of V8_FLAGS) assert.ok(args.includes(flag), `${kind} runs with ${flag}, as in dev`);
  }
  await eachDenoPod(({ kind, ordinal, w, config }) => {
    const container = serverOf(w.spec!.template);
    const port = listeningPort(kind, config);
    // Every pod of a workload declares one port: its first instance's, for a host of its own.
    const devPort = hostPort(denoSpec(kind).name);
    assert.equal(port, devPort, `${kind}-${ordinal} listens on the dev topology's port`);
    assert.equal(httpPort(container), port, `${kind}-${ordinal} declares the port it listens on`);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.equal(probe?.httpGet?.path, "/healthz", `${kind} probe`);
      const probed = probe.httpGet.port === "http" ? httpPort(container) : probe.httpGet.port;
      assert.equal(probed, port, `${kind} is probed where it listens`);
    }
  });
});

Deno.test({
  name: "pods reach their peers by the names their Services give them, with valid configuration",
  ignore: noKubectl,
}, async () => {
  for (const w of workloads) {
    const service = serviceNamed(w.metadata!.name!);
    assert.ok(service, `${w.metadata!.name} has a Service`);
    assert.deepEqual(service.spec!.selector, w.spec!.selector.matchLabels, `${w.metadata!.name}'s Service selects it`);
    if (w instanceof StatefulSet) {
      const headless = serviceNamed(w.spec!.serviceName!);
      assert.ok(headless, `${w.metadata!.name}'s serviceName is a Service`);
      assert.deepEqual(headless.spec!.selector, w.spec!.selector.matchLabels);
      assert.equal(headless.spec!.clusterIP, "None", `${w.metadata!.name}'s pods are addressed one by one`);
    }
  }
  // The shop and the public API, behind a load balancer in dev: one address over every instance.
  for (const kind of Object.keys(frontInstances(DEPLOY_REPLICAS))) {
    const service = serviceNamed(workload(kind).metadata!.name!)!;
    assert.notEqual(service.spec!.clusterIP, "None", `${kind}'s Service spreads over its pods`);
    assert.equal(service.spec!.ports!.find((p) => p.name === "http")?.port, hostPort(denoSpec(kind).name), kind);
  }
  await eachDenoPod(({ kind, ordinal, config }) => {
    const at = `${kind}-${ordinal}`;
    assert.equal(config.host, "0.0.0.0", `${at} listens on every interface`);
    assert.equal(config.env, "production");
    assert.equal(config.faults, false, "no fault injection in a cluster");
    assert.equal(config.store.kind, "etcd");
    assert.deepEqual(config.store.etcdEndpoints, etcdClientUrls(), `${at} → etcd`);
    for (const [peer, urls] of Object.entries(config.urls)) assert.deepEqual(urls, peerUrls(kindOfField(peer)), at);
    assert.deepEqual([...config.executor.peers.values()], peerUrls("order_executor"), `${at} → executors`);
  });
});

Deno.test({
  name: "each instance has its dev number from its ordinal, and every URL list its order: entry k is pod k-1",
  ignore: noKubectl,
}, async () => {
  for (const kind of numberedKinds()) {
    assert.ok(workload(kind) instanceof StatefulSet || !ADDRESSED.includes(kind), `${kind} has numbered pods`);
  }
  assertNumbering(await deployedPods());
});

Deno.test({ name: "no client address is trusted, and deploy/k8s writes none", ignore: noKubectl }, async () => {
  await eachDenoPod(({ kind, ordinal, config }) => assert.deepEqual(config.trustedProxies, [], `${kind}-${ordinal}`));
  assert.deepEqual(nonLoopbackAddresses(built ?? ""), []);
});

Deno.test({
  name: "executors keep Bully ids 1..4 from their ordinals, as EXECUTOR_PEERS names them; queue replicas their numbers",
  ignore: noKubectl,
}, async () => {
  const executors = topologyKinds().get("order_executor")!;
  await eachDenoPod(({ kind, ordinal, config }) => {
    assert.deepEqual([...config.executor.peers.keys()], executors.map((_, i) => i + 1));
    if (kind === "order_executor") {
      assert.equal(config.executor.id, ordinal + 1);
      assert.equal(config.executor.peers.get(config.executor.id), peerUrls(kind)[ordinal], "its own entry");
    }
    if (kind === "order_queue") {
      assert.equal(config.queueReplicas.self, ordinal + 1);
      assert.equal(config.queueReplicas.count, topologyKinds().get(kind)!.length);
    }
  });
});

Deno.test(
  { name: "etcd: a member per pod on its volume, the initial cluster named by pod DNS", ignore: noKubectl },
  () => {
    const etcd = workload("etcd") as StatefulSet;
    const service = ofKind(Service).find((s) => s.metadata!.name === etcd.spec!.serviceName)!;
    assert.equal(service.spec!.clusterIP, "None");
    assert.equal(service.spec!.publishNotReadyAddresses, true, "members resolve each other before there is a leader");
    assert.equal(etcd.spec!.podManagementPolicy, "Parallel", "no member is ready until a quorum has started");
    assert.equal(etcd.spec!.volumeClaimTemplates?.[0]?.metadata?.name, "data");
    const container = serverOf(etcd.spec!.template);
    const port = (name: string) => container.ports!.find((p) => p.name === name)!.containerPort;
    assert.equal(service.spec!.ports!.find((p) => p.name === "peer")?.port, port("peer"));
    assert.equal(service.spec!.ports!.find((p) => p.name === "client")?.port, port("client"));
    assert.ok(container.volumeMounts!.some((m) => m.name === "data"), "the member's data is on its volume");
    const pods = Array.from({ length: etcd.spec!.replicas! }, (_, i) => `${etcd.metadata!.name}-${i}`);
    const dns = (pod: string) => `${pod}.${service.metadata!.name}`;
    for (const pod of pods) {
      const env = podEnv(container, pod);
      const flags = new Map(container.args!.map((a) => expand(a, env).split(/=(.*)/s).slice(0, 2) as [string, string]));
      assert.equal(flags.get("--name"), pod);
      assert.equal(flags.get("--initial-advertise-peer-urls"), `http://${dns(pod)}:${port("peer")}`);
      assert.equal(flags.get("--advertise-client-urls"), `http://${dns(pod)}:${port("client")}`);
      assert.equal(flags.get("--initial-cluster"), pods.map((p) => `${p}=http://${dns(p)}:${port("peer")}`).join(","));
    }
    assert.equal(container.readinessProbe?.httpGet?.path, "/health");
    assert.equal(container.readinessProbe?.httpGet?.port, "client");
  },
);

Deno.test({ name: "every workload has a disruption budget, limits, and runs as non-root", ignore: noKubectl }, () => {
  const budgets = ofKind(PodDisruptionBudget);
  for (const w of workloads) {
    const budget = budgets.find((b) => JSON.stringify(b.spec!.selector) === JSON.stringify(w.spec!.selector));
    assert.ok(budget, `${w.metadata!.name} has a PodDisruptionBudget`);
    const pod = w.spec!.template.spec!;
    assert.equal(pod.securityContext?.runAsNonRoot, true, `${w.metadata!.name} runs as non-root`);
    for (const c of pod.containers) {
      assert.ok(c.resources?.requests && c.resources.limits, `${w.metadata!.name} has requests and limits`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${w.metadata!.name} has a read-only root`);
    }
  }
  const etcd = budgets.find((b) => b.metadata!.name === "etcd");
  assert.equal(etcd?.spec?.minAvailable, 2, "etcd keeps a quorum of three");
});

Deno.test({
  name: "the credential and the key come from a Secret with placeholders only, the key where used",
  ignore: noKubectl,
}, () => {
  for (const data of secrets.values()) {
    for (const value of Object.values(data)) {
      assert.match(atob(value), /^REPLACE-ME/, "no real secret in the repository");
    }
  }
  for (const kind of DENO_KINDS) {
    const env = serverOf(workload(kind).spec!.template).env ?? [];
    const from = (name: string) => env.find((e) => e.name === name)?.valueFrom?.secretKeyRef;
    assert.ok(from("BOOKSTORE_SERVICE_TOKEN"), `${kind} gets the credential from the Secret`);
    assert.equal(
      from("BOOKSTORE_FINGERPRINT_KEY") !== undefined,
      "BOOKSTORE_FINGERPRINT_KEY" in denoSpec(kind).env,
      `${kind} gets the fingerprint key as in the dev topology`,
    );
  }
  for (const data of configMaps.values()) {
    assert.ok(!("BOOKSTORE_SERVICE_TOKEN" in data || "BOOKSTORE_FINGERPRINT_KEY" in data), "no secret in a ConfigMap");
  }
});

Deno.test({ name: "every bookstore container runs the one image kustomize names", ignore: noKubectl }, () => {
  for (const kind of DENO_KINDS) assert.equal(serverOf(workload(kind).spec!.template).image, "bookstore:latest", kind);
});
