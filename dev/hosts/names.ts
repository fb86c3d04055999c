/**
 * Names and addresses of the hosts `deno task dev --hosts` and the tests run
 * processes in: every namespace is `bks-<owner pid>-<host>`, so that one
 * prefix finds everything a run created, and a run whose owner process is
 * gone is known to be a leftover. Every address is in 127.0.0.0/8 (the
 * safety rule: nothing inside the namespaces may ever route off the machine).
 *
 * @module
 */

/** The prefix of every namespace, socket directory and rule comment the hosts create. */
export const HOSTS_PREFIX = "bks-";

/**
 * The first two octets of every host's address: hosts are 127.77.X.Y/16, away
 * from 127.0.0.0/24 so that no host address is ever 127.0.0.1 (which each
 * namespace keeps on its own `lo`).
 */
export const HOSTS_SUBNET = "127.77";

/** The prefix length of the hosts' subnet. */
export const HOSTS_PREFIX_LENGTH = 16;

/** Hosts per third octet: .1 to .250 (never .0 nor .255, the network and broadcast). */
const PER_OCTET = 250;

/** How many hosts one network can have. */
export const MAX_HOSTS = PER_OCTET * 250;

/** The name of the host the bridge lives in. */
export const BRIDGE_HOST = "net";

/** The bridge's interface name inside {@linkcode BRIDGE_HOST}. */
export const BRIDGE = "br0";

/** The host side of each host's link (names are per namespace, so every host has the same). */
export const HOST_LINK = "eth0";

/** The address of the `index`th host (0-based) of a network: 127.77.1.1, 127.77.1.2, …. */
export function hostAddress(index: number): string {
  if (!Number.isInteger(index) || index < 0 || index >= MAX_HOSTS) throw new RangeError(`no host number ${index}`);
  return `${HOSTS_SUBNET}.${1 + Math.floor(index / PER_OCTET)}.${1 + (index % PER_OCTET)}`;
}

/** The bridge-side link of the `index`th host (unique in the bridge's namespace; at most 15 characters). */
export function bridgeLink(index: number): string {
  return `v${index}`;
}

/** The namespace of host `host` in the network owned by process `owner`. */
export function namespaceOf(owner: number, host: string): string {
  if (!/^[a-z0-9_]+$/.test(host)) throw new Error(`a host name is lower case letters, digits and _: ${host}`);
  return `${HOSTS_PREFIX}${owner}-${host}`;
}

/** The owner pid and host a namespace name carries, or undefined when it is not one of ours. */
export function parseNamespace(namespace: string): { owner: number; host: string } | undefined {
  const match = new RegExp(`^${HOSTS_PREFIX}(\\d+)-([a-z0-9_]+)$`).exec(namespace);
  return match ? { owner: Number(match[1]), host: match[2] } : undefined;
}

/** The owner pid a namespace name carries, or undefined when it is not one of ours. */
export function ownerOf(namespace: string): number | undefined {
  return parseNamespace(namespace)?.owner;
}

/** The directory of a network's Unix sockets (the filesystem is shared by every namespace). */
export function socketDir(owner: number): string {
  return `/tmp/${HOSTS_PREFIX}${owner}`;
}

/**
 * Whether `address` is an IPv4 address in 127.0.0.0/8: the only addresses
 * anything of the hosts may name.
 */
export function isLoopback(address: string): boolean {
  const octets = address.split(".");
  return octets.length === 4 && octets[0] === "127" &&
    octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
}
