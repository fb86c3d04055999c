/**
 * The replicated executors with real processes: Bully election, failover
 * when the leader is SIGKILLed while orders flow, the highest id taking the
 * lead back, a paused (SIGSTOP) leader fenced off when it resumes, and
 * exactly-once execution throughout.
 */
import assert from "node:assert/strict";
import { RpcError } from "@bookstore/lib/rpc";
import type { Cluster } from "./support/cluster.ts";
import { startCluster } from "./support/cluster.ts";
import { replicaStatus, stableLeader } from "./support/executors.ts";
import { validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

/** Places `count` orders, one book each, and answers their ids and the books they took. */
async function placeOrders(cluster: Cluster, count: number, books: string[]) {
  const placed: { orderId: string; bookId: string }[] = [];
  for (let i = 0; i < count; i++) {
    const bookId = books[i % books.length];
    const { body } = await cluster.post("/checkout", validOrder({ items: [{ bookId, quantity: 1 }] }));
    assert.equal(body.status, "Order Approved", JSON.stringify(body));
    placed.push({ orderId: body.orderId, bookId });
  }
  return placed;
}

/** Waits until every order is executed and checks each took effect exactly once. */
async function assertExecutedOnce(
  cluster: Cluster,
  options: { orders: { orderId: string; bookId: string }[]; stockBefore: Map<string, number>; executedBefore: number },
) {
  const queue = cluster.queue();
  await eventually(async () => {
    const states = await Promise.all(options.orders.map((o) => queue.GetOrderState({ orderId: o.orderId })));
    return states.every((s) => s.state === "executed");
  }, { timeoutMs: 30_000, message: "every accepted order to be executed" });
  const status = await queue.GetQueueStatus({});
  assert.equal(status.executed - options.executedBefore, options.orders.length, "one execution per order, no more");
  const { stock } = await queue.ListStock({});
  const after = new Map(stock.map((s) => [s.bookId, s.stock]));
  for (const [bookId, before] of options.stockBefore) {
    const taken = options.orders.filter((o) => o.bookId === bookId).length;
    assert.equal(after.get(bookId), before - taken, `stock of ${bookId} fell by exactly ${taken}`);
  }
}

async function stockOf(cluster: Cluster, books: string[]) {
  const { stock } = await cluster.queue().ListStock({});
  return new Map(stock.filter((s) => books.includes(s.bookId)).map((s) => [s.bookId, s.stock]));
}

const BOOKS = ["dune", "the-hobbit", "foundation", "neuromancer", "the-name-of-the-wind"];

Deno.test("executors", async (t) => {
  await using cluster = await startCluster({ env: { EXECUTOR_WORK_MS: "30" } });
  const queue = cluster.queue();

  await t.step("the highest replica leads, alone, with an epoch from the queue", async () => {
    // Read twice, the replicas and the queue can each be right at their moment and still differ (a starved
    // leader's lease may lapse in between): what must hold is that they come to agree on replica 4.
    await eventually(async () => {
      const leader = await stableLeader(cluster, { leader: 4 });
      const status = await queue.GetQueueStatus({});
      return status.leaderId === leader.id && status.epoch === leader.epoch;
    }, { message: "the replicas and the queue's fence to agree that replica 4 leads", timeoutMs: 30_000 });
  });

  await t.step("SIGKILL the leader while orders flow: a new leader, every order executed exactly once", async () => {
    const before = await stableLeader(cluster, { leader: 4 });
    const stockBefore = await stockOf(cluster, BOOKS);
    const executedBefore = (await queue.GetQueueStatus({})).executed;
    const flowing = placeOrders(cluster, 24, BOOKS);
    await eventually(async () => (await queue.GetQueueStatus({})).executed > executedBefore, {
      message: "orders flowing",
    });
    cluster.supervisor.kill("order_executor_4", "SIGKILL");
    const after = await stableLeader(cluster, { among: [1, 2, 3], aboveEpoch: before.epoch, leader: 3 });
    assert.ok(after.epoch > before.epoch);
    const orders = await flowing;
    await assertExecutedOnce(cluster, { orders, stockBefore, executedBefore });
  });

  await t.step("the killed replica restarts and takes the lead back with a higher epoch", async () => {
    const current = await stableLeader(cluster, { among: [1, 2, 3] });
    await cluster.restart("order_executor_4");
    const back = await stableLeader(cluster, { leader: 4, aboveEpoch: current.epoch });
    assert.ok(back.epoch > current.epoch);
    const stockBefore = await stockOf(cluster, BOOKS);
    const executedBefore = (await queue.GetQueueStatus({})).executed;
    const orders = await placeOrders(cluster, 5, BOOKS);
    await assertExecutedOnce(cluster, { orders, stockBefore, executedBefore });
  });

  await t.step("concurrent orders for a book with too little stock: exactly the stock executes", async () => {
    const bookId = "paradise-lost";
    const [initial] = [...(await stockOf(cluster, [bookId])).values()];
    const attempts = initial + 3;
    const placed = await Promise.all(
      Array.from(
        { length: attempts },
        () => cluster.post("/checkout", validOrder({ items: [{ bookId, quantity: 1 }] })).then((r) => r.body),
      ),
    );
    assert.ok(placed.every((p) => p.status === "Order Approved"));
    const final = await eventually(async () => {
      const states = await Promise.all(placed.map((p) => queue.GetOrderState({ orderId: p.orderId })));
      return states.every((s) => s.state === "executed" || s.state === "failed") && states;
    }, { timeoutMs: 30_000, message: "every order to finish" });
    assert.equal(final.filter((s) => s.state === "executed").length, initial);
    const failed = final.filter((s) => s.state === "failed");
    assert.equal(failed.length, 3);
    assert.ok(failed.every((s) => /out of stock/.test(s.reason)));
    assert.equal((await stockOf(cluster, [bookId])).get(bookId), 0);
    const view = await cluster.get(`/orders/${placed[0].orderId}`);
    assert.ok(["executed", "failed"].includes(view.body.status));
  });

  await t.step("the cluster view shows every replica, the leader, the epoch and the queue", async () => {
    const leader = await stableLeader(cluster);
    const { status, body } = await cluster.get("/cluster");
    assert.equal(status, 200);
    assert.equal(body.executors.length, 4);
    assert.ok(body.executors.every((e: { reachable: boolean }) => e.reachable));
    assert.equal(body.executors.filter((e: { role: string }) => e.role === "leader").length, 1);
    assert.equal(body.queue.reachable, true);
    assert.equal(body.queue.epoch, leader.epoch);
    await cluster.supervisor.stop("order_executor_1", "SIGKILL");
    const { body: degraded } = await cluster.get("/cluster");
    const one = degraded.executors.find((e: { id: number }) => e.id === 1);
    assert.equal(one.reachable, false);
    assert.ok(one.error);
  });
});

Deno.test("a paused leader is fenced off when it resumes; nothing runs twice or is lost", async () => {
  // Each order takes the leader 1.5 s of work between dequeue and ack, so a
  // SIGSTOP catches it holding a lease that it will try to ack when it resumes.
  await using cluster = await startCluster({ env: { EXECUTOR_WORK_MS: "1500" } });
  const queue = cluster.queue();
  const leader = await stableLeader(cluster, { leader: 4 });
  const stockBefore = await stockOf(cluster, BOOKS);
  const orders = await placeOrders(cluster, 3, BOOKS);
  await eventually(async () => (await queue.GetQueueStatus({})).leased > 0, { message: "the leader to hold a lease" });
  let successorEpoch = 0;
  Deno.kill(leader.pid, "SIGSTOP");
  try {
    successorEpoch = (await stableLeader(cluster, { among: [1, 2, 3], aboveEpoch: leader.epoch, leader: 3 })).epoch;
    // What the paused leader will try next is refused by the fence.
    await assert.rejects(
      () => queue.DequeueBatch({ executorId: 4, epoch: leader.epoch, maxLeases: 1 }),
      (error) => error instanceof RpcError && error.code === "failed_precondition" && /stale/.test(error.message),
    );
  } finally {
    Deno.kill(leader.pid, "SIGCONT");
  }
  const resumed = await eventually(async () => {
    const status = await replicaStatus(cluster, 4);
    return status && status.fenced >= 1 && status.epoch > leader.epoch && status;
  }, { message: "the resumed replica to see its ack refused and learn the new epoch" });
  // It knows the successor's epoch (or a newer one) and leads, if at all, only an epoch newer than the successor's.
  assert.ok(
    resumed.epoch >= successorEpoch,
    `it learned epoch ${resumed.epoch}, not the successor's ${successorEpoch}`,
  );
  assert.ok(
    resumed.role !== "leader" || resumed.epoch > successorEpoch,
    `it leads epoch ${resumed.epoch}, which is not newer than the successor's ${successorEpoch}`,
  );
  // Its output reaches the supervisor through a pipe, a moment after the status changes.
  await eventually(() => {
    const lines = cluster.supervisor.lines("order_executor_4");
    return lines.some((line) => line.includes("ack refused by the fence")) &&
      lines.some((line) => line.includes("stepped down"));
  }, { message: "the paused leader to log its refused ack and its step-down" });
  await assertExecutedOnce(cluster, { orders, stockBefore, executedBefore: 0 });
  const settled = await stableLeader(cluster, { leader: 4, aboveEpoch: leader.epoch });
  assert.ok(settled.epoch > successorEpoch, "replica 4 leads again, under a newer epoch");
});
