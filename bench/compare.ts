/**
 * Two running systems compared in the same run, the way every side-by-side
 * checkout benchmark runs them (`--store etcd`: the embedded store against
 * etcd; `--replicas 2`: one instance of each service against two): both run
 * throughout and the phases alternate between them (closed loop at
 * concurrency 1, 16 and 64; which system goes first alternates too), with
 * the same settings, so that this shared machine's drift falls on both
 * alike. The system not being measured is paused (SIGSTOP), so that it
 * takes no CPU from the other. Also the tables both reports print.
 *
 * @module
 */
import { phaseTable } from "./checkout.ts";
import { CheckoutLoad, type Phase } from "./load.ts";
import { fmt, type Memory } from "./report.ts";
import type { DevSystem } from "./system.ts";

/** A system in a comparison. */
export interface Contender {
  /** Its name in a table's column (`embedded`, `N = 2`). */
  label: string;
  /** Its name in a heading (`embedded Deno KV`). */
  title: string;
  /** The running system. */
  system: DevSystem;
}

/** Options of {@linkcode compareSystems}. */
export interface ComparisonOptions {
  /** Seconds of each phase. */
  seconds: number;
  /** Seconds of the phase at concurrency 64, the saturation. */
  fullLoadSeconds: number;
  /** How many times the three phases run on each system. */
  rounds: number;
  /** Closed loops from fetch workers rather than autocannon, on both systems alike (see `LoadSettings.fetchLoop`). */
  fetchLoop?: boolean;
}

