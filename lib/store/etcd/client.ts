/**
 * Calls to an etcd cluster's JSON gateway over a list of members, each
 * within its own deadline. A call goes to the member that answered last; a
 * member that refuses the connection (nothing was sent) is passed over for
 * the next. A read may also be sent again to the next member when one does
 * not answer in time or loses the connection, since reading twice is
 * harmless. A write whose request may have reached a member is never sent
 * again: if its answer is lost it fails as `unavailable` with its outcome
 * unknown, and the caller's idempotent retry decides. Past the deadline a
 * call fails as `unavailable`, naming the operation, the members and the
 * deadline; it never hangs across a partition.
 *
 * @module
 */
import { delay, timeoutSignal } from "../../async.ts";
import { CONNECT_CODES, type ConnectCode, RpcError } from "../../rpc/errors.ts";
import { isConnectFailure, ReplicaSet } from "../../rpc/replicas.ts";
import { gatewayErrorSchema, statusResponseSchema } from "./gateway.ts";

/** A gateway path the store calls (`/v3/<operation>`). */
export type EtcdOperation =
  | "kv/range"
  | "kv/put"
  | "kv/deleterange"
  | "kv/txn"
  | "lease/grant"
  | "maintenance/status"
  | "watch";

/** Whether a call only reads (may be sent again) or may write (never sent twice). */
export type EtcdCallKind = "read" | "write";

/** Options of {@linkcode EtcdClient}. */
export interface EtcdClientOptions {
  /** The members' client URLs (`http://127.0.0.1:2379`, …). */
  endpoints: readonly string[];
  /** Deadline of one call, all its attempts included. */
  timeoutMs: number;
  /** The `fetch` calls go through (tests give a fake). @default globalThis.fetch */
  fetch?: typeof fetch;
}

/** One call: what it sends, and whether it may write. */
export interface EtcdCall {
  /** The request (sent as JSON). */
  body: unknown;
  /** `read` calls may be sent again to another member; `write` calls never are. */
  kind: EtcdCallKind;
  /** Aborts the call (it then fails as `canceled`). */
  signal?: AbortSignal;
}

/** An error etcd answered (`{"error", "code"}`): its gRPC code, and whether the request surely did nothing. */
export class EtcdError extends RpcError {
  /** The gRPC status code etcd answered with. */
  readonly grpcCode: number;
  /** etcd's own message (`etcdserver: requested lease not found`). */
  readonly etcdMessage: string;

  /** Wraps etcd's answer to `where.operation` at `where.endpoint`. */
  constructor(answer: { code: number; message: string }, where: { operation: string; endpoint: string }) {
    super(
      codeOf(answer.code),
      `etcd ${where.operation} at ${where.endpoint} failed: ${answer.message} (gRPC code ${answer.code})`,
    );
    this.name = "EtcdError";
    this.grpcCode = answer.code;
    this.etcdMessage = answer.message;
  }
}

/** gRPC codes that say the member, not the request, is the problem. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;
// Answers that etcd gives before proposing anything: the request did nothing, and may go to another member.
const NOT_PROPOSED = /no leader|not capable|not supported for learner/i;

// The store's callers see a member's trouble as `unavailable` (retry later); etcd's other
// codes share gRPC's numbering with Connect's (CONNECT_CODES[code - 1]).
function codeOf(grpcCode: number): ConnectCode {
  if (grpcCode === GRPC_UNAVAILABLE || grpcCode === GRPC_DEADLINE_EXCEEDED) return "unavailable";
  return CONNECT_CODES[grpcCode - 1] ?? "unknown";
}

const HEADERS = {
  "content-type": "application/json",
  // Makes a member without a leader refuse at once ("no leader") instead of waiting out its own timeout.
  "grpc-metadata-hasleader": "true",
};

/** Why a write was given up before its answer came (see `EtcdClient.#watchdog`). */
class Abandoned extends Error {}

/** What one attempt at one member came to: its answer (and body, unless streaming), or why there was none. */
type Attempt =
  | { kind: "answer"; response: Response; text: string }
  | { kind: "unsent"; why: string }
  | { kind: "lost"; why: string };

/** A client of one etcd cluster's JSON gateway. */
export class EtcdClient {
  /** The members' client URLs. */
  readonly endpoints: readonly string[];
  /** Deadline of one call. */
  readonly timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #closed = new AbortController();
  // Which member calls start at: the one that answered last (the same rule as the RPC clients' replicas).
  readonly #members: ReplicaSet;
  // The highest Raft term any answer carried (0: none yet).
  #term = 0;

  /** A client of the members at `options.endpoints`. */
  constructor(options: EtcdClientOptions) {
    if (options.endpoints.length === 0) throw new TypeError("an etcd client needs at least one endpoint");
    this.#members = new ReplicaSet(options.endpoints);
    this.endpoints = this.#members.urls;
    this.timeoutMs = options.timeoutMs;
    this.#fetch = options.fetch ?? fetch;
  }

