/**
 * What every service shares, and the one place a service is wired:
 *
 * - {@linkcode createServiceKit}: a Hono app with `/healthz`, one `onError`
 *   (a Connect method's failure a Connect error, any other endpoint's
 *   `{error: {code, message}}`), the fault-injection endpoints when
 *   enabled (`/admin/faults`, `/admin/crash`, `/admin/pause`), and two methods that replace the wiring each service used to
 *   write out by hand: `kit.rpc(service, handlers)` mounts a service's
 *   Connect routes with the credential, faults and body limit, and
 *   `kit.peer(service)` makes a typed client of a peer from the config.
 * - {@linkcode serveService}: what a `main.ts` does once it has built its
 *   service: start it, serve it, shut it down cleanly on SIGTERM/SIGINT.
 *
 * @module
 */
import { Hono } from "hono";
import { z } from "zod";
import { type Config, requireServiceToken } from "./config.ts";
import {
  checkoutService,
  fraudDetectionService,
  orderEventsService,
  orderQueueService,
  suggestionsService,
  transactionVerificationService,
} from "./contracts/mod.ts";
import { createLogger, type Logger } from "./log.ts";
import { type Client, type ClientOptions, createClient, type Fetch } from "./rpc/client.ts";
import { RpcError } from "./rpc/errors.ts";
import { FaultInjector, faultRulesSchema } from "./rpc/faults.ts";
import { createRpcRoutes, type Handlers, hasValidCredential, parseJsonBody } from "./rpc/server.ts";
import { errorHandler } from "./http.ts";
import type { Kv } from "./store/types.ts";
import { methodPath, type ServiceSpec } from "./rpc/define.ts";

/** What a service module is given: everything it talks to. */
export interface ServiceDeps {
  /** The configuration. */
  config: Config;
  /** The logger; one named after the service at the configured level otherwise. */
  log?: Logger;
  /**
   * How peers are reached (default: the global `fetch`). An in-memory test
   * passes a `fetch` that hands each request to the peer's app
   * (`app.request`), so no server is started.
   */
  fetch?: Fetch;
}

/** What a service with state of its own is given. */
export interface KvServiceDeps extends ServiceDeps {
  /** The service's store (`openStore` in `main.ts`, or `Deno.openKv(":memory:")` in a test). */
  kv: Kv;
}

/** Timers a service runs while it serves: started by `start()`, stopped by `[Symbol.dispose]()`. */
export interface ServiceTimers extends Disposable {
  /** Starts the timers. */
  start(): void;
}

/** The pieces a service builds its routes on. */
export interface ServiceKit {
  /** The app with `/healthz` (and the `/admin/*` fault endpoints when enabled) mounted. */
  readonly app: Hono;
  /** The service's logger. */
  readonly log: Logger;
  /** The configuration. */
  readonly config: Config;
  /** Fault rules, present only when fault injection is enabled. */
  readonly faults?: FaultInjector;
  /** Mounts the Connect routes of `service` with the service credential, faults and body limit. */
  rpc<S extends ServiceSpec>(service: S, handlers: Handlers<S>): void;
  /**
   * A client of `service` with the credential and the RPC deadline; its URL
   * (every replica's, for the order queue) comes from the config unless
   * `options.baseUrl` says otherwise.
   */
  peer<S extends ServiceSpec>(service: S, options?: Partial<ClientOptions>): Client<S>;
  /**
   * One client of `service` per configured instance, instance k at index
   * k − 1, none failing over to another: for a validator, whose instances
   * each hold their own orders, so that a message goes to the instance an
   * order's route names or fails.
   */
  instances<S extends ServiceSpec>(service: S, options?: Partial<ClientOptions>): Client<S>[];
  /** The finished service: the kit's app and logger, with `timers` (if any) as its lifecycle. */
  service(timers?: ServiceTimers): ServiceApp;
}

