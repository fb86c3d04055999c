/**
 * `deno task dev`: the whole bookstore on this machine, one process per
 * service and four executor replicas, with nothing to configure. Logs are
 * prefixed with the process name; a process that dies is restarted; Ctrl-C
 * stops everything. With `BOOKSTORE_STORE=etcd` the services share one etcd
 * cluster — three members started and supervised here first, or the one
 * `BOOKSTORE_ETCD_ENDPOINTS` names — and the order queue runs replicated.
 *
 * @module
 */
import { loadConfig } from "@bookstore/lib/config";
import { etcdMembers } from "@bookstore/lib/store/etcd/cluster";
import { type Control, serveControl } from "@bookstore/dev/control";
import { startStore, stopSystem } from "@bookstore/dev/etcd";
import { haproxyVersion } from "@bookstore/dev/load_balancer";
import { Supervisor } from "@bookstore/dev/supervisor";
import {
  buildTopology,
  configuredPorts,
  configuredStore,
  etcdMemberNames,
  LOAD_BALANCER,
} from "@bookstore/dev/topology";
import {
  devHostLinks,
  devHosts,
  insideRelays,
  parseDevFlags,
  runOnHosts,
  SUPERVISOR_HOST,
} from "@bookstore/dev/hosts/run";

/** How often the start-up notes which processes are not answering `/healthz` yet. */
const HEALTH_NOTE_EVERY_MS = 15_000;

// A configuration that cannot run (BOOKSTORE_REPLICAS=2 on Deno KV files, say) stops the run with one line.
const config = (() => {
  try {
    return loadConfig();
  } catch (error) {
    console.error(`deno task dev: ${(error as Error).message}`);
    Deno.exit(1);
  }
})();
const flags = parseDevFlags(Deno.args);
const serviceToken = config.serviceToken ?? crypto.randomUUID().replaceAll("-", "");
const ports = configuredPorts(config);
const store = configuredStore(config);
const passThrough = Object.fromEntries(
  Object.entries(Deno.env.toObject()).filter(([key]) =>
    /^(BOOKSTORE_(?!FINGERPRINT_KEY|SUPERVISOR_URL|INSTANCE|ETCD_PORTS)|RPC_|CHECKOUT_|ORDER_CACHE_|QUEUE_|EXECUTOR_(?!ID|PEERS)|OTEL_)/
      .test(key)
  ),
);
// Dev is where people break things on purpose: the cluster page's fault buttons are on unless turned off.
const env = { BOOKSTORE_FAULTS: "true", ...passThrough, BOOKSTORE_SERVICE_TOKEN: serviceToken };
const faults = loadConfig({ ...Deno.env.toObject(), BOOKSTORE_FAULTS: env.BOOKSTORE_FAULTS }).faults;
const topologyOptions = {
  dataDir: config.dataDir,
  serviceToken,
  fingerprintKey: config.fingerprintKey ?? crypto.randomUUID().replaceAll("-", ""),
  ports,
  store,
  queueReplicas: config.queueReplicas.count,
  replicas: config.replicas,
  env,
};
// With --hosts, this runs twice: first in the root namespace (builds the network, relays the public ports, never
// returns), then inside the supervisor's host, where the processes are started each in its own.
const processNames = buildTopology(topologyOptions).map((spec) => spec.name);
const published = config.replicas > 1
  ? [ports.web, ports.orchestrator, ports.loadBalancer].map((port) => ({ name: LOAD_BALANCER, port }))
  : [{ name: "web", port: ports.web }, { name: "orchestrator", port: ports.orchestrator }];
if (flags.hosts && flags.owner === undefined) {
  await runOnHosts({ processes: processNames, published, main: new URL(import.meta.url).pathname });
}
const hosts = flags.owner === undefined ? undefined : devHosts({ owner: flags.owner, processes: processNames });
const hostOf = hosts && ((name: string) => hosts.find((host) => host.name === name)!);
if (hosts && flags.owner !== undefined) {
  insideRelays({ owner: flags.owner, hosts, published });
  // Children inherit this environment: on hosts the members are named by address (BOOKSTORE_ETCD_ENDPOINTS, set by
  // the topology), and the services refuse both at once.
  Deno.env.delete("BOOKSTORE_ETCD_PORTS");
}
// etcd members have no /admin/crash: the cluster page's Crash of one asks the supervisor, which runs them; with
// --hosts, the page's hosts and its cut and heal of the executor leader's links are the supervisor's too.
const crashable = faults && "members" in store ? etcdMembers(store.members).map((member) => member.name) : [];
const hostLinks = faults && hosts ? devHostLinks(hosts.filter((host) => host.name !== SUPERVISOR_HOST)) : undefined;
const control: Control | undefined = crashable.length > 0 || hostLinks
  ? serveControl({
    token: serviceToken,
    crashable,
    kill: (name) => supervisor.kill(name),
    hostname: hostOf?.(SUPERVISOR_HOST).address,
    hosts: hostLinks,
  })
  : undefined;
