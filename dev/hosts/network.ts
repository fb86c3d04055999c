/**
 * One network of hosts on this machine: a namespace per host, each linked by
 * a veth pair to one bridge in a namespace of its own. Each host's `lo`
 * keeps only 127.0.0.1/32 (with the default 127.0.0.1/8 the kernel would take
 * all of 127/8 as its own and never put it on the wire), `route_localnet` is
 * on so that 127.x may travel over the link, and no host has a default route:
 * a packet to any address outside 127.77.0.0/16 has nowhere to go.
 *
 * @module
 */
import {
  BRIDGE,
  BRIDGE_HOST,
  bridgeLink,
  HOST_LINK,
  hostAddress,
  HOSTS_PREFIX,
  HOSTS_PREFIX_LENGTH,
  namespaceOf,
  ownerOf,
  parseNamespace,
  socketDir,
} from "./names.ts";

/** One host of a network: a process name, its namespace and its address. */
export interface Host {
  /** The name it was asked for (the process it runs). */
  name: string;
  /** Its network namespace (`bks-<owner>-<name>`). */
  namespace: string;
  /** Its address, in 127.77.0.0/16. */
  address: string;
}

/** What {@linkcode planNetwork} plans: the hosts and the bridge's namespace. */
export interface NetworkPlan {
  /** The pid of the process that owns the network (it goes away with it). */
  owner: number;
  /** The namespace of the bridge. */
  bridge: string;
  /** Every host, in the order asked. */
  hosts: Host[];
}

/** How to plan a network: its owner, its hosts' names, and which of them join in a namespace made elsewhere. */
export interface PlanOptions {
  /** The pid of the process that owns the network. */
  owner: number;
  /** Every host's name, in the order their addresses are given. */
  names: readonly string[];
  /**
   * Hosts whose namespace exists already, by name (a test's client, which must be running in its namespace before
   * the network is made): linked to the bridge like the others, but neither created nor removed with the network.
   */
  joins?: Readonly<Record<string, string>>;
}

/** The hosts for `names`, owned by `owner` (no command runs). */
export function planNetwork(options: PlanOptions): NetworkPlan {
  const { owner, names, joins = {} } = options;
  if (new Set(names).size !== names.length) throw new Error(`host names repeat: ${names.join(", ")}`);
  if (names.includes(BRIDGE_HOST)) throw new Error(`"${BRIDGE_HOST}" is the bridge's host`);
  return {
    owner,
    bridge: namespaceOf(owner, BRIDGE_HOST),
    hosts: names.map((name, i) => ({
      name,
      namespace: joins[name] ?? namespaceOf(owner, name),
      address: hostAddress(i),
    })),
  };
}

/** The shell commands that build a planned network, one per line. */
export function setupCommands(plan: NetworkPlan): string[] {
  const { bridge } = plan;
  const sysctl = [
    "net.ipv4.conf.all.route_localnet=1",
    `net.ipv4.conf.${HOST_LINK}.route_localnet=1`,
    "net.ipv4.conf.all.rp_filter=0",
    `net.ipv4.conf.${HOST_LINK}.rp_filter=0`,
    // Nothing here speaks IPv6; without it a link has no address at all but 127.x.
    "net.ipv6.conf.all.disable_ipv6=1",
  ].join(" ");
  return [
    // A joining host's namespace is someone else's (another owner's): it exists already.
    ...[bridge, ...plan.hosts.map((host) => host.namespace)].filter((namespace) => ownerOf(namespace) === plan.owner)
      .map((namespace) => `ip netns add ${namespace}`),
    // Before its first link: the bridge and its ports would otherwise get IPv6 link-local addresses, not 127.x.
    `ip netns exec ${bridge} sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1`,
    `ip -n ${bridge} link add ${BRIDGE} type bridge`,
    `ip -n ${bridge} link set ${BRIDGE} up`,
    ...plan.hosts.flatMap(({ namespace, address }, i) => [
      // lo gets 127.0.0.1/8 when it comes up: replace it by /32 after.
      `ip -n ${namespace} link set lo up`,
      `ip -n ${namespace} addr del 127.0.0.1/8 dev lo`,
      `ip -n ${namespace} addr add 127.0.0.1/32 dev lo`,
      `ip -n ${namespace} link add ${HOST_LINK} type veth peer name ${bridgeLink(i)} netns ${bridge}`,
      `ip netns exec ${namespace} sysctl -qw ${sysctl}`,
      `ip -n ${namespace} addr add ${address}/${HOSTS_PREFIX_LENGTH} dev ${HOST_LINK}`,
      `ip -n ${namespace} link set ${HOST_LINK} up`,
      `ip -n ${bridge} link set ${bridgeLink(i)} master ${BRIDGE} up`,
    ]),
  ];
}