/** Where each internal service is reached (every replica's URL, for a replicated one), and its name in messages. */
const PEER_URLS: Readonly<Record<string, { peer: string; url: (config: Config) => string | readonly string[] }>> = {
  [checkoutService.typeName]: { peer: "orchestrator", url: (config) => config.urls.orchestrator },
  [orderEventsService.typeName]: { peer: "orchestrator", url: (config) => config.urls.orchestrator },
  [transactionVerificationService.typeName]: {
    peer: "transaction_verification",
    url: (config) => config.urls.transactionVerification,
  },
  [fraudDetectionService.typeName]: { peer: "fraud_detection", url: (config) => config.urls.fraudDetection },
  [suggestionsService.typeName]: { peer: "suggestions", url: (config) => config.urls.suggestions },
  [orderQueueService.typeName]: { peer: "order_queue", url: (config) => config.urls.orderQueue },
};

/**
 * A typed client of `service` as a process of the system reaches it: its URL
 * from the configuration, or every replica's for the order queue, which the
 * client fails over between (unless `options.baseUrl` says otherwise), the
 * service credential (unless the service is public), the configured
 * deadline, and `options.fetch`.
 */
export function peerClient<S extends ServiceSpec>(
  service: S,
  options: Partial<ClientOptions> & { config: Config },
): Client<S> {
  const { config, ...overrides } = options;
  const known = PEER_URLS[service.typeName];
  const baseUrl = overrides.baseUrl ?? known?.url(config);
  if (baseUrl === undefined) throw new Error(`no URL configured for ${service.typeName}`);
  return createClient(service, {
    peer: known?.peer ?? service.typeName,
    // The credential goes only where it is asked for: a public service gets calls from anyone.
    token: service.public ? undefined : config.serviceToken,
    timeoutMs: config.rpcTimeoutMs,
    checkRequests: config.checkSentMessages,
    ...overrides,
    baseUrl,
  });
}

/**
 * One client of `service` per configured instance (each as {@linkcode peerClient} makes it, on that instance's URL
 * alone), instance k at index k − 1.
 */
export function peerInstances<S extends ServiceSpec>(
  service: S,
  options: Partial<ClientOptions> & { config: Config },
): Client<S>[] {
  const known = PEER_URLS[service.typeName];
  if (known === undefined) throw new Error(`no URL configured for ${service.typeName}`);
  const urls = known.url(options.config);
  const list = typeof urls === "string" ? [urls] : urls;
  // With several instances, errors name the instance (`fraud_detection_2 is unreachable at …`).
  return list.map((baseUrl, i) =>
    peerClient(service, { peer: list.length > 1 ? `${known.peer}_${i + 1}` : known.peer, ...options, baseUrl })
  );
}

/**
 * Creates the app, logger and wiring of a service named `name`. Creating a
 * kit starts nothing: no server, no timer, no listener.
 *
 * @example A whole service in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { loadConfig } from "./config.ts";
 * import { suggestionsService } from "./contracts/mod.ts";
 * import { createLogger } from "./log.ts";
 * import { createServiceKit } from "./service.ts";
 *
 * const config = loadConfig({ BOOKSTORE_SERVICE_TOKEN: "a-token-of-16-chars" });
 * const kit = createServiceKit("suggestions", { config, log: createLogger("doc", { write: () => {} }) });
 * kit.rpc(suggestionsService, {
 *   InitOrder: () => ({}),
 *   Advance: () => ({}),
 *   CancelOrder: () => ({ clock: {}, events: [], consistent: true }),
 *   ClearOrder: () => ({ clock: {}, events: [], consistent: true }),
 *   Suggest: () => ({ books: [] }),
 * });
 * const client = kit.peer(suggestionsService, { fetch: kit.app.request });
 * assert.ok((await client.Suggest({ bookIds: [] })).books.length === 0);
 * ```
 */
export function createServiceKit(name: string, deps: ServiceDeps): ServiceKit {
  const { config } = deps;
  const log = deps.log ?? createLogger(name, { level: config.logLevel });
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", service: name, pid: Deno.pid }));
  // A Connect method's error is a Connect error; every other endpoint's is {error: {code, message}}.
  const connectPaths = new Set<string>();
  const onError = errorHandler(log, (c) => connectPaths.has(c.req.path) ? "connect" : "json");
  app.onError(onError);
  app.notFound((c) => onError(new RpcError("not_found", `no route for ${c.req.method} ${c.req.path}`), c));
  const faults = config.faults && config.serviceToken !== undefined
    ? mountFaults(app, { log, token: config.serviceToken })
    : undefined;
  return {
    app,
    log,
    config,
    faults,
    rpc(service, handlers) {
      for (const name of Object.keys(service.methods)) connectPaths.add(methodPath(service, name));
      app.route(
        "/",
        createRpcRoutes(service, {
          handlers,
          log,
          token: service.public ? undefined : requireServiceToken(config),
          faults,
          maxBodyBytes: config.maxBodyBytes,
          checkResponses: config.checkSentMessages,
        }),
      );
    },
    peer: (service, options = {}) => peerClient(service, { config, fetch: deps.fetch, ...options }),
    instances: (service, options = {}) => peerInstances(service, { config, fetch: deps.fetch, ...options }),
    service(timers) {
      return {
        app,
        log,
        start: () => timers?.start(),
        [Symbol.dispose]: () => timers?.[Symbol.dispose](),
      };
    },
  };
}

