/**
 * `deno task bench checkout --store etcd`: the checkout on the embedded
 * store (`deno task dev`) and on etcd (`BOOKSTORE_STORE=etcd deno task
 * dev`: three etcd members, two queue replicas) in the same run, side by
 * side (bench/compare.ts), against the same floors. Then, on etcd
 * alone, the etcd leader and the serving queue replica are SIGKILLed under a
 * steady flow of checkouts (bench/failover.ts).
 *
 * @module
 */
import { type FloorFigures, measureFloor } from "./floors.ts";
import { floorTable } from "./checkout.ts";
import {
  compareSystems,
  type ComparisonBenchOptions,
  cpuPerCheckout,
  mean,
  phaseSections,
  processCpuTable,
  summaryTable,
  type SystemRun,
  totalPss,
} from "./compare.ts";
import { type FailoverFigures, measureFailover, type Recovery } from "./failover.ts";
import { fmt, median } from "./report.ts";
import { SETTLE_MS, startDevSystem } from "./system.ts";

/** Options of {@linkcode benchStores}. */
export interface StoresBenchOptions extends ComparisonBenchOptions {
  /** Kills of the etcd leader, and of a queue replica, under the steady flow (default 3 each; 0: none). */
  kills?: number;
}

/** The failover flow offers this share of the etcd system's saturated throughput (at most 50/s), so it keeps up. */
const FLOW_SHARE = 0.5;

/** Runs the comparison and answers its Markdown report. */
export async function benchStores(options: StoresBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 10;
  const fullLoadSeconds = options.fullLoadSeconds ?? seconds;
  const rounds = options.rounds ?? 2;
  const logLevel = options.logLevel ?? "warn";

  console.error("floors: chains of 8 and 13 loopback hops…");
  const floor8 = await measureFloor(8, { seconds });
  const floor13 = await measureFloor(13, { seconds });

  console.error("starting deno task dev twice: the embedded store, and etcd…");
  const env = { CHECKOUT_RATE_LIMIT: "0", BOOKSTORE_LOG_LEVEL: logLevel };
  await using kv = await startDevSystem({ store: "kv", env });
  await using etcd = await startDevSystem({ store: "etcd", env });
  // etcd second: the comparison leaves it running, for its failover.
  const runs = await compareSystems([
    { label: "embedded", title: "embedded Deno KV", system: kv },
    { label: "etcd", title: "etcd", system: etcd },
  ], { seconds, fullLoadSeconds, rounds });

  let failover: FailoverFigures | undefined;
  if ((options.kills ?? 3) > 0) {
    const saturated = mean(runs[1], { connections: 64, pick: (p) => p.perSecond });
    const rate = Math.max(5, Math.min(50, Math.round(saturated * FLOW_SHARE)));
    failover = await measureFailover(etcd, { rate, kills: options.kills ?? 3 });
  }
  return report({ floor8, floor13, runs, failover, seconds, fullLoadSeconds, rounds, logLevel });
}

interface ReportInput {
  floor8: FloorFigures;
  floor13: FloorFigures;
  runs: [SystemRun, SystemRun];
  failover: FailoverFigures | undefined;
  seconds: number;
  fullLoadSeconds: number;
  rounds: number;
  logLevel: string;
}