/** What a comparison's command line may set (`deno task bench checkout --store etcd | --replicas N`). */
export interface ComparisonBenchOptions {
  /** Seconds of each phase (default 10). */
  seconds?: number;
  /** Seconds of the phase at concurrency 64, the saturation (default `seconds`). */
  fullLoadSeconds?: number;
  /** How many times the three phases run on each system (default 2). */
  rounds?: number;
  /** The services' log level (default `warn`). */
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** The closed loops each round runs, at these concurrencies. */
export const LEVELS = [1, 16, 64] as const;

/** A phase as the comparison ran it: on which round, and the other (paused) system's CPU meanwhile. */
export interface RunPhase extends Phase {
  /** The phase's concurrency. */
  connections: number;
  /** Its round, from 1. */
  round: number;
  /** CPU the other system used meanwhile, in % of one core (nil while it is paused, as it should be). */
  background: number;
}

/** What the comparison measured on one system. */
export interface SystemRun {
  /** See {@linkcode Contender.label}. */
  label: string;
  /** See {@linkcode Contender.title}. */
  title: string;
  /** Every phase, in the order run. */
  phases: RunPhase[];
  /** Every process's memory before any load. */
  atRest: Record<string, Memory>;
  /** Every process's memory after the last phase. */
  afterLoad: Record<string, Memory>;
  /** Elections of the executors during the phases at concurrency 64. */
  elections: number;
}

/**
 * Warms both systems up and runs the rounds, alternating. Leaves the second system running and the first paused (the
 * caller may measure more on the second, as the store comparison measures etcd's failover).
 */
export async function compareSystems(
  contenders: readonly [Contender, Contender],
  options: ComparisonOptions,
): Promise<[SystemRun, SystemRun]> {
  const loads = contenders.map(({ system }) => new CheckoutLoad(system));
  const runs = [] as unknown as [SystemRun, SystemRun];
  for (const [i, { label, title }] of contenders.entries()) {
    runs[i] = { label, title, phases: [], atRest: await loads[i].memory(), afterLoad: {}, elections: 0 };
  }
  let running: number | undefined;
  const runOnly = async (i: number) => {
    if (running === i) return;
    await contenders[1 - i].system.pause();
    if (running !== undefined) await contenders[i].system.resume();
    running = i;
  };
  for (const i of [0, 1]) {
    console.error(`warming up (${contenders[i].title})…`);
    await runOnly(i);
    await loads[i].warmUp({ sequential: 100, amount: 400 });
  }

  let turn = 0;
  for (let round = 1; round <= options.rounds; round++) {
    for (const connections of LEVELS) {
      // Neither is always measured after the other (nor always first).
      const order = turn++ % 2 === 0 ? [1, 0] : [0, 1];
      for (const i of order) {
        await runOnly(i);
        const idle = loads[1 - i];
        const idleBefore = sum(await idle.cpu());
        const started = performance.now();
        const epochBefore = await loads[i].epoch();
        const phase = await loads[i].phase(`closed loop, concurrency ${connections}, round ${round}`, {
          connections,
          seconds: connections === 64 ? options.fullLoadSeconds : options.seconds,
          fetchLoop: options.fetchLoop,
        });
        if (connections === 64) runs[i].elections += (await loads[i].epoch()) - epochBefore;
        const background = ((sum(await idle.cpu()) - idleBefore) * 100_000) / (performance.now() - started);
        runs[i].phases.push({ ...phase, connections, round, background });
      }
    }
  }
  for (const i of [0, 1]) {
    await runOnly(i);
    runs[i].afterLoad = await loads[i].memory();
  }
  return runs;
}

/** The sum of a record's figures (every process's). */
export function sum(figures: Record<string, number>): number {
  return Object.values(figures).reduce((a, b) => a + b, 0);
}

/** The mean over the rounds of a figure of the phases at `connections` (NaN if a phase lacks it). */
export function mean(
  run: SystemRun,
  options: { connections: number; pick: (phase: RunPhase) => number | undefined },
): number {
  const values = run.phases.filter((p) => p.connections === options.connections).map(options.pick);
  if (values.some((v) => v === undefined)) return NaN;
  return (values as number[]).reduce((a, b) => a + b, 0) / values.length;
}

/** CPU per checkout at `connections`, in ms: every process's, or `name`'s alone. */
export function cpuPerCheckout(run: SystemRun, options: { connections: number; name?: string }): number {
  const { name } = options;
  return mean(run, {
    connections: options.connections,
    pick: (p) => name === undefined ? sum(p.cpuMs) : p.cpuMs[name],
  });
}

/** The memory (PSS, MiB) of every process together. */
export function totalPss(memory: Record<string, Memory>): number {
  return Object.values(memory).reduce((a, m) => a + m.pss, 0);
}

/** The means over the rounds, a row per concurrency: throughput, latency and CPU per checkout of both, side by side. */
export function summaryTable(runs: readonly [SystemRun, SystemRun]): string {
  const [a, b] = runs;
  const rows = LEVELS.map((connections) => {
    const figure = (run: SystemRun, pick: (p: RunPhase) => number) => mean(run, { connections, pick });
    const rate = (run: SystemRun) => figure(run, (p) => p.perSecond);
    const latency = (run: SystemRun) => `${fmt(figure(run, (p) => p.p50))} / ${fmt(figure(run, (p) => p.p99))} ms`;
    const cpu = (run: SystemRun) => `${fmt(cpuPerCheckout(run, { connections }))} ms`;
    return `| ${connections} | ${fmt(rate(a))} | ${fmt(rate(b))} | ${Math.round((rate(b) / rate(a)) * 100)}% | ${
      latency(a)
    } | ${latency(b)} | ${cpu(a)} | ${cpu(b)} |`;
  });
  return `| concurrency | ${a.label} checkouts/s | ${b.label} checkouts/s | ${b.label} / ${a.label} | ${a.label} p50 / p99 | ${b.label} p50 / p99 | ${a.label} CPU per checkout | ${b.label} CPU per checkout |
| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |
${rows.join("\n")}`;
}

/** Both systems' phase tables, in the order run, with the paused system's CPU meanwhile. */
export function phaseSections(runs: readonly [SystemRun, SystemRun]): string {
  const background = runs.map((run, i) =>
    `${runs[1 - i].title} at most ${fmt(Math.max(...run.phases.map((p) => p.background)))}% of a core`
  );
  return `Every phase, in the order run on each system (CPU per checkout: every process's, the supervisor's and the etcd
members' included; the paused system's CPU meanwhile: ${background.join(", ")}):

${runs.map((run) => `#### ${run.title}\n\n${phaseTable(run.phases)}`).join("\n\n")}`;
}

/** CPU per checkout of every process of either system, at concurrency 16 and 64. */
export function processCpuTable(runs: readonly [SystemRun, SystemRun]): string {
  const names = [...new Set(runs.flatMap((run) => Object.keys(run.atRest)))];
  const columns = runs.flatMap((run) => [16, 64].map((connections) => ({ run, connections })));
  const row = (label: string, name?: string) =>
    `| ${label} | ${
      columns.map(({ run, connections }) => fmt(cpuPerCheckout(run, { connections, name }))).join(" | ")
    } |`;
  return `| process | ${columns.map(({ run, connections }) => `${run.label}, concurrency ${connections}`).join(" | ")} |
| --- | ${columns.map(() => "---:").join(" | ")} |
${names.map((name) => row(name, name)).join("\n")}
${row("all")}`;
}
