/**
 * The client half of the Connect protocol (unary, JSON): a typed client per
 * service that sends the credential and the deadline, validates the answer,
 * maps failures back to Connect codes, retries only idempotent methods,
 * moves on to the next replica of a peer that has several when one cannot be
 * reached (`replicas.ts`), and stops calling a peer that keeps failing
 * (circuit breaker) so callers fail fast instead of queueing behind a dead
 * service.
 *
 * Failing over, an attempt tries the replicas in turn within its one
 * deadline, and only while no answer came: a replica that answers, even with
 * an error, has given the answer. A replica that could not be reached, or
 * answered `unavailable` or `deadline_exceeded`, is not where the next
 * attempt (the retry of an idempotent method) or call starts; since every
 * replica serves the same store, retrying there is as safe as retrying at the
 * same one. A non-idempotent method moves on only from a replica it could not
 * connect to, which cannot have acted on it.
 *
 * @module
 */
import {
  BrokenCircuitError,
  circuitBreaker,
  type CircuitBreakerPolicy,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
} from "cockatiel";
import type { z } from "zod";
import { methodPath, type MethodSpec, type ServiceSpec } from "./define.ts";
import { abortable, type TimeoutSignal, timeoutSignal } from "../async.ts";
import { codeFromHttpStatus, connectErrorBodySchema, describeIssues, isPeerFailure, RpcError } from "./errors.ts";
import { describeFetchFailure, isConnectFailure, ReplicaSet } from "./replicas.ts";

/** Per-call options. */
export interface CallOptions {
  /** Deadline of one attempt of this call; the client's default otherwise. */
  timeoutMs?: number;
  /**
   * When the caller's whole budget ends (epoch milliseconds, as `Date.now()`),
   * however many calls and retries it spans: an attempt sends only the time
   * left as `Connect-Timeout-Ms`, and the call stops retrying or waiting for a
   * half-open circuit when it ends. The budget running out is the caller's
   * deadline, not a failure of the peer: it never counts towards opening the
   * circuit.
   */
  deadline?: number;
  /** Cancels the call (like `deadline`, its end is the caller's, not the peer's failure). */
  signal?: AbortSignal;
  /** Extra request headers, e.g. `Idempotency-Key`; the protocol's own headers win. */
  headers?: Record<string, string>;
}

/** A typed client: one async function per method. */
export type Client<S extends ServiceSpec> = {
  [K in keyof S["methods"]]: (
    input: z.input<S["methods"][K]["input"]>,
    options?: CallOptions,
  ) => Promise<z.output<S["methods"][K]["output"]>>;
};

/** What a client sends requests with: the global `fetch`, or a Hono app's `request`. */
export type Fetch = (input: string, init?: RequestInit) => Response | Promise<Response>;

/** Options for {@linkcode createClient}. */
export interface ClientOptions {
  /**
   * Base URL of the peer, e.g. `http://127.0.0.1:50055`; or the base URLs of
   * its interchangeable replicas (which serve one store), in the order calls
   * try them: a call that cannot reach one moves on to the next within its
   * deadline, and later calls start at the replica that last answered.
   */
  baseUrl: string | readonly string[];
  /** The peer's name, used in error messages. */
  peer: string;
  /** The service credential sent as a bearer token. */
  token?: string;
  /** Default deadline per call. */
  timeoutMs: number;
  /** Retries of idempotent calls after `unavailable`/`deadline_exceeded` (default 2). */
  retries?: number;
  /**
   * Consecutive failures that open the circuit (default 5), and how long it
   * stays open before one trial call (default 1000 ms); `false` disables it.
   */
  breaker?: { threshold: number; halfOpenAfterMs: number } | false;
  /**
   * Whether to validate each request against its schema before sending it
   * (default false). The server validates every request it receives, so
   * this only moves the error to its source: tests turn it on
   * (`Config.checkSentMessages`) to catch a caller that sends what its types
   * do not allow; elsewhere each message is validated once, by its receiver.
   */
  checkRequests?: boolean;
  /**
   * How requests are sent (default: the global `fetch`). Pass an app's
   * `request` to call it in memory, without a server, as connect-es'
   * router transport does.
   */
  fetch?: Fetch;
}

