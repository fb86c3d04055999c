/**
 * `deno task bench checkout`: the whole system under checkout load, as a
 * user would load it, against floors measured in the same run. Starts every
 * service as its own process on free loopback ports in a temporary data
 * directory, warms up, then drives `POST /checkout` with distinct valid
 * customers: closed-loop at concurrency 1, 16 and 64, open-loop at fixed
 * offered rates, and a soak. Reports throughput, latency percentiles, errors
 * by kind, how fast the queue drains after load, CPU per checkout for every
 * process, resident memory at rest, after load and after the soak, and
 * elections during load; every figure beside its floor.
 *
 * @module
 */
import autocannon from "autocannon";
import { startCluster } from "../tests/support/cluster.ts";
import { validOrder } from "../tests/support/orders.ts";
import { waitFor } from "../tests/support/wait.ts";
import { type FloorFigures, measureFloor } from "./floors.ts";
import { cpuSeconds, fmt, percentile, residentMiB } from "./report.ts";

/** Options of {@linkcode benchCheckout}. */
export interface CheckoutBenchOptions {
  /** Seconds of each closed-loop and open-loop phase (default 15). */
  seconds?: number;
  /** Checkouts in the soak (default 20,000). */
  soak?: number;
  /** Offered rates of the open-loop phases, checkouts per second (default 50, 100, 200). */
  rates?: number[];
  /** Seconds of the full-load phase (concurrency 64) during which no election may happen (default 60). */
  fullLoadSeconds?: number;
}

interface Phase {
  name: string;
  checkouts: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: Record<string, number>;
  approved: number;
  drainMs: number;
  cpuMs: Record<string, number>;
}

const HEADERS = { "content-type": "application/json" };
/** Checkouts at concurrency 16 after the 300 sequential ones of the warm-up. */
const WARM_UP_CHECKOUTS = 2000;

