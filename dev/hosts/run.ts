/**
 * `deno task dev --hosts`: the root namespace's half. It builds the network
 * (a host per process, and one, `dev`, for the supervisor, so that it reaches
 * every process at its address), starts the reaper, relays 127.0.0.1's public
 * ports into the network over Unix sockets, and runs `dev.ts` again inside
 * the supervisor's host, where the inner half (`insideHosts`) starts the
 * processes and the relays' other ends.
 *
 * @module
 */
import type { HostLinks } from "../host_control.ts";
import { executorName, V8_FLAGS } from "../topology.ts";
import { cut, droppedFromEach, heal } from "./faults.ts";
import { createNetwork, destroyNetwork, type Host, hostsUnavailable, planNetwork } from "./network.ts";
import { socketDir } from "./names.ts";
import { startReaper } from "./reaper.ts";
import { type Relay, relayTcpToUnix, relayUnixToTcp } from "./relay.ts";

/** The host the supervisor runs in. */
export const SUPERVISOR_HOST = "dev";

/** The flag that runs every process on a host of its own. */
export const HOSTS_FLAG = "--hosts";

/** The flag the outer half gives the inner one: the pid owning the network. */
const OWNER_FLAG = "--hosts-owner=";

/** What `deno task dev`'s arguments ask for. */
export interface DevFlags {
  /** Each process a host (`--hosts`). */
  hosts: boolean;
  /** Set in the inner half: the pid that owns the network it runs in. */
  owner?: number;
}

/** Reads `deno task dev`'s arguments; throws on one it does not know. */
export function parseDevFlags(args: readonly string[]): DevFlags {
  const flags: DevFlags = { hosts: false };
  for (const arg of args) {
    if (arg === HOSTS_FLAG) flags.hosts = true;
    else if (arg.startsWith(OWNER_FLAG) && /^\d+$/.test(arg.slice(OWNER_FLAG.length))) {
      flags.hosts = true;
      flags.owner = Number(arg.slice(OWNER_FLAG.length));
    } else throw new Error(`unknown argument ${arg} (the one flag is ${HOSTS_FLAG})`);
  }
  return flags;
}

/** A process reachable from the machine: its name and the port 127.0.0.1 serves it on. */
export interface Published {
  /** The process (a host of the network). */
  name: string;
  /** Its port, on its host and on 127.0.0.1. */
  port: number;
}

// One socket per published port: the load balancer publishes two.
function relaySocket(owner: number, published: Published): string {
  return `${socketDir(owner)}/${published.name}-${published.port}.sock`;
}

/** The hosts of a network running `processes` and the supervisor, in a stable order (both halves plan it). */
export function devHosts(options: { owner: number; processes: readonly string[] }): Host[] {
  return planNetwork({ owner: options.owner, names: [...options.processes, SUPERVISOR_HOST] }).hosts;
}

/**
 * The cluster page's links between `hosts` (the processes', not the
 * supervisor's): the executors partition together, so that cutting the
 * leader off leaves its links to the queue and the store as they are.
 */
export function devHostLinks(hosts: readonly Host[]): HostLinks {
  const names = new Set(hosts.map((host) => host.name));
  const executors = [];
  for (let id = 1; names.has(executorName(id)); id++) executors.push(executorName(id));
  return { hosts, groups: [executors], untouchable: [SUPERVISOR_HOST], cut, heal, droppedFrom: droppedFromEach };
}

/** Options for {@linkcode runOnHosts}. */
export interface RunOnHostsOptions {
  /** The name of every process of the topology. */
  processes: readonly string[];
  /** What 127.0.0.1 serves (the shop, the public API). */
  published: readonly Published[];
  /** The entry point to run again inside the supervisor's host (dev.ts). */
  main: string;
}

/**
 * The outer half: refuses with one line when namespaces cannot be made,
 * otherwise builds the network, runs the inner half in it until it exits or
 * this process is told to stop, removes the network and exits likewise.
 */
export async function runOnHosts(options: RunOnHostsOptions): Promise<never> {
  const refusal = await hostsUnavailable();
  if (refusal) {
    console.error(`deno task dev: ${refusal}`);
    Deno.exit(1);
  }
  const owner = Deno.pid;
  // First: a SIGKILL while the network is being built (seconds, on a crowded machine) must not leave half of it.
  startReaper(owner);
  const network = await createNetwork({ names: devHosts({ owner, processes: options.processes }).map((h) => h.name) });
  console.log("Hosts (each process in its own network namespace):");
  for (const host of network.hosts) {
    console.log(`  ${host.name.padEnd(26)} ${host.address.padEnd(14)} ${host.namespace}`);
  }
  const relays: Relay[] = options.published.map((published) =>
    relayTcpToUnix({ listen: { hostname: "127.0.0.1", port: published.port }, path: relaySocket(owner, published) })
  );
  const inner = new Deno.Command("ip", {
    args: [
      "netns",
      "exec",
      network.host(SUPERVISOR_HOST).namespace,
      Deno.execPath(),
      "run",
      "--allow-run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      ...V8_FLAGS,
      options.main,
      `${OWNER_FLAG}${owner}`,
    ],
    stdin: "null",
  }).spawn();
  // Passed on: a Ctrl-C reaches the inner half anyway (one process group), and its stop is idempotent.
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      try {
        inner.kill(signal);
      } catch {
        // Gone already.
      }
    });
  }
  const status = await inner.status;
  for (const relay of relays) relay.close();
  await destroyNetwork(owner);
  Deno.exit(status.code);
}

/**
 * The inner half's relays: each published process's socket, relayed to its
 * host's address. Runs in the supervisor's host.
 */
export function insideRelays(options: { owner: number; hosts: readonly Host[]; published: readonly Published[] }) {
  return options.published.map((published) => {
    const host = options.hosts.find((h) => h.name === published.name);
    if (!host) throw new Error(`no host named ${published.name}`);
    return relayUnixToTcp({
      path: relaySocket(options.owner, published),
      target: { hostname: host.address, port: published.port },
    });
  });
}
