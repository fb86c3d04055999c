/**
 * The server half of the Connect protocol (unary, JSON) on Hono: one POST
 * route per method, the credential checked, the body size-limited and
 * validated by the method's zod schema before the handler runs, the deadline
 * from `Connect-Timeout-Ms` enforced, and every failure answered as a Connect
 * error with the protocol's HTTP status.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { timingSafeEqual } from "hono/utils/buffer";
import type { z } from "zod";
import type { Logger } from "../log.ts";
import { withSpan } from "../telemetry.ts";
import { methodPath, type MethodSpec, type ServiceSpec } from "./define.ts";
import { describeIssues, RpcError } from "./errors.ts";
import type { FaultInjector } from "./faults.ts";

/** What a handler knows about the call besides its input. */
export interface RpcContext {
  /** Aborted when the caller goes away or the deadline passes. */
  readonly signal: AbortSignal;
  /** The deadline as epoch milliseconds, when the caller set one. */
  readonly deadline?: number;
  /** The request headers. */
  readonly headers: Headers;
}

/** The implementation of one method. */
export type Handler<M extends MethodSpec> = (
  input: z.output<M["input"]>,
  ctx: RpcContext,
) => Promise<z.input<M["output"]>> | z.input<M["output"]>;

/** Implementations of every method of a service. */
export type Handlers<S extends ServiceSpec> = {
  [K in keyof S["methods"]]: Handler<S["methods"][K]>;
};

/** Options for {@linkcode createRpcRoutes}. */
export interface RpcRoutesOptions<S extends ServiceSpec> {
  /** The method implementations. */
  handlers: Handlers<S>;
  /** Logger for failures. */
  log: Logger;
  /** The service credential; required unless the service is public. */
  token?: string;
  /** Largest accepted request body in bytes. */
  maxBodyBytes: number;
  /** Active fault rules, when fault injection is enabled. */
  faults?: FaultInjector;
}

const MAX_TIMEOUT_DIGITS = /^\d{1,10}$/;

/** Answers an error the Connect way. */
export function connectErrorResponse(c: Context, error: RpcError): Response {
  return c.json(error.toJSON(), error.httpStatus as 400);
}

/** Checks `Authorization: Bearer <token>` in constant time. */
export async function hasValidCredential(headers: Headers, token: string): Promise<boolean> {
  const header = headers.get("authorization") ?? "";
  const match = /^Bearer (.+)$/.exec(header);
  if (!match) return false;
  return await timingSafeEqual(match[1], token);
}

/** Builds the Hono routes serving every method of `service`. */
export function createRpcRoutes<S extends ServiceSpec>(
  service: S,
  options: RpcRoutesOptions<S>,
): Hono {
  if (!service.public && options.token === undefined) {
    throw new Error(`${service.typeName} is internal and needs a service token`);
  }
  const app = new Hono();
  // Connect maps resource_exhausted to 429, but an oversized body is better
  // told apart from throttling: the status is 413 and the code stays Connect's.
  const limit = bodyLimit({
    maxSize: options.maxBodyBytes,
    onError: (c) =>
      c.json(
        new RpcError("resource_exhausted", `request body exceeds ${options.maxBodyBytes} bytes`)
          .toJSON(),
        413,
      ),
  });
  for (const [name, spec] of Object.entries(service.methods)) {
    const path = methodPath(service, name);
    const handler = options.handlers[name as keyof S["methods"]] as Handler<MethodSpec>;
    app.post(path, limit, (c) => serveUnary(c, { path, spec, handler, options }));
  }
  return app;
}

interface UnaryCall<S extends ServiceSpec> {
  path: string;
  spec: MethodSpec;
  handler: Handler<MethodSpec>;
  options: RpcRoutesOptions<S>;
}