/**
 * Creates a typed client for `service` at `options.baseUrl` (one URL, or its
 * replicas' list): one async function per method, which sends the credential
 * and the deadline, fails over between replicas, retries idempotent methods
 * on `unavailable` and `deadline_exceeded`, and answers the validated output
 * or throws an {@linkcode RpcError}.
 *
 * @example A client that calls a service's routes in memory
 * ```ts
 * import assert from "node:assert/strict";
 * import { z } from "zod";
 * import { createLogger } from "../log.ts";
 * import { createClient, createRpcRoutes, defineService, method, RpcError } from "./mod.ts";
 *
 * const stock = defineService("bookstore.v1.StockService", {
 *   methods: { Get: method(z.object({ bookId: z.string() }), { output: z.object({ stock: z.number() }), idempotent: true }) },
 * });
 * const routes = createRpcRoutes(stock, {
 *   token: "a-service-token-0123",
 *   log: createLogger("stock", { write: () => {} }),
 *   maxBodyBytes: 1024,
 *   handlers: {
 *     Get: ({ bookId }) => {
 *       if (bookId !== "dune") throw new RpcError("not_found", `no book ${bookId}`);
 *       return { stock: 3 };
 *     },
 *   },
 * });
 * const client = createClient(stock, {
 *   baseUrl: "http://stock.test",
 *   peer: "stock",
 *   token: "a-service-token-0123",
 *   timeoutMs: 1000,
 *   fetch: routes.request,
 * });
 * assert.deepEqual(await client.Get({ bookId: "dune" }), { stock: 3 });
 * await assert.rejects(() => client.Get({ bookId: "nope" }), (error: RpcError) => error.code === "not_found");
 * ```
 */
export function createClient<S extends ServiceSpec>(service: S, options: ClientOptions): Client<S> {
  const replicas = new ReplicaSet(options.baseUrl);
  const breakerOptions = options.breaker ?? { threshold: 5, halfOpenAfterMs: 1000 };
  // Only the peer's failures count: a caller whose own budget ran out says nothing about the peer.
  const peerFailed = (error: unknown) => isPeerFailure(error) && !CALLER_ENDED.has(error);
  const breaker: CircuitBreakerPolicy | undefined = breakerOptions === false ? undefined : circuitBreaker(
    handleWhen(peerFailed),
    {
      halfOpenAfter: breakerOptions.halfOpenAfterMs,
      breaker: new ConsecutiveBreaker(breakerOptions.threshold),
    },
  );
  const retryPolicy = retry(handleWhen(peerFailed), {
    maxAttempts: options.retries ?? 2,
    backoff: new ExponentialBackoff({ initialDelay: 25, maxDelay: 250 }),
  });

  const client: Record<string, (input: unknown, call?: CallOptions) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(service.methods)) {
    const path = methodPath(service, name);
    const fullMethod = `${service.typeName}/${name}`;
    client[name] = async (input, call = {}) => {
      using caller = callerSignal(call);
      const ended = () => callerEnded(caller!.signal, { peer: options.peer, fullMethod });
      if (caller?.signal.aborted) throw notSent(ended());
      const attempt = () => {
        // The caller may have gone while this attempt waited (behind a backoff or a half-open trial).
        if (caller?.signal.aborted) throw ended();
        return invoke({ replicas, path, spec, input, call, options, fullMethod });
      };
      // The breaker wraps the retries, so one failed call counts once towards opening it.
      const withRetries = () => spec.idempotent ? retryPolicy.execute(attempt, caller?.signal) : attempt();
      const running = breaker ? breaker.execute(withRetries, caller?.signal) : withRetries();
      try {
        // The caller stops waiting when its budget ends, wherever the call is.
        return await (caller ? abortable(running, caller.signal) : running);
      } catch (error) {
        if (caller?.signal.aborted && !(error instanceof RpcError)) throw ended();
        if (error instanceof BrokenCircuitError) {
          throw notSent(
            new RpcError(
              "unavailable",
              `${options.peer} is unavailable (circuit open after repeated failures)`,
              { peer: options.peer, cause: error },
            ),
          );
        }
        throw error;
      }
    };
  }
  return client as Client<S>;
}

// Errors of calls that never sent their request: the peer cannot have acted on it.
const NOT_SENT = new WeakSet<object>();

function notSent(error: RpcError): RpcError {
  NOT_SENT.add(error);
  return error;
}

/**
 * Whether `error` failed a call that never sent its request (the circuit was
 * open, or the caller's budget had ended before it started), so the peer
 * cannot have acted on it. Any other failure after a request went out, above
 * all `unavailable` and `deadline_exceeded`, leaves its effect unknown.
 */
export function wasNotSent(error: unknown): boolean {
  return error instanceof RpcError && NOT_SENT.has(error);
}

// Errors that mean the caller's own budget ended (or it cancelled), not that the peer failed.
const CALLER_ENDED = new WeakSet<object>();

// The caller's signal and its deadline as one signal (let go of when the call ends); undefined when it has neither.
function callerSignal(call: CallOptions): TimeoutSignal | undefined {
  if (call.signal === undefined && call.deadline === undefined) return undefined;
  const left = call.deadline === undefined ? undefined : Math.max(0, call.deadline - Date.now());
  return timeoutSignal(left, { signals: [call.signal] });
}

// The error of a call whose caller's budget ended or whose caller cancelled it.
function callerEnded(signal: AbortSignal, where: { peer: string; fullMethod: string }): RpcError {
  const timedOut = RpcError.from(signal.reason, "canceled").code === "deadline_exceeded";
  const error = timedOut
    ? new RpcError(
      "deadline_exceeded",
      `${where.peer} did not answer ${where.fullMethod} within the caller's deadline`,
      { peer: where.peer },
    )
    : new RpcError("canceled", `call to ${where.peer} was canceled`, { peer: where.peer });
  CALLER_ENDED.add(error);
  return error;
}