function mountFaults(app: Hono, options: { log: Logger; token: string }): FaultInjector {
  const { log, token } = options;
  const injector = new FaultInjector();
  app.use("/admin/*", async (c, next) => {
    if (!hasValidCredential(c.req.raw.headers, token)) {
      throw new RpcError("unauthenticated", "missing or invalid service credential");
    }
    await next();
  });
  app.get("/admin/faults", (c) => c.json({ rules: injector.list() }));
  app.post("/admin/faults", async (c) => {
    const { rules } = await parseJsonBody(c, faultRulesSchema);
    injector.set(rules);
    log.warn("fault rules replaced", { rules });
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
    const { ms } = await parseJsonBody(c, pauseRequestSchema);
    log.warn("pausing the event loop on request", { ms });
    setTimeout(() => freezeEventLoop(ms), 20);
    return c.json({ pausedMs: ms, pid: Deno.pid }, 202);
  });
  return injector;
}

/** The body of `POST /admin/pause`: how long to stop the event loop. */
export const pauseRequestSchema: z.ZodObject<{ ms: z.ZodNumber }> = z.object({
  ms: z.number().int().min(1).max(60_000),
});

// Blocks this thread without yielding: no timer, request or promise runs meanwhile.
function freezeEventLoop(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** A service module built by its `createApp(deps)`: routes, and the timers it runs. */
export interface ServiceApp extends Disposable {
  /** The service's routes. */
  readonly app: Hono;
  /** The service's logger. */
  readonly log: Logger;
  /** Starts the service's timers (sweepers, housekeeping, elections); serving does not need it. */
  start(): void;
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
  /**
   * How long in-flight requests get to finish after SIGTERM before the
   * process exits anyway. A client's idle keep-alive connection would
   * otherwise hold a graceful shutdown open until it closes.
   * @default 2000
   */
  drainMs?: number;
}

/**
 * Serves `app` until SIGTERM or SIGINT, then stops accepting requests, lets
 * in-flight ones finish (for up to `drainMs`), runs `onShutdown` and exits. A
 * stray promise rejection is logged instead of ending the process.
 */
export function serve(app: Hono, options: ServeOptions): Deno.HttpServer<Deno.NetAddr> {
  const { log } = options;
  // A stray rejection is a bug to log, not a reason to drop every in-flight request.
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("unhandled rejection", { error: event.reason });
  });
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
    const drainMs = options.drainMs ?? 2000;
    try {
      let drained = false;
      await Promise.race([
        server.shutdown().then(() => drained = true),
        new Promise((resolve) => setTimeout(resolve, drainMs)),
      ]);
      if (!drained) log.warn("connections still open; exiting anyway", { drainMs });
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

/** Options for {@linkcode serveService}. */
export interface ServeServiceOptions {
  /** The configuration (the interface to bind). */
  config: Config;
  /** Port to listen on. */
  port: number;
  /** The service's store, closed after the server stops. */
  kv?: Kv;
}

/**
 * Starts `service` and serves it until SIGTERM/SIGINT; then disposes of it
 * and closes its store. This is most of a `main.ts`.
 */
export function serveService(service: ServiceApp, options: ServeServiceOptions): Deno.HttpServer<Deno.NetAddr> {
  const server = serve(service.app, {
    port: options.port,
    hostname: options.config.host,
    log: service.log,
    onShutdown: () => {
      service[Symbol.dispose]();
      options.kv?.close();
    },
  });
  service.start();
  return server;
}
