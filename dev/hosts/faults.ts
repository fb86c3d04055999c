/**
 * Real network faults between hosts, made of iptables rules inside the hosts'
 * namespaces (so they go when the namespaces go): a link cut both ways and
 * healed, a link that loses one direction only, and random loss on a host's
 * link. Each rule carries a comment with {@linkcode HOSTS_PREFIX}, which is
 * how they are found again (to heal, to show).
 *
 * @module
 */
import { HOST_LINK, HOSTS_PREFIX, isLoopback } from "./names.ts";
import { type Host, runCommands } from "./network.ts";

/** The comment of the rules that drop what a host receives from one peer. */
export const CUT = `${HOSTS_PREFIX}cut`;
/** The comment of the rules that drop a share of what a host receives. */
export const LOSS = `${HOSTS_PREFIX}loss`;

type Where = Pick<Host, "namespace" | "address">;

function iptables(host: Where, rule: string): string {
  // -w: two faults set at once wait for the lock instead of failing.
  return `ip netns exec ${host.namespace} iptables -w ${rule}`;
}

function dropRule(from: Where): string {
  if (!isLoopback(from.address)) throw new Error(`not a host address: ${from.address}`);
  return `INPUT -s ${from.address}/32 -m comment --comment ${CUT} -j DROP`;
}

/** The commands that make `at` drop every packet it receives from `from`. */
export function dropCommands(at: Where, from: Where): string[] {
  return [iptables(at, `-I ${dropRule(from)}`)];
}

/** The commands that undo every {@linkcode dropCommands} of `at` from `from`. */
export function undropCommands(at: Where, from: Where): string[] {
  return [`while ${iptables(at, `-D ${dropRule(from)}`)} 2>/dev/null; do :; done`];
}

/** Cuts the link between `a` and `b`, both ways: each drops what the other sends (connections open stall too). */
export async function cut(a: Where, b: Where): Promise<void> {
  await runCommands([...dropCommands(a, b), ...dropCommands(b, a)]);
}

/** Heals what {@linkcode cut} and {@linkcode dropFrom} did between `a` and `b`, both ways. */
export async function heal(a: Where, b: Where): Promise<void> {
  await runCommands([...undropCommands(a, b), ...undropCommands(b, a)]);
}

/**
 * One-way loss: `at` drops what it receives from `from`, while what `at`
 * sends still arrives. With `at` a client, its requests are delivered and
 * the replies lost. {@linkcode heal} undoes it.
 */
export async function dropFrom(at: Where, from: Where): Promise<void> {
  await runCommands(dropCommands(at, from));
}

/** The commands that make `host` drop each packet its link receives with probability `probability`. */
export function lossCommands(host: Where, probability: number): string[] {
  if (!(probability >= 0 && probability <= 1)) throw new RangeError(`a probability, not ${probability}`);
  return [
    ...noLossCommands(host),
    iptables(
      host,
      `-A INPUT -i ${HOST_LINK} -m statistic --mode random --probability ${probability} ` +
        `-m comment --comment ${LOSS} -j DROP`,
    ),
  ];
}

function noLossCommands(host: Where): string[] {
  // The loss rule is the only one with this comment: flush it by listing and deleting by number, last first.
  return [
    `for n in $(ip netns exec ${host.namespace} iptables -w -L INPUT --line-numbers -n | ` +
    `awk '/${LOSS}/ {print $1}' | sort -rn); do ${iptables(host, "-D INPUT $n")}; done`,
  ];
}

/** Makes `host` lose each packet it receives on its link with `probability` (replacing an earlier loss). */
export async function loss(host: Where, options: { probability: number }): Promise<void> {
  await runCommands(lossCommands(host, options.probability));
}

/** Ends the random loss of `host`. */
export async function noLoss(host: Where): Promise<void> {
  await runCommands(noLossCommands(host));
}

/** The addresses `host` drops everything from (its cut links, and one-way losses where it is the receiver). */
export async function droppedFrom(host: Where): Promise<string[]> {
  return (await droppedFromEach([host]))[0];
}

/** {@linkcode droppedFrom} of every host in `hosts`, in order, read by one shell (the cluster page asks often). */
export async function droppedFromEach(hosts: readonly Where[]): Promise<string[][]> {
  if (hosts.length === 0) return [];
  // A line between hosts' rules tells them apart; no rule starts with it.
  const separator = "==";
  const rules = await runCommands(hosts.flatMap((host) => [`echo ${separator}`, iptables(host, "-S INPUT")]));
  return rules.split(`${separator}\n`).slice(1).map((section) =>
    section.split("\n").flatMap((rule) => {
      const match = new RegExp(`-s (\\S+)/32 .*--comment ${CUT}`).exec(rule);
      return match ? [match[1]] : [];
    })
  );
}
