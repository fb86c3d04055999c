/**
 * Checkout load on one running system, the phases every checkout benchmark
 * runs: a closed loop (one checkout after another, or autocannon at a
 * concurrency), or an open loop at an offered rate, each measured for
 * throughput, latency, errors by kind, the time from approval to execution,
 * how fast the queue drains after it, and the CPU every process spent per
 * checkout. `deno task bench checkout` runs them on one store, the store
 * comparison on two systems in turn.
 *
 * @module
 */
import autocannon from "autocannon";
import { validOrder } from "../tests/support/orders.ts";
import { eventually } from "../tests/support/wait.ts";
import { cpuSeconds, type Memory, memoryOf, percentile } from "./report.ts";
import type { DevSystem } from "./system.ts";

/** What one phase measured. */
export interface Phase {
  /** What it ran (`closed loop, concurrency 16`). */
  name: string;
  /** Checkouts answered. */
  checkouts: number;
  /** Checkouts answered a second. */
  perSecond: number;
  /** Latency percentiles in ms (p95 of the autocannon phases is its p97.5). */
  p50: number;
  /** See `p50`. */
  p95: number;
  /** See `p50`. */
  p99: number;
  /** Failed checkouts by kind (`HTTP 503`, `timeouts`…). */
  errors: Record<string, number>;
  /** Checkouts answered `Order Approved`. */
  approved: number;
  /** Time from the queue's commit (approval) to execution, of a sample of the phase's orders, in ms. */
  toExecution: { p50: number; p99: number; sampled: number };
  /** How long the queue took to drain after the load stopped, in ms. */
  drainMs: number;
  /** CPU per checkout by process, in ms. */
  cpuMs: Record<string, number>;
}

/** One phase's load: `connections` at once for `seconds` (or `amount` checkouts), or an open loop at `rate`/s. */
export interface LoadSettings {
  /** Checkouts in flight at once; 1 without `rate` is one after another, from this process. */
  connections: number;
  /** Offered checkouts a second (open loop). */
  rate?: number;
  /** How many checkouts, instead of a duration. */
  amount?: number;
  /** Seconds the phase lasts. */
  seconds?: number;
  /**
   * A closed loop at any concurrency from fetch workers, each one checkout after another, instead of autocannon.
   * Through HAProxy, which closes every client connection after its answer (`option httpclose`), autocannon's
   * latencies run far above what a client waits (at concurrency 16 on one system: its p50 1650 ms, fetch's 374 ms).
   */
  fetchLoop?: boolean;
}

/** Orders per phase whose time to execution is read back from the queue. */
export const EXECUTION_SAMPLE = 200;
const HEADERS = { "content-type": "application/json" };
/** Checkouts at concurrency 16, then again at 64, after the 300 sequential ones of the warm-up. */
const WARM_UP_CHECKOUTS = 2000;

/** Keeps a uniform sample of at most `size` of the values offered. */
class Sample {
  readonly values: string[] = [];
  #seen = 0;
  constructor(readonly size: number) {}
  offer(value: string) {
    this.#seen += 1;
    if (this.values.length < this.size) this.values.push(value);
    else {
      const at = Math.floor(Math.random() * this.#seen);
      if (at < this.size) this.values[at] = value;
    }
  }
}

type Figures = Omit<Phase, "name" | "drainMs" | "cpuMs" | "toExecution">;

/** Checkout load on one system. */
export class CheckoutLoad {
  /** The system's processes' names, in its order. */
  readonly names: string[];
  readonly #system: DevSystem;
  readonly #url: string;
  readonly #pidOf: Map<string, number>;

  /** Load on `system`. */
  constructor(system: DevSystem) {
    this.#system = system;
    this.#url = `${system.orchestrator}/checkout`;
    this.names = system.processes.map((p) => p.name);
    this.#pidOf = new Map(system.processes.map((p) => [p.name, p.pid]));
  }

