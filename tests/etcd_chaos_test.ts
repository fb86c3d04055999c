/**
 * The chaos suite on the etcd topology: three etcd members and two order
 * queue replicas under the supervisor, restarting whatever dies, a steady
 * flow of keyed and unkeyed checkouts, one fault of the store or of a queue
 * replica while it runs, then the history checker over every order (read
 * back from the queue's prefix of the etcd cluster). Each scenario prints
 * how long checkouts and executions stopped flowing; none asserts it beyond
 * generous deadlines (the figures are the benchmark's to hold to a target).
 */
import assert from "node:assert/strict";
import { chaos, type Scenario, type Strike } from "./support/chaos.ts";
import type { Cluster } from "./support/cluster.ts";
import { type EtcdLeader, etcdLeader, moveEtcdLeader } from "./support/etcd_members.ts";
import { REPLICAS, replicaStatus, stableLeader } from "./support/executors.ts";
import { type Traffic, waitForCalls } from "./support/history.ts";
import { eventually } from "./support/wait.ts";

/** A scenario on the etcd topology: members and replicas supervised and restarted, as `deno task dev` runs them. */
function onEtcd(fault: Scenario["fault"]): Scenario {
  return {
    cluster: { store: "etcd", restart: true },
    // Many calls in flight at each strike, so that a kill meets writes under way: with 4 clients thinking 150 ms, no
    // store write ever ended "outcome unknown" in five runs, and an Enqueue that forgot its check went unnoticed.
    traffic: { clients: 8, thinkMs: 50 },
    flowsUnderFault: true,
    fault,
  };
}

/** Waits until the supervisor has restarted `name` (after `restarts` restarts before) and it is healthy again. */
async function restarted(cluster: Cluster, name: string, restarts: number): Promise<void> {
  await eventually(() => cluster.supervisor.restarts(name) > restarts, {
    message: `the supervisor to restart ${name}`,
    timeoutMs: 15_000,
  });
  await cluster.supervisor.waitHealthy({ names: [name], timeoutMs: 30_000 });
}

/** Waits until `count` more checkouts than now were approved. */
async function approvals(traffic: Traffic, count: number): Promise<void> {
  const target = traffic.approved + count;
  await eventually(() => traffic.approved >= target, {
    message: `${count} more approved checkouts (${traffic.approved} of ${target})`,
    timeoutMs: 30_000,
  });
}

/**
 * SIGKILLs the etcd leader; waits until the others elect one in a higher
 * term and checkouts go on, then until the supervisor has brought the member
 * back and it follows.
 */
async function killEtcdLeader(cluster: Cluster, traffic: Traffic, strike: Strike): Promise<void> {
  const before = await etcdLeader(cluster, { answering: 3 });
  const restarts = cluster.supervisor.restarts(before.name);
  const killed = performance.now();
  cluster.supervisor.kill(before.name, "SIGKILL");
  strike();
  // The killed member may win the lead back once restarted, but only in a higher term still.
  const after = await etcdLeader(cluster, { aboveTerm: before.term, timeoutMs: 10_000 });
  console.log(`    ${before.name} SIGKILLed leading in term ${before.term}: ${elected(after, killed)}`);
  await approvals(traffic, 3);
  await restarted(cluster, before.name, restarts);
  await etcdLeader(cluster, { aboveTerm: before.term, answering: 3 });
}

/** How soon after `since` (a `performance.now()`) the members were seen agreeing on `leader`, for the output. */
function elected(leader: EtcdLeader, since: number): string {
  return `${leader.name} seen leading in term ${leader.term} ${Math.round(performance.now() - since)} ms later`;
}

/** Waits until every executor replica answers again and they agree on one leader. */
async function executorsBack(cluster: Cluster): Promise<void> {
  await eventually(async () => (await Promise.all(REPLICAS.map((id) => replicaStatus(cluster, id)))).every(Boolean), {
    message: "every executor replica to be back",
    timeoutMs: 30_000,
  });
  await stableLeader(cluster, { timeoutMs: 20_000 });
}

Deno.test("etcd chaos: the etcd leader SIGKILLed mid-flow, twice, the supervisor restarting it", async () => {
  await chaos(onEtcd(async (cluster, traffic, strike) => {
    for (let round = 0; round < 2; round++) {
      await killEtcdLeader(cluster, traffic, strike);
      await waitForCalls(traffic, 3);
    }
  }));
});

