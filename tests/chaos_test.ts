/**
 * The chaos suite (Jepsen's method): each scenario runs a steady flow of
 * real checkouts from clients with and without Idempotency-Keys, retrying
 * as real clients do, injects one kind of fault while it runs, then reads
 * every order back and checks the whole history (`support/history.ts`).
 * Each scenario has its own cluster, bounded traffic and deadlines (the
 * runner is `support/chaos.ts`, shared with the scenarios on etcd).
 */
import assert from "node:assert/strict";
import { chaos, gone } from "./support/chaos.ts";
import { freePorts } from "./support/cluster.ts";
import { REPLICAS, replicaStatus, stableLeader } from "./support/executors.ts";
import { waitForCalls } from "./support/history.ts";
import { eventually } from "./support/wait.ts";

Deno.test("chaos: the leader SIGKILLed five times in a row, the supervisor restarting it", async () => {
  await chaos({
    cluster: { restart: true },
    fault: async (cluster, traffic) => {
      for (let round = 0; round < 5; round++) {
        const leader = await stableLeader(cluster, { timeoutMs: 20_000 });
        cluster.supervisor.kill(`order_executor_${leader.id}`, "SIGKILL");
        // Another replica takes over (or the restarted one wins it back) under a newer epoch; then the
        // flow goes on before the next kill.
        await stableLeader(cluster, { aboveEpoch: leader.epoch, timeoutMs: 20_000 });
        await waitForCalls(traffic, 2);
      }
      // The supervisor brought every killed replica back.
      await eventually(
        async () => (await Promise.all(REPLICAS.map((id) => replicaStatus(cluster, id)))).every(Boolean),
        {
          message: "every replica to be back",
          timeoutMs: 30_000,
        },
      );
    },
  });
});

Deno.test("chaos: the leader paused (SIGSTOP) past the election timeout, then resumed", async () => {
  await chaos({
    // Long enough work that the pause catches the leader holding a lease.
    env: { EXECUTOR_WORK_MS: "300" },
    fault: async (cluster) => {
      const leader = await stableLeader(cluster, { leader: 4 });
      await eventually(async () => (await cluster.queue().GetQueueStatus({})).leased > 0, {
        message: "the leader to hold a lease",
      });
      Deno.kill(leader.pid, "SIGSTOP");
      try {
        await stableLeader(cluster, { among: [1, 2, 3], aboveEpoch: leader.epoch, leader: 3 });
      } finally {
        Deno.kill(leader.pid, "SIGCONT");
      }
      await stableLeader(cluster, { leader: 4, aboveEpoch: leader.epoch });
    },
  });
});

Deno.test("chaos: the queue SIGKILLed and restarted mid-flow", async () => {
  await chaos({
    fault: async (cluster, traffic) => {
      for (let round = 0; round < 3; round++) {
        cluster.supervisor.kill("order_queue", "SIGKILL");
        await gone(cluster, "order_queue");
        // Checkouts go on meeting a dead queue for a moment.
        await waitForCalls(traffic, 2);
        await cluster.restart("order_queue");
        await waitForCalls(traffic, 3);
      }
    },
  });
});

Deno.test("chaos: the queue paused (SIGSTOP) past the RPC deadline, then resumed", async () => {
  await chaos({
    fault: async (cluster, traffic) => {
      // Enqueues sent while it is stopped time out at the orchestrator, and are read and committed when it resumes:
      // the orchestrator cannot know whether they were placed.
      const pid = cluster.supervisor.pid("order_queue")!;
      for (let round = 0; round < 2; round++) {
        Deno.kill(pid, "SIGSTOP");
        try {
          await waitForCalls(traffic, 3);
        } finally {
          Deno.kill(pid, "SIGCONT");
        }
        await waitForCalls(traffic, 3);
      }
    },
  });
});

Deno.test("chaos: clients giving up early and retrying with their keys while a validator is slow", async () => {
  await chaos({
    // Attempts give up after 400 ms while validation takes over 600 ms (each call within the RPC deadline):
    // a retry meets its first attempt still in flight.
    traffic: { clients: 3, keyed: () => true, attemptTimeoutMs: 400 },
    fault: async (cluster, traffic) => {
      await cluster.faults("suggestions", [{ method: "Advance", delayMs: 600 }]);
      try {
        await waitForCalls(traffic, 6);
      } finally {
        await cluster.faults("suggestions", []);
      }
    },
  });
});

Deno.test("chaos: a validator failing for a while; clients retrying with their keys get their orders", async () => {
  await chaos({
    traffic: { clients: 3, keyed: () => true },
    fault: async (cluster, traffic) => {
      // The last event fails at once, after fraud detection has seen the order: a keyed client retries, and every
      // retry is the same order, not a new one (its velocity must not count again).
      await cluster.faults("suggestions", [{ method: "Advance", failWith: "unavailable" }]);
      try {
        // More retries than fraud detection's velocity limit (5 orders a card) allows new orders.
        await eventually(
          () => traffic.history.some((call) => call.attempts.length >= 7 || call.verdict === "rejected"),
          {
            message: "a client to try its order seven times",
            timeoutMs: 20_000,
          },
        );
      } finally {
        await cluster.faults("suggestions", []);
      }
    },
  });
});