  /** Every process's memory now. */
  async memory(): Promise<Record<string, Memory>> {
    return Object.fromEntries(
      await Promise.all(this.names.map(async (n) => [n, await memoryOf(this.#pidOf.get(n)!)] as const)),
    );
  }

  /** Every process's CPU seconds so far. */
  async cpu(): Promise<Record<string, number>> {
    return Object.fromEntries(
      await Promise.all(this.names.map(async (n) => [n, await cpuSeconds(this.#pidOf.get(n)!)] as const)),
    );
  }

  /** The queue's fencing epoch (it moves with every executor election). */
  async epoch(): Promise<number> {
    return (await this.#system.queue.GetQueueStatus({})).epoch;
  }

  /** One checkout from this process: its latency, status and answer. */
  async checkoutOnce(): Promise<{ ms: number; status: number; body: { status?: string; orderId?: string } }> {
    const started = performance.now();
    const response = await fetch(this.#url, { method: "POST", headers: HEADERS, body: JSON.stringify(validOrder()) });
    const body = await response.json();
    return { ms: performance.now() - started, status: response.status, body };
  }

  /** Waits until the queue holds nothing queued or leased; answers how long that took, in ms. */
  async drained(): Promise<number> {
    const started = performance.now();
    await eventually(async () => {
      const status = await this.#system.queue.GetQueueStatus({});
      return status.depth === 0 && status.leased === 0;
    }, { timeoutMs: 300_000, intervalMs: 20, message: "the queue to drain" });
    return performance.now() - started;
  }

  /**
   * Every load level the phases apply, once, so that the heaps reach their working size: `sequential` checkouts one
   * after another, then `amount` at concurrency 16 and again at 64.
   */
  async warmUp(options: { sequential?: number; amount?: number } = {}): Promise<void> {
    for (let i = 0; i < (options.sequential ?? 300); i++) await this.checkoutOnce();
    for (const connections of [16, 64]) {
      await this.#load(new Sample(0), { connections, amount: options.amount ?? WARM_UP_CHECKOUTS });
    }
    await this.drained();
  }

  /** Runs one phase named `name` and measures it. */
  async phase(name: string, settings: LoadSettings): Promise<Phase> {
    console.error(`phase (${this.#system.store}, ${this.#system.replicas} of each): ${name}…`);
    const sample = new Sample(EXECUTION_SAMPLE);
    const before = await this.cpu();
    const closedLoop = settings.rate === undefined && (settings.connections === 1 || settings.fetchLoop === true);
    const figures = closedLoop
      ? await this.#closedLoop(sample, { connections: settings.connections, seconds: settings.seconds ?? 15 })
      : await this.#load(sample, settings);
    const drainMs = await this.drained();
    const after = await this.cpu();
    const cpuMs = Object.fromEntries(
      this.names.map((n) => [n, ((after[n] - before[n]) * 1000) / Math.max(1, figures.checkouts)]),
    );
    return { name, ...figures, drainMs, cpuMs, toExecution: await this.#timeToExecution(sample.values) };
  }

  // `connections` workers from this process, each one checkout after another.
  async #closedLoop(sample: Sample, settings: { connections: number; seconds: number }): Promise<Figures> {
    const latencies: number[] = [];
    const errors: Record<string, number> = {};
    const count = (kind: string) => errors[kind] = (errors[kind] ?? 0) + 1;
    let approved = 0;
    const started = performance.now();
    const worker = async () => {
      while (performance.now() - started < settings.seconds * 1000) {
        let result;
        try {
          result = await this.checkoutOnce();
        } catch {
          count("connection errors");
          continue;
        }
        latencies.push(result.ms);
        if (result.status !== 200) count(`HTTP ${result.status}`);
        if (result.body.status === "Order Approved") {
          approved++;
          sample.offer(result.body.orderId!);
        }
      }
    };
    await Promise.all(Array.from({ length: settings.connections }, worker));
    const elapsed = (performance.now() - started) / 1000;
    return {
      checkouts: latencies.length,
      perSecond: latencies.length / elapsed,
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      errors,
      approved,
    };
  }

  async #load(sample: Sample, settings: LoadSettings): Promise<Figures> {
    let approved = 0;
    const result = await autocannon({
      url: this.#url,
      connections: settings.connections,
      ...(settings.amount ? { amount: settings.amount } : { duration: settings.seconds ?? 15 }),
      ...(settings.rate ? { overallRate: settings.rate } : {}),
      timeout: 30,
      requests: [{
        method: "POST",
        headers: HEADERS,
        setupRequest: (request: Record<string, unknown>) => ({ ...request, body: JSON.stringify(validOrder()) }),
        onResponse: (status: number, body: string) => {
          if (status !== 200 || !body.includes('"Order Approved"')) return;
          approved++;
          sample.offer(JSON.parse(body).orderId);
        },
      }],
    });
    const errors: Record<string, number> = {};
    for (const [code, stats] of Object.entries(result.statusCodeStats ?? {})) {
      if (code !== "200") errors[`HTTP ${code}`] = (stats as { count: number }).count;
    }
    if (result.errors) errors["connection errors"] = result.errors;
    if (result.timeouts) errors.timeouts = result.timeouts;
    return {
      checkouts: result.requests.total,
      perSecond: result.requests.total / result.duration,
      p50: result.latency.p50,
      p95: result.latency.p97_5,
      p99: result.latency.p99,
      errors,
      approved,
    };
  }

  // The time from approval (the queue's commit) to execution of the sampled orders, read from the queue.
  async #timeToExecution(orderIds: string[]): Promise<Phase["toExecution"]> {
    const waits: number[] = [];
    for (const orderId of orderIds) {
      const state = await this.#system.queue.GetOrderState({ orderId });
      if (state.state === "executed" || state.state === "failed") waits.push(state.updatedAt - state.enqueuedAt);
    }
    return { p50: percentile(waits, 50), p99: percentile(waits, 99), sampled: waits.length };
  }
}
