/**
 * Free TCP ports on loopback, for tests and benchmarks that start real
 * processes (the bookstore's services, etcd members) side by side.
 *
 * They are picked below the kernel's ephemeral range (where the local ends
 * of outgoing connections come from), never by binding port 0, which hands
 * out ports from that very range: a port found free there and let go could be
 * taken a moment later by one of the many connections the processes make to
 * each other, and a long-lived one (a keep-alive, an etcd watch) kept a
 * queue replica from binding its port for a whole test.
 *
 * @module
 */

/** The lowest port handed out. */
const LOWEST = 10_000;
/** Above every port handed out, and below the defaults `deno task dev` listens on (etcd's 22379, 32379…). */
const HIGHEST = 20_000;

/**
 * Finds `count` distinct free TCP ports on 127.0.0.1 (free when asked: a
 * process started soon after can bind them), between 10000 and 20000 and
 * below the ephemeral range ({@linkcode ephemeralPorts}); the first
 * `consecutive` of them follow each other (the order queue's replicas listen
 * on a port and the ones after it).
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
  const below = Math.min(HIGHEST, ephemeralPorts().low);
  try {
    held.push(...listenRun(Math.max(1, options.consecutive ?? 1), below));
    while (held.length < count) held.push(...listenRun(1, below));
    return held.slice(0, count).map((l) => (l.addr as Deno.NetAddr).port);
  } finally {
    for (const listener of held) listener.close();
  }
}

/**
 * The ports the kernel picks the local ends of outgoing connections from:
 * Linux's `ip_local_port_range` where it can be read, else Linux's default.
 */
export function ephemeralPorts(): { low: number; high: number } {
  try {
    const [low, high] = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range").trim().split(/\s+/)
      .map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low > LOWEST + 1000) return { low, high };
  } catch {
    // Not Linux, or not allowed to read it.
  }
  return { low: 32_768, high: 60_999 };
}

/**
 * Finds `count` free TCP ports on 127.0.0.1 as {@linkcode freePorts} does,
 * each the first of `length` free ports `stride` apart (a service with
 * several instances listens on its port, + 100, + 200…: `instancePorts` of
 * `env.ts`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { freeStridedPorts } from "./free_ports.ts";
 * const [a, b] = freeStridedPorts(2, { stride: 100, length: 3 });
 * assert.ok(a !== b && a + 200 < 20_000);
 * ```
 */
export function freeStridedPorts(count: number, options: { stride: number; length: number }): number[] {
  const held: Deno.Listener[][] = [];
  const below = Math.min(HIGHEST, ephemeralPorts().low);
  try {
    while (held.length < count) held.push(listenRun(options.length, below, options.stride));
    return held.map((run) => (run[0].addr as Deno.NetAddr).port);
  } finally {
    for (const listener of held.flat()) listener.close();
  }
}

function listenRun(length: number, below: number, stride = 1): Deno.Listener[] {
  for (let attempt = 0; attempt < 200; attempt++) {
    const first = LOWEST + Math.floor(Math.random() * (below - LOWEST - stride * length));
    const run: Deno.Listener[] = [];
    try {
      for (let i = 0; i < length; i++) run.push(Deno.listen({ hostname: "127.0.0.1", port: first + stride * i }));
      return run;
    } catch (error) {
      for (const listener of run) listener.close();
      // Taken (by another process, or by this call already): try elsewhere.
      if (!(error instanceof Deno.errors.AddrInUse)) throw error;
    }
  }
  throw new Error(`no ${length} free ports ${stride} apart on loopback between ${LOWEST} and ${below}`);
}
