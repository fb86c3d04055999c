/**
 * The inside half of the relays, run in a host's namespace: for each
 * `<socket path>=<address>:<port>` argument, connections to the socket are
 * relayed to that address. Runs until it is killed.
 *
 * @module
 */
import { relayUnixToTcp } from "./relay.ts";

/** One route of the relay: a Unix socket and the address its connections go to. */
export interface Route {
  /** The Unix socket it listens on. */
  path: string;
  /** Where it connects. */
  hostname: string;
  /** Which port. */
  port: number;
}

/** The argument that asks {@linkcode parseRoute} for `route`. */
export function routeArg(route: Route): string {
  return `${route.path}=${route.hostname}:${route.port}`;
}

/** The route one argument names. */
export function parseRoute(arg: string): Route {
  const match = /^(\/[^=]+)=(127(?:\.\d{1,3}){3}):(\d+)$/.exec(arg);
  if (!match) throw new Error(`a route is <socket path>=<127.x.y.z>:<port>, not ${arg}`);
  return { path: match[1], hostname: match[2], port: Number(match[3]) };
}

if (import.meta.main) {
  for (const route of Deno.args.map(parseRoute)) {
    relayUnixToTcp({ path: route.path, target: { hostname: route.hostname, port: route.port } });
  }
  console.log(`relaying ${Deno.args.join(" ")}`);
}
