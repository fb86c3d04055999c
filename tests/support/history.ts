/**
 * Jepsen-style histories for the chaos suite: a steady flow of real
 * checkouts from simulated clients (with and without Idempotency-Keys,
 * retrying as real clients do) is recorded call by call, and afterwards
 * {@linkcode checkHistory} reads back every order's final state, its events
 * and clocks, the executor and epoch that executed it and the stock, and
 * says in plain words which rule was broken.
 *
 * @module
 */
import { EVENT_NAMES } from "@bookstore/lib/contracts";
import type { VectorClock } from "@bookstore/lib/vector_clock";
import { delay } from "@bookstore/lib/async";
import type { Cluster } from "./cluster.ts";
import { clockFindings } from "./event_graph.ts";
import { validOrder } from "./orders.ts";
import { eventually } from "./wait.ts";

/** One HTTP attempt of a call. */
export interface Attempt {
  /** When it was sent and answered (ms since the history began). */
  start: number;
  end: number;
  /** The HTTP status, absent when no answer came (connection refused, reset, timed out). */
  status?: number;
  /** The Connect error code of an error answer. */
  code?: string;
  /** The answer's `status` or the error's message. */
  answer: string;
  /** The order id the answer named. */
  orderId?: string;
  /** A rejection's reasons. */
  reasons?: string[];
}

/** What a client finally learned about one order it tried to place. */
export type Verdict =
  /** Answered "Order Approved": it must end executed (or failed out of stock). */
  | "approved"
  /** Answered "Order Rejected": it must never reach the queue. */
  | "rejected"
  /** An error answer that did not say the outcome was unknown: the client was told it was not placed. */
  | "not_placed"
  /** No answer, or an answer saying the outcome is unknown: it may or may not have been placed. */
  | "unknown";

/** One logical order a client tried to place (a keyed call may take several attempts). */
export interface Call {
  /** Which simulated client placed it. */
  client: number;
  /** The Idempotency-Key, when the client sent one. */
  key?: string;
  /** The books and quantities ordered. */
  items: { bookId: string; quantity: number }[];
  attempts: Attempt[];
  verdict: Verdict;
  /** The order id the client learned (the same for every attempt of a keyed call). */
  orderId?: string;
  /** The order sent (a client without a key resubmits the same one as a new call). */
  body?: unknown;
}

/** Options for {@linkcode startTraffic}. */
export interface TrafficOptions {
  /** Concurrent clients (default 3). */
  clients?: number;
  /** Books ordered (one or two per order, quantity 1-2). */
  books?: string[];
  /** Whether client `n` sends Idempotency-Keys (default: every other client). */
  keyed?: (client: number) => boolean;
  /** Attempts of a keyed call before the client gives up (default 12). */
  maxAttempts?: number;
  /** Per-attempt timeout (default 8 s, longer than a checkout's deadline). */
  attemptTimeoutMs?: number;
  /** Upper bound on calls per client (default 200). */
  maxCallsPerClient?: number;
  /** Pause of a client between two orders (default 100 ms), so that the flow is steady rather than a flood. */
  thinkMs?: number;
}

/** Books with plenty of stock, and one with very little so that some orders fail out of stock. */
export const CHAOS_BOOKS: string[] = [
  "capital",
  "code-complete",
  "effective-java",
  "rebecca",
  "the-little-prince",
  "the-power-of-habit",
  "specifying-systems",
];

/** A running flow of checkouts; `stop()` lets every client finish its current call and answers the history. */
export interface Traffic {
  readonly history: Call[];
  /** When the history began (`Date.now()`): attempts' times count from it. */
  readonly startedAt: number;
  /** Milliseconds since the history began, the clock of the attempts' `start` and `end`. */
  now(): number;
  /** Calls finished so far. */
  readonly finished: number;
  /** Approved answers so far. */
  readonly approved: number;
  /** Stops the clients after their current call, waits for them (bounded), and answers every call. */
  stop(): Promise<Call[]>;
}

