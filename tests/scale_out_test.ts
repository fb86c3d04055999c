/**
 * `BOOKSTORE_REPLICAS=2` on etcd as real processes: two instances of each
 * validator and of the orchestrator (no load balancer: the test calls
 * orchestrator instance 1 directly, and instance 2 once). Orders are approved
 * and executed, their validation spread over both instances of every
 * validator; with one fraud_detection instance SIGKILLed, checkouts still
 * succeed (after at most one retry under the same Idempotency-Key) and the
 * dead instance gets no new order; each order's velocity is counted once.
 */
import assert from "node:assert/strict";
import { validOrder } from "./support/orders.ts";
import { startCluster } from "./support/cluster.ts";
import { eventually } from "./support/wait.ts";
import { rendezvous } from "@bookstore/lib/rendezvous";

const TIMEOUT_MS = 60_000;

Deno.test("two instances of every stateless service: orders routed, executed, and routed around a killed validator instance", async (t) => {
  await using cluster = await startCluster({ store: "etcd", replicas: 2 });
  const names = cluster.supervisor.names;
  for (const name of ["fraud_detection_1", "fraud_detection_2", "suggestions_2", "orchestrator_2"]) {
    assert.ok(names.includes(name), `${name} runs (${names.join(", ")})`);
  }
  // Each fraud_detection instance's "event" log lines name the orders it ran.
  const ranAt = (instance: string, orderId: string) =>
    cluster.supervisor.lines(instance).some((line) => line.includes(orderId) && line.includes('"event":"d"'));

  const placed: { orderId: string; contact: string }[] = [];
  let contacts = 8;
  await t.step("orders are approved at either orchestrator, spread over both instances, and executed", async () => {
    for (let i = 0; i < 8; i++) {
      const order = validOrder();
      const at = i === 7 ? cluster.url("orchestrator_2") : cluster.orchestrator;
      const response = await fetch(`${at}/checkout`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(order),
      });
      const body = await response.json();
      assert.equal(body.status, "Order Approved", JSON.stringify(body));
      placed.push({ orderId: body.orderId, contact: order.user.contact });
    }
    // A process's output reaches the supervisor a little after the checkout's answer: wait for each order's line.
    const where: string[][] = [];
    for (const { orderId } of placed) {
      const instances = await eventually(() => {
        const found = ["fraud_detection_1", "fraud_detection_2"].filter((name) => ranAt(name, orderId));
        return found.length > 0 && found;
      }, { timeoutMs: TIMEOUT_MS, message: `the log line of event d of order ${orderId}` });
      assert.equal(instances.length, 1, `order ${orderId} ran event d on exactly one instance`);
      where.push(instances);
    }
    assert.equal(new Set(where.flat()).size, 2, "eight orders use both fraud_detection instances");
    for (const { orderId } of placed) {
      await eventually(async () => (await cluster.get(`/orders/${orderId}`)).body.status === "executed", {
        timeoutMs: TIMEOUT_MS,
        message: `order ${orderId} to be executed`,
      });
    }
  });

  await t.step("with fraud_detection_2 SIGKILLed, every checkout succeeds after at most one retry", async () => {
    cluster.supervisor.kill("fraud_detection_2", "SIGKILL");
    await eventually(async () => {
      try {
        await fetch(`${cluster.url("fraud_detection_2")}/healthz`);
        return false;
      } catch {
        return true;
      }
    }, { timeoutMs: TIMEOUT_MS, message: "fraud_detection_2 to be gone" });
    let retries = 0;
    const after: string[] = [];
    // Until two orders whose id hashes to the dead instance have gone through (each is one in two).
    while (after.filter((id) => rendezvous(id, [1, 2]) === 2).length < 2) {
      assert.ok(after.length < 40, "forty order ids, and not two of them hashed to instance 2");
      const order = validOrder();
      const key = `scale-${crypto.randomUUID()}`;
      let answer = await cluster.post("/checkout", order, { "Idempotency-Key": key });
      if (answer.status !== 200) {
        assert.equal(answer.body.error?.code, "unavailable", JSON.stringify(answer.body));
        retries += 1;
        answer = await cluster.post("/checkout", order, { "Idempotency-Key": key });
      }
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.equal(answer.body.status, "Order Approved", JSON.stringify(answer.body));
      after.push(answer.body.orderId);
    }
    for (const orderId of after) {
      await eventually(() => ranAt("fraud_detection_1", orderId), {
        timeoutMs: TIMEOUT_MS,
        message: `order ${orderId} to have run on the live instance`,
      });
    }
    console.log(`    ${after.length} checkouts with fraud_detection_2 dead: ${retries} needed a retry`);
    contacts += after.length;
  });

  await t.step("each order's contact was counted once, whichever instances saw it", async () => {
    const kv = await cluster.store("fraud_detection");
    let counted = 0;
    try {
      for await (const entry of kv.list<Deno.KvU64>({ prefix: ["velocity", "contact"] })) {
        counted += Number(entry.value.value);
      }
    } finally {
      kv.close();
    }
    assert.equal(counted, contacts, `${contacts} orders, each with its own contact, each counted once`);
  });
});
