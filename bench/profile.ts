/**
 * `deno task bench profile [--seconds N]`: where a checkout's CPU time goes.
 * Runs the whole system with `--cpu-prof`, drives checkouts at concurrency
 * 16, stops every process cleanly (which writes its V8 CPU profile), and
 * prints each service's time by kind of work (Deno's HTTP client and server,
 * Deno KV, zod, Hono, garbage collection, our RPC layer, the service's own
 * logic) and its top functions by self time, and by module. The raw
 * `.cpuprofile` files stay in `bench/.profiles/` for Chrome DevTools.
 *
 * @module
 */
import autocannon from "autocannon";
import { startCluster } from "../tests/support/cluster.ts";
import { validOrder } from "../tests/support/orders.ts";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** The kinds of work {@linkcode categorise} sorts a profile's time into. */
export type WorkKind =
  | "HTTP client (fetch)"
  | "HTTP server (Deno.serve)"
  | "other runtime (bodies, streams, headers, promises)"
  | "Deno KV"
  | "garbage collection"
  | "zod"
  | "Hono"
  | "cockatiel"
  | "OpenTelemetry API"
  | "our RPC layer (lib/rpc, deadlines; JSON parse and stringify)"
  | "the service's own work";

/** The kind of work a profile frame does, by its function and script. */
export function kindOf(frame: { functionName: string; url: string }): WorkKind {
  const { functionName: fn, url } = frame;
  if (fn === "(garbage collector)") return "garbage collection";
  if (
    fn.startsWith("op_kv") || url.includes("deno_kv") || (url.includes("01_core.js") && /^(de)?serialize$/.test(fn))
  ) {
    return "Deno KV";
  }
  if (fn.startsWith("op_fetch") || /deno_fetch\/2[36]_|98_global_scope/.test(url)) return "HTTP client (fetch)";
  if (fn.startsWith("op_http") || url.includes("deno_http")) return "HTTP server (Deno.serve)";
  if (url === "" || url.startsWith("ext:") || url.startsWith("node:") || fn.startsWith("op_")) {
    return "other runtime (bodies, streams, headers, promises)";
  }
  const npm = /registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url)?.[1];
  if (npm === "zod") return "zod";
  if (npm === "hono") return "Hono";
  if (npm === "cockatiel") return "cockatiel";
  if (npm === "@opentelemetry/api") return "OpenTelemetry API";
  if (/\/lib\/(rpc\/|async\.ts|deadlines\.ts|service\.ts)/.test(url)) {
    return "our RPC layer (lib/rpc, deadlines; JSON parse and stringify)";
  }
  return "the service's own work";
}

/** Busy time (neither idle nor the profiler's own) of one profile by kind of work, in ms, largest first. */
export function categorise(profile: CpuProfile): [WorkKind, number][] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const kinds = new Map<WorkKind, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame || frame.functionName === "(idle)" || frame.functionName === "(program)") return;
    const kind = kindOf(frame);
    kinds.set(kind, (kinds.get(kind) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...kinds].sort((a, b) => b[1] - a[1]);
}

/** Self time per function and per module of one profile, in ms, largest first. */
export function summarise(profile: CpuProfile): { functions: [string, number][]; modules: [string, number][] } {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const functions = new Map<string, number>();
  const modules = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)?.callFrame;
    if (!frame) return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const module = moduleOf(frame.url);
    const name = `${frame.functionName || "(anonymous)"} ${module}${frame.url ? `:${frame.lineNumber + 1}` : ""}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    modules.set(module, (modules.get(module) ?? 0) + ms);
  });
  const sorted = (map: Map<string, number>) => [...map].sort((a, b) => b[1] - a[1]);
  return { functions: sorted(functions), modules: sorted(modules) };
}

// `file:///…/npm/registry.npmjs.org/zod/4.6.7/…` → `npm:zod`; our files relative to the repository.
function moduleOf(url: string): string {
  if (url === "") return "(native)";
  const npm = /registry\.npmjs\.org\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (npm) return `npm:${npm[1]}`;
  if (url.startsWith("ext:") || url.startsWith("node:")) return "(deno runtime)";
  const local = /\/(lib|services|web|dev|utils)\/(.+)$/.exec(url);
  return local ? `${local[1]}/${local[2]}` : url;
}

/** Profiles the services under checkout load for `seconds` and answers the Markdown summary. */
export async function profileCheckout(options: { seconds?: number } = {}): Promise<string> {
  const seconds = options.seconds ?? 20;
  const out: string[] = [];
  const dir = new URL(".profiles/", import.meta.url).pathname;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const cluster = await startCluster({
    // As deno task dev runs them (development: each message validated once, by its receiver).
    env: { BOOKSTORE_ENV: "development", BOOKSTORE_LOG_LEVEL: "warn", CHECKOUT_RATE_LIMIT: "0" },
    only: [
      "order_queue",
      "transaction_verification",
      "fraud_detection",
      "suggestions",
      "orchestrator",
      "order_executor_1",
    ],
    denoFlags: ["--cpu-prof", `--cpu-prof-dir=${dir}`],
  });
  const names = cluster.supervisor.names;
  const pids = new Map(names.map((name) => [cluster.supervisor.pid(name)!, name]));
  const result = await autocannon({
    url: `${cluster.orchestrator}/checkout`,
    connections: 16,
    duration: seconds,
    requests: [{
      method: "POST",
      headers: { "content-type": "application/json" },
      setupRequest: (request: Record<string, unknown>) => ({ ...request, body: JSON.stringify(validOrder()) }),
    }],
  });
  await cluster.stop();
  out.push(`\n${result.requests.total} checkouts in ${seconds} s at concurrency 16, under --cpu-prof\n`);
  for await (const entry of Deno.readDir(dir)) {
    const pid = Number(/\.(\d+)\.cpuprofile$/.exec(entry.name)?.[1]);
    const name = pids.get(pid) ?? entry.name;
    const profile: CpuProfile = JSON.parse(await Deno.readTextFile(`${dir}${entry.name}`));
    const { functions, modules } = summarise(profile);
    const kinds = categorise(profile);
    const busy = kinds.reduce((sum, [, ms]) => sum + ms, 0);
    const perCheckout = (ms: number) => `${((ms / result.requests.total) * 1000).toFixed(0)} µs`;
    out.push(`#### ${name}: ${(busy / result.requests.total).toFixed(2)} ms busy per checkout\n`);
    out.push("| kind of work | per checkout | share |\n| --- | ---: | ---: |");
    for (const [kind, ms] of kinds) out.push(`| ${kind} | ${perCheckout(ms)} | ${Math.round((ms / busy) * 100)}% |`);
    out.push("");
    out.push("| module | self ms | function (self ms) |\n| --- | ---: | --- |");
    const top = functions.filter(([f]) => !f.startsWith("(idle)") && !f.startsWith("(program)")).slice(0, 8);
    modules.filter(([m]) => m !== "(native)").slice(0, 8).forEach(([module, ms], i) => {
      const fn = top[i] ? `${top[i][0]} (${Math.round(top[i][1])})` : "";
      out.push(`| ${module} | ${Math.round(ms)} | ${fn} |`);
    });
    out.push("");
  }
  return out.join("\n");
}
