/**
 * `deno task bench checkout --replicas 2`: the checkout on etcd with one
 * instance of each validator, orchestrator and web app
 * (`BOOKSTORE_STORE=etcd deno task dev`) and with N of each
 * (`BOOKSTORE_REPLICAS=N`: HAProxy then takes the public ports in front of
 * the orchestrators and the web apps) in the same run, side by side
 * (bench/compare.ts), the load sent to the public orchestrator port of each
 * — through HAProxy with N — against the same floors. What the load
 * balancer, its extra hop and the extra instances cost per checkout, and
 * where the single leader executor tops out.
 *
 * @module
 */
import { floorTable } from "./checkout.ts";
import {
  compareSystems,
  type ComparisonBenchOptions,
  cpuPerCheckout,
  mean,
  phaseSections,
  processCpuTable,
  type RunPhase,
  summaryTable,
  type SystemRun,
  totalPss,
} from "./compare.ts";
import { type FloorFigures, measureFloor } from "./floors.ts";
import { fmt } from "./report.ts";
import { SETTLE_MS, startDevSystem } from "./system.ts";

/** Options of {@linkcode benchReplicas}. */
export interface ReplicasBenchOptions extends ComparisonBenchOptions {
  /** Instances of each service in the scaled-out system (default 2). */
  replicas?: number;
}

/** The saturation's concurrency: where the figures of who tops out are read. */
const SATURATION = 64;

/** Runs the comparison and answers its Markdown report. */
export async function benchReplicas(options: ReplicasBenchOptions = {}): Promise<string> {
  const replicas = options.replicas ?? 2;
  if (replicas < 2) throw new Error(`--replicas compares 1 instance with more, not with ${replicas}`);
  const seconds = options.seconds ?? 10;
  const fullLoadSeconds = options.fullLoadSeconds ?? seconds;
  const rounds = options.rounds ?? 2;
  const logLevel = options.logLevel ?? "warn";

  console.error("floors: chains of 8 and 13 loopback hops…");
  const floor8 = await measureFloor(8, { seconds });
  const floor13 = await measureFloor(13, { seconds });

  console.error(`starting BOOKSTORE_STORE=etcd deno task dev twice: 1 and ${replicas} instances of each…`);
  const env = { CHECKOUT_RATE_LIMIT: "0", BOOKSTORE_LOG_LEVEL: logLevel };
  await using single = await startDevSystem({ store: "etcd", env });
  await using scaled = await startDevSystem({ store: "etcd", replicas, env });
  // HAProxy closes each client connection after its answer, which autocannon's latencies do not survive: fetch loops.
  const runs = await compareSystems([
    { label: "N = 1", title: "one instance of each (N = 1)", system: single },
    {
      label: `N = ${replicas}`,
      title: `${replicas} instances of each, behind HAProxy (N = ${replicas})`,
      system: scaled,
    },
  ], { seconds, fullLoadSeconds, rounds, fetchLoop: true });
  return report({ floor8, floor13, runs, replicas, seconds, fullLoadSeconds, rounds, logLevel });
}

/** A process's role: its name without its instance or replica number (`orchestrator_2`, `etcd3` → `orchestrator`, `etcd`). */
export function roleOf(name: string): string {
  return name.replace(/_?\d+$/, "");
}

/** A phase's figures the saturation's are read from. */
type Window = Pick<RunPhase, "cpuMs" | "checkouts" | "perSecond" | "drainMs" | "approved">;

// The CPU of a phase is counted until its queue drained: its shares are over the load and the drain together.
function windowMs(phase: Window): number {
  return (phase.checkouts / phase.perSecond) * 1000 + phase.drainMs;
}

/** How much of one core each process kept busy during a phase and its queue's drain (1: a whole core). */
export function coreShares(phase: Window): Record<string, number> {
  const total = (ms: number) => ms * phase.checkouts;
  return Object.fromEntries(Object.entries(phase.cpuMs).map(([name, ms]) => [name, total(ms) / windowMs(phase)]));
}

/**
 * Orders the leader executed a second over a phase and its queue's drain: with a drain that is not short, the queue
 * grew under the load and this is as fast as the leader executes.
 */
export function executionRate(phase: Window): number {
  return (phase.approved * 1000) / windowMs(phase);
}

/** The executor that did the executing (the leader: the one with the most CPU), or undefined if none ran. */
export function leaderExecutor(cpuMs: Record<string, number>): string | undefined {
  const executors = Object.entries(cpuMs).filter(([name]) => roleOf(name) === "order_executor");
  return executors.sort(([, a], [, b]) => b - a)[0]?.[0];
}

interface ReportInput {
  floor8: FloorFigures;
  floor13: FloorFigures;
  runs: [SystemRun, SystemRun];
  replicas: number;
  seconds: number;
  fullLoadSeconds: number;
  rounds: number;
  logLevel: string;
}

