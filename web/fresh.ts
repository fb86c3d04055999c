/**
 * The part of Fresh's API that routes and islands use, with Fresh's names and
 * shapes: a route module exports an optional `handler` (one function per
 * HTTP method, given the request context, answering a `Response` or
 * `page(data)`) and a default page component given `{ data, url, params,
 * state }`. Fresh is published only on JSR, which our machines cannot reach;
 * moving to it should be a change of imports (`"fresh"` for this module).
 *
 * A `routes/**\/_middleware.ts` exports a `handler` that runs before every
 * route in its folder and below (outermost folder first) and answers with
 * `ctx.next()`, the rest of the chain, or a response of its own (or throws).
 *
 * @module
 */
import type { ComponentType } from "preact";
import { type ConnectCode, RpcError } from "@bookstore/lib/rpc/errors";

/** What a handler and a page know about the request. */
export interface FreshContext<State> {
  /** The request. */
  req: Request;
  /** Its URL, parsed. */
  url: URL;
  /** The route's parameters: `[bookId]` in the file name gives `params.bookId`. */
  params: Record<string, string>;
  /** Per-app state (the shop's API, feature flags), set when the app is created. */
  state: State;
  /**
   * The connection (Fresh's `ctx.info`): the TCP peer's address and when the response was delivered. In memory
   * (`app.request` without an env) a stand-in: address `unknown`, `completed` already resolved.
   */
  info: Deno.ServeHandlerInfo<Deno.NetAddr>;
  /**
   * In a `_middleware.ts`, the rest of the chain (the inner middlewares, then
   * the route); elsewhere there is no rest, and it answers 404.
   */
  next(): Promise<Response>;
}

/** A page answer: the data the page component renders, with an optional status and headers. */
export interface PageResponse<Data> {
  /** Marks the object as a page answer. */
  readonly kind: "page";
  /** What the page component receives as `data`. */
  data: Data;
  /** HTTP status (default 200). */
  status?: number;
  /** Extra response headers. */
  headers?: HeadersInit;
}

/**
 * Answers a request by rendering the route's page component with `data`.
 *
 * @example
 * ```ts
 * import { type Handlers, page } from "./fresh.ts";
 *
 * export const handler: Handlers<{ greeting: string }, unknown> = {
 *   GET: (ctx) => page({ greeting: `hello ${ctx.params.name}` }),
 * };
 * ```
 */
export function page<Data>(data: Data, init: { status?: number; headers?: HeadersInit } = {}): PageResponse<Data> {
  return { kind: "page", data, ...init };
}

/** One method's handler. */
export type Handler<Data, State> = (
  ctx: FreshContext<State>,
) => Response | PageResponse<Data> | Promise<Response | PageResponse<Data>>;

/**
 * The `handler` of a `routes/**\/_middleware.ts`.
 *
 * @example Refuse what the routes below should never see
 * ```ts
 * import { HttpError, type MiddlewareHandler } from "./fresh.ts";
 *
 * export const handler: MiddlewareHandler<{ open: boolean }> = (ctx) => {
 *   if (!ctx.state.open) throw new HttpError(404, `no page at ${ctx.url.pathname}`);
 *   return ctx.next();
 * };
 * ```
 */
export type MiddlewareHandler<State> = (ctx: FreshContext<State>) => Response | Promise<Response>;

/** A route's handlers, by HTTP method. */
export type Handlers<Data, State> = Partial<Record<"GET" | "POST" | "PUT" | "PATCH" | "DELETE", Handler<Data, State>>>;

/** What a page component receives. */
export interface PageProps<Data, State> extends FreshContext<State> {
  /** What the handler passed to `page()`; `undefined` for pages without a handler. */
  data: Data;
  /** The error, on `_500`. */
  error?: unknown;
}

/** What `_app.tsx` and `_layout.tsx` receive: the page (or the inner layout) to render inside. */
export interface AppProps<State> extends FreshContext<State> {
  /** The wrapped page, ready to render. */
  Component: ComponentType;
}

/** A route module as the manifest imports it. */
export interface RouteModule {
  /** Handlers by method; a route without them renders its page for GET. */
  // deno-lint-ignore no-explicit-any
  handler?: Handlers<any, any> | Handler<any, any>;
  /** The page; a route without one must answer every request with a `Response`. */
  // deno-lint-ignore no-explicit-any
  default?: ComponentType<any>;
}

/** An island module as the manifest imports it: its default export is the component. */
export interface IslandModule {
  /** The island component. */
  // deno-lint-ignore no-explicit-any
  default: ComponentType<any>;
}

/** The generated `fresh.gen.ts`: every route and island, by file. */
export interface Manifest {
  /** Route modules by path relative to the root (`./routes/books/[bookId].tsx`). */
  routes: Record<string, RouteModule>;
  /** Island modules by path relative to the root (`./islands/cart_view.tsx`). */
  islands: Record<string, IslandModule>;
}

// The code an error answered with `status` carries in a JSON error body.
const CODE_BY_STATUS: Readonly<Record<number, ConnectCode>> = {
  400: "invalid_argument",
  401: "unauthenticated",
  403: "permission_denied",
  404: "not_found",
  405: "unimplemented",
  409: "aborted",
  413: "resource_exhausted",
  415: "invalid_argument",
  429: "resource_exhausted",
  499: "canceled",
  501: "unimplemented",
  503: "unavailable",
  504: "deadline_exceeded",
};

/** Options for {@linkcode HttpError}: the cause, and the headers its response carries (`Allow`, say). */
export interface HttpErrorOptions extends ErrorOptions {
  /** Headers of the error's response. */
  headers?: HeadersInit;
}

/**
 * Thrown by a handler to answer with an error: on a page, `_404` for 404 and
 * `_500` with the message for any other status; on a route without a page,
 * `{error: {code, message}}`. Fresh's name and signature for the bookstore's
 * one error type, {@linkcode RpcError} (Hono's `HTTPException` is the model):
 * the code is the status's (`invalid_argument` for a 4xx without one of its
 * own, `internal` for a 5xx).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { HttpError } from "./fresh.ts";
 *
 * const error = new HttpError(403, "not from here");
 * assert.equal(error.code, "permission_denied");
 * assert.deepEqual(await error.toResponse("json").json(), {
 *   error: { code: "permission_denied", message: "not from here" },
 * });
 * ```
 */
export class HttpError extends RpcError {
  /** Creates an error answered with `status` and a message shown to the person. */
  constructor(status: number, message: string, options: HttpErrorOptions = {}) {
    const code = CODE_BY_STATUS[status] ?? (status < 500 ? "invalid_argument" : "internal");
    super(code, message, { status, headers: options.headers, cause: options.cause });
    this.name = "HttpError";
  }

  /** The HTTP status to answer. */
  get status(): number {
    return this.httpStatus;
  }
}
