/**
 * Builds the web app from its manifest, the way Fresh does: each file in
 * `routes/` answers at the path its name gives (`routes/books/[bookId].tsx` →
 * `/books/:bookId`), inside `_app.tsx` and `_layout.tsx`, behind every
 * `_middleware.ts` of its folder and those above, with `_404.tsx` and
 * `_500.tsx` for a page's errors and `{error: {code, message}}` for those of
 * a route without a page (`/api`, `/admin`, event streams). The islands'
 * bundle is served under its content hash with a year-long cache; every
 * response carries the security headers and is compressed when that helps.
 *
 * @module
 */
import { clientAddress } from "@bookstore/lib/client_address";
import { type Context, Hono } from "hono";
import { compress } from "hono/compress";
import { serveStatic } from "hono/deno";
import { secureHeaders } from "hono/secure-headers";
import { type ComponentType, h } from "preact";
import type { Logger } from "@bookstore/lib/log";
import {
  type FreshContext,
  type Handler,
  HttpError,
  type Manifest,
  type MiddlewareHandler,
  type PageResponse,
  type RouteModule,
} from "./fresh.ts";
import { collectHead } from "./head.ts";
import { islandPropsScript, registerIslands, renderWithIslands } from "./islands.ts";

/** The islands' bundle, as `bundleClient` built it. */
export interface ClientBundle {
  /** The JavaScript. */
  code: string;
  /** A hash of the code, part of its URL so that any change busts caches. */
  hash: string;
}

/** Options for {@linkcode createWebApp}. */
export interface WebAppOptions<State> {
  /** Given to every handler and page as `ctx.state`. */
  state: State;
  /** The islands' bundle; pages with islands load it. */
  bundle: ClientBundle;
  /** Logger for failed requests. */
  log: Logger;
  /** Origins besides our own that the browser may call (the orchestrator's public API). */
  connectOrigins?: string[];
  /** Folder whose `static/` is served at `/static/` (default the working directory). */
  staticRoot?: string;
  /** Load balancers whose `X-Forwarded-For` names the client (`lib/client_address.ts`). @default [] */
  trustedProxies?: readonly string[];
}

// What `ctx.info` is for a request that `app.request` made in memory without an env.
const IN_MEMORY_ADDR: Deno.NetAddr = { transport: "tcp", hostname: "unknown", port: 0 };

/**
 * The connection a request came on: `Deno.serve` gives it to Hono as `c.env`; a stand-in in memory. Behind a
 * trusted load balancer its address is the client's the balancer forwarded, which the per-client limits count.
 */
function connectionOf(c: Context, trustedProxies?: readonly string[]): Deno.ServeHandlerInfo<Deno.NetAddr> {
  const env = c.env as Partial<Deno.ServeHandlerInfo<Deno.NetAddr>> | undefined;
  const peer = env?.remoteAddr ?? IN_MEMORY_ADDR;
  const hostname = clientAddress(c.req.raw, { peer: peer.hostname, trustedProxies });
  return { remoteAddr: { ...peer, hostname }, completed: env?.completed ?? Promise.resolve() };
}

// A route handler's ctx.next(): nothing comes after a route.
const nothingNext = (): Promise<Response> => Promise.reject(new HttpError(404, "nothing comes after this route"));

/**
 * The `_middleware.ts` handlers that run before the route at `path`, outermost
 * folder first: `./routes/admin/replicas/[id].ts` runs `./routes/_middleware.ts`,
 * then `./routes/admin/_middleware.ts`, then `./routes/admin/replicas/_middleware.ts`,
 * those that exist.
 */
