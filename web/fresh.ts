/**
 * The part of Fresh's API that routes and islands use, with Fresh's names and
 * shapes: a route module exports an optional `handler` (one function per
 * HTTP method, given the request context, answering a `Response` or
 * `page(data)`) and a default page component given `{ data, url, params,
 * state }`. Fresh is published only on JSR, which our machines cannot reach;
 * moving to it should be a change of imports (`"fresh"` for this module).
 *
 * @module
 */
import type { ComponentType } from "preact";

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

/**
 * Thrown by a handler to answer with an error page: `_404` for 404, `_500`
 * with the message for any other status (Hono's `HTTPException` is the model).
 */
export class HttpError extends Error {
  /** The HTTP status to answer. */
  readonly status: number;

  /** An error answered with `status` and a message shown to the person. */
  constructor(status: number, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "HttpError";
    this.status = status;
  }
}
