/** Retention: a finished order is kept for the retention period, then deleted by the store; open orders are kept. */
import assert from "node:assert/strict";
import { hasCode, type RpcError } from "@bookstore/lib/rpc";
import { limitedKv } from "@bookstore/lib/store/testing";
import { ackOne, fakeClock, storeOn } from "./testing.ts";

Deno.test("the commit that finishes an order gives its record the retention period; open and dead orders keep theirs", async () => {
  const clock = fakeClock();
  using kv = await Deno.openKv(":memory:");
  const limited = limitedKv(kv);
  const store = await storeOn(limited.kv, { retentionMs: 3_600_000, maxAttempts: 1, leaseMs: 1000, now: clock.read });
  await store.enqueue("executed", [{ bookId: "dune", quantity: 1 }]);
  await store.enqueue("failed", [{ bookId: "emma", quantity: 2 }]);
  await store.enqueue("dead", [{ bookId: "ulysses", quantity: 1 }]);
  await store.enqueue("waiting", [{ bookId: "ulysses", quantity: 1 }]);
  const caller = { executorId: 1, epoch: await store.acquireEpoch(1) };
  const leases = await store.dequeueBatch(caller, { max: 3 });
  for (const { orderId, leaseId } of leases.filter((lease) => lease.orderId !== "dead")) {
    await ackOne(store, { ...caller, orderId, leaseId });
  }
  clock.now += 1001;
  assert.equal(await store.reclaim(), 1, "the dead one's only delivery expired");
  const expiring = limited.commits.flatMap((commit) => commit.writes)
    .filter(({ key, expireIn }) => key[0] === "order" && expireIn !== undefined)
    .map(({ key, expireIn }) => [key[1], expireIn]);
  assert.deepEqual(expiring.sort(), [["executed", 3_600_000], ["failed", 3_600_000]]);
  assert.deepEqual(
    await Promise.all(["executed", "failed", "dead", "waiting"].map(async (id) => (await store.orderState(id)).state)),
    ["executed", "failed", "dead", "queued"],
  );
  // Once the period is over the store deletes the record (Deno KV and etcd do it on their own; here, by hand).
  await kv.delete(["order", "executed"]);
  await assert.rejects(
    () => store.orderState("executed"),
    (error: RpcError) =>
      hasCode(error, "not_found") && /finished longer ago than finished orders are kept/.test(error.message),
  );
});
