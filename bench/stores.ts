/**
 * `deno task bench checkout --store etcd`: the checkout on the embedded
 * store (`deno task dev`) and on etcd (`BOOKSTORE_STORE=etcd deno task
 * dev`: three etcd members, two queue replicas) in the same run, side by
 * side. Both systems run throughout, and the phases alternate between them
 * (closed loop at concurrency 1, 16 and 64; which store goes first
 * alternates too), with the same settings and against the same floors, so
 * that this shared machine's drift falls on both alike. Then, on etcd
 * alone, the etcd leader and the serving queue replica are SIGKILLed under a
 * steady flow of checkouts (bench/failover.ts).
 *
 * @module
 */
import { type FloorFigures, measureFloor } from "./floors.ts";
import { floorTable, phaseTable } from "./checkout.ts";
import { type FailoverFigures, measureFailover, type Recovery } from "./failover.ts";
import { CheckoutLoad, type Phase } from "./load.ts";
import { fmt, median, type Memory } from "./report.ts";
import { SETTLE_MS, startDevSystem } from "./system.ts";

/** Options of {@linkcode benchStores}. */
export interface StoresBenchOptions {
  /** Seconds of each phase (default 10). */
  seconds?: number;
  /** Seconds of the phase at concurrency 64, the saturation (default `seconds`). */
  fullLoadSeconds?: number;
  /** How many times the three phases run on each store (default 2). */
  rounds?: number;
  /** Kills of the etcd leader, and of a queue replica, under the steady flow (default 3 each; 0: none). */
  kills?: number;
  /** The services' log level (default `warn`). */
  logLevel?: "debug" | "info" | "warn" | "error";
}

const STORES = ["kv", "etcd"] as const;
type Store = typeof STORES[number];
const LABEL: Record<Store, string> = { kv: "embedded Deno KV", etcd: "etcd" };
/** The closed loops each round runs, at these concurrencies. */
const LEVELS = [1, 16, 64] as const;
/** The failover flow offers this share of the etcd system's saturated throughput (at most 50/s), so it keeps up. */
const FLOW_SHARE = 0.5;

/** A phase as the comparison ran it: on which round, and the other (paused) system's CPU meanwhile. */
interface RunPhase extends Phase {
  connections: number;
  round: number;
  /** CPU the other system used meanwhile, in % of one core (nil while it is paused, as it should be). */
  background: number;
}

interface StoreRun {
  phases: RunPhase[];
  atRest: Record<string, Memory>;
  afterLoad: Record<string, Memory>;
  /** Elections of the executors during the phases at concurrency 64. */
  elections: number;
}

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
  const systems = { kv, etcd };
  const loads = { kv: new CheckoutLoad(kv), etcd: new CheckoutLoad(etcd) };
  const runs = {} as Record<Store, StoreRun>;
  for (const store of STORES) {
    runs[store] = { phases: [], atRest: await loads[store].memory(), afterLoad: {}, elections: 0 };
  }
  // One system runs while the other is measured; the idle one is paused, so that it takes no CPU from it.
  let running: Store | undefined;
  const runOnly = async (store: Store) => {
    if (running === store) return;
    await systems[other(store)].pause();
    if (running !== undefined) await systems[store].resume();
    running = store;
  };
  for (const store of STORES) {
    console.error(`warming up (${store})…`);
    await runOnly(store);
    await loads[store].warmUp({ sequential: 100, amount: 400 });
  }

  let turn = 0;
  for (let round = 1; round <= rounds; round++) {
    for (const connections of LEVELS) {
      // Which store goes first alternates, so that neither is always measured after the other (nor always first).
      const order = turn++ % 2 === 0 ? [...STORES].reverse() : STORES;
      for (const store of order) {
        await runOnly(store);
        const idle = loads[other(store)];
        const idleBefore = sum(await idle.cpu());
        const started = performance.now();
        const epochBefore = await loads[store].epoch();
        const phase = await loads[store].phase(`closed loop, concurrency ${connections}, round ${round}`, {
          connections,
          seconds: connections === 64 ? fullLoadSeconds : seconds,
        });
        if (connections === 64) runs[store].elections += (await loads[store].epoch()) - epochBefore;
        const background = ((sum(await idle.cpu()) - idleBefore) * 100_000) / (performance.now() - started);
        runs[store].phases.push({ ...phase, connections, round, background });
      }
    }
  }
  await runOnly("kv");
  runs.kv.afterLoad = await loads.kv.memory();
  await runOnly("etcd");
  runs.etcd.afterLoad = await loads.etcd.memory();

  let failover: FailoverFigures | undefined;
  if ((options.kills ?? 3) > 0) {
    const rate = Math.max(5, Math.min(50, Math.round(mean(runs.etcd, 64, (p) => p.perSecond) * FLOW_SHARE)));
    failover = await measureFailover(systems.etcd, { rate, kills: options.kills ?? 3 });
  }
  return report({ floor8, floor13, runs, failover, seconds, fullLoadSeconds, rounds, logLevel });
}

function other(store: Store): Store {
  return store === "kv" ? "etcd" : "kv";
}

function sum(figures: Record<string, number>): number {
  return Object.values(figures).reduce((a, b) => a + b, 0);
}