/** Starts `clients` loops placing orders against the cluster's orchestrator until stopped. */
export function startTraffic(cluster: Cluster, options: TrafficOptions = {}): Traffic {
  const startedAt = Date.now();
  const began = performance.now();
  const now = () => Math.round(performance.now() - began);
  const history: Call[] = [];
  const books = options.books ?? CHAOS_BOOKS;
  const keyed = options.keyed ?? ((client: number) => client % 2 === 0);
  const maxAttempts = options.maxAttempts ?? 12;
  const attemptTimeoutMs = options.attemptTimeoutMs ?? 8000;
  const maxCalls = options.maxCallsPerClient ?? 200;
  const thinkMs = options.thinkMs ?? 100;
  let stopping = false;
  let finished = 0;
  let approved = 0;

  const attempt = async (body: unknown, key?: string): Promise<Attempt> => {
    const start = now();
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (key) headers["idempotency-key"] = key;
    try {
      const response = await fetch(`${cluster.orchestrator}/checkout`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(attemptTimeoutMs),
      });
      // A body cut off by a process dying mid-answer is no answer at all, whatever the status line said.
      const json = await response.json();
      const error = json?.error as { code?: string; message?: string; orderId?: string } | undefined;
      return {
        start,
        end: now(),
        status: response.status,
        code: error?.code,
        answer: response.ok ? String(json.status) : String(error?.message ?? response.statusText),
        orderId: typeof json.orderId === "string" ? json.orderId : error?.orderId,
        reasons: Array.isArray(json.reasons) && json.reasons.length > 0 ? json.reasons : undefined,
      };
    } catch (error) {
      return { start, end: now(), answer: `no answer: ${(error as Error).message}` };
    }
  };

  const placeOne = async (client: number, again?: Call): Promise<Call> => {
    const items = again?.items ?? pickItems(books);
    const call: Call = {
      client,
      key: keyed(client) ? crypto.randomUUID() : undefined,
      items,
      attempts: [],
      verdict: "unknown",
    };
    history.push(call);
    const body = again?.body ?? validOrder({ items });
    call.body = body;
    for (let n = 0; n < (call.key ? maxAttempts : 1); n++) {
      if (n > 0) await delay(Math.min(100 * 2 ** (n - 1), 1000));
      const result = await attempt(body, call.key);
      call.attempts.push(result);
      if (result.orderId && !call.orderId) call.orderId = result.orderId;
      if (result.status === 429 && n + 1 < maxAttempts) continue;
      call.verdict = verdictOf(result);
      // A keyed client retries whatever may be transient; a definite answer ends the call.
      const transient = result.status === undefined || result.status >= 500 || result.status === 429;
      if (!transient) break;
    }
    return call;
  };

  const loop = async (client: number) => {
    let again: Call | undefined;
    let resubmitted = 0;
    for (let n = 0; n < maxCalls && !stopping; n++) {
      const call = await placeOne(client, again);
      // A client without a key that got no definite success resubmits the same order, as shoppers do,
      // at most twice; each resubmission is a new order as far as the shop can tell.
      const resubmit = !call.key && (call.verdict === "unknown" || call.verdict === "not_placed") && resubmitted < 2;
      again = resubmit ? call : undefined;
      resubmitted = resubmit ? resubmitted + 1 : 0;
      finished += 1;
      if (call.verdict === "approved") approved += 1;
      await delay(thinkMs * (0.5 + Math.random()));
    }
  };
  const clients = Array.from({ length: options.clients ?? 3 }, (_, i) => loop(i));
  return {
    history,
    startedAt,
    now,
    get finished() {
      return finished;
    },
    get approved() {
      return approved;
    },
    async stop() {
      stopping = true;
      await Promise.all(clients);
      return history;
    },
  };
}

/** Waits until at least `count` more calls than now have finished under the flow. */
export async function waitForCalls(traffic: Traffic, count: number, timeoutMs = 30_000): Promise<void> {
  const target = traffic.finished + count;
  await eventually(() => traffic.finished >= target, {
    timeoutMs,
    message: `${count} more checkouts to finish (only ${traffic.finished} of ${target})`,
  });
}

function pickItems(books: string[]): { bookId: string; quantity: number }[] {
  const first = books[Math.floor(Math.random() * books.length)];
  const items = [{ bookId: first, quantity: 1 + Math.floor(Math.random() * 2) }];
  const second = books[Math.floor(Math.random() * books.length)];
  if (second !== first && Math.random() < 0.5) items.push({ bookId: second, quantity: 1 });
  return items;
}

function verdictOf(attempt: Attempt): Verdict {
  if (attempt.status === undefined) return "unknown";
  if (attempt.status === 200 && attempt.answer === "Order Approved") return "approved";
  if (attempt.status === 200 && attempt.answer === "Order Rejected") return "rejected";
  // An error answer that does not say the outcome is unknown tells the client nothing was placed.
  return /unknown|may have been|might have been|not known|uncertain/i.test(attempt.answer) ? "unknown" : "not_placed";
}

/** An order as the queue's store holds it (read from the store once every service has stopped). */
export interface StoredOrder {
  orderId: string;
  state: string;
  items: { bookId: string; quantity: number }[];
  executorId: number;
  epoch: number;
  attempts: number;
  reason: string;
}

