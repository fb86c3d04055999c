/**
 * `deno task bench profile [--seconds N] [--store etcd]`: where a checkout's
 * CPU time goes. Runs the whole system with `--cpu-prof`, drives checkouts
 * at concurrency 16, stops every process cleanly (which writes its V8 CPU
 * profile), and prints each service's time by kind of work (Deno's HTTP
 * client and server, the store — Deno KV, or the etcd client and V8's
 * serialization of values —, zod, Hono, garbage collection, our RPC layer,
 * the service's own logic) and its top functions by self time, and by
 * module. With etcd, also the time under the etcd client's own frames
 * (inclusive) and the CPU the etcd members (Go, not profiled) spent per
 * checkout. The raw `.cpuprofile` files stay in `bench/.profiles/` for
 * Chrome DevTools.
 *
 * @module
 */
import autocannon from "autocannon";
import { etcdMemberNames } from "@bookstore/dev/topology";
import { startCluster } from "../tests/support/cluster.ts";
import { validOrder } from "../tests/support/orders.ts";
import { cpuSeconds } from "./report.ts";

/** A node of a V8 CPU profile: a frame, and the frames it called. */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** A V8 CPU profile (`.cpuprofile`): the call tree, and which node each sample was in, how long after the last. */
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
  | "etcd client (lib/store/etcd: keys, values, transactions)"
  | "V8 serialization of values (node:v8)"
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
  if (url.includes("/lib/store/etcd/")) return "etcd client (lib/store/etcd: keys, values, transactions)";
  if (/^ext:deno_node\/.*v8/.test(url) || fn.startsWith("op_v8_")) return "V8 serialization of values (node:v8)";
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

/**
 * Busy time of one profile spent in frames that `within` picks or in what
 * they called (inclusive), in ms: what a library costs with the runtime
 * work it asks for. Work resumed after an `await` counts only where the
 * resumed frame is its own.
 */
export function inclusive(profile: CpuProfile, within: (frame: ProfileNode["callFrame"]) => boolean): number {
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const inside = new Map<number, boolean>();
  const isInside = (id: number): boolean => {
    const known = inside.get(id);
    if (known !== undefined) return known;
    const node = byId.get(id);
    const up = parent.get(id);
    const answer = node !== undefined && (within(node.callFrame) || (up !== undefined && isInside(up)));
    inside.set(id, answer);
    return answer;
  };
  let ms = 0;
  profile.samples.forEach((id, i) => {
    const name = byId.get(id)?.callFrame.functionName;
    if (name !== "(idle)" && name !== "(program)" && isInside(id)) ms += (profile.timeDeltas[i] ?? 0) / 1000;
  });
  return ms;
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

/** Options of {@linkcode profileCheckout}. */
export interface ProfileOptions {
  /** Seconds of load (default 20). */
  seconds?: number;
  /** Where the services keep their state (default `kv`); `etcd` starts three members and two queue replicas. */
  store?: "kv" | "etcd";
}

/** Profiles the services under checkout load for `seconds` and answers the Markdown summary. */
export async function profileCheckout(options: ProfileOptions = {}): Promise<string> {
  const seconds = options.seconds ?? 20;
  const etcd = options.store === "etcd";
  const out: string[] = [];
  const dir = new URL(".profiles/", import.meta.url).pathname;
  await Deno.remove(dir, { recursive: true }).catch(() => {});
  await Deno.mkdir(dir, { recursive: true });
  const cluster = await startCluster({
    // As deno task dev runs them (development: each message validated once, by its receiver).
    env: { BOOKSTORE_ENV: "development", BOOKSTORE_LOG_LEVEL: "warn", CHECKOUT_RATE_LIMIT: "0" },
    store: options.store,
    only: [
      ...(etcd ? ["order_queue_1", "order_queue_2"] : ["order_queue"]),
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
  const members = etcdMemberNames(names.map((name) => cluster.supervisor.spec(name)));
  const memberCpu = () => Promise.all(members.map((name) => cpuSeconds(cluster.supervisor.pid(name)!)));
  const membersBefore = await memberCpu();
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
  const membersAfter = await memberCpu();
  await cluster.stop();
  const checkouts = result.requests.total;
  out.push(
    `\n${checkouts} checkouts in ${seconds} s at concurrency 16, under --cpu-prof, on ${etcd ? "etcd" : "Deno KV"}\n`,
  );
  if (etcd) {
    out.push("| etcd member (not profiled: its CPU from /proc) | CPU per checkout |\n| --- | ---: |");
    members.forEach((name, i) => {
      out.push(`| ${name} | ${(((membersAfter[i] - membersBefore[i]) * 1000) / checkouts).toFixed(2)} ms |`);
    });
    out.push("");
  }
  for await (const entry of Deno.readDir(dir)) {
    const pid = Number(/\.(\d+)\.cpuprofile$/.exec(entry.name)?.[1]);
    const name = pids.get(pid) ?? entry.name;
    const profile: CpuProfile = JSON.parse(await Deno.readTextFile(`${dir}${entry.name}`));
    const { functions, modules } = summarise(profile);
    const kinds = categorise(profile);
    const busy = kinds.reduce((sum, [, ms]) => sum + ms, 0);
    const perCheckout = (ms: number) => `${((ms / checkouts) * 1000).toFixed(0)} µs`;
    out.push(`#### ${name}: ${(busy / checkouts).toFixed(2)} ms busy per checkout\n`);
    out.push("| kind of work | per checkout | share |\n| --- | ---: | ---: |");
    for (const [kind, ms] of kinds) out.push(`| ${kind} | ${perCheckout(ms)} | ${Math.round((ms / busy) * 100)}% |`);
    if (etcd) {
      const client = inclusive(profile, (frame) => frame.url.includes("/lib/store/etcd/"));
      out.push(
        `| (inclusive: under the etcd client's frames, with the fetch, JSON and V8 work they call) | ${
          perCheckout(client)
        } | ${Math.round((client / busy) * 100)}% |`,
      );
    }
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