function report(input: ReportInput): string {
  const { runs } = input;
  const [kv, etcd] = runs;
  const yes = (met: boolean) => met ? "yes" : "no";
  const [kvSaturated, etcdSaturated] = runs.map((run) => mean(run, { connections: 64, pick: (p) => p.perSecond }));
  const ratio = etcdSaturated / kvSaturated;
  const [kvCpu, etcdCpu] = runs.map((run) => cpuPerCheckout(run, { connections: 64 }));
  // Saturated, a CPU-bound system runs as fast as its CPU per checkout lets it: the throughput the two would reach alone.
  const cpuRatio = kvCpu / etcdCpu;
  return `
### The checkout on each store: embedded Deno KV and etcd, side by side

\`deno task bench checkout --store etcd\`: \`deno task dev\` (${Object.keys(kv.atRest).length} processes) and
\`BOOKSTORE_STORE=etcd deno task dev\` (${Object.keys(etcd.atRest).length}: three etcd members and two queue
replicas besides), started together, services logging at \`${input.logLevel}\`. Closed loops at concurrency 1, 16 and 64
(${input.seconds} s each, ${input.fullLoadSeconds} s at 64), ${input.rounds} rounds, each phase run on one system then
the other, which goes first alternating from one phase to the next. The system not being measured is paused (SIGSTOP,
every process) and given ${SETTLE_MS / 1000} s to settle when it goes on again. Floors, measured in the same run:

${floorTable(input.floor8, input.floor13)}

Means over the rounds:

${summaryTable(runs)}

Memory of all processes (PSS): embedded ${fmt(totalPss(kv.atRest))} MiB at rest, ${fmt(totalPss(kv.afterLoad))} MiB
after load; etcd ${fmt(totalPss(etcd.atRest))} MiB at rest, ${fmt(totalPss(etcd.afterLoad))} MiB after load. Elections
of the executors during the phases at concurrency 64: ${kv.elections} embedded, ${etcd.elections} etcd.

${phaseSections(runs)}

CPU per checkout by process (ms, means over the rounds):

${processCpuTable(runs)}
${input.failover ? failoverReport(input.failover) : ""}
| target | measured | target met |
| --- | ---: | :---: |
| etcd: checkouts/s at saturation (concurrency 64) ≥ 50% of the embedded store's | ${fmt(etcdSaturated)}/s against ${
    fmt(kvSaturated)
  }/s: ${Math.round(ratio * 100)}% | ${yes(ratio >= 0.5)} |
| the same, as CPU per checkout at concurrency 64 predicts it on a machine with nothing else to run (embedded / etcd) | ${
    fmt(kvCpu)
  } / ${fmt(etcdCpu)} ms: ${Math.round(cpuRatio * 100)}% | ${yes(cpuRatio >= 0.5)} |
${input.failover ? failoverTargets(input.failover, yes) : ""}`;
}

function failoverReport(figures: FailoverFigures): string {
  return `
Failover on etcd, under a steady flow of ${figures.rate} checkouts a second (half the etcd system's saturated rate, at
most 50): each kill is a SIGKILL, after which \`deno task dev\`'s supervisor restarts the process; the next kill waits
until it is back (and, for etcd, every member agrees on a leader) and one more second. *Checkouts flow again*: the first
approved answer to a checkout sent after the kill; *executed again*: the earliest execution, by the queue's clock, of the
first five orders placed after the kill; *longest gap*: the longest time without an approved answer, from 1 s before
the kill until the process is back; *failed*: checkouts sent from this kill to the next that did not answer 200.

| kill | victim | checkouts flow again after | orders executed again after | longest gap | failed |
| --- | --- | ---: | ---: | ---: | ---: |
${
    figures.recoveries.map((r, i) =>
      `| ${i + 1}. ${r.kind} | ${r.victim} | ${fmt(r.checkoutMs)} ms | ${fmt(r.executedMs)} ms | ${
        fmt(r.gapMs)
      } ms | ${r.failed} |`
    ).join("\n")
  }

Every approved order of the flow read back from the queue at the end: ${figures.settled} of ${figures.approved} executed
(or failed for stock), ${figures.approved - figures.settled} missing or stuck.
`;
}

function failoverTargets(figures: FailoverFigures, yes: (met: boolean) => string): string {
  const row = (kind: Recovery["kind"], limitMs: number) => {
    const of = figures.recoveries.filter((r) => r.kind === kind);
    const worst = (pick: (r: Recovery) => number) => Math.max(...of.map(pick));
    const mid = (pick: (r: Recovery) => number) => median(of.map(pick));
    const checkouts = worst((r) => r.checkoutMs);
    const executed = worst((r) => r.executedMs);
    return `| orders flowing again ≤ ${
      limitMs / 1000
    } s after the ${kind} is SIGKILLed (worst of ${of.length}; median) | checkouts ${fmt(checkouts)} ms (${
      fmt(mid((r) => r.checkoutMs))
    }), executions ${fmt(executed)} ms (${fmt(mid((r) => r.executedMs))}) | ${
      yes(Math.max(checkouts, executed) <= limitMs)
    } |`;
  };
  return `${row("etcd leader", 2000)}
${row("queue replica", 1000)}
| no approved order lost in the failover flow | ${figures.approved - figures.settled} of ${figures.approved} | ${
    yes(figures.settled === figures.approved)
  } |
`;
}