/** Runs the benchmark and answers its Markdown report. */
export async function benchCheckout(options: CheckoutBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 15;
  const soakCount = options.soak ?? 20_000;
  const rates = options.rates ?? [50, 100, 200];
  const fullLoadSeconds = options.fullLoadSeconds ?? 60;

  console.error("floors: chains of 8 and 13 loopback hops…");
  const floor8 = await measureFloor(8, { seconds });
  const floor13 = await measureFloor(13, { seconds });

  console.error("starting the system…");
  // Quiet logs: the supervisor keeps every line in memory, which a soak would turn into a leak of the bench itself.
  await using cluster = await startCluster({ env: { BOOKSTORE_LOG_LEVEL: "warn", CHECKOUT_RATE_LIMIT: "0" } });
  const url = `${cluster.orchestrator}/checkout`;
  const names = cluster.supervisor.names;
  const pidOf = (name: string) => cluster.supervisor.pid(name)!;
  const queue = cluster.queue();
  const memory = async () =>
    Object.fromEntries(await Promise.all(names.map(async (n) => [n, await residentMiB(pidOf(n))])));
  const cpu = async () =>
    Object.fromEntries(await Promise.all(names.map(async (n) => [n, await cpuSeconds(pidOf(n))])));
  const epoch = async () => (await queue.GetQueueStatus({})).epoch;

  const checkoutOnce = async () => {
    const started = performance.now();
    const response = await fetch(url, { method: "POST", headers: HEADERS, body: JSON.stringify(validOrder()) });
    const body = await response.json();
    return { ms: performance.now() - started, status: response.status, approved: body.status === "Order Approved" };
  };
  const drained = async () => {
    const started = performance.now();
    await waitFor(async () => {
      const status = await queue.GetQueueStatus({});
      return status.depth === 0 && status.leased === 0;
    }, { timeoutMs: 120_000, intervalMs: 20, message: "the queue to drain" });
    return performance.now() - started;
  };

  const atRest = await memory();
  const phases: Phase[] = [];

  const measure = async (name: string, run: () => Promise<Omit<Phase, "name" | "drainMs" | "cpuMs">>) => {
    console.error(`phase: ${name}…`);
    const before = await cpu();
    const figures = await run();
    const drainMs = await drained();
    const after = await cpu();
    const cpuMs = Object.fromEntries(
      names.map((n) => [n, ((after[n] - before[n]) * 1000) / Math.max(1, figures.checkouts)]),
    );
    phases.push({ name, ...figures, drainMs, cpuMs });
  };

  const load = async (settings: { connections: number; rate?: number; amount?: number; seconds?: number }) => {
    let approved = 0;
    const result = await autocannon({
      url,
      connections: settings.connections,
      ...(settings.amount ? { amount: settings.amount } : { duration: settings.seconds ?? seconds }),
      ...(settings.rate ? { overallRate: settings.rate } : {}),
      timeout: 30,
      requests: [{
        method: "POST",
        headers: HEADERS,
        setupRequest: (request: Record<string, unknown>) => ({ ...request, body: JSON.stringify(validOrder()) }),
        onResponse: (status: number, body: string) => {
          if (status === 200 && body.includes('"Order Approved"')) approved++;
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
  };

  console.error("warming up…");
  // Until the heaps reach their working size under the soak's own pattern, so that the soak's figure shows growth.
  for (let i = 0; i < 300; i++) await checkoutOnce();
  await load({ connections: 16, amount: WARM_UP_CHECKOUTS });
  await drained();
  const afterWarmUp = await memory();

  await measure("closed loop, concurrency 1", async () => {
    const latencies: number[] = [];
    const errors: Record<string, number> = {};
    let approved = 0;
    const started = performance.now();
    while (performance.now() - started < seconds * 1000) {
      const result = await checkoutOnce();
      latencies.push(result.ms);
      if (result.status !== 200) errors[`HTTP ${result.status}`] = (errors[`HTTP ${result.status}`] ?? 0) + 1;
      if (result.approved) approved++;
    }
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
  });

  await measure("closed loop, concurrency 16", () => load({ connections: 16 }));
  const epochBefore = await epoch();
  await measure(
    `closed loop, concurrency 64, ${fullLoadSeconds} s`,
    () => load({ connections: 64, seconds: fullLoadSeconds }),
  );
  const electionsUnderLoad = (await epoch()) - epochBefore;
  for (const rate of rates) await measure(`open loop, ${rate}/s offered`, () => load({ connections: 64, rate }));
  const afterLoad = await memory();

  console.error(`soak: ${soakCount} checkouts…`);
  await measure(`soak, ${soakCount} checkouts at concurrency 16`, () => load({ connections: 16, amount: soakCount }));
  const afterSoak = await memory();

  return report({ floor8, floor13, phases, atRest, afterWarmUp, afterLoad, afterSoak, electionsUnderLoad });
}

interface ReportInput {
  floor8: FloorFigures;
  floor13: FloorFigures;
  phases: Phase[];
  atRest: Record<string, number>;
  afterWarmUp: Record<string, number>;
  afterLoad: Record<string, number>;
  afterSoak: Record<string, number>;
  electionsUnderLoad: number;
}

function report(input: ReportInput): string {
  const { floor8, floor13, phases } = input;
  const [single] = phases;
  const saturated = Math.max(...phases.filter((p) => p.name.startsWith("closed")).map((p) => p.perSecond));
  const sum = (figures: Record<string, number>) => Object.values(figures).reduce((a, b) => a + b, 0);
  const names = Object.keys(input.atRest);
  const cpuTotal = (phase: Phase) => sum(phase.cpuMs);
  const errors = (phase: Phase) =>
    Object.entries(phase.errors).map(([kind, count]) => `${count} ${kind}`).join(", ") || "none";
  return `
### Checkout under load

Floors, measured in the same run: a chain of loopback hops, one Deno process per hop, trivial JSON handlers.

| floor | p50 at concurrency 1 | p99 | chains/s at concurrency 32 | CPU per chain, all hops |
| --- | ---: | ---: | ---: | ---: |
| 8 hops | ${fmt(floor8.p50Ms)} ms | ${fmt(floor8.p99Ms)} ms | ${fmt(floor8.chainsPerSecond)} | ${
    fmt(floor8.cpuMsPerChain)
  } ms |
| 13 hops | ${fmt(floor13.p50Ms)} ms | ${fmt(floor13.p99Ms)} ms | ${fmt(floor13.chainsPerSecond)} | ${
    fmt(floor13.cpuMsPerChain)
  } ms |

| phase | checkouts | per second | p50 | p95 | p99 | approved | errors | queue drained after | CPU per checkout |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |
${
    phases.map((p) =>
      `| ${p.name} | ${p.checkouts} | ${fmt(p.perSecond)} | ${fmt(p.p50)} ms | ${fmt(p.p95)} ms | ${
        fmt(p.p99)
      } ms | ${p.approved} | ${errors(p)} | ${fmt(p.drainMs)} ms | ${fmt(cpuTotal(p))} ms |`
    ).join("\n")
  }

(p95 of the autocannon phases is its p97.5.)

| target | measured | floor | ratio | target met |
| --- | ---: | ---: | ---: | :---: |
| checkouts/s at saturation ≥ 50% of the 13-hop floor | ${fmt(saturated)}/s | ${fmt(floor13.chainsPerSecond)}/s | ${
    Math.round((saturated / floor13.chainsPerSecond) * 100)
  }% | ${saturated >= floor13.chainsPerSecond / 2 ? "yes" : "no"} |
| checkout p50 at concurrency 1 ≤ 2× the 8-hop floor | ${fmt(single.p50)} ms | ${fmt(floor8.p50Ms)} ms | ${
    (single.p50 / floor8.p50Ms).toFixed(1)
  }× | ${single.p50 <= 2 * floor8.p50Ms ? "yes" : "no"} |
| CPU per checkout, all processes (concurrency 16) | ${fmt(cpuTotal(phases[1]))} ms | ${
    fmt(floor13.cpuMsPerChain)
  } ms | ${(cpuTotal(phases[1]) / floor13.cpuMsPerChain).toFixed(1)}× | |
| whole system at rest ≤ 500 MB | ${fmt(sum(input.atRest))} MiB | | | ${sum(input.atRest) <= 500 ? "yes" : "no"} |
| after the soak ≤ 1.2× after warm-up | ${fmt(sum(input.afterSoak))} MiB | ${fmt(sum(input.afterWarmUp))} MiB | ${
    (sum(input.afterSoak) / sum(input.afterWarmUp)).toFixed(2)
  }× | ${sum(input.afterSoak) <= 1.2 * sum(input.afterWarmUp) ? "yes" : "no"} |
| queue drains within 2 s after load stops (worst phase) | ${fmt(Math.max(...phases.map((p) => p.drainMs)))} ms | | | ${
    Math.max(...phases.map((p) => p.drainMs)) <= 2000 ? "yes" : "no"
  } |
| no election during the full-load phase (concurrency 64) | ${input.electionsUnderLoad} | | | ${
    input.electionsUnderLoad === 0 ? "yes" : "no"
  } |

Resident memory by process (MiB) and CPU per checkout by process (ms, concurrency 16):

| process | at rest | after warm-up | after load | after soak | CPU per checkout |
| --- | ---: | ---: | ---: | ---: | ---: |
${
    names.map((n) =>
      `| ${n} | ${fmt(input.atRest[n])} | ${fmt(input.afterWarmUp[n])} | ${fmt(input.afterLoad[n])} | ${
        fmt(input.afterSoak[n])
      } | ${fmt(phases[1].cpuMs[n])} |`
    ).join("\n")
  }
| all | ${fmt(sum(input.atRest))} | ${fmt(sum(input.afterWarmUp))} | ${fmt(sum(input.afterLoad))} | ${
    fmt(sum(input.afterSoak))
  } | ${fmt(cpuTotal(phases[1]))} |
`;
}
