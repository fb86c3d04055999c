/**
 * `deno task bench checkout`: the whole system under checkout load, as a
 * user would load it, against floors measured in the same run. Starts
 * `deno task dev` itself (every process a newcomer gets: the supervisor, the
 * web app, the services, four executor replicas) on free loopback ports in a
 * temporary data directory, warms up, then drives `POST /checkout` with
 * distinct valid customers: closed-loop at concurrency 1, 16 and 64, open-loop
 * at fixed offered rates, and a soak. Reports throughput, latency
 * percentiles, errors by kind, the time from approval to execution and how
 * fast the queue drains after load, CPU per checkout for every process,
 * resident memory of every process at rest, after warm-up, after load and
 * after the soak, and elections during load; every figure beside its floor.
 *
 * @module
 */
import { type FloorFigures, measureFloor } from "./floors.ts";
import { CheckoutLoad, EXECUTION_SAMPLE, type Phase } from "./load.ts";
import { fmt, type Memory } from "./report.ts";
import { startDevSystem } from "./system.ts";

/** Options of {@linkcode benchCheckout}. */
export interface CheckoutBenchOptions {
  /** Seconds of each closed-loop and open-loop phase (default 15). */
  seconds?: number;
  /** Checkouts in the soak (default 20,000). */
  soak?: number;
  /** Offered rates of the open-loop phases, checkouts per second (default 50, 100, 200, 400). */
  rates?: number[];
  /** Seconds of the full-load phase (concurrency 64) during which no election may happen (default 60). */
  fullLoadSeconds?: number;
  /**
   * The services' log level (default `warn`, as a deployment under load
   * runs; `info` is what `deno task dev` prints by default, a line per event).
   */
  logLevel?: "debug" | "info" | "warn" | "error";
}

/** How many processes `deno task dev` runs, the supervisor included (a bare Deno process each is the memory floor). */
const SYSTEM_PROCESSES = 11;

/** Runs the benchmark and answers its Markdown report. */
export async function benchCheckout(options: CheckoutBenchOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 15;
  const soakCount = options.soak ?? 20_000;
  const rates = options.rates ?? [50, 100, 200, 400];
  const fullLoadSeconds = options.fullLoadSeconds ?? 60;
  const logLevel = options.logLevel ?? "warn";

  console.error("floors: chains of 8 and 13 loopback hops…");
  const floor8 = await measureFloor(8, { seconds });
  const floor13 = await measureFloor(13, { seconds });

  console.error("starting deno task dev…");
  // One client address drives the whole load: the per-client rate limit would refuse it.
  await using system = await startDevSystem({ env: { CHECKOUT_RATE_LIMIT: "0", BOOKSTORE_LOG_LEVEL: logLevel } });
  const load = new CheckoutLoad(system);
  const atRest = await load.memory();
  const phases: Phase[] = [];

  console.error("warming up…");
  // Every load level the phases apply, once, so that the heaps reach their working size and the soak's
  // figure shows growth with the number of orders rather than with the concurrency the phases reach.
  await load.warmUp();
  const afterWarmUp = await load.memory();

  phases.push(await load.phase("closed loop, concurrency 1", { connections: 1, seconds }));
  phases.push(await load.phase("closed loop, concurrency 16", { connections: 16, seconds }));
  const epochBefore = await load.epoch();
  phases.push(
    await load.phase(`closed loop, concurrency 64, ${fullLoadSeconds} s`, {
      connections: 64,
      seconds: fullLoadSeconds,
    }),
  );
  const electionsUnderLoad = (await load.epoch()) - epochBefore;
  for (const rate of rates) {
    phases.push(await load.phase(`open loop, ${rate}/s offered`, { connections: 64, rate, seconds }));
  }
  const afterLoad = await load.memory();

  console.error(`soak: ${soakCount} checkouts…`);
  phases.push(
    await load.phase(`soak, ${soakCount} checkouts at concurrency 16`, { connections: 16, amount: soakCount }),
  );
  const afterSoak = await load.memory();

  return report({
    floor8,
    floor13,
    phases,
    atRest,
    afterWarmUp,
    afterLoad,
    afterSoak,
    electionsUnderLoad,
    logLevel,
  });
}