/** What the checker read back. */
export interface Readback {
  /** Every order the queue ever held, by id. */
  queued: Map<string, StoredOrder>;
  /** The orchestrator's view of each order a client learned the id of. */
  views: Map<string, { status: number; body: OrderViewBody }>;
  /** Stock at the end, by book. */
  stock: Map<string, number>;
  /** The queue's executed counter at the end. */
  executedCounter: number;
  /** Every "order executed"/"order failed" log line of every replica. */
  executions: Execution[];
  /** Orders the orchestrator logged it could not queue (evidence for the findings, not a rule). */
  notQueued?: Set<string>;
}

interface OrderViewBody {
  status?: string;
  events?: { name: string; service: string; clock: VectorClock; ok: boolean }[];
  executorId?: number;
  epoch?: number;
}

/** One "order executed" or "order failed" line of an executor replica's log. */
export interface Execution {
  replica: number;
  orderId: string;
  epoch: number;
  state: string;
  /** When it was logged (`Date.now()` clock), when the line says. */
  at?: number;
}

/** Options for {@linkcode checkHistory}. */
export interface CheckOptions {
  /** Stock of every book before the flow began. */
  initialStock: Map<string, number>;
  /** How long to wait for every queued order to finish (default 40 s). */
  settleTimeoutMs?: number;
}

/** Reads the stock of every book through the queue's client. */
export async function readStock(cluster: Cluster): Promise<Map<string, number>> {
  const { stock } = await cluster.queue().ListStock({});
  return new Map(stock.map((s) => [s.bookId, s.stock]));
}

/**
 * Waits for the queue to drain, reads every order back (through the
 * orchestrator and the queue's client, then the queue's store — its KV file
 * or its etcd prefix — once every service has stopped) and checks the
 * history against the rules. Answers the findings in plain words; empty when
 * every rule held. Stops the cluster's services (its etcd members run on
 * until `cluster.stop()`).
 */
export async function checkHistory(cluster: Cluster, calls: Call[], options: CheckOptions): Promise<string[]> {
  const findings: string[] = [];
  const queue = cluster.queue();
  const known = [...new Set(calls.flatMap((c) => c.attempts.map((a) => a.orderId)).filter((id) => id !== undefined))];
  // Quiescence: nothing waiting or leased any more (bounded).
  try {
    await eventually(async () => {
      const status = await queue.GetQueueStatus({});
      return status.depth === 0 && status.leased === 0;
    }, { timeoutMs: options.settleTimeoutMs ?? 40_000, message: "the queue to drain", intervalMs: 200 });
  } catch (error) {
    findings.push(`The queue did not drain: ${(error as Error).message}.`);
  }
  const views = new Map<string, { status: number; body: OrderViewBody }>();
  for (const orderId of known) {
    const response = await fetch(`${cluster.orchestrator}/orders/${orderId}`, { signal: AbortSignal.timeout(5000) })
      .then(async (r) => ({ status: r.status, body: await r.json() as OrderViewBody }))
      .catch((error) => ({ status: 0, body: { status: `unreadable: ${error.message}` } }));
    views.set(orderId, response);
  }
  const stock = await readStock(cluster);
  const executedCounter = (await queue.GetQueueStatus({})).executed;
  // Read once nothing writes any more; a KV file has one owner, so the queue must be gone before it is opened.
  await cluster.stopServices();
  const readback: Readback = {
    queued: await readQueued(cluster),
    views,
    stock,
    executedCounter,
    executions: executionsFromLogs(cluster),
    notQueued: notQueuedFromLogs(cluster),
  };
  findings.push(...checkRules(calls, readback, options.initialStock));
  return findings;
}

/** The name the queue opens its store under (`services/order_queue/main.ts`): its KV file, its etcd prefix. */
const QUEUE_STORE = "order_queue";

async function readQueued(cluster: Cluster): Promise<Map<string, StoredOrder>> {
  const kv = await cluster.store(QUEUE_STORE);
  try {
    const orders = new Map<string, StoredOrder>();
    for await (const entry of kv.list<StoredOrder>({ prefix: ["order"] })) orders.set(entry.value.orderId, entry.value);
    return orders;
  } finally {
    kv.close();
  }
}

