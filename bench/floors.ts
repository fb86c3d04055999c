/**
 * The floors the checkout is measured against, in the same run: a chain of
 * N loopback hops, one Deno process per hop (`bench/hop.ts`), each a trivial
 * JSON handler. A checkout makes 8 sequential RPCs on its critical path and
 * 13 in all, so the 8-hop chain bounds its latency and the 13-hop chain its
 * throughput.
 *
 * @module
 */
import autocannon from "autocannon";
import { freePorts } from "../tests/support/cluster.ts";
import { eventually } from "../tests/support/wait.ts";
import { cpuSeconds, type Memory, memoryOf, percentile } from "./report.ts";

/** A running chain of hops. */
export interface Chain extends AsyncDisposable {
  /** The first hop's URL. */
  url: string;
  /** Every hop's process id. */
  pids: number[];
}

/** Starts `hops` processes, each forwarding to the next. */
export async function startChain(hops: number): Promise<Chain> {
  const ports = freePorts(hops);
  const children = ports.map((port, i) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net=127.0.0.1", "--allow-env", new URL("./hop.ts", import.meta.url).pathname],
      env: { PORT: String(port), ...(i + 1 < hops ? { NEXT_URL: `http://127.0.0.1:${ports[i + 1]}/` } : {}) },
      stdout: "null",
      stderr: "inherit",
    }).spawn()
  );
  const url = `http://127.0.0.1:${ports[0]}/`;
  await eventually(async () => {
    const answers = await Promise.all(
      ports.map((port) =>
        fetch(`http://127.0.0.1:${port}/`).then((r) => r.body?.cancel().then(() => r.ok), () => false)
      ),
    );
    return answers.every(Boolean);
  }, { timeoutMs: 30_000, message: `${hops} hops to listen` });
  return {
    url,
    pids: children.map((child) => child.pid),
    async [Symbol.asyncDispose]() {
      for (const child of children) child.kill("SIGTERM");
      await Promise.all(children.map((child) => child.status));
    },
  };
}

/** What a floor measured. */
export interface FloorFigures {
  /** Hops in the chain. */
  hops: number;
  /** Latency of one chain at concurrency 1, in ms. */
  p50Ms: number;
  /** 99th percentile at concurrency 1, in ms. */
  p99Ms: number;
  /** Chains per second at concurrency 32. */
  chainsPerSecond: number;
  /** CPU seconds per chain, all hops together, at concurrency 32. */
  cpuMsPerChain: number;
  /** Memory of one hop process at rest (the mean over the chain, before any load): a bare Deno process's. */
  restMemory: Memory;
}

/** Measures a chain of `hops`: sequential latency, then throughput at concurrency 32 for `seconds`. */
export async function measureFloor(hops: number, options: { seconds: number }): Promise<FloorFigures> {
  await using chain = await startChain(hops);
  const resting = await Promise.all(chain.pids.map(memoryOf));
  const mean = (kind: keyof Memory) => resting.reduce((sum, m) => sum + m[kind], 0) / resting.length;
  const restMemory = { rss: mean("rss"), pss: mean("pss") };
  const post = () =>
    fetch(chain.url, { method: "POST", headers: { "content-type": "application/json" }, body: '{"hops":0}' })
      .then((r) => r.json());
  for (let i = 0; i < 200; i++) await post();
  const latencies: number[] = [];
  for (let i = 0; i < 500; i++) {
    const started = performance.now();
    await post();
    latencies.push(performance.now() - started);
  }
  const cpuBefore = await Promise.all(chain.pids.map(cpuSeconds));
  const result = await autocannon({
    url: chain.url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: '{"hops":0}',
    connections: 32,
    duration: options.seconds,
  });
  const cpuAfter = await Promise.all(chain.pids.map(cpuSeconds));
  const cpu = cpuAfter.reduce((sum, value, i) => sum + value - cpuBefore[i], 0);
  return {
    hops,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    chainsPerSecond: result.requests.total / options.seconds,
    cpuMsPerChain: (cpu * 1000) / Math.max(1, result.requests.total),
    restMemory,
  };
}