// CPU per checkout at the saturation by role (every instance of it together), both systems and the difference.
function roleTable(runs: readonly [SystemRun, SystemRun]): string {
  const roles = [...new Set(runs.flatMap((run) => Object.keys(run.atRest).map(roleOf)))];
  const byRole = (run: SystemRun, role: string) =>
    mean(run, {
      connections: SATURATION,
      pick: (p) => Object.entries(p.cpuMs).reduce((a, [name, ms]) => a + (roleOf(name) === role ? ms : 0), 0),
    });
  const [a, b] = runs;
  const row = (role: string, pick: (run: SystemRun) => number) =>
    `| ${role} | ${fmt(pick(a))} | ${fmt(pick(b))} | ${fmt(pick(b) - pick(a))} |`;
  return `| role (every instance) | ${a.label} | ${b.label} | difference |
| --- | ---: | ---: | ---: |
${roles.map((role) => row(role, (run) => byRole(run, role))).join("\n")}
${row("all", (run) => cpuPerCheckout(run, { connections: SATURATION }))}`;
}

// At the saturation: the leader's, the busiest process's and the whole system's share of the CPU, means over rounds.
function topsOut(run: SystemRun): string {
  const phases = run.phases.filter((p) => p.connections === SATURATION);
  const leader = leaderExecutor(phases[0]?.cpuMs ?? {});
  const share = (name: string) => mean(run, { connections: SATURATION, pick: (p) => coreShares(p)[name] });
  const names = Object.keys(phases[0]?.cpuMs ?? {});
  const busiest = names.sort((x, y) => share(y) - share(x))[0];
  const whole = mean(run, {
    connections: SATURATION,
    pick: (p) => Object.values(coreShares(p)).reduce((a, b) => a + b, 0),
  });
  const percent = (value: number) => `${Math.round(value * 100)}%`;
  const figure = (pick: (p: RunPhase) => number) => fmt(mean(run, { connections: SATURATION, pick }));
  return `| ${run.label} | ${figure((p) => p.perSecond)} | ${figure(executionRate)} | ${
    figure((p) => p.drainMs)
  } ms | ${leader ?? "—"}: ${leader ? percent(share(leader)) : "—"} | ${busiest}: ${percent(share(busiest))} | ${
    fmt(whole)
  } of ${navigator.hardwareConcurrency} |`;
}

function report(input: ReportInput): string {
  const { runs, replicas } = input;
  const [single, scaled] = runs;
  const haproxy = (field: "atRest" | "afterLoad") => scaled[field].load_balancer?.pss ?? NaN;
  const memory = (run: SystemRun) =>
    `${run.label}: ${Object.keys(run.atRest).length} processes, ${fmt(totalPss(run.atRest))} MiB at rest, ${
      fmt(totalPss(run.afterLoad))
    } MiB after load`;
  return `
### The checkout on etcd with 1 and ${replicas} instances of each service, side by side

\`deno task bench checkout --replicas ${replicas}\`: \`BOOKSTORE_STORE=etcd deno task dev\` and
\`BOOKSTORE_STORE=etcd BOOKSTORE_REPLICAS=${replicas} deno task dev\` (${replicas} instances of each validator, orchestrator
and web app, HAProxy on the public ports), started together, services logging at \`${input.logLevel}\`, the load sent to
each one's public orchestrator port (through HAProxy with N = ${replicas}). Closed loops at concurrency 1, 16 and 64, each
that many fetch workers in the benchmark's process, one checkout after another (not autocannon: HAProxy closes every
client connection after its answer, and autocannon's latencies through it run several times what a client waits)
(${input.seconds} s each, ${input.fullLoadSeconds} s at 64), ${input.rounds} rounds, each phase run on one system then
the other, which goes first alternating from one phase to the next. The system not being measured is paused (SIGSTOP,
every process, HAProxy included) and given ${SETTLE_MS / 1000} s to settle when it goes on again. Floors, measured in
the same run:

${floorTable(input.floor8, input.floor13)}

Means over the rounds:

${summaryTable(runs)}

Memory of all processes (PSS): ${memory(single)}; ${memory(scaled)} (HAProxy ${fmt(haproxy("atRest"))} MiB at rest,
${fmt(haproxy("afterLoad"))} after load). Elections of the executors during the phases at concurrency 64:
${single.elections} with ${single.label}, ${scaled.elections} with ${scaled.label}.

CPU per checkout at concurrency ${SATURATION} by role, every instance of it together (ms, means over the rounds;
\`load_balancer\` is HAProxy):

${roleTable(runs)}

Who tops out at concurrency ${SATURATION} (means over the rounds): checkouts answered a second; orders executed a second
over the phase and the queue's drain after it (with a long drain, the queue grew under the load and this is as fast as
the one leader executes); the share of one core the leader executor (the executor with the most CPU) and the busiest
process kept busy, and how many of the machine's cores the whole system used, over the phase and its drain:

| system | checkouts/s | executions/s | queue drained after | leader executor | busiest process | cores used |
| --- | ---: | ---: | ---: | ---: | ---: | ---: |
${runs.map(topsOut).join("\n")}

${phaseSections(runs)}

CPU per checkout by process (ms, means over the rounds):

${processCpuTable(runs)}
`;
}