/** Every "order executed" and "order failed" line in the executor replicas' logs so far. */
export function executionsFromLogs(cluster: Cluster): Execution[] {
  const executions: Execution[] = [];
  for (const name of cluster.supervisor.names) {
    const match = /^order_executor_(\d+)$/.exec(name);
    if (!match) continue;
    for (const line of cluster.supervisor.lines(name)) {
      if (!line.includes('"order executed"') && !line.includes('"order failed"')) continue;
      try {
        const entry = JSON.parse(line);
        executions.push({
          replica: Number(match[1]),
          orderId: entry.orderId,
          epoch: entry.epoch,
          state: entry.msg === "order executed" ? "executed" : "failed",
          at: typeof entry.time === "string" ? Date.parse(entry.time) : undefined,
        });
      } catch {
        // Not a log line of ours.
      }
    }
  }
  return executions;
}

function notQueuedFromLogs(cluster: Cluster): Set<string> {
  const ids = new Set<string>();
  // One orchestrator, or each instance of it (`orchestrator_1`, … with BOOKSTORE_REPLICAS).
  const orchestrators = cluster.supervisor.names.filter((name) => /^orchestrator(_\d+)?$/.test(name));
  for (const line of orchestrators.flatMap((name) => cluster.supervisor.lines(name))) {
    if (!line.includes("could not queue")) continue;
    try {
      const entry = JSON.parse(line);
      if (typeof entry.orderId === "string") ids.add(entry.orderId);
    } catch {
      // Not a log line of ours.
    }
  }
  return ids;
}