interface Invocation {
  replicas: ReplicaSet;
  path: string;
  spec: MethodSpec;
  input: unknown;
  call: CallOptions;
  options: ClientOptions;
  fullMethod: string;
}

// One attempt of a call: the replicas in turn, within one deadline, until one answers.
async function invoke({ replicas, path, spec, input, call, options, fullMethod }: Invocation): Promise<unknown> {
  const peer = options.peer;
  const perAttempt = call.timeoutMs ?? options.timeoutMs;
  const left = call.deadline === undefined ? Infinity : Math.floor(call.deadline - Date.now());
  // The peer is told only the time the caller has left.
  const timeoutMs = Math.max(1, Math.min(perAttempt, left));
  const boundedByCaller = left < perAttempt;
  if (options.checkRequests) {
    const checkedInput = spec.input.safeParse(input);
    if (!checkedInput.success) {
      throw new RpcError("invalid_argument", `invalid request to ${fullMethod}: ${describeIssues(checkedInput.error)}`);
    }
  }
  const body = JSON.stringify(input);
  // One deadline for the whole attempt, whichever replicas it takes: failing over never adds time.
  const ends = Date.now() + timeoutMs;
  // A little grace lets the server answer deadline_exceeded itself.
  using timeout = timeoutSignal(timeoutMs + 50, { signals: [call.signal] });
  const unreached: string[] = [];
  for (const baseUrl of replicas.tryOrder()) {
    const headers: Record<string, string> = {
      ...call.headers,
      "content-type": "application/json",
      "connect-protocol-version": "1",
      "connect-timeout-ms": String(Math.max(1, ends - Date.now())),
    };
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    let response: Response;
    let text: string;
    try {
      response = await (options.fetch ?? fetch)(baseUrl + path, {
        method: "POST",
        headers,
        body,
        signal: timeout.signal,
      });
      // Inside the try: a connection that dies while the answer is read is as unanswered as one that died before.
      text = await response.text();
    } catch (error) {
      if (call.signal?.aborted) throw callerEnded(call.signal, { peer, fullMethod });
      replicas.failed(baseUrl);
      if (timeout.timedOut) {
        const at = replicas.urls.length > 1 ? ` at ${baseUrl}` : "";
        const late = new RpcError(
          "deadline_exceeded",
          `${peer} did not answer ${fullMethod} within ${timeoutMs} ms${at}`,
          { peer, cause: error },
        );
        if (boundedByCaller) CALLER_ENDED.add(late);
        throw late;
      }
      unreached.push(`${baseUrl} (${describeFetchFailure(error)})`);
      // Another replica may take the request only when acting on it twice is harmless, or this one never got it.
      if (spec.idempotent || isConnectFailure(error)) continue;
      throw new RpcError(
        "unavailable",
        `${peer} is unreachable at ${unreached.join(", ")}` +
          (replicas.urls.length > 1
            ? `; ${fullMethod} is not idempotent and may have arrived, so no further replica was tried`
            : ""),
        { peer, cause: error },
      );
    }
    const answer = parseAnswer(response, text, { peer, fullMethod, spec, boundedByCaller });
    // The answer is the answer, but a replica that says it cannot serve is not where the next attempt starts.
    if (isPeerFailure(answer)) replicas.failed(baseUrl);
    else replicas.answered(baseUrl);
    if (answer instanceof RpcError) throw answer;
    return answer.output;
  }
  throw new RpcError("unavailable", `${peer} is unreachable at ${unreached.join(", ")}`, { peer });
}

// A replica's answer: the validated output, or the error it answered with.
function parseAnswer(
  response: Response,
  text: string,
  where: { peer: string; fullMethod: string; spec: MethodSpec; boundedByCaller: boolean },
): { output: unknown } | RpcError {
  const { peer, fullMethod, spec } = where;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const parsed = connectErrorBodySchema.safeParse(body);
    if (!parsed.success) {
      return new RpcError(codeFromHttpStatus(response.status), `${peer} answered HTTP ${response.status}`, { peer });
    }
    const failure = new RpcError(parsed.data.code, parsed.data.message ?? `${peer} answered ${parsed.data.code}`, {
      peer,
    });
    // The peer ran out of the time the caller had left: the caller's deadline, not the peer's failure.
    if (where.boundedByCaller && failure.code === "deadline_exceeded") CALLER_ENDED.add(failure);
    return failure;
  }
  const output = spec.output.safeParse(body);
  if (!output.success) {
    return new RpcError("internal", `${peer} sent an invalid ${fullMethod} response: ${describeIssues(output.error)}`, {
      peer,
    });
  }
  return { output: output.data };
}
