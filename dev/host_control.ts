/**
 * The control endpoint's host routes (`deno task dev --hosts`): `GET /hosts`
 * shows every host with the hosts its links are cut from, `POST /partition
 * {"host", "from"}` cuts a host off from the other hosts of its group (an
 * executor from the other executors, never from the queue or the store) or,
 * with `"from": "all"`, from every host of the system, and `POST
 * /heal` heals every cut link, read back from the hosts' rules so that a cut
 * made any other way heals too.
 *
 * @module
 */
import { describeIssues } from "@bookstore/lib/rpc";
import { type HostsView, partitionRequestSchema } from "@bookstore/lib/contracts";
import type { Host } from "./hosts/network.ts";

/** The hosts a supervisor runs and how their links are cut (`dev/hosts/faults.ts`, or fakes in tests). */
export interface HostLinks {
  /** Every host, in a stable order. */
  hosts: readonly Host[];
  /** Host names that partition together: a host of a group is cut from the others of its group. */
  groups: readonly (readonly string[])[];
  /** Hosts never cut off, nor cut from (the supervisor's own: it must keep reaching every process). @default [] */
  untouchable?: readonly string[];
  /** Cuts the link between two hosts, both ways. */
  cut: (a: Host, b: Host) => Promise<void>;
  /** Heals the link between two hosts, both ways. */
  heal: (a: Host, b: Host) => Promise<void>;
  /** The addresses each host drops everything from, in the order of `hosts`. */
  droppedFrom: (hosts: readonly Host[]) => Promise<string[][]>;
}

/** How long one read of the hosts' cut links answers `GET /hosts` (the page polls twice a second). */
const REUSE_MS = 1000;

/** A route's answer: its status and JSON body. */
type Answer = [status: number, body: unknown];

/** The host routes by `METHOD /path`. */
export type HostRoutes = Record<string, (request: Request) => Promise<Answer>>;

function invalid(message: string): Answer {
  return [400, { error: { code: "invalid_argument", message } }];
}

/** The host routes over `links`. */
export function hostRoutes(links: HostLinks): HostRoutes {
  const byName = new Map(links.hosts.map((host) => [host.name, host]));
  const strangers = links.groups.flat().filter((name) => !byName.has(name));
  if (strangers.length > 0) throw new Error(`groups name hosts that do not exist: ${strangers.join(", ")}`);

  // In the hosts' order, not the rules' (each cut goes first); a drop of an address that is no host's is not ours.
  const readLinks = async () => {
    const dropped = await links.droppedFrom(links.hosts);
    return links.hosts.map((host, i) => ({
      host,
      from: links.hosts.filter((peer) => dropped[i].includes(peer.address)),
    }));
  };
  // Reading every host's rules takes a process per host: a page open in several tabs (or several web apps) polling
  // twice a second shares one read, made again after REUSE_MS or after a cut or heal of its own.
  let last: { at: number; links: ReturnType<typeof readLinks> } | undefined;
  const cutLinks = (options: { fresh: boolean }) => {
    const now = performance.now();
    if (options.fresh || !last || now - last.at > REUSE_MS) {
      const read = { at: now, links: readLinks() };
      read.links.catch(() => {
        if (last === read) last = undefined;
      });
      last = read;
    }
    return last.links;
  };

  return {
    "GET /hosts": async (request) => {
      await request.body?.cancel();
      const view: HostsView = {
        hosts: (await cutLinks({ fresh: false })).map(({ host, from }) => ({
          name: host.name,
          address: host.address,
          cutFrom: from.map((peer) => peer.name),
        })),
        partitionable: links.groups.flat(),
      };
      return [200, view];
    },
    "POST /partition": async (request) => {
      let body: unknown;
      try {
        body = await request.json();
      } catch {
        return invalid('the body is not JSON: send {"host": "<host name>"}');
      }
      const parsed = partitionRequestSchema.safeParse(body);
      if (!parsed.success) return invalid(describeIssues(parsed.error));
      const { host: name, from } = parsed.data;
      const host = byName.get(name);
      if (!host) return invalid(`host: no host named "${name}"`);
      const group = links.groups.find((names) => names.includes(name));
      if (!group) return invalid(`host: ${name} cannot be cut off (only ${links.groups.flat().join(", ")})`);
      const untouchable = new Set([name, ...links.untouchable ?? []]);
      const peers = from === "all"
        ? links.hosts.filter((peer) => !untouchable.has(peer.name))
        : group.filter((peer) => !untouchable.has(peer)).map((peer) => byName.get(peer)!);
      await Promise.all(peers.map((peer) => links.cut(host, peer)));
      last = undefined;
      return [202, { host: name, cutFrom: peers.map((peer) => peer.name) }];
    },
    "POST /heal": async (request) => {
      await request.body?.cancel();
      const pairs = new Map<string, [Host, Host]>();
      for (const { host, from } of await cutLinks({ fresh: true })) {
        for (const peer of from) pairs.set([host.name, peer.name].sort().join(" "), [host, peer]);
      }
      await Promise.all([...pairs.values()].map(([a, b]) => links.heal(a, b)));
      last = undefined;
      return [200, { healed: [...pairs.keys()].map((pair) => pair.split(" ")) }];
    },
  };
}
