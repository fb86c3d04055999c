/**
 * How long checkouts and executions stop when a process of the replicated
 * system dies: under a steady open-loop flow of checkouts, the etcd leader,
 * then the queue replica that serves, is SIGKILLed (the supervisor of
 * `deno task dev` restarts it), and each kill is measured — until the first
 * approved answer to a checkout sent after it, until the first order placed after it
 * is executed, the longest time without an approved checkout around it, and
 * the checkouts that failed. At the end every approved order of the flow is
 * read back from the queue: none may be missing or stuck.
 *
 * @module
 */
import { delay } from "@bookstore/lib/async";
import { etcdMemberStatus } from "@bookstore/lib/store/etcd/cluster";
import { validOrder } from "../tests/support/orders.ts";
import { eventually } from "../tests/support/wait.ts";
import { cpuSeconds } from "./report.ts";
import type { DevSystem } from "./system.ts";

/** What one kill cost. */
export interface Recovery {
  /** What was killed: `etcd leader` or `queue replica`. */
  kind: "etcd leader" | "queue replica";
  /** The process killed (`etcd2`, `order_queue_1`). */
  victim: string;
  /** From the kill until the first approved answer to a checkout sent after it, in ms. */
  checkoutMs: number;
  /** From the kill until the first order placed after it was executed (the queue's clock), in ms. */
  executedMs: number;
  /** The longest time without an approved checkout answered, from 1 s before the kill to the recovery, in ms. */
  gapMs: number;
  /** Checkouts sent from this kill to the next that failed (not 200). */
  failed: number;
}

/** What {@linkcode measureFailover} found. */
export interface FailoverFigures {
  /** Every kill, in the order made. */
  recoveries: Recovery[];
  /** The offered rate of the flow, checkouts a second. */
  rate: number;
  /** Approved orders of the whole flow, and how many the queue had executed (or failed, out of stock) at the end. */
  approved: number;
  /** See `approved`. */
  settled: number;
}

interface Sent {
  sentAt: number;
  doneAt?: number;
  status?: number;
  orderId?: string;
}

/** Checkouts at a fixed rate, each on its own, whatever the others are doing (an open loop). */
class SteadyFlow {
  readonly sent: Sent[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  #running = true;
  readonly #loop: Promise<void>;

  constructor(url: string, rate: number) {
    const interval = 1000 / rate;
    this.#loop = (async () => {
      for (let next = performance.now(); this.#running; next += interval) {
        await delay(Math.max(0, next - performance.now()));
        const record: Sent = { sentAt: performance.now() };
        this.sent.push(record);
        const done = this.#send(url, record);
        this.#inFlight.add(done);
        done.finally(() => this.#inFlight.delete(done));
      }
    })();
  }

  async #send(url: string, record: Sent): Promise<void> {
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(validOrder()),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await response.json();
      record.status = response.status;
      if (response.ok && body.status === "Order Approved") record.orderId = body.orderId;
    } catch {
      record.status = 0;
    }
    record.doneAt = performance.now();
  }

  /** Approved checkouts sent at or after `at`, in the order sent. */
  approvedSince(at: number): Sent[] {
    return this.sent.filter((s) => s.sentAt >= at && s.orderId !== undefined);
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    await Promise.all(this.#inFlight);
  }
}

/** Options of {@linkcode measureFailover}. */
export interface FailoverOptions {
  /** Offered checkouts a second. */
  rate: number;
  /** Kills of each kind (default 3). */
  kills?: number;
}

/** Kills the etcd leader, then the serving queue replica, `kills` times each, under a steady flow of checkouts. */
export async function measureFailover(system: DevSystem, options: FailoverOptions): Promise<FailoverFigures> {
  const flow = new SteadyFlow(`${system.orchestrator}/checkout`, options.rate);
  const recoveries: Recovery[] = [];
  const killedAt: number[] = [];
  try {
    await delay(2000);
    for (const kind of ["etcd leader", "queue replica"] as const) {
      for (let i = 0; i < (options.kills ?? 3); i++) {
        console.error(`failover: killing the ${kind} (${i + 1} of ${options.kills ?? 3})…`);
        const { recovery, at } = await killAndRecover(system, flow, kind);
        recoveries.push(recovery);
        killedAt.push(at);
      }
    }
  } finally {
    await flow.stop();
  }
  // Failed checkouts between one kill and the next (the last: until the flow stopped).
  recoveries.forEach((recovery, i) => {
    const until = killedAt[i + 1] ?? Infinity;
    recovery.failed = flow.sent.filter((s) => s.sentAt >= killedAt[i] && s.sentAt < until && s.status !== 200).length;
  });
  const approved = flow.sent.flatMap((s) => s.orderId ?? []);
  console.error(`failover: reading back ${approved.length} approved orders…`);
  let settled = 0;
  await eventually(async () => {
    const status = await system.queue.GetQueueStatus({});
    return status.depth === 0 && status.leased === 0;
  }, { timeoutMs: 120_000, intervalMs: 100, message: "the queue to drain after the failover flow" });
  for (const orderId of approved) {
    const state = await system.queue.GetOrderState({ orderId }).catch(() => undefined);
    if (state?.state === "executed" || state?.state === "failed") settled++;
  }
  return { recoveries, rate: options.rate, approved: approved.length, settled };
}

