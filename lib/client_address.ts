/**
 * Who a request came from, for the limits kept per client (the
 * orchestrator's checkout rate, the web app's live updates per address).
 * Behind a load balancer every connection comes from the balancer, so its
 * `X-Forwarded-For` names the client instead — but only when the connection
 * comes from an address trusted to say so (`BOOKSTORE_TRUSTED_PROXIES`):
 * anyone else could write the header and pick whose limit they spend.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clientAddress } from "./client_address.ts";
 * const request = new Request("http://shop/", { headers: { "x-forwarded-for": "127.9.9.9, 127.0.0.7" } });
 * assert.equal(clientAddress(request, { peer: "127.0.0.2", trustedProxies: ["127.0.0.2"] }), "127.0.0.7");
 * assert.equal(clientAddress(request, { peer: "127.0.0.3", trustedProxies: ["127.0.0.2"] }), "127.0.0.3");
 * ```
 *
 * @module
 */

/** Options for {@linkcode clientAddress}. */
export interface ClientAddressOptions {
  /** The address of the TCP peer the request came on. */
  peer: string;
  /** Addresses of load balancers whose `X-Forwarded-For` is believed. @default [] */
  trustedProxies?: readonly string[];
}

// An IPv4 or IPv6 literal, as a proxy writes one; anything else in the header is not an address.
const ADDRESS = /^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:.]*:[0-9a-f:.]*)$/i;

/**
 * The client's address: the last entry of `X-Forwarded-For` when the peer is
 * a trusted proxy (the one it appended; entries before it were written by
 * whoever sent the request, and are not believed), the peer otherwise.
 */
export function clientAddress(request: Request, options: ClientAddressOptions): string {
  if (!options.trustedProxies?.includes(options.peer)) return options.peer;
  const forwarded = request.headers.get("x-forwarded-for")?.split(",").at(-1)?.trim();
  return forwarded !== undefined && ADDRESS.test(forwarded) ? forwarded : options.peer;
}