Deno.test("chaos: the orchestrator SIGKILLed mid-flow; clients retrying with their keys get one order each", async () => {
  const { calls } = await chaos({
    traffic: { clients: 4, keyed: () => true },
    fault: async (cluster) => {
      for (let round = 0; round < 2; round++) {
        // Kill it while checkouts are in flight (every client is always mid-call).
        cluster.supervisor.kill("orchestrator", "SIGKILL");
        await gone(cluster, "orchestrator");
        await cluster.restart("orchestrator");
      }
    },
  });
  assert.ok(calls.some((c) => c.attempts.length > 1), "some clients retried after the kill");
  assert.ok(calls.every((c) => c.verdict === "approved"), "every keyed client got its order in the end");
});

Deno.test("chaos: heartbeats cut between the leader and some followers (a partition), then healed", async () => {
  await chaos({
    env: { EXECUTOR_WORK_MS: "100" },
    fault: async (cluster, traffic) => {
      const queue = cluster.queue();
      const before = await stableLeader(cluster, { leader: 4 });
      const executedBefore = (await queue.GetQueueStatus({})).executed;
      // Replicas 1 and 2 no longer hear the leader's heartbeats, and the leader hears no Election: 1 and 2 call
      // elections that 3 answers, and 3 would win them, while 4, alive and reaching the queue, still leads.
      await cluster.faults("order_executor_1", [{ method: "Heartbeat", failWith: "unavailable" }]);
      await cluster.faults("order_executor_2", [{ method: "Heartbeat", failWith: "unavailable" }]);
      await cluster.faults("order_executor_4", [{ method: "Election", failWith: "unavailable" }]);
      let during;
      try {
        await waitForCalls(traffic, 15);
        during = await queue.GetQueueStatus({});
      } finally {
        for (const id of REPLICAS) await cluster.faults(`order_executor_${id}`, []);
      }
      // Orders went on being executed, and the lead did not ping-pong between 3 and 4 at every timeout: the
      // leader stayed alive and kept reaching the queue, so at most one handover is excusable.
      assert.ok(during.executed > executedBefore, "orders were executed during the partition");
      const epochs = during.epoch - before.epoch;
      assert.ok(
        epochs <= 1,
        `${epochs} epochs were issued during a partition of several heartbeat timeouts in which the leader stayed ` +
          "alive and reached the queue: the lead kept changing hands",
      );
      await stableLeader(cluster, { leader: 4, timeoutMs: 20_000 });
    },
  });
});

Deno.test("chaos: a replica cut off from the queue only; the others keep executing", async () => {
  await chaos({
    fault: async (cluster, traffic) => {
      const name = "order_executor_4";
      const spec = cluster.supervisor.spec(name);
      const queueUrl = spec.env.ORDER_QUEUE_URL;
      // Replica 4 (the highest, so the one that wins elections) comes back pointing at a port nobody
      // listens on: it still reaches every replica, but never the queue.
      const [closed] = freePorts(1);
      await cluster.supervisor.stop(name, "SIGKILL");
      spec.env.ORDER_QUEUE_URL = `http://127.0.0.1:${closed}`;
      try {
        await cluster.restart(name);
        const queue = cluster.queue();
        const executed = (await queue.GetQueueStatus({})).executed;
        await waitForCalls(traffic, 6);
        // Failover must not wait for replica 4: some other replica leads and executes.
        await eventually(async () => (await queue.GetQueueStatus({})).executed >= executed + 5, {
          timeoutMs: 15_000,
          intervalMs: 200,
        }).catch(async (error) => {
          const roles = (await Promise.all(REPLICAS.map((id) => replicaStatus(cluster, id))))
            .map((s, i) =>
              s ? `replica ${s.id}: ${s.role}, leader ${s.leaderId}, epoch ${s.epoch}` : `replica ${i + 1}: -`
            );
          const status = await queue.GetQueueStatus({});
          throw new Error(
            `orders were not executed while replica 4 could not reach the queue (${
              status.executed - executed
            } in 15 s; queue: depth ${status.depth}, epoch ${status.epoch} led by ${status.leaderId}; ${
              roles.join("; ")
            }): ${(error as Error).message}`,
          );
        });
      } finally {
        await cluster.supervisor.stop(name, "SIGKILL");
        spec.env.ORDER_QUEUE_URL = queueUrl;
        await cluster.restart(name);
      }
      await stableLeader(cluster, { leader: 4, timeoutMs: 20_000 });
    },
  });
});

Deno.test("chaos: a validator killed mid-flow, then one made slower than the deadline", async () => {
  await chaos({
    fault: async (cluster, traffic) => {
      cluster.supervisor.kill("fraud_detection", "SIGKILL");
      await gone(cluster, "fraud_detection");
      await waitForCalls(traffic, 3);
      await cluster.restart("fraud_detection");
      await waitForCalls(traffic, 3);
      // Every suggestions event now takes longer than the whole checkout may.
      await cluster.faults("suggestions", [{ method: "Advance", delayMs: 4000 }]);
      try {
        await waitForCalls(traffic, 4);
      } finally {
        await cluster.faults("suggestions", []);
      }
    },
  });
});
