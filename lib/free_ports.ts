/**
 * Free TCP ports on loopback, for tests and benchmarks that start real
 * processes (the bookstore's services, etcd members) side by side.
 *
 * @module
 */

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 (free when asked: a
 * process started soon after can bind them).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freePorts } from "./free_ports.ts";
 * const [a, b] = freePorts(2);
 * assert.ok(a !== b && a > 0);
 * ```
 */
export function freePorts(count: number): number[] {
  const listeners = Array.from({ length: count }, () => Deno.listen({ hostname: "127.0.0.1", port: 0 }));
  const ports = listeners.map((l) => (l.addr as Deno.NetAddr).port);
  for (const listener of listeners) listener.close();
  return ports;
}