/** The floors' table: a chain of 8 and of 13 loopback hops. */
export function floorTable(floor8: FloorFigures, floor13: FloorFigures): string {
  const row = (label: string, floor: FloorFigures) =>
    `| ${label} | ${fmt(floor.p50Ms)} ms | ${fmt(floor.p99Ms)} ms | ${fmt(floor.chainsPerSecond)} | ${
      fmt(floor.cpuMsPerChain)
    } ms | ${fmt(floor.restMemory.rss)} / ${fmt(floor.restMemory.pss)} MiB |`;
  return `| floor | p50 at concurrency 1 | p99 | chains/s at concurrency 32 | CPU per chain, all hops | memory of one hop at rest (RSS / PSS) |
| --- | ---: | ---: | ---: | ---: | ---: |
${row("8 hops", floor8)}
${row("13 hops", floor13)}`;
}

/** The phases' table: a row a phase, every process's CPU per checkout summed. */
export function phaseTable(phases: Phase[]): string {
  const sum = (figures: Record<string, number>) => Object.values(figures).reduce((a, b) => a + b, 0);
  const errors = (phase: Phase) =>
    Object.entries(phase.errors).map(([kind, count]) => `${count} ${kind}`).join(", ") || "none";
  return `| phase | checkouts | per second | p50 | p95 | p99 | approved | errors | approval → execution p50 / p99 | queue drained after | CPU per checkout |
| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |
${
    phases.map((p) =>
      `| ${p.name} | ${p.checkouts} | ${fmt(p.perSecond)} | ${fmt(p.p50)} ms | ${fmt(p.p95)} ms | ${
        fmt(p.p99)
      } ms | ${p.approved} | ${errors(p)} | ${fmt(p.toExecution.p50)} / ${fmt(p.toExecution.p99)} ms | ${
        fmt(p.drainMs)
      } ms | ${fmt(sum(p.cpuMs))} ms |`
    ).join("\n")
  }

(p95 of the autocannon phases is its p97.5. Approval → execution: from the queue's commit of the order to the commit
that executed it, for up to ${EXECUTION_SAMPLE} orders of each phase, read back from the queue.)`;
}

interface ReportInput {
  floor8: FloorFigures;
  floor13: FloorFigures;
  phases: Phase[];
  atRest: Record<string, Memory>;
  afterWarmUp: Record<string, Memory>;
  afterLoad: Record<string, Memory>;
  afterSoak: Record<string, Memory>;
  electionsUnderLoad: number;
  logLevel: string;
}

