/**
 * Rendezvous (highest-random-weight) hashing: which of several instances
 * holds a key. Every instance gets a pseudo-random weight from the key and
 * its own number, and the key goes to the heaviest. The choice is stable (the
 * same key and instances give the same instance, in every process, with no
 * shared state) and disturbs little: an instance that leaves moves only the
 * keys it held, each to the next heaviest, and one that comes back takes
 * back exactly those.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { rendezvous, rendezvousOrder } from "./rendezvous.ts";
 *
 * const order = rendezvousOrder("order-1", [1, 2, 3]);
 * assert.equal(rendezvous("order-1", [1, 2, 3]), order[0]);
 * assert.equal(rendezvous("order-1", [1, 2, 3].filter((n) => n !== order[0])), order[1]);
 * ```
 *
 * @module
 */

// FNV-1a over the UTF-16 units, then murmur3's finalizer: cheap, synchronous, and well spread in every bit.
function weight(key: string, instance: number): number {
  let hash = 0x811c9dc5;
  const text = `${instance}\u0000${key}`;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/** Every instance in `instances`, heaviest for `key` first (ties, vanishingly rare, by the lower number). */
export function rendezvousOrder(key: string, instances: readonly number[]): number[] {
  return [...new Set(instances)]
    .map((instance) => ({ instance, weight: weight(key, instance) }))
    .sort((a, b) => b.weight - a.weight || a.instance - b.instance)
    .map(({ instance }) => instance);
}

/** The instance among `instances` (at least one) that holds `key`. */
export function rendezvous(key: string, instances: readonly number[]): number {
  const [first] = rendezvousOrder(key, instances);
  if (first === undefined) throw new Error("rendezvous hashing needs at least one instance");
  return first;
}