// deno-lint-ignore no-explicit-any
export function middlewaresOf(manifest: Manifest, path: string): MiddlewareHandler<any>[] {
  const folders = path.replace(/^\.\/routes\//, "").split("/").slice(0, -1);
  // deno-lint-ignore no-explicit-any
  const found: MiddlewareHandler<any>[] = [];
  for (let depth = 0; depth <= folders.length; depth++) {
    const folder = ["./routes", ...folders.slice(0, depth)].join("/");
    const module = manifest.routes[`${folder}/_middleware.ts`] ?? manifest.routes[`${folder}/_middleware.tsx`];
    const handlers = module?.handler;
    if (typeof handlers === "function") found.push(handlers as MiddlewareHandler<unknown>);
    else if (Array.isArray(handlers)) found.push(...handlers);
    else if (module) throw new Error(`${folder}/_middleware.ts must export a handler function`);
  }
  return found;
}

/** A route file's URL pattern: `./routes/orders/[orderId].tsx` → `/orders/:orderId`. */
export function routePattern(path: string): string {
  const segments = path.replace(/^\.\/routes\//, "").replace(/\.[jt]sx?$/, "").split("/");
  if (segments.at(-1) === "index") segments.pop();
  const converted = segments.map((segment) => {
    const rest = /^\[\.\.\.(\w+)\]$/.exec(segment);
    if (rest) return "*";
    return segment.replace(/^\[(\w+)\]$/, ":$1");
  });
  return "/" + converted.join("/");
}

// Static segments before dynamic ones, so `/orders/new` would win over `/orders/:orderId`.
const specificity = (pattern: string) => pattern.split("/").map((s) => s === "*" ? "2" : s.startsWith(":") ? "1" : "0");

/** Builds the Hono app serving every route of `manifest`. */
export function createWebApp<State>(manifest: Manifest, options: WebAppOptions<State>): Hono {
  registerIslands(manifest.islands);
  const special = (name: string) => manifest.routes[`./routes/${name}.tsx`];
  const App = special("_app")?.default ?? (({ Component }: { Component: ComponentType }) => h(Component, {}));
  const Layout = special("_layout")?.default;
  const bundlePath = `/_frsh/js/${options.bundle.hash}/client.js`;
  const app = new Hono();

  app.use(
    "*",
    secureHeaders({
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:"],
        connectSrc: ["'self'", ...(options.connectOrigins ?? [])],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
      referrerPolicy: "strict-origin-when-cross-origin",
      xFrameOptions: "DENY",
      crossOriginEmbedderPolicy: false,
    }),
  );
  // Server-sent events must reach the browser as they are written, never buffered by a compressor.
  app.use(
    "*",
    compress({
      contentTypeFilter: (type) =>
        /^(text\/(html|css|plain)|application\/(json|javascript)|text\/javascript|image\/svg)/.test(type),
    }),
  );

  app.get("/healthz", (c) => c.json({ status: "ok", service: "web", pid: Deno.pid }));
  app.get(bundlePath, (c) =>
    c.body(options.bundle.code, 200, {
      "content-type": "text/javascript; charset=utf-8",
      "cache-control": "public, max-age=31536000, immutable",
    }));
  app.use("/static/*", async (c, next) => {
    await next();
    c.header("cache-control", "public, max-age=300");
  });
  app.use("/static/*", serveStatic({ root: options.staticRoot ?? "./" }));

  const contextOf = (c: Context, next = nothingNext): FreshContext<State> => ({
    req: c.req.raw,
    url: new URL(c.req.url),
    params: c.req.param() as Record<string, string>,
    state: options.state,
    info: connectionOf(c, options.trustedProxies),
    next,
  });

  const render = (
    Page: ComponentType<Record<string, unknown>>,
    ctx: FreshContext<State>,
    answer: { data?: unknown; error?: unknown; status?: number; headers?: HeadersInit },
  ): Response => {
    const Inner = () => h(Page, { ...ctx, data: answer.data, error: answer.error });
    const Wrapped = Layout ? () => h(Layout, { ...ctx, Component: Inner }) : Inner;
    const { value: { html, islands }, head } = collectHead(() =>
      renderWithIslands(h(App, { ...ctx, Component: Wrapped }))
    );
    // Client JavaScript only for pages that have islands.
    const scripts = islands.length === 0
      ? ""
      : `${islandPropsScript(islands)}<script type="module" src="${bundlePath}"></script>`;
    // Functions, not replacement strings: those would read `$'`, `` $` `` or `$&` in a prop as patterns.
    const body = "<!DOCTYPE html>" +
      html.replace("</head>", (end) => head + end).replace("</body>", (end) => scripts + end);
    const headers = new Headers(answer.headers);
    headers.set("content-type", "text/html; charset=utf-8");
    return new Response(body, { status: answer.status ?? 200, headers });
  };

  const notFound = special("_404")?.default;
  const serverError = special("_500")?.default;
  // The one error handler: a route without a page (`/api`, `/admin`, event streams) answers its errors in JSON, as it
  // answers everything else; a page renders them.
  const errorPage = (c: Context, thrown: unknown): Response => {
    // Only the web's own errors are answered as themselves: a peer's RpcError that escaped a handler is a failure here.
    const error = thrown instanceof HttpError ? thrown : new HttpError(500, "internal error", { cause: thrown });
    const status = error.httpStatus;
    if (status >= 500) options.log.error("request failed", { path: c.req.path, error: thrown });
    if (jsonRequests.has(c.req.raw)) return error.toResponse("json");
    const Page = status === 404 ? notFound : serverError;
    if (!Page) return new Response(status === 404 ? "Not found" : "Internal error", { status, headers: error.headers });
    try {
      return render(Page, contextOf(c), { error: thrown, status, headers: error.headers });
    } catch (renderError) {
      options.log.error("rendering the error page failed", { error: renderError });
      return new Response("Internal error", { status: 500 });
    }
  };
  // Requests for a route without a page, marked when routed: the handler answers their errors as JSON.
  const jsonRequests = new WeakSet<Request>();
  app.onError((error, c) => errorPage(c, error));
  app.notFound((c) => errorPage(c, new HttpError(404, `no page at ${c.req.path}`)));

  const isSpecial = (path: string) => /\/_[^/]*$/.test(path.replace(/\.[jt]sx?$/, ""));
  const routes = Object.entries(manifest.routes)
    .filter(([path]) => !isSpecial(path))
    .map(([path, module]) => ({ pattern: routePattern(path), module, middlewares: middlewaresOf(manifest, path) }))
    .sort((a, b) => specificity(a.pattern).join("/").localeCompare(specificity(b.pattern).join("/")));
  for (const { pattern, module, middlewares } of routes) {
    app.all(pattern, (c) => {
      if (!module.default) jsonRequests.add(c.req.raw);
      // Each middleware's next() runs the ones inside it, then the route.
      const run = (i: number): Promise<Response> =>
        i === middlewares.length ? answer(c, module) : Promise.resolve(middlewares[i](contextOf(c, () => run(i + 1))));
      return run(0);
    });
  }

  async function answer(c: Context, module: RouteModule): Promise<Response> {
    const ctx = contextOf(c);
    const method = c.req.method === "HEAD" ? "GET" : c.req.method;
    const handler = typeof module.handler === "function"
      ? module.handler
      : (module.handler as Record<string, Handler<unknown, State>> | undefined)?.[method];
    let result: Response | PageResponse<unknown>;
    if (handler) {
      result = await handler(ctx);
    } else if (!module.handler && module.default && method === "GET") {
      result = { kind: "page", data: undefined };
    } else {
      const allowed = module.handler && typeof module.handler === "object"
        ? Object.keys(module.handler).join(", ")
        : "GET";
      throw new HttpError(405, `${c.req.method} is not allowed here`, { headers: { allow: allowed } });
    }
    if (result instanceof Response) return result;
    if (!module.default) throw new Error(`route ${c.req.path} answered page() but has no page component`);
    return render(module.default, ctx, result);
  }

  return app;
}
