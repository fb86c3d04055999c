/**
 * Web origins as browsers spell them. Shared by the orchestrator's CORS and
 * the web app's admin and API guards, and free of server-only imports.
 *
 * @module
 */

/** The names every loopback origin also answers to. */
const LOOPBACK_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/**
 * Every spelling of `origin` a browser may send, `origin` itself first: a
 * loopback origin (`http://localhost:8000`) also as the same scheme and port
 * on the other loopback names, since a page on this machine is reached by
 * any of them; any other origin as it is.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { originAliases } from "./origins.ts";
 *
 * assert.deepEqual(originAliases("http://localhost:8000"), [
 *   "http://localhost:8000",
 *   "http://127.0.0.1:8000",
 *   "http://[::1]:8000",
 * ]);
 * assert.deepEqual(originAliases("https://shop.example/"), ["https://shop.example"]);
 * ```
 */
export function originAliases(origin: string): string[] {
  const url = new URL(origin);
  if (!LOOPBACK_HOSTS.includes(url.hostname)) return [url.origin];
  const aliases = LOOPBACK_HOSTS.map((hostname) => {
    const alias = new URL(url.origin);
    alias.hostname = hostname;
    return alias.origin;
  });
  return [url.origin, ...aliases.filter((alias) => alias !== url.origin)];
}