function report(input: ReportInput): string {
  const { floor8, floor13, phases } = input;
  const [single, concurrent] = phases;
  const saturated = Math.max(...phases.filter((p) => p.name.startsWith("closed")).map((p) => p.perSecond));
  const sum = (figures: Record<string, number>) => Object.values(figures).reduce((a, b) => a + b, 0);
  const total = (figures: Record<string, Memory>, kind: keyof Memory) =>
    Object.values(figures).reduce((a, m) => a + m[kind], 0);
  const names = Object.keys(input.atRest);
  const cpuTotal = (phase: Phase) => sum(phase.cpuMs);
  const worstDrain = Math.max(...phases.map((p) => p.drainMs));
  const worstExecution = Math.max(...phases.map((p) => p.toExecution.p99));
  const bare = { rss: floor13.restMemory.rss * SYSTEM_PROCESSES, pss: floor13.restMemory.pss * SYSTEM_PROCESSES };
  const restPss = total(input.atRest, "pss");
  const restRss = total(input.atRest, "rss");
  const yes = (met: boolean) => met ? "yes" : "no";
  return `
### Checkout under load

\`deno task dev\` (${names.length} processes), services logging at \`${input.logLevel}\`. Floors, measured in the same
run: a chain of loopback hops, one Deno process per hop, trivial JSON handlers.

${floorTable(floor8, floor13)}

${phaseTable(phases)}

| target | measured | floor | ratio | target met |
| --- | ---: | ---: | ---: | :---: |
| checkouts/s at saturation ≥ 50% of the 13-hop floor | ${fmt(saturated)}/s | ${fmt(floor13.chainsPerSecond)}/s | ${
    Math.round((saturated / floor13.chainsPerSecond) * 100)
  }% | ${yes(saturated >= floor13.chainsPerSecond / 2)} |
| checkout p50 at concurrency 1 ≤ 2× the 8-hop floor | ${fmt(single.p50)} ms | ${fmt(floor8.p50Ms)} ms | ${
    (single.p50 / floor8.p50Ms).toFixed(1)
  }× | ${yes(single.p50 <= 2 * floor8.p50Ms)} |
| CPU per checkout, all processes (concurrency 16) | ${fmt(cpuTotal(concurrent))} ms | ${
    fmt(floor13.cpuMsPerChain)
  } ms | ${(cpuTotal(concurrent) / floor13.cpuMsPerChain).toFixed(1)}× | |
| whole system at rest ≤ 500 MB, proportional (PSS) | ${fmt(restPss)} MiB | ${fmt(bare.pss)} MiB | ${
    (restPss / bare.pss).toFixed(1)
  }× | ${yes(restPss * 2 ** 20 <= 500e6)} |
| whole system at rest, summed resident (RSS) | ${fmt(restRss)} MiB | ${fmt(bare.rss)} MiB | ${
    (restRss / bare.rss).toFixed(1)
  }× | ${yes(restRss * 2 ** 20 <= 500e6)} |
| after the soak ≤ 1.2× after warm-up (PSS) | ${fmt(total(input.afterSoak, "pss"))} MiB | ${
    fmt(total(input.afterWarmUp, "pss"))
  } MiB | ${(total(input.afterSoak, "pss") / total(input.afterWarmUp, "pss")).toFixed(2)}× | ${
    yes(total(input.afterSoak, "pss") <= 1.2 * total(input.afterWarmUp, "pss"))
  } |
| growth during the soak itself: after the soak / after load (PSS) | ${fmt(total(input.afterSoak, "pss"))} MiB | ${
    fmt(total(input.afterLoad, "pss"))
  } MiB | ${(total(input.afterSoak, "pss") / total(input.afterLoad, "pss")).toFixed(2)}× | |
| queue drains within 2 s after load stops (worst phase) | ${fmt(worstDrain)} ms | | | ${yes(worstDrain <= 2000)} |
| approval → execution, p99 (worst phase) | ${fmt(worstExecution)} ms | | | |
| no election during the full-load phase (concurrency 64) | ${input.electionsUnderLoad} | | | ${
    yes(input.electionsUnderLoad === 0)
  } |

The memory floors are ${SYSTEM_PROCESSES} bare hop processes (a \`Deno.serve\` with a trivial handler each), as many as
\`deno task dev\` runs. RSS counts every page a process maps, so the Deno binary's pages, which all of them share, are
counted once per process; PSS divides each shared page among the processes that map it, so that the figures add up to
the memory the processes occupy together.

Memory by process (MiB, PSS; RSS in brackets) and CPU per checkout by process (ms, concurrency 16):

| process | at rest | after warm-up | after load | after soak | CPU per checkout |
| --- | ---: | ---: | ---: | ---: | ---: |
${
    names.map((n) => {
      const cell = (m: Record<string, Memory>) => `${fmt(m[n].pss)} (${fmt(m[n].rss)})`;
      return `| ${n} | ${cell(input.atRest)} | ${cell(input.afterWarmUp)} | ${cell(input.afterLoad)} | ${
        cell(input.afterSoak)
      } | ${fmt(concurrent.cpuMs[n])} |`;
    }).join("\n")
  }
| all | ${fmt(restPss)} (${fmt(restRss)}) | ${fmt(total(input.afterWarmUp, "pss"))} (${
    fmt(total(input.afterWarmUp, "rss"))
  }) | ${fmt(total(input.afterLoad, "pss"))} (${fmt(total(input.afterLoad, "rss"))}) | ${
    fmt(total(input.afterSoak, "pss"))
  } (${fmt(total(input.afterSoak, "rss"))}) | ${fmt(cpuTotal(concurrent))} |
`;
}
