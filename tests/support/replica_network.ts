/**
 * A network in memory between a client and the replicas of a peer: a `fetch`
 * that hands each request to the app at its origin, unless a fault set on
 * that origin gets in the way, failing as Deno's own `fetch` fails.
 *
 * @module
 */
import type { Fetch } from "@bookstore/lib/rpc";

/**
 * What becomes of a request to a faulty replica: `refuse`d before it is sent
 * (the connection cannot be made); `cut` after the replica handled it and
 * before its answer came back (it acted, the caller cannot know); or `hang`,
 * no answer until the caller gives up.
 */
export type NetworkFault = "refuse" | "cut" | "hang";

/** One request as the network saw it. */
export interface SeenRequest {
  /** The replica it was addressed to. */
  origin: string;
  /** The method path, e.g. `/bookstore.v1.OrderQueueService/Enqueue`. */
  path: string;
  /** The request headers. */
  headers: Headers;
  /** The request body (JSON). */
  body: string;
  /** What the network did to it (absent: delivered and answered). */
  fault?: NetworkFault;
}

/** A network of replicas in memory. */
export interface ReplicaNetwork {
  /** Sends requests over the network. */
  readonly fetch: Fetch;
  /** Every request, in the order they were sent. */
  readonly requests: SeenRequest[];
  /**
   * From now on, requests to `origin` (only those whose path ends with
   * `options.method`, when given) meet `fault`; `undefined` heals it.
   */
  set(origin: string, fault: NetworkFault | undefined, options?: { method?: string }): void;
}

/** A failed `fetch` as Deno reports a connection that could not be made. */
export function connectionRefused(url: string): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (${url}): client error (Connect): tcp connect error: Connection refused (os error 111)`,
    ),
  });
}

/** A failed `fetch` as Deno reports a connection that closed before the answer came. */
export function connectionCut(url: string): TypeError {
  return new TypeError("fetch failed", {
    cause: new Error(
      `error sending request for url (${url}): client error (SendRequest): connection closed before message completed`,
    ),
  });
}

/** A network in which each origin of `apps` answers through its `request` (a Hono app's, say). */
export function replicaNetwork(apps: Record<string, Fetch>): ReplicaNetwork {
  const faults = new Map<string, { fault: NetworkFault; method?: string }>();
  const requests: SeenRequest[] = [];
  const fetch: Fetch = async (input, init) => {
    const url = new URL(input);
    const rule = faults.get(url.origin);
    const fault = rule && (rule.method === undefined || url.pathname.endsWith(rule.method)) ? rule.fault : undefined;
    requests.push({
      origin: url.origin,
      path: url.pathname,
      headers: new Headers(init?.headers),
      body: String(init?.body ?? ""),
      fault,
    });
    const app = apps[url.origin];
    if (!app || fault === "refuse") throw connectionRefused(input);
    if (fault === "hang") {
      return await new Promise<never>((_, reject) => {
        const signal = init?.signal;
        if (signal?.aborted) reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    const response = await app(input, init);
    if (fault === "cut") {
      await response.body?.cancel();
      throw connectionCut(input);
    }
    return response;
  };
  return {
    fetch,
    requests,
    set(origin, fault, options = {}) {
      if (fault === undefined) faults.delete(origin);
      else faults.set(origin, { fault, method: options.method });
    },
  };
}
