/**
 * The supervisor's control endpoint, for the cluster page's faults that no
 * process can do to itself. `POST /processes/{name}/crash` SIGKILLs a
 * process that has no `/admin/crash` of its own (an etcd member), and the
 * supervisor restarts it as it does any process that dies. With `--hosts`
 * it also shows the hosts (`GET /hosts`: each process's host, address and
 * cut links), cuts a host off from its peers (`POST /partition {"host"}`:
 * an executor from the other executors) and heals every cut (`POST
 * /heal`). Only what it is told, only on loopback, only with the service
 * credential; `deno task dev` serves it only with fault injection on, and
 * tells the web app where (`BOOKSTORE_SUPERVISOR_URL`).
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
import { type HostLinks, hostRoutes } from "./host_control.ts";

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
  /** With `--hosts`: the hosts and how their links are cut and healed (no host routes without it). */
  hosts?: HostLinks;
}

/** A running control endpoint. */
export interface Control extends AsyncDisposable {
  /** Its base URL, on loopback. */
  readonly url: string;
}

const CRASH_PATH = /^\/processes\/([\w-]+)\/crash$/;
const HOST_PATH = /^\/(hosts|partition|heal)$/;

/** Serves the control endpoint on a free loopback port. */
export function serveControl(options: ControlOptions): Control {
  const answer = (status: number, body: unknown) => Response.json(body, { status });
  const notFound = (message: string) => answer(404, { error: { code: "not_found", message } });
  const hostname = options.hostname ?? "127.0.0.1";
  const hosts = options.hosts && hostRoutes(options.hosts);
  const server = Deno.serve({ hostname, port: 0, onListen: () => {} }, async (request) => {
    if (!hasValidCredential(request.headers, options.token)) {
      await request.body?.cancel();
      return answer(401, { error: { code: "unauthenticated", message: "missing or invalid service credential" } });
    }
    const path = new URL(request.url).pathname;
    const route = hosts?.[`${request.method} ${path}`];
    if (route) return answer(...await route(request));
    await request.body?.cancel();
    const name = CRASH_PATH.exec(path)?.[1];
    if (request.method !== "POST" || name === undefined || !options.crashable.includes(name)) {
      // A host route asked of a supervisor without hosts says why it is missing.
      return notFound(!hosts && HOST_PATH.test(path) ? "no hosts: not run with --hosts" : "no such process to crash");
    }
    options.kill(name);
    return answer(202, { process: name, action: "crash" });
  });
  return {
    url: `http://${hostname}:${server.addr.port}`,
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
}