  /** The member calls go to first: the one that answered last. */
  get preferred(): string {
    return this.#members.tryOrder()[0];
  }

  /**
   * Posts `body` to `/v3/<operation>` and answers the parsed JSON; fails
   * with an {@linkcode EtcdError} when etcd answers an error, `unavailable`
   * when no member answered in time, `canceled` when `options.signal`
   * aborted or the client was closed.
   */
  async call(operation: EtcdOperation, call: EtcdCall): Promise<unknown> {
    const { text } = await this.#send(operation, call, undefined);
    const answer = JSON.parse(text);
    const term = Number(answer?.header?.raft_term ?? 0);
    if (term > this.#term) this.#term = term;
    return answer;
  }

  /**
   * Opens a streaming call (`watch`): answers the response once a member
   * accepted it, within the deadline, and the member's URL; the body then
   * streams until `options.signal` aborts or the client is closed.
   */
  async stream(
    operation: EtcdOperation,
    options: { body: unknown; signal?: AbortSignal },
  ): Promise<{ response: Response; endpoint: string }> {
    const stream = new AbortController();
    const stop = () => stream.abort();
    options.signal?.addEventListener("abort", stop, { once: true });
    this.#closed.signal.addEventListener("abort", stop, { once: true });
    try {
      const { response, endpoint } = await this.#send(operation, { ...options, kind: "read" }, stream.signal);
      // Let go of the listeners once the body is done with, however it ends.
      const release = () => {
        options.signal?.removeEventListener("abort", stop);
        this.#closed.signal.removeEventListener("abort", stop);
      };
      stream.signal.addEventListener("abort", release, { once: true });
      return { response, endpoint };
    } catch (error) {
      stop();
      throw error;
    }
  }

  /** Passes over `endpoint` from the next call on (it failed, or a watch saw it stall). */
  demote(endpoint: string): void {
    this.#members.failed(endpoint);
  }

  /** Fails every pending call and stream; later calls fail at once. */
  close(): void {
    this.#closed.abort(new RpcError("canceled", "the etcd store was closed"));
  }

  /** Whether {@linkcode EtcdClient.close} was called. */
  get closed(): boolean {
    return this.#closed.signal.aborted;
  }

  async #send(
    operation: EtcdOperation,
    call: EtcdCall,
    stream: AbortSignal | undefined,
  ): Promise<{ response: Response; text: string; endpoint: string }> {
    const { kind } = call;
    const body = JSON.stringify(call.body);
    using deadline = timeoutSignal(this.timeoutMs, { signals: [call.signal, this.#closed.signal] });
    const ends = Date.now() + this.timeoutMs;
    let maybeSent = false;
    const failures: string[] = [];
    for (let round = 0; !deadline.signal.aborted; round++) {
      for (const [i, endpoint] of this.#members.tryOrder().entries()) {
        if (deadline.signal.aborted) break;
        // A read that is not the round's last gets half the time left, so that a member which
        // accepts but never answers (paused) leaves time to ask the others.
        const budget = kind === "read" && i < this.endpoints.length - 1 ? (ends - Date.now()) / 2 : undefined;
        const attempt = await this.#attempt(endpoint, {
          path: `/v3/${operation}`,
          body,
          signal: deadline.signal,
          budget,
          stream,
          write: kind === "write",
        });
        if (attempt.kind === "answer" && attempt.response.ok) {
          this.#members.answered(endpoint);
          return { ...attempt, endpoint };
        }
        this.demote(endpoint);
        if (attempt.kind === "answer") {
          const error = this.#errorOf(operation, endpoint, attempt.response, attempt.text);
          const retryable = kind === "read"
            ? error.code === "unavailable"
            : error.grpcCode === GRPC_UNAVAILABLE && NOT_PROPOSED.test(error.etcdMessage);
          if (!retryable && kind === "write" && error.code === "unavailable") {
            throw this.#unknown(operation, error.message, error);
          }
          if (!retryable) throw error;
          failures.push(`${endpoint}: ${error.etcdMessage}`);
          continue;
        }
        failures.push(`${endpoint}: ${attempt.why}`);
        if (attempt.kind === "lost" && kind === "write") {
          if (deadline.signal.aborted) maybeSent = true;
          else throw this.#unknown(operation, `no answer from ${endpoint}: ${attempt.why}`);
        }
      }
      await delay(Math.min(25 * 2 ** round, 250), { signal: deadline.signal }).catch(() => {});
    }
    throw this.#failure(operation, deadline.timedOut, deadline.signal.reason, maybeSent, failures);
  }

  async #attempt(
    endpoint: string,
    options: {
      path: string;
      body: string;
      signal: AbortSignal;
      budget: number | undefined;
      stream: AbortSignal | undefined;
      write: boolean;
    },
  ): Promise<Attempt> {
    const { budget, signal, stream } = options;
    // A stream's body outlives the call's deadline: once answered, only `stream` ends it.
    const controller = new AbortController();
    const attempt = timeoutSignal(budget, { signals: [signal] });
    const abort = () => controller.abort(attempt.signal.reason);
    attempt.signal.addEventListener("abort", abort, { once: true });
    stream?.addEventListener("abort", () => controller.abort(stream.reason), { once: true });
    const finished = new AbortController();
    if (options.write) void this.#watchdog(endpoint, controller, finished.signal);
    try {
      const response = await this.#fetch(`${endpoint}${options.path}`, {
        method: "POST",
        headers: HEADERS,
        body: options.body,
        signal: controller.signal,
      });
      const text = stream && response.ok ? "" : await response.text();
      return { kind: "answer", response, text };
    } catch (error) {
      if (controller.signal.reason instanceof Abandoned) return { kind: "lost", why: controller.signal.reason.message };
      if (attempt.timedOut) return { kind: "lost", why: `no answer within ${Math.round(budget ?? 0)} ms` };
      if (signal.aborted) return { kind: "lost", why: "the deadline passed" };
      const why = error instanceof Error
        ? ((error.cause as Error | undefined)?.message ?? error.message)
        : String(error);
      return isConnectFailure(error) ? { kind: "unsent", why } : { kind: "lost", why };
    } finally {
      finished.abort();
      attempt.signal.removeEventListener("abort", abort);
      attempt[Symbol.dispose]();
    }
  }

  // A write still unanswered after a quarter of the deadline is asked about, every quarter: if its member does not
  // answer two status probes in a row (paused, cut off) or its Raft term moved on (the leader it forwarded the write to died),
  // the answer may never come — etcd itself waits out 5 s before saying so. The write is given up early then, its
  // outcome unknown, so that the caller's retry (on another member) comes sooner.
  async #watchdog(endpoint: string, write: AbortController, finished: AbortSignal): Promise<void> {
    const interval = this.timeoutMs / 4;
    // The term the write was sent in: the last one seen, else (a fresh client) the first probe's.
    let term = this.#term;
    // Probes missed in a row: one may be a busy machine (a member slow to answer is not gone); two is a member gone.
    let missed = 0;
    for (;;) {
      // After a missed probe the next goes at once, so that two fit in the deadline.
      if (missed === 0) await delay(interval, { signal: finished }).catch(() => {});
      if (finished.aborted) return;
      using probe = timeoutSignal(interval, { signals: [finished] });
      let why: string | undefined;
      try {
        const response = await this.#fetch(`${endpoint}/v3/maintenance/status`, {
          method: "POST",
          headers: HEADERS,
          body: "{}",
          signal: probe.signal,
        });
        const now = Number(statusResponseSchema.parse(await response.json()).header.raft_term ?? 0);
        if (now > this.#term) this.#term = now;
        missed = 0;
        if (term === 0) term = now;
        else if (now > term) why = `the Raft term moved from ${term} to ${now} (a new leader) while it waited`;
      } catch {
        if (finished.aborted) return;
        missed += 1;
        if (missed >= 2) why = `${endpoint} did not answer two status probes of ${Math.round(interval)} ms in a row`;
      }
      if (why) return write.abort(new Abandoned(why));
    }
  }

  #errorOf(operation: EtcdOperation, endpoint: string, response: Response, text: string): EtcdError {
    let answer: { code: number; message: string };
    try {
      const parsed = gatewayErrorSchema.parse(JSON.parse(text));
      answer = { code: parsed.code, message: parsed.message ?? parsed.error ?? text };
    } catch {
      answer = { code: response.status >= 500 ? GRPC_UNAVAILABLE : 2, message: `HTTP ${response.status}: ${text}` };
    }
    return new EtcdError(answer, { operation, endpoint });
  }

  #unknown(operation: string, why: string, cause?: unknown): RpcError {
    return new RpcError(
      "unavailable",
      `etcd ${operation}: outcome unknown — ${why}; not sent again (endpoints ${this.endpoints.join(", ")})`,
      { cause },
    );
  }

  #failure(
    operation: string,
    timedOut: boolean,
    reason: unknown,
    maybeSent: boolean,
    failures: string[],
  ): RpcError {
    if (!timedOut) {
      return reason instanceof RpcError ? reason : new RpcError("canceled", `etcd ${operation} was canceled`, {
        cause: reason,
      });
    }
    const seen = failures.length > 0 ? `; ${[...new Set(failures)].slice(-3).join("; ")}` : "";
    const what = `no etcd member answered ${operation} within ${this.timeoutMs} ms (endpoints ${
      this.endpoints.join(", ")
    })${seen}`;
    // A write that timed out in flight may have been applied.
    if (maybeSent) {
      return new RpcError("unavailable", `${what}; outcome unknown, not sent again`);
    }
    return new RpcError("unavailable", what);
  }
}
