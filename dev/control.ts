/**
 * The supervisor's one control endpoint, for the cluster page's Crash of a
 * process that has no `/admin/crash` of its own (an etcd member): `POST
 * /processes/{name}/crash` SIGKILLs it, and the supervisor restarts it as it
 * does any process that dies. Only the processes it is told may be crashed
 * this way, only on loopback, only with the service credential; `deno task
 * dev` serves it only with fault injection on, and tells the web app where
 * (`BOOKSTORE_SUPERVISOR_URL`).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { serveControl } from "./control.ts";
 *
 * const killed: string[] = [];
 * await using control = serveControl({ token: "t".repeat(16), crashable: ["etcd1"], kill: (name) => killed.push(name) });
 * const crash = (name: string) =>
 *   fetch(`${control.url}/processes/${name}/crash`, { method: "POST", headers: { authorization: `Bearer ${"t".repeat(16)}` } });
 * assert.equal((await crash("etcd1")).status, 202);
 * assert.equal((await crash("web")).status, 404);
 * assert.deepEqual(killed, ["etcd1"]);
 * ```
 *
 * @module
 */
import { hasValidCredential } from "@bookstore/lib/rpc";

/** Options for {@linkcode serveControl}. */
export interface ControlOptions {
  /** The service credential every request must carry. */
  token: string;
  /** The processes that may be crashed through it. */
  crashable: readonly string[];
  /** Sends SIGKILL to a process by name (the supervisor's `kill`). */
  kill: (name: string) => void;
  /** The address it listens on (the supervisor's host's, with `--hosts`). @default "127.0.0.1" */
  hostname?: string;
}

/** A running control endpoint. */
export interface Control extends AsyncDisposable {
  /** Its base URL, on loopback. */
  readonly url: string;
}

const CRASH_PATH = /^\/processes\/([\w-]+)\/crash$/;

/** Serves the control endpoint on a free loopback port. */
export function serveControl(options: ControlOptions): Control {
  const answer = (status: number, body: unknown) => Response.json(body, { status });
  const hostname = options.hostname ?? "127.0.0.1";
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, async (request) => {
    await request.body?.cancel();
    if (!hasValidCredential(request.headers, options.token)) {
      return answer(401, { error: { code: "unauthenticated", message: "missing or invalid service credential" } });
    }
    const name = CRASH_PATH.exec(new URL(request.url).pathname)?.[1];
    if (request.method !== "POST" || name === undefined || !options.crashable.includes(name)) {
      return answer(404, { error: { code: "not_found", message: "no such process to crash" } });
    }
    options.kill(name);
    return answer(202, { process: name, action: "crash" });
  });
  return {
    url: `http://${hostname}:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
