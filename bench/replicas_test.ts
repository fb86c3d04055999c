/** How the replica comparison reads its phases: roles, shares of a core, the leader executor, the tables. */
import assert from "node:assert/strict";
import { coreShares, executionRate, leaderExecutor, roleOf } from "./replicas.ts";
import { cpuPerCheckout, mean, processCpuTable, type RunPhase, summaryTable, type SystemRun } from "./compare.ts";

Deno.test("a process's role is its name without its instance or replica number", () => {
  const cases: [string, string][] = [
    ["orchestrator", "orchestrator"],
    ["orchestrator_2", "orchestrator"],
    ["transaction_verification_1", "transaction_verification"],
    ["order_executor_4", "order_executor"],
    ["order_queue_2", "order_queue"],
    ["etcd3", "etcd"],
    ["load_balancer", "load_balancer"],
    ["supervisor", "supervisor"],
  ];
  for (const [name, role] of cases) assert.equal(roleOf(name), role, name);
});

Deno.test("shares of a core and the execution rate are over the phase and the queue's drain after it", () => {
  // 400 checkouts in 10 s, 390 approved, then 3 s for the queue to drain: 13 s in all.
  const phase = { cpuMs: { a: 13, b: 3.25 }, checkouts: 400, perSecond: 40, drainMs: 3000, approved: 390 };
  assert.deepEqual(coreShares(phase), { a: 0.4, b: 0.1 });
  assert.equal(executionRate(phase), 30);
});

Deno.test("the leader executor is the executor that spent the most CPU, whatever else spent more", () => {
  const cpuMs = { orchestrator: 9, order_executor_1: 0.3, order_executor_4: 1.2, order_executor_2: 0.4 };
  assert.equal(leaderExecutor(cpuMs), "order_executor_4");
  assert.equal(leaderExecutor({ orchestrator: 9 }), undefined);
});

function phase(connections: number, figures: { perSecond: number; cpuMs: Record<string, number> }): RunPhase {
  return {
    name: `closed loop, concurrency ${connections}`,
    checkouts: figures.perSecond * 10,
    perSecond: figures.perSecond,
    p50: 10,
    p95: 20,
    p99: 30,
    errors: {},
    approved: figures.perSecond * 10,
    toExecution: { p50: 1, p99: 2, sampled: 1 },
    drainMs: 1,
    cpuMs: figures.cpuMs,
    connections,
    round: 1,
    background: 0,
  };
}

function run(label: string, phases: RunPhase[]): SystemRun {
  const memory = Object.fromEntries(Object.keys(phases[0].cpuMs).map((n) => [n, { rss: 1, pss: 1 }]));
  return { label, title: label, phases, atRest: memory, afterLoad: memory, elections: 0 };
}

Deno.test("figures are means over the rounds of the phases at one concurrency, and CPU sums every process", () => {
  const single = run("N = 1", [
    phase(64, { perSecond: 40, cpuMs: { orchestrator: 6, order_executor_1: 1 } }),
    phase(16, { perSecond: 99, cpuMs: { orchestrator: 99, order_executor_1: 99 } }),
    phase(64, { perSecond: 60, cpuMs: { orchestrator: 8, order_executor_1: 3 } }),
  ]);
  assert.equal(mean(single, { connections: 64, pick: (p) => p.perSecond }), 50);
  assert.equal(cpuPerCheckout(single, { connections: 64 }), 9);
  assert.equal(cpuPerCheckout(single, { connections: 64, name: "order_executor_1" }), 2);
  assert.ok(
    Number.isNaN(mean(single, { connections: 1, pick: (p) => p.perSecond })),
    "no phase at that concurrency: no figure",
  );
});

Deno.test("the tables put both systems side by side, a process either lacks shown as a dash", () => {
  const cpu = { orchestrator: 6, order_executor_1: 1 };
  const single = run("N = 1", [1, 16, 64].map((c) => phase(c, { perSecond: 40, cpuMs: cpu })));
  const scaled = run(
    "N = 2",
    [1, 16, 64].map((c) => phase(c, { perSecond: 20, cpuMs: { orchestrator_1: 4, load_balancer: 2 } })),
  );
  const summary = summaryTable([single, scaled]);
  assert.match(summary, /\| N = 1 checkouts\/s \| N = 2 checkouts\/s \| N = 2 \/ N = 1 \|/);
  assert.match(summary, /\| 64 \| 40 \| 20 \| 50% \|/);
  const processes = processCpuTable([single, scaled]);
  assert.match(processes, /\| load_balancer \| — \| — \| 2\.0 \| 2\.0 \|/);
  assert.match(processes, /\| orchestrator \| 6\.0 \| 6\.0 \| — \| — \|/);
  assert.match(processes, /\| all \| 7\.0 \| 7\.0 \| 6\.0 \| 6\.0 \|/);
});