/** The mean over the rounds of a figure of the phases at `connections`. */
function mean(run: StoreRun, connections: number, pick: (phase: RunPhase) => number | undefined): number {
  const values = run.phases.filter((p) => p.connections === connections).map(pick);
  if (values.some((v) => v === undefined)) return NaN;
  return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

interface ReportInput {
  floor8: FloorFigures;
  floor13: FloorFigures;
  runs: Record<Store, StoreRun>;
  failover: FailoverFigures | undefined;
  seconds: number;
  fullLoadSeconds: number;
  rounds: number;
  logLevel: string;
}

function report(input: ReportInput): string {
  const { runs } = input;
  const yes = (met: boolean) => met ? "yes" : "no";
  const pss = (memory: Record<string, Memory>) => Object.values(memory).reduce((a, m) => a + m.pss, 0);
  const [kvSaturated, etcdSaturated] = STORES.map((store) => mean(runs[store], 64, (p) => p.perSecond));
  const ratio = etcdSaturated / kvSaturated;
  // Saturated, a CPU-bound system runs as fast as its CPU per checkout lets it: the throughput the two would reach alone.
  const cpuRatio = mean(runs.kv, 64, (p) => sum(p.cpuMs)) / mean(runs.etcd, 64, (p) => sum(p.cpuMs));
  const names = [...new Set([...Object.keys(runs.kv.atRest), ...Object.keys(runs.etcd.atRest)])];
  const cpu = (store: Store, connections: number, name?: string) =>
    fmt(mean(runs[store], connections, (p) => name === undefined ? sum(p.cpuMs) : p.cpuMs[name]));
  const summary = LEVELS.map((c) => {
    const figure = (pick: (p: RunPhase) => number) => STORES.map((store) => mean(runs[store], c, pick));
    const [kvRate, etcdRate] = figure((p) => p.perSecond);
    const [kvP50, etcdP50] = figure((p) => p.p50);
    const [kvP99, etcdP99] = figure((p) => p.p99);
    return `| ${c} | ${fmt(kvRate)} | ${fmt(etcdRate)} | ${Math.round((etcdRate / kvRate) * 100)}% | ${fmt(kvP50)} / ${
      fmt(kvP99)
    } ms | ${fmt(etcdP50)} / ${fmt(etcdP99)} ms | ${cpu("kv", c)} ms | ${cpu("etcd", c)} ms |`;
  }).join("\n");
  return `
### The checkout on each store: embedded Deno KV and etcd, side by side

\`deno task bench checkout --store etcd\`: \`deno task dev\` (${Object.keys(runs.kv.atRest).length} processes) and
\`BOOKSTORE_STORE=etcd deno task dev\` (${Object.keys(runs.etcd.atRest).length}: three etcd members and two queue
replicas besides), started together, services logging at \`${input.logLevel}\`. Closed loops at concurrency 1, 16 and 64
(${input.seconds} s each, ${input.fullLoadSeconds} s at 64), ${input.rounds} rounds, each phase run on one system then
the other, which goes first alternating from one phase to the next. The system not being measured is paused (SIGSTOP,
every process) and given ${SETTLE_MS / 1000} s to settle when it goes on again. Floors, measured in the same run:

${floorTable(input.floor8, input.floor13)}

Means over the rounds:

| concurrency | embedded checkouts/s | etcd checkouts/s | etcd / embedded | embedded p50 / p99 | etcd p50 / p99 | embedded CPU per checkout | etcd CPU per checkout |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${summary}

Memory of all processes (PSS): embedded ${fmt(pss(runs.kv.atRest))} MiB at rest, ${fmt(pss(runs.kv.afterLoad))} MiB
after load; etcd ${fmt(pss(runs.etcd.atRest))} MiB at rest, ${fmt(pss(runs.etcd.afterLoad))} MiB after load. Elections
of the executors during the phases at concurrency 64: ${runs.kv.elections} embedded, ${runs.etcd.elections} etcd.

Every phase, in the order run on each system (CPU per checkout: every process's, the supervisor's and the etcd members'
included; the paused system's CPU meanwhile: ${
    STORES.map((store) =>
      `${LABEL[store]} at most ${fmt(Math.max(...runs[other(store)].phases.map((p) => p.background)))}% of a core`
    )
      .join(", ")
  }):

#### ${LABEL.kv}

${phaseTable(runs.kv.phases)}

#### ${LABEL.etcd}

${phaseTable(runs.etcd.phases)}

CPU per checkout by process (ms, means over the rounds):

| process | embedded, concurrency 16 | embedded, concurrency 64 | etcd, concurrency 16 | etcd, concurrency 64 |
| --- | ---: | ---: | ---: | ---: |
${
    names.map((n) =>
      `| ${n} | ${cpu("kv", 16, n)} | ${cpu("kv", 64, n)} | ${cpu("etcd", 16, n)} | ${cpu("etcd", 64, n)} |`
    ).join("\n")
  }
| all | ${cpu("kv", 16)} | ${cpu("kv", 64)} | ${cpu("etcd", 16)} | ${cpu("etcd", 64)} |
${input.failover ? failoverReport(input.failover) : ""}
| target | measured | target met |
| --- | ---: | :---: |
| etcd: checkouts/s at saturation (concurrency 64) ≥ 50% of the embedded store's | ${fmt(etcdSaturated)}/s against ${
    fmt(kvSaturated)
  }/s: ${Math.round(ratio * 100)}% | ${yes(ratio >= 0.5)} |
| the same, as CPU per checkout at concurrency 64 predicts it on a machine with nothing else to run (embedded / etcd) | ${
    cpu("kv", 64)
  } / ${cpu("etcd", 64)} ms: ${Math.round(cpuRatio * 100)}% | ${yes(cpuRatio >= 0.5)} |
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