async function serveUnary<S extends ServiceSpec>(c: Context, call: UnaryCall<S>) {
  const fullMethod = call.path.slice(1);
  const [rpcService, rpcMethod] = fullMethod.split("/");
  return await withSpan(fullMethod, {
    attributes: { "rpc.system": "connect_rpc", "rpc.service": rpcService, "rpc.method": rpcMethod },
    fn: async (span) => {
      try {
        const { input, signal, deadline } = await admit(c, call);
        if (typeof input === "object" && input !== null && "orderId" in input) {
          span.setAttribute("bookstore.order_id", String(input.orderId));
        }
        await call.options.faults?.apply(fullMethod, signal);
        // A call whose deadline passed while it waited must not take effect.
        if (signal.aborted) throw abortError(signal);
        const output = await raceDeadline(
          Promise.resolve(call.handler(input, { signal, deadline, headers: c.req.raw.headers })),
          signal,
        );
        const checked = call.spec.output.safeParse(output);
        if (!checked.success) {
          call.options.log.error("handler returned an invalid response", {
            method: fullMethod,
            problem: describeIssues(checked.error),
          });
          throw new RpcError("internal", "the service produced an invalid response");
        }
        return c.json(checked.data as Record<string, unknown>);
      } catch (error) {
        if (error instanceof UnsupportedMediaType) {
          // The protocol answers an unknown codec with 415 and the codecs it does speak.
          c.header("Accept-Post", "application/json");
          return c.json({ code: "unimplemented", message: error.message }, 415);
        }
        const rpcError = error instanceof RpcError ? error : internalError(error, call, fullMethod);
        span.setAttribute("rpc.connect_rpc.error_code", rpcError.code);
        return connectErrorResponse(c, rpcError);
      }
    },
  });
}

class UnsupportedMediaType extends Error {
  constructor(contentType: string) {
    super(`unsupported content-type "${contentType}": this server speaks Connect JSON (application/json)`);
  }
}

function internalError<S extends ServiceSpec>(error: unknown, call: UnaryCall<S>, method: string) {
  call.options.log.error("handler failed", { method, error });
  return new RpcError("internal", "internal error");
}

async function admit<S extends ServiceSpec>(c: Context, call: UnaryCall<S>) {
  const { options, spec } = call;
  if (options.token !== undefined && !(await hasValidCredential(c.req.raw.headers, options.token))) {
    throw new RpcError("unauthenticated", "missing or invalid service credential");
  }
  const contentType = (c.req.header("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (contentType !== "application/json") throw new UnsupportedMediaType(contentType);
  const version = c.req.header("connect-protocol-version");
  if (version !== undefined && version !== "1") {
    throw new RpcError("invalid_argument", `unsupported connect-protocol-version "${version}"`);
  }
  const timeoutHeader = c.req.header("connect-timeout-ms");
  let deadline: number | undefined;
  const signals = [c.req.raw.signal];
  if (timeoutHeader !== undefined) {
    if (!MAX_TIMEOUT_DIGITS.test(timeoutHeader)) {
      throw new RpcError("invalid_argument", `connect-timeout-ms "${timeoutHeader}" is not a positive integer`);
    }
    const ms = Number(timeoutHeader);
    deadline = Date.now() + ms;
    signals.push(AbortSignal.timeout(ms));
  }
  const signal = AbortSignal.any(signals);
  let body: unknown;
  const text = await c.req.text();
  try {
    body = text.trim() === "" ? {} : JSON.parse(text);
  } catch {
    throw new RpcError("invalid_argument", "request body is not valid JSON");
  }
  const parsed = spec.input.safeParse(body);
  if (!parsed.success) {
    throw new RpcError("invalid_argument", `invalid request: ${describeIssues(parsed.error)}`);
  }
  return { input: parsed.data, signal, deadline };
}

/** Resolves with `promise`, or rejects with `deadline_exceeded`/`canceled` when `signal` aborts first. */
export function raceDeadline<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {}); // its failure no longer has a caller to go to
    return Promise.reject(abortError(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function abortError(signal: AbortSignal): RpcError {
  const reason = signal.reason;
  if (reason instanceof DOMException && reason.name === "TimeoutError") {
    return new RpcError("deadline_exceeded", "the deadline passed before the call completed");
  }
  return new RpcError("canceled", "the call was canceled");
}
