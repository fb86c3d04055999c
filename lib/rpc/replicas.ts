/**
 * A peer served by several interchangeable replicas (the order queue's, all
 * on one store), as a client reaches it: which replica a call tries first,
 * which it moves on to, and whether a failed `fetch` can have reached the
 * replica at all.
 *
 * A call starts at the replica that last answered (sticky, so that every
 * call of a client goes to one replica while it answers, and all clients to
 * the first of the list while it is up) and moves along the list from there.
 *
 * @module
 */

/**
 * Whether a failed `fetch` never reached its peer: the connection could not
 * be made (refused, no route, a name that does not resolve), so the request
 * was not sent and sending it elsewhere cannot do it twice. Any other
 * failure (the connection reset or closed while the request or its answer
 * was under way) may have come after the peer acted on it. Deno's `fetch`
 * tags the first kind `client error (Connect)` in its error's cause.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { isConnectFailure } from "./replicas.ts";
 * const refused = new TypeError("fetch failed", {
 *   cause: new Error("error sending request for url (http://127.0.0.1:9/): client error (Connect): tcp connect error: Connection refused (os error 111)"),
 * });
 * assert.equal(isConnectFailure(refused), true);
 * const cut = new TypeError("fetch failed", {
 *   cause: new Error("error sending request for url (http://127.0.0.1:9/): client error (SendRequest): connection closed before message completed"),
 * });
 * assert.equal(isConnectFailure(cut), false);
 * ```
 */
export function isConnectFailure(error: unknown): boolean {
  return failureChain(error).some((message) => CONNECT_FAILURE.test(message));
}

const CONNECT_FAILURE = /client error \(Connect\)/;

/**
 * What a failed `fetch` says, its causes included: Deno's own message is only
 * "fetch failed", and the reason (refused, reset, DNS) is in its cause.
 */
export function describeFetchFailure(error: unknown): string {
  const chain = failureChain(error);
  // The innermost message is the most precise; Deno repeats the URL in it, which the caller already names.
  const detail = chain.at(-1) ?? String(error);
  return detail.replace(/^error sending request (for url \([^)]*\)|from \S+ for \S+ \([^)]*\)): /, "");
}

// The messages of `error` and of its causes, outermost first (a cycle ends the chain).
function failureChain(error: unknown): string[] {
  const messages: string[] = [];
  const seen = new Set<unknown>();
  for (let at = error; at instanceof Error && !seen.has(at); at = at.cause) {
    seen.add(at);
    messages.push(at.message);
  }
  return messages;
}

/**
 * The base URLs of one peer's replicas and the one calls start at: the
 * first, then whichever last answered. Safe to share between concurrent
 * calls: a failure moves the start only if no other call has moved it since,
 * so that many calls failing on one dead replica move past it once, not
 * past the live one too.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ReplicaSet } from "./replicas.ts";
 * const replicas = new ReplicaSet(["http://127.0.0.1:50055", "http://127.0.0.1:50056/"]);
 * assert.deepEqual(replicas.tryOrder(), ["http://127.0.0.1:50055", "http://127.0.0.1:50056"]);
 * replicas.failed("http://127.0.0.1:50055");
 * assert.deepEqual(replicas.tryOrder(), ["http://127.0.0.1:50056", "http://127.0.0.1:50055"]);
 * replicas.failed("http://127.0.0.1:50055"); // a late failure of the same replica: the start stays put
 * assert.equal(replicas.tryOrder()[0], "http://127.0.0.1:50056");
 * ```
 */
export class ReplicaSet {
  /** Every replica's base URL, without a trailing slash, in the configured order. */
  readonly urls: readonly string[];
  #start = 0;

  /** Takes the replicas' base URLs (at least one), in the order calls try them. */
  constructor(urls: string | readonly string[]) {
    const list = typeof urls === "string" ? [urls] : urls;
    if (list.length === 0) throw new Error("a client needs at least one base URL");
    this.urls = list.map((url) => url.replace(/\/$/, ""));
  }

  /** Every replica, in the order a call tries them: from the one that last answered on, wrapping around. */
  tryOrder(): string[] {
    return [...this.urls.slice(this.#start), ...this.urls.slice(0, this.#start)];
  }

  /** `url` answered: calls start there from now on. */
  answered(url: string): void {
    const at = this.urls.indexOf(url);
    if (at >= 0) this.#start = at;
  }

  /** `url` failed: if calls were starting there, they start at the next replica. */
  failed(url: string): void {
    if (this.urls[this.#start] === url) this.#start = (this.#start + 1) % this.urls.length;
  }
}