async function killAndRecover(
  system: DevSystem,
  flow: SteadyFlow,
  kind: Recovery["kind"],
): Promise<{ recovery: Recovery; at: number }> {
  const victim = kind === "etcd leader" ? await etcdLeader(system) : await servingReplica(system);
  const pid = await system.pidOf(victim);
  if (pid === undefined) throw new Error(`${victim} is not running`);
  const at = performance.now();
  const atWall = Date.now();
  Deno.kill(pid, "SIGKILL");

  const answered = () => flow.approvedSince(at).flatMap((s) => s.doneAt ?? []);
  await eventually(() => answered().length > 0, {
    timeoutMs: 60_000,
    intervalMs: 5,
    message: `an approved checkout sent after the ${kind} was killed`,
  });
  const checkoutMs = Math.min(...answered()) - at;
  // The first few orders placed after the kill; the earliest executed of them is when executions flow again.
  const placed = flow.approvedSince(at).slice(0, 5).map((s) => s.orderId!);
  const executedAt = await eventually(async () => {
    const states = await Promise.all(placed.map((orderId) => system.queue.GetOrderState({ orderId })));
    const done = states.filter((s) => s.state === "executed" || s.state === "failed");
    return done.length === placed.length && Math.min(...done.map((s) => s.updatedAt));
  }, { timeoutMs: 60_000, intervalMs: 20, message: `the orders placed after the ${kind} was killed to execute` });
  const executedMs = executedAt - atWall;

  // Back to whole: the victim restarted and (etcd) a leader every member agrees on; then a second of steady flow.
  await eventually(async () => {
    const now = await system.pidOf(victim);
    if (now === undefined || now === pid) return false;
    if (kind === "queue replica") return true;
    const statuses = await Promise.all(system.etcd.map(({ endpoint }) => etcdMemberStatus(endpoint)));
    return statuses.every((s) => s.leaderId !== "0" && s.leaderId === statuses[0].leaderId);
  }, { timeoutMs: 60_000, intervalMs: 100, message: `${victim} to come back` });
  await delay(1000);
  const recovered = performance.now();
  const approvals = flow.sent
    .filter((s) => s.orderId !== undefined && s.doneAt! >= at - 1000 && s.doneAt! <= recovered)
    .map((s) => s.doneAt!)
    .sort((a, b) => a - b);
  let gapMs = 0;
  for (let i = 1; i < approvals.length; i++) gapMs = Math.max(gapMs, approvals[i] - approvals[i - 1]);
  return { recovery: { kind, victim, checkoutMs, executedMs, gapMs, failed: 0 }, at };
}

async function etcdLeader(system: DevSystem): Promise<string> {
  return await eventually(async () => {
    for (const { name, endpoint } of system.etcd) {
      if ((await etcdMemberStatus(endpoint).catch(() => undefined))?.isLeader) return name;
    }
    return undefined;
  }, { message: "an etcd leader" });
}

// The replica the services' clients use: they keep to one until it fails, so it is the one that works.
async function servingReplica(system: DevSystem): Promise<string> {
  const cpu = async () =>
    await Promise.all(system.queueReplicas.map(async ({ name }) => {
      const pid = await system.pidOf(name);
      return pid === undefined ? 0 : await cpuSeconds(pid).catch(() => 0);
    }));
  const before = await cpu();
  await delay(1000);
  const after = await cpu();
  const busiest = after.map((seconds, i) => seconds - before[i]).reduce(
    (best, v, i, all) => v > all[best] ? i : best,
    0,
  );
  return system.queueReplicas[busiest].name;
}
