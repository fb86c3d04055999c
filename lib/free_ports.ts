/**
 * Free TCP ports on loopback, for tests and benchmarks that start real
 * processes (the bookstore's services, etcd members) side by side.
 *
 * @module
 */

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 (free when asked: a
 * process started soon after can bind them); the first `consecutive` of them
 * follow each other (the order queue's replicas listen on a port and the
 * ones after it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freePorts } from "./free_ports.ts";
 * const [a, b] = freePorts(2);
 * assert.ok(a !== b && a > 0);
 * const [first, second] = freePorts(3, { consecutive: 2 });
 * assert.equal(second, first + 1);
 * ```
 */
export function freePorts(count: number, options: { consecutive?: number } = {}): number[] {
  // Every listener is held until all are found, so that no two ports of one call are the same.
  const held: Deno.Listener[] = [];
  try {
    held.push(...listenRun(Math.max(1, options.consecutive ?? 1)));
    while (held.length < count) held.push(Deno.listen({ hostname: "127.0.0.1", port: 0 }));
    return held.slice(0, count).map((l) => (l.addr as Deno.NetAddr).port);
  } finally {
    for (const listener of held) listener.close();
  }
}

function listenRun(length: number): Deno.Listener[] {
  for (let attempt = 0; attempt < 100; attempt++) {
    const run = [Deno.listen({ hostname: "127.0.0.1", port: 0 })];
    const first = (run[0].addr as Deno.NetAddr).port;
    try {
      for (let i = 1; i < length; i++) run.push(Deno.listen({ hostname: "127.0.0.1", port: first + i }));
      return run;
    } catch {
      for (const listener of run) listener.close();
    }
  }
  throw new Error(`no ${length} consecutive free ports on loopback`);
}
