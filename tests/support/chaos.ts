/**
 * The chaos suite's runner (Jepsen's method), shared by the scenarios on the
 * embedded store (`tests/chaos_test.ts`) and on etcd
 * (`tests/etcd_chaos_test.ts`): a cluster of its own, a steady flow of real
 * checkouts from clients with and without Idempotency-Keys, one fault
 * injected while it runs, more flow, then the history checker over every
 * order; and how long checkouts and executions stopped flowing under the
 * fault, printed.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type Cluster, type ClusterOptions, startCluster } from "./cluster.ts";
import { stableLeader } from "./executors.ts";
import { describePause, type FaultWindow, type FlowPause, flowPause } from "./flow.ts";
import {
  type Call,
  checkHistory,
  executionsFromLogs,
  readStock,
  startTraffic,
  summarise,
  type Traffic,
  type TrafficOptions,
  waitForCalls,
} from "./history.ts";
import { eventually } from "./wait.ts";

/** Settings every chaos cluster shares: short deadlines so that faults show within seconds. */
export const CHAOS_ENV: Record<string, string> = {
  CHECKOUT_TIMEOUT_MS: "3000",
  RPC_TIMEOUT_MS: "800",
  QUEUE_LEASE_MS: "2000",
  EXECUTOR_WORK_MS: "20",
};

/**
 * Marks a moment the fault strikes (call it again for each of several kills);
 * the flow's pauses are measured from them (from the fault's start if it is
 * never called).
 */
export type Strike = () => void;

/** One chaos scenario. */
export interface Scenario {
  /** Environment on top of {@linkcode CHAOS_ENV}. */
  env?: Record<string, string>;
  /** How the cluster runs (its store, restarts…). */
  cluster?: Omit<ClusterOptions, "env">;
  /** How the clients place orders. */
  traffic?: TrafficOptions;
  /** Injects the fault while the traffic flows, calling `strike` the moment it strikes, and returns once it is over. */
  fault: (cluster: Cluster, traffic: Traffic, strike: Strike) => Promise<void>;
  /**
   * Whether orders must be approved and executed again after the (last)
   * strike, within 30 s, before the fault counts as over. @default false
   */
  flowsUnderFault?: boolean;
}

/** What a scenario ran: the history, and how the flow fared across the fault. */
export interface ChaosRun {
  calls: Call[];
  /** Approved checkouts and executed orders across the fault (ms from the strike). */
  checkouts: FlowPause;
  executions: FlowPause;
}

/**
 * Runs one scenario: cluster, flow, fault, more flow, then the checker;
 * fails with the checker's findings. Prints the history's summary and the
 * flow's pauses. The cluster is stopped, every process of it, whatever
 * happens.
 */
export async function chaos(scenario: Scenario): Promise<ChaosRun> {
  const cluster = await startCluster({ ...scenario.cluster, env: { ...CHAOS_ENV, ...scenario.env } });
  try {
    await stableLeader(cluster, { leader: 4 });
    const initialStock = await readStock(cluster);
    const traffic = startTraffic(cluster, { maxCallsPerClient: 150, thinkMs: 250, ...scenario.traffic });
    let calls: Call[];
    const window: FaultWindow = { strikes: [], over: 0 };
    try {
      await waitForCalls(traffic, 6);
      const began = traffic.now();
      await scenario.fault(cluster, traffic, () => window.strikes.push(traffic.now()));
      if (window.strikes.length === 0) window.strikes.push(began);
      if (scenario.flowsUnderFault) await flowGoesOn(cluster, traffic, window.strikes.at(-1)!);
      window.over = traffic.now();
      await waitForCalls(traffic, 6);
    } finally {
      calls = await traffic.stop();
    }
    console.log(`    ${summarise(calls)}`);
    const findings = await checkHistory(cluster, calls, { initialStock });
    const run = { calls, ...flowAcross(cluster, traffic, window) };
    console.log(`    ${describePause("checkouts", run.checkouts)}`);
    console.log(`    ${describePause("executions", run.executions)}`);
    assert.deepEqual(findings, [], `the history broke the rules:\n- ${findings.join("\n- ")}`);
    assert.ok(calls.some((c) => c.verdict === "approved"), "some orders were approved under the fault");
    return run;
  } finally {
    await cluster.stop();
  }
}

// When checkouts were approved and orders executed, on the history's clock: approvals as the clients timed them,
// executions as the replicas' log lines say (wall clock).
function successes(cluster: Cluster, traffic: Traffic): { approvals: number[]; executions: number[] } {
  const approvals = traffic.history.flatMap((call) =>
    call.attempts.filter((a) => a.status === 200 && a.answer === "Order Approved").map((a) => a.end)
  );
  const executions = executionsFromLogs(cluster).flatMap((e) =>
    e.state === "executed" && e.at !== undefined ? [e.at - traffic.startedAt] : []
  );
  return { approvals, executions };
}

function flowAcross(cluster: Cluster, traffic: Traffic, window: FaultWindow): Omit<ChaosRun, "calls"> {
  const { approvals, executions } = successes(cluster, traffic);
  return { checkouts: flowPause(approvals, window), executions: flowPause(executions, window) };
}

// Executions lag the processes being back (a dead leader's leases expire first): the fault is over once orders
// were approved and executed after it struck.
async function flowGoesOn(cluster: Cluster, traffic: Traffic, since: number): Promise<void> {
  await eventually(() => {
    const { approvals, executions } = successes(cluster, traffic);
    return approvals.some((t) => t > since) && executions.some((t) => t > since);
  }, { timeoutMs: 30_000, intervalMs: 100, message: "orders approved and executed again after the fault struck" });
}

/** Waits for a process to be gone (after a kill, with the supervisor's restarts off). */
export async function gone(cluster: Cluster, name: string): Promise<void> {
  await eventually(() => cluster.supervisor.pid(name) === undefined, { message: `${name} to die`, timeoutMs: 10_000 });
}
