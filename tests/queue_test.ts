/**
 * The order queue as a process of its own: priority order, durability across
 * a SIGKILL, leases that expire, dead letters, fencing by epoch, and
 * execution as one atomic commit.
 */
import assert from "node:assert/strict";
import { isFenced } from "@bookstore/lib/contracts";
import { startCluster } from "./support/cluster.ts";
import { eventually } from "./support/wait.ts";

Deno.test("order queue", async (t) => {
  await using cluster = await startCluster({
    only: ["order_queue"],
    env: { QUEUE_LEASE_MS: "600", QUEUE_MAX_ATTEMPTS: "2" },
  });
  let queue = cluster.queue();
  const book = (bookId: string, quantity: number) => ({ bookId, quantity });

  async function drain(executorId: number, epoch: number): Promise<string[]> {
    const taken: string[] = [];
    for (;;) {
      const { leases: [lease] } = await queue.DequeueBatch({ executorId, epoch, maxLeases: 1 });
      if (!lease) return taken;
      taken.push(lease.orderId);
      await queue.AckBatch({ executorId, epoch, acks: [{ orderId: lease.orderId, leaseId: lease.leaseId }] });
    }
  }

  await t.step("orders come out biggest first, ties by arrival", async () => {
    const sizes: [string, number][] = [["p1", 1], ["p2", 5], ["p3", 3], ["p4", 5], ["p5", 1], ["p6", 2]];
    for (const [orderId, quantity] of sizes) {
      await queue.Enqueue({
        orderId,
        items: [book("dune", 1), book("foundation", quantity - 1)].filter((i) => i.quantity > 0),
      });
    }
    const { epoch } = await queue.AcquireEpoch({ executorId: 1 });
    assert.deepEqual(await drain(1, epoch), ["p2", "p4", "p3", "p6", "p1", "p5"]);
  });

  await t.step("a SIGKILLed queue keeps every queued order, in order", async () => {
    const orders = ["k1", "k2", "k3", "k4", "k5"];
    const quantities = [2, 4, 2, 1, 4];
    for (const [i, orderId] of orders.entries()) {
      await queue.Enqueue({ orderId, items: [book("the-hobbit", quantities[i])] });
    }
    await cluster.supervisor.stop("order_queue", "SIGKILL");
    await cluster.restart("order_queue");
    queue = cluster.queue();
    const status = await queue.GetQueueStatus({});
    assert.equal(status.depth, 5);
    const { epoch } = await queue.AcquireEpoch({ executorId: 1 });
    assert.ok(status.epoch >= 1, "the fence survives the restart");
    assert.equal(epoch, status.epoch + 1, "a new epoch is above every one issued before the crash");
    assert.deepEqual(await drain(1, epoch), ["k2", "k5", "k1", "k3", "k4"]);
  });

  await t.step("Enqueue is idempotent and validates its input", async () => {
    assert.equal((await queue.Enqueue({ orderId: "i1", items: [book("dune", 1)] })).created, true);
    assert.equal((await queue.Enqueue({ orderId: "i1", items: [book("dune", 1)] })).created, false);
    await assert.rejects(() => queue.Enqueue({ orderId: "i2", items: [book("no-such-book", 1)] }), /unknown book/);
    await assert.rejects(() => queue.Enqueue({ orderId: "i3", items: [] }), /at least one item/);
    const { epoch } = await queue.AcquireEpoch({ executorId: 1 });
    assert.deepEqual(await drain(1, epoch), ["i1"]);
  });

  await t.step("an expired lease is handed out again; too many attempts dead-letter the order", async () => {
    await queue.Enqueue({ orderId: "slow-1", items: [book("dune", 1)] });
    const { epoch } = await queue.AcquireEpoch({ executorId: 2 });
    const [first] = (await queue.DequeueBatch({ executorId: 2, epoch, maxLeases: 1 })).leases;
    assert.equal(first.attempt, 1);
    const second = await eventually(
      async () => (await queue.DequeueBatch({ executorId: 2, epoch, maxLeases: 1 })).leases[0],
      {
        message: "the lease to expire and the order to come back",
      },
    );
    assert.equal(second.orderId, "slow-1");
    assert.equal(second.attempt, 2);
    const [late] =
      (await queue.AckBatch({ executorId: 2, epoch, acks: [{ orderId: "slow-1", leaseId: first.leaseId }] }))
        .results;
    assert.equal(late.state, "lost");
    assert.match(late.reason, /no longer held/);
    await eventually(async () => (await queue.GetQueueStatus({})).deadLetters === 1, { message: "a dead letter" });
    const { deadLetters } = await queue.ListDeadLetters({});
    assert.equal(deadLetters[0].orderId, "slow-1");
    assert.equal(deadLetters[0].attempts, 2);
    assert.equal((await queue.GetOrderState({ orderId: "slow-1" })).state, "dead");
    assert.equal((await queue.RequeueDeadLetter({ orderId: "slow-1" })).requeued, true);
    assert.deepEqual(await drain(2, epoch), ["slow-1"]);
  });

  await t.step("a deposed epoch can neither take nor finish an order", async () => {
    await queue.Enqueue({ orderId: "f1", items: [book("dune", 1)] });
    await queue.Enqueue({ orderId: "f2", items: [book("dune", 1)] });
    const old = await queue.AcquireEpoch({ executorId: 3 });
    const [held] = (await queue.DequeueBatch({ executorId: 3, epoch: old.epoch, maxLeases: 1 })).leases;
    const fencedBefore = (await queue.GetQueueStatus({})).fenced;
    const current = await queue.AcquireEpoch({ executorId: 4 });
    assert.ok(current.epoch > old.epoch);
    await assert.rejects(() => queue.DequeueBatch({ executorId: 3, epoch: old.epoch, maxLeases: 1 }), isFenced);
    await assert.rejects(
      () =>
        queue.AckBatch({ executorId: 3, epoch: old.epoch, acks: [{ orderId: held.orderId, leaseId: held.leaseId }] }),
      isFenced,
    );
    await assert.rejects(
      () => queue.DequeueBatch({ executorId: 3, epoch: current.epoch, maxLeases: 1 }),
      isFenced,
      "wrong leader for the epoch",
    );
    const status = await queue.GetQueueStatus({});
    assert.equal(status.fenced, fencedBefore + 3);
    assert.equal(status.leaderId, 4);
    // The deposed leader's lease is released at once, not after it expires.
    assert.deepEqual((await drain(4, current.epoch)).sort(), ["f1", "f2"]);
    assert.equal((await queue.GetOrderState({ orderId: held.orderId })).executorId, 4);
  });

  await t.step("an order of many different books executes; more than 50 are refused", async () => {
    const catalog = (await queue.ListStock({})).stock.filter((s) => s.stock > 10).slice(0, 51);
    const items = catalog.slice(0, 12).map((s) => book(s.bookId, 1));
    await queue.Enqueue({ orderId: "wide", items });
    // A higher id than the live holder's (4): the queue's leader lease refuses lower ones for a while.
    const { epoch } = await queue.AcquireEpoch({ executorId: 5 });
    assert.deepEqual(await drain(5, epoch), ["wide"]);
    assert.equal((await queue.GetOrderState({ orderId: "wide" })).state, "executed");
    await assert.rejects(
      () => queue.Enqueue({ orderId: "too-wide", items: catalog.map((s) => book(s.bookId, 1)) }),
      /at most 50 different books/,
    );
  });

  await t.step(
    "executing is one atomic commit: stock never goes below zero, a repeated ack has no second effect",
    async () => {
      const stockOf = async (bookId: string) =>
        (await queue.ListStock({})).stock.find((s) => s.bookId === bookId)!.stock;
      const bookId = "ulysses";
      const initial = await stockOf(bookId);
      await queue.Enqueue({ orderId: "s1", items: [book(bookId, initial - 1)] });
      await queue.Enqueue({ orderId: "s2", items: [book(bookId, 2)] });
      const { epoch } = await queue.AcquireEpoch({ executorId: 6 });
      const [first] = (await queue.DequeueBatch({ executorId: 6, epoch, maxLeases: 1 })).leases;
      const ack = { executorId: 6, epoch, acks: [{ orderId: first.orderId, leaseId: first.leaseId }] };
      const [a, b] = await Promise.all([queue.AckBatch(ack), queue.AckBatch(ack)]);
      assert.deepEqual(a, b);
      assert.equal(a.results[0].state, "executed");
      assert.equal(await stockOf(bookId), 1);
      const [second] = (await queue.DequeueBatch({ executorId: 6, epoch, maxLeases: 1 })).leases;
      const acks = [{ orderId: second.orderId, leaseId: second.leaseId }];
      const [failed] = (await queue.AckBatch({ executorId: 6, epoch, acks })).results;
      assert.equal(failed.state, "failed");
      assert.match(failed.reason, /out of stock: ulysses \(wanted 2, 1 left\)/);
      assert.equal(await stockOf(bookId), 1, "a failed order touches no stock");
      assert.equal((await queue.GetOrderState({ orderId: "s2" })).state, "failed");
    },
  );
});