const specs = buildTopology({ ...topologyOptions, supervisorUrl: control?.url, hostOf });
const storeNames = etcdMemberNames(specs);

const width = Math.max(...specs.map((s) => s.name.length));
const colors = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95];
const colorOf = new Map(specs.map((s, i) => [s.name, colors[i % colors.length]]));
const encoder = new TextEncoder();
// The lines of one chunk of a child's output are written to the terminal in one write, not one each.
let pending: string[] = [];
const flush = () => {
  const bytes = encoder.encode(pending.join(""));
  pending = [];
  for (let written = 0; written < bytes.length;) written += Deno.stdout.writeSync(bytes.subarray(written));
};
const supervisor = new Supervisor(specs, {
  root: new URL("./", import.meta.url),
  // Every line goes to the terminal as it comes; none is kept (a system that runs for days logs without end).
  keepLines: 0,
  onLine: (name, line) => {
    if (pending.length === 0) queueMicrotask(flush);
    pending.push(`\x1b[${colorOf.get(name)}m${name.padEnd(width)}\x1b[0m │ ${line}\n`);
  },
});

if (config.serviceToken === undefined) {
  console.log("BOOKSTORE_SERVICE_TOKEN not set: generated a fresh one for this run.");
}
let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (code === 0) console.log("\nstopping every process…");
  await stopSystem(supervisor, specs);
  await control?.[Symbol.asyncDispose]();
  Deno.exit(code);
};
Deno.addSignalListener("SIGINT", () => stop(0));
Deno.addSignalListener("SIGTERM", () => stop(0));

// The store first: the services open it as they start. A missing etcd or a cluster without a leader stops the run
// with one line that says what to install or check.
try {
  // More than one instance of each runs behind HAProxy: without it, one line saying what to install.
  if (config.replicas > 1) await haproxyVersion();
  await startStore(supervisor, { store, specs, etcdTimeoutMs: config.store.etcdTimeoutMs });
  supervisor.start(specs.map((spec) => spec.name).filter((name) => !storeNames.includes(name)));
} catch (error) {
  console.error(`deno task dev: ${(error as Error).message}`);
  await stop(1);
}

// A first run on a machine fetches npm packages and Deno's bundler before the processes listen, which can take
// minutes on a slow registry: keep waiting, and say for what, rather than give up on a system that is coming up.
for (;;) {
  try {
    await supervisor.waitHealthy({ timeoutMs: HEALTH_NOTE_EVERY_MS });
    break;
  } catch (error) {
    console.log(`${(error as Error).message}; still waiting (a first run fetches dependencies)…`);
  }
}
// etcd members listen on 127.0.0.1 alone, where their client URLs say.
const rows = specs.map((s) => [
  s.name,
  `http://${s.host?.address ?? (storeNames.includes(s.name) ? "127.0.0.1" : "localhost")}:${s.port}`,
]);
const storeLine = store.kind === "kv"
  ? `a Deno KV file per service under ${config.dataDir}`
  : "members" in store
  ? `etcd, ${store.members.length} members started here (data under ${config.dataDir}/etcd)`
  : `etcd at ${store.endpoints.join(", ")}`;
const clusterFaults = store.kind === "kv"
  ? "crash or pause a replica, slow a validator"
  : "crash or pause a replica, crash a queue replica or an etcd member, slow a validator";
const balanced = config.replicas > 1
  ? ` (HAProxy in front of ${config.replicas} web apps and ${config.replicas} orchestrators; its status page: ` +
    `http://localhost:${ports.loadBalancer}/stats)`
  : "";
const table = [
  "",
  "The bookstore is up:",
  ...rows.map(([name, url]) => `  ${name.padEnd(width)}  ${url}`),
  "",
  `  Store:     ${storeLine}`,
  `  Shop:      http://localhost:${ports.web}${balanced}`,
  `  Cluster:   http://localhost:${ports.web}/cluster (${clusterFaults})`,
  `  Checkout:  POST http://localhost:${ports.orchestrator}/checkout`,
  `  Data:      ${config.dataDir}`,
  "",
  "Ctrl-C stops everything.",
  "",
].join("\n");
console.log(table);