Deno.test("etcd chaos: the etcd leader paused (SIGSTOP) past the election timeout, then resumed", async () => {
  await chaos(onEtcd(async (cluster, traffic, strike) => {
    // The nastiest case: the leader is also the member every service's etcd client calls first (the first endpoint),
    // and a paused member accepts connections but answers nothing, so each client finds out only by its deadlines.
    const [first] = cluster.etcdMembers;
    assert.equal(cluster.url(first), cluster.etcdEndpoints[0]);
    const before = await moveEtcdLeader(cluster, first);
    const pid = cluster.supervisor.pid(before.name)!;
    const paused = performance.now();
    Deno.kill(pid, "SIGSTOP");
    strike();
    try {
      // Past the election timeout: the other two elect a leader in a higher term while it is stopped.
      const after = await etcdLeader(cluster, { aboveTerm: before.term, timeoutMs: 10_000 });
      console.log(`    ${before.name} paused leading in term ${before.term}: ${elected(after, paused)}`);
      assert.notEqual(after.name, before.name, "a paused member cannot lead");
      await waitForCalls(traffic, 4);
    } finally {
      Deno.kill(pid, "SIGCONT");
    }
    // Resumed, it hears the higher term, steps down and follows.
    const after = await etcdLeader(cluster, { aboveTerm: before.term, answering: 3 });
    assert.equal(cluster.supervisor.pid(before.name), pid, "the paused member was resumed, not restarted");
    assert.ok(after.term > before.term);
    await waitForCalls(traffic, 3);
  }));
});

Deno.test("etcd chaos: a queue replica SIGKILLed mid-flow, then the other; the clients fail over", async () => {
  await chaos(onEtcd(async (cluster, traffic, strike) => {
    // Each client calls the replica that last answered it (replica 1 first, unless it was not up yet when the client
    // began): replica 1, then replica 2, so that every client meets a kill of the replica it calls.
    const restarts = cluster.supervisor.restarts("order_queue_1");
    cluster.supervisor.kill("order_queue_1", "SIGKILL");
    strike();
    await approvals(traffic, 3);
    await restarted(cluster, "order_queue_1", restarts);
    await waitForCalls(traffic, 3);
    // Then replica 2, held down past the supervisor's restart, so that orders can only flow through replica 1.
    const queue = cluster.queue();
    const executed = (await queue.GetQueueStatus({})).executed;
    cluster.supervisor.kill("order_queue_2", "SIGKILL");
    strike();
    await cluster.supervisor.stop("order_queue_2");
    try {
      await approvals(traffic, 4);
      await eventually(async () => (await queue.GetQueueStatus({})).executed >= executed + 4, {
        message: "orders executed through replica 1 alone",
        timeoutMs: 20_000,
      });
    } finally {
      await cluster.restart("order_queue_2");
    }
    await waitForCalls(traffic, 3);
  }));
});

Deno.test("etcd chaos: the executor leader SIGKILLed while an etcd election is under way", async () => {
  await chaos(onEtcd(async (cluster, traffic, strike) => {
    const store = await etcdLeader(cluster, { answering: 3 });
    const executor = await stableLeader(cluster);
    const executorName = `order_executor_${executor.id}`;
    const restarts = cluster.supervisor.restarts(store.name);
    // The executor leader dies while the members are still electing: the next leader's first calls to the queue (its
    // epoch, its dequeues) meet a store without a leader.
    const killed = performance.now();
    cluster.supervisor.kill(store.name, "SIGKILL");
    strike();
    cluster.supervisor.kill(executorName, "SIGKILL");
    const after = await etcdLeader(cluster, { aboveTerm: store.term, timeoutMs: 10_000 });
    console.log(`    ${store.name} SIGKILLed leading in term ${store.term}: ${elected(after, killed)}`);
    const next = await stableLeader(cluster, { aboveEpoch: executor.epoch, timeoutMs: 20_000 });
    console.log(
      `    ${executorName} SIGKILLed leading in epoch ${executor.epoch}: executor ${next.id} seen leading in epoch ` +
        `${next.epoch} ${Math.round(performance.now() - killed)} ms later`,
    );
    await waitForCalls(traffic, 4);
    await restarted(cluster, store.name, restarts);
    await etcdLeader(cluster, { aboveTerm: store.term, answering: 3 });
    await executorsBack(cluster);
    await waitForCalls(traffic, 3);
  }));
});
