/**
 * What every service process shares: a Hono app with `/healthz`, the
 * fault-injection endpoints when enabled (`/admin/faults`, `/admin/crash`,
 * `/admin/pause`), serving on the configured port, and
 * a clean shutdown on SIGTERM/SIGINT.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import type { Config } from "./config.ts";
import { createLogger, type Logger } from "./log.ts";
import { describeIssues, RpcError } from "./rpc/errors.ts";
import { FaultInjector, faultRulesSchema } from "./rpc/faults.ts";
import { connectErrorResponse, hasValidCredential } from "./rpc/server.ts";

/** The pieces a service builds its routes on. */
export interface ServiceKit {
  /** The app with `/healthz` (and the `/admin/*` fault endpoints when enabled) mounted. */
  app: Hono;
  /** The service's logger. */
  log: Logger;
  /** Fault rules, present only when fault injection is enabled. */
  faults?: FaultInjector;
}

/** Creates the app and logger of a service named `name`. */
export function createServiceKit(name: string, config: Config): ServiceKit {
  const log = createLogger(name, { level: config.logLevel });
  // A stray rejection is a bug to log, not a reason to drop every in-flight request.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled rejection", { error: event.reason });
  });
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", service: name, pid: Deno.pid }));
  app.onError((error, c) => {
    log.error("unhandled error", { error, path: c.req.path });
    return connectErrorResponse(c, new RpcError("internal", "internal error"));
  });
  app.notFound((c) => connectErrorResponse(c, new RpcError("not_found", `no route for ${c.req.method} ${c.req.path}`)));
  let faults: FaultInjector | undefined;
  if (config.faults && config.serviceToken !== undefined) {
    const token = config.serviceToken;
    const injector = new FaultInjector();
    faults = injector;
    app.use("/admin/*", async (c, next) => {
      if (!(await hasValidCredential(c.req.raw.headers, token))) {
        return connectErrorResponse(c, new RpcError("unauthenticated", "missing or invalid service credential"));
      }
      await next();
    });
    app.get("/admin/faults", (c) => c.json({ rules: injector.list() }));
    app.post("/admin/faults", async (c) => {
      const parsed = faultRulesSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        return connectErrorResponse(c, new RpcError("invalid_argument", describeIssues(parsed.error)));
      }
      injector.set(parsed.data.rules);
      log.warn("fault rules replaced", { rules: parsed.data.rules });
      return c.json({ rules: injector.list() });
    });
    app.delete("/admin/faults", (c) => {
      injector.set([]);
      log.info("fault rules cleared");
      return c.json({ rules: [] });
    });
    // Process faults for demos and tests: a crash as SIGKILL would do it, and a
    // pause that stops the whole event loop, as SIGSTOP would, so that timers,
    // heartbeats and in-flight work all freeze and the rest of the system moves on.
    app.post("/admin/crash", (c) => {
      log.warn("crashing on request (SIGKILL)");
      setTimeout(() => Deno.kill(Deno.pid, "SIGKILL"), 20);
      return c.json({ crashing: true, pid: Deno.pid }, 202);
    });
    app.post("/admin/pause", async (c) => {
      const parsed = pauseRequestSchema.safeParse(await c.req.json().catch(() => undefined));
      if (!parsed.success) {
        return connectErrorResponse(c, new RpcError("invalid_argument", describeIssues(parsed.error)));
      }
      const { ms } = parsed.data;
      log.warn("pausing the event loop on request", { ms });
      setTimeout(() => freezeEventLoop(ms), 20);
      return c.json({ pausedMs: ms, pid: Deno.pid }, 202);
    });
  }
  return { app, log, faults };
}

/** The body of `POST /admin/pause`: how long to stop the event loop. */
export const pauseRequestSchema = z.object({ ms: z.number().int().min(1).max(60_000) });

// Blocks this thread without yielding: no timer, request or promise runs meanwhile.
function freezeEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** Port to listen on (0 picks a free one). */
  port: number;
  /** Interface to bind. */
  hostname: string;
  /** Logger for lifecycle events. */
  log: Logger;
  /** Releases resources (timers, KV) after the server stopped accepting requests. */
  onShutdown?: () => void | Promise<void>;
}

/**
 * Serves `app` until SIGTERM or SIGINT, then stops accepting requests, lets
 * in-flight ones finish, runs `onShutdown` and exits.
 */
export function serve(app: Hono, options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const { log } = options;
  const server = Deno.serve({
    port: options.port,
    hostname: options.hostname,
    onListen: ({ hostname, port }) => log.info("listening", { url: `http://${hostname}:${port}`, pid: Deno.pid }),
  }, app.fetch);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("shutting down", { signal });
    const force = setTimeout(() => Deno.exit(1), 5000);
    try {
      await server.shutdown();
      await options.onShutdown?.();
    } catch (error) {
      log.error("shutdown failed", { error });
    }
    clearTimeout(force);
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", () => stop("SIGTERM"));
  Deno.addSignalListener("SIGINT", () => stop("SIGINT"));
  return server;
}

/** Opens (creating if needed) the Deno KV file of a service under the data directory. */
export async function openServiceKv(config: Config, name: string): Promise<Deno.Kv> {
  await Deno.mkdir(config.dataDir, { recursive: true });
  return await Deno.openKv(`${config.dataDir}/${name}.kv`);
}