/** Checks the rules on what was read back; answers each violation in plain words. Pure, for testing. */
export function checkRules(calls: Call[], readback: Readback, initialStock: Map<string, number>): string[] {
  const findings: string[] = [];
  const { queued } = readback;
  const describe = (call: Call) =>
    `client ${call.client}'s order${call.key ? ` (key ${call.key.slice(0, 8)})` : " (no key)"} of ${
      call.items.map((i) => `${i.quantity}× ${i.bookId}`).join(", ")
    }`;

  // One order per key: every answer to a keyed call names the same order.
  for (const call of calls) {
    const ids = new Set(call.attempts.map((a) => a.orderId).filter((id) => id !== undefined));
    if (ids.size > 1) findings.push(`${describe(call)} got ${ids.size} different order ids for one key: ${[...ids]}.`);
  }

  // An answer saying the request ended reached a client whose request had not ended: it was meant for another.
  for (const call of calls) {
    for (const attempt of call.attempts) {
      if (attempt.status !== undefined && /request ended|was canceled/.test(attempt.answer)) {
        findings.push(
          `${
            describe(call)
          } was told "${attempt.answer}" at ${attempt.start} ms, though its request was alive to hear it.`,
        );
      }
    }
  }

  // Approved answers end executed or failed out of stock; rejected ones never reach the queue.
  for (const call of calls) {
    if (call.verdict === "approved") {
      const order = queued.get(call.orderId!);
      if (!order) {
        findings.push(`${describe(call)} was answered approved as ${call.orderId}, but the queue never had it: lost.`);
      } else if (order.state === "failed") {
        if (!/out of stock/.test(order.reason)) {
          findings.push(`${describe(call)} (${order.orderId}) was approved but failed for "${order.reason}".`);
        }
      } else if (order.state !== "executed") {
        findings.push(
          `${
            describe(call)
          } (${order.orderId}) was approved but ended "${order.state}" after ${order.attempts} deliveries${
            order.reason ? ` (${order.reason})` : ""
          }, not executed.`,
        );
      }
      const view = readback.views.get(call.orderId!);
      if (view && view.status !== 200) {
        findings.push(`GET /orders/${call.orderId} answered ${view.status} for ${describe(call)}, which was approved.`);
      }
    }
    if (call.verdict === "rejected") {
      // Every order in the flow is valid, from its own card and contact: a rejection is a wrong answer.
      findings.push(
        `${describe(call)} (${call.orderId}) is valid but was rejected: ${
          call.attempts.at(-1)?.reasons?.join("; ") ?? "no reason given"
        } (after ${call.attempts.length} attempts).`,
      );
    }
    if (call.verdict === "rejected" && call.orderId && queued.has(call.orderId)) {
      findings.push(`${describe(call)} (${call.orderId}) was answered rejected, but the queue holds it.`);
    }
  }

  // Nothing placed that a client was told was not placed: every order the
  // queue holds that no client learned was approved must be explained by a
  // call whose outcome the client could not know.
  const approvedIds = new Set(calls.filter((c) => c.verdict === "approved").map((c) => c.orderId));
  const evidence = (orders: StoredOrder[]) => {
    const logged = orders.filter((o) => readback.notQueued?.has(o.orderId));
    return logged.length === 0
      ? ""
      : `; the orchestrator logged "could not queue" for ${
        logged.map((o) => o.orderId).join(", ")
      }, which the queue holds`;
  };
  const orphans = [...queued.values()].filter((o) => !approvedIds.has(o.orderId));
  const toldNotPlaced = calls.filter((c) => c.verdict === "not_placed");
  const unknown = calls.filter((c) => c.verdict === "unknown");
  for (const call of toldNotPlaced) {
    if (call.orderId && queued.has(call.orderId)) {
      findings.push(
        `${describe(call)} (${call.orderId}) was told "${call.attempts.at(-1)?.answer}", but the queue holds it (${
          queued.get(call.orderId)!.state
        }).`,
      );
    }
  }
  if (orphans.length > unknown.length) {
    findings.push(
      `${orphans.length} orders reached the queue that no client was told were approved (${
        orphans.map((o) => `${o.orderId} ${o.state}`).join(", ")
      }), but only ${unknown.length} calls ended without a definite answer: at least ${
        orphans.length - unknown.length
      } were placed although their clients were told they were not (${toldNotPlaced.length} such answers, e.g. "${
        toldNotPlaced[0]?.attempts.at(-1)?.answer
      }")${evidence(orphans)}.`,
    );
  }

  // None executed twice: one execution per order in the replicas' logs (each line counts, so one replica
  // executing an order twice in one epoch is caught too), and the queue's counter agrees.
  const executedBy = new Map<string, string[]>();
  for (const e of readback.executions.filter((e) => e.state === "executed")) {
    const by = executedBy.get(e.orderId) ?? [];
    by.push(`replica ${e.replica} in epoch ${e.epoch}`);
    executedBy.set(e.orderId, by);
  }
  for (const [orderId, by] of executedBy) {
    if (by.length > 1) findings.push(`order ${orderId} was executed ${by.length} times: by ${by.join(" and ")}.`);
  }
  const executed = [...queued.values()].filter((o) => o.state === "executed");
  if (readback.executedCounter !== executed.length) {
    findings.push(
      `the queue counted ${readback.executedCounter} executions but holds ${executed.length} executed orders.`,
    );
  }

  // Per epoch, at most one replica executed orders.
  const replicasByEpoch = new Map<number, Set<number>>();
  const note = (epoch: number, replica: number) => {
    const set = replicasByEpoch.get(epoch) ?? new Set();
    set.add(replica);
    replicasByEpoch.set(epoch, set);
  };
  for (const order of queued.values()) {
    if (order.state === "executed" || order.state === "failed") note(order.epoch, order.executorId);
  }
  for (const e of readback.executions) note(e.epoch, e.replica);
  for (const [epoch, replicas] of replicasByEpoch) {
    if (replicas.size > 1) {
      findings.push(`in epoch ${epoch}, replicas ${[...replicas].join(", ")} all executed orders.`);
    }
  }

  // Stock: never below zero, and exactly the initial stock minus what was executed.
  const taken = new Map<string, number>();
  for (const order of executed) {
    for (const item of order.items) taken.set(item.bookId, (taken.get(item.bookId) ?? 0) + item.quantity);
  }
  for (const [bookId, initial] of initialStock) {
    const final = readback.stock.get(bookId) ?? initial;
    if (final < 0) findings.push(`the stock of ${bookId} is ${final}, below zero.`);
    const expected = initial - (taken.get(bookId) ?? 0);
    if (final !== expected) {
      findings.push(
        `the stock of ${bookId} is ${final}, but ${initial} minus the ${
          taken.get(bookId) ?? 0
        } executed makes ${expected}.`,
      );
    }
  }

  // Every order's recorded clocks relate as the event graph says, all fifteen pairs of a..f.
  for (const [orderId, view] of readback.views) {
    const events = view.body.events ?? [];
    if (approvedIds.has(orderId)) {
      const missing = EVENT_NAMES.filter((name) => !events.some((e) => e.name === name));
      if (missing.length > 0) findings.push(`approved order ${orderId} has no recorded event ${missing.join(", ")}.`);
    }
    for (const finding of clockFindings(events)) findings.push(`order ${orderId}: ${finding}`);
  }
  return findings;
}

/** Summarises a history in one line (for the test's output). */
export function summarise(calls: Call[]): string {
  const count = (verdict: Verdict) => calls.filter((c) => c.verdict === verdict).length;
  const retried = calls.filter((c) => c.attempts.length > 1).length;
  return `${calls.length} orders: ${count("approved")} approved, ${count("rejected")} rejected, ${
    count("not_placed")
  } told not placed, ${count("unknown")} unknown; ${retried} retried`;
}