/** Runs shell commands (stopping at the first that fails); throws with what they said. */
export async function runCommands(commands: readonly string[]): Promise<string> {
  const child = new Deno.Command("sh", { args: ["-e"], stdin: "piped", stdout: "piped", stderr: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(commands.join("\n") + "\n"));
  await writer.close();
  const output = await child.output();
  const decoder = new TextDecoder();
  if (!output.success) {
    throw new Error(`network command failed (${decoder.decode(output.stderr).trim()})`);
  }
  return decoder.decode(output.stdout);
}

/** The one line that says why `--hosts` cannot run here, or undefined when it can. */
export async function hostsUnavailable(): Promise<string | undefined> {
  if (Deno.build.os !== "linux") return "--hosts needs Linux network namespaces";
  if (await effectiveUid() !== 0) return "--hosts needs root to create network namespaces: run it with sudo";
  for (const [program, pkg] of [["ip", "iproute2"], ["iptables", "iptables"]]) {
    try {
      await new Deno.Command(program, { args: ["-V"], stdout: "null", stderr: "null" }).output();
    } catch {
      return `--hosts needs the \`${program}\` program: apt-get install ${pkg}`;
    }
  }
  return undefined;
}

// From `id` rather than Deno.uid(), which would need one more permission of `deno task dev`.
async function effectiveUid(): Promise<number> {
  return Number((await runCommands(["id -u"])).trim());
}

/** Every namespace on this machine whose name carries {@linkcode HOSTS_PREFIX}. */
export async function ourNamespaces(): Promise<string[]> {
  const text = await runCommands(["ip netns list"]);
  return text.split("\n").map((line) => line.split(" ")[0]).filter((name) => name.startsWith(HOSTS_PREFIX));
}

/**
 * Removes everything a network owned by `owner` created: the processes left
 * in its namespaces, the namespaces (their links and rules go with them) and
 * its socket directory. Nothing to do for a network already removed.
 */
export async function destroyNetwork(owner: number): Promise<void> {
  const namespaces = (await ourNamespaces()).filter((namespace) => ownerOf(namespace) === owner);
  await runCommands([
    // `|| true`: a process may exit, and a namespace go, between the listing and the command.
    ...namespaces.map((namespace) => `ip netns pids ${namespace} | xargs -r kill -9 || true`),
    ...namespaces.map((namespace) => `ip netns delete ${namespace} || true`),
    `rm -rf ${socketDir(owner)}`,
  ]);
}

/** Removes the networks whose owner process is gone (what a killed run left); returns their owners. */
export async function clearLeftovers(): Promise<number[]> {
  const owners = new Set((await ourNamespaces()).flatMap((namespace) => ownerOf(namespace) ?? []));
  const alive = await Promise.all([...owners].map(isAlive));
  const dead = [...owners].filter((_, i) => !alive[i]);
  for (const owner of dead) await destroyNetwork(owner);
  return dead;
}

/** Whether process `pid` runs (asked with `kill -0`, which needs no permission of Deno's but running programs). */
export async function isAlive(pid: number): Promise<boolean> {
  const status = await new Deno.Command("kill", { args: ["-0", String(pid)], stdout: "null", stderr: "null" }).output();
  return status.success;
}

/** A network that exists: its hosts, and how to remove it. */
export interface Network extends NetworkPlan, AsyncDisposable {
  /** The host named `name`; throws when there is none. */
  host(name: string): Host;
}

/**
 * Creates the hosts `names` (after clearing what killed runs left), owned by
 * `owner` (this process by default), with a socket directory for relays;
 * hosts in `joins` are linked to it in the namespaces they already have.
 */
export async function createNetwork(options: Omit<PlanOptions, "owner"> & { owner?: number }): Promise<Network> {
  await clearLeftovers();
  const plan = planNetwork({ ...options, owner: options.owner ?? Deno.pid });
  try {
    await runCommands([...setupCommands(plan), `mkdir -p ${socketDir(plan.owner)}`]);
  } catch (error) {
    await destroyNetwork(plan.owner);
    throw error;
  }
  const byName = new Map(plan.hosts.map((host) => [host.name, host]));
  return {
    ...plan,
    host(name) {
      const host = byName.get(name);
      if (!host) throw new Error(`no host named ${name}`);
      return host;
    },
    [Symbol.asyncDispose]: () => destroyNetwork(plan.owner),
  };
}

/** The command line that runs `program args` inside `host`. */
export function inHost(host: Pick<Host, "namespace">, command: readonly string[]): string[] {
  return ["ip", "netns", "exec", host.namespace, ...command];
}

/**
 * The hosts of the networks on this machine (of `owner`'s alone, when given),
 * read back from the namespaces themselves: what the cluster page shows.
 * Each host's address is its link's; the bridge's namespace is not a host.
 */
export async function listHosts(options: { owner?: number } = {}): Promise<Host[]> {
  const namespaces = (await ourNamespaces()).filter((namespace) => {
    const parsed = parseNamespace(namespace);
    return parsed !== undefined && (options.owner ?? parsed.owner) === parsed.owner && parsed.host !== BRIDGE_HOST;
  });
  if (namespaces.length === 0) return [];
  // One line per namespace, `<namespace> <address>/<length>`, from one shell.
  const lines = await runCommands(
    namespaces.map((namespace) =>
      `echo ${namespace} $(ip -n ${namespace} -4 -o addr show dev ${HOST_LINK} 2>/dev/null | awk '{print $4}')`
    ),
  );
  return lines.trim().split("\n").flatMap((line) => {
    const [namespace, cidr] = line.split(" ");
    const parsed = parseNamespace(namespace);
    if (parsed === undefined || !cidr) return [];
    return [{ name: parsed.host, namespace, address: cidr.split("/")[0] }];
  });
}
