import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import { rendezvous } from "@bookstore/lib/rendezvous";
import { eventually } from "../../tests/support/wait.ts";
import { type HealthProbe, ValidatorRouter } from "./routing.ts";

const log = createLogger("test", { write: () => {} });
const counts = { transaction_verification: 2, fraud_detection: 3, suggestions: 1 };

function router(options: { probe?: HealthProbe; now?: () => number } = {}) {
  return new ValidatorRouter({
    counts,
    log,
    probeAfterMs: 1000,
    probe: options.probe ?? (() => Promise.resolve(false)),
    now: options.now,
  });
}

Deno.test("an order's route is the rendezvous choice of each validator's instances, the same every time", () => {
  const routes = router();
  for (let i = 0; i < 50; i++) {
    const orderId = crypto.randomUUID();
    const route = routes.route(orderId);
    assert.deepEqual(route, {
      transactionVerification: rendezvous(orderId, [1, 2]),
      fraudDetection: rendezvous(orderId, [1, 2, 3]),
      suggestions: 1,
      orchestrator: 1,
    });
    assert.deepEqual(routes.route(orderId), route);
  }
});

Deno.test("an instance marked down gets no new order; only its orders move; all down routes over all", () => {
  const routes = router();
  const orders = Array.from({ length: 60 }, () => crypto.randomUUID());
  const before = new Map(orders.map((id) => [id, routes.route(id)]));
  routes.markDown({ validator: "fraud_detection", instance: 2 });
  for (const id of orders) {
    const route = routes.route(id);
    assert.notEqual(route.fraudDetection, 2);
    if (before.get(id)!.fraudDetection !== 2) {
      assert.deepEqual(route, before.get(id), "an order off the dead instance stays");
    }
    assert.equal(route.transactionVerification, before.get(id)!.transactionVerification);
  }
  routes.markDown({ validator: "fraud_detection", instance: 1 });
  routes.markDown({ validator: "fraud_detection", instance: 3 });
  assert.deepEqual(
    routes.healthy("fraud_detection"),
    [1, 2, 3],
    "with none believed up, every instance is a candidate",
  );
  routes.markDown({ validator: "suggestions", instance: 1 });
  assert.equal(
    routes.isDown({ validator: "suggestions", instance: 1 }),
    false,
    "a lone instance is never routed around",
  );
});

Deno.test("a down instance is probed once its time has come, and taken back when it answers", async () => {
  let now = 0;
  let serving = false;
  const probes: string[] = [];
  const routes = router({
    now: () => now,
    probe: ({ validator, instance }) => {
      probes.push(`${validator}/${instance}`);
      return Promise.resolve(serving);
    },
  });
  const target = { validator: "transaction_verification" as const, instance: 1 };
  routes.markDown(target);
  routes.route("o1");
  assert.deepEqual(probes, [], "not probed before its interval");
  now = 1000;
  routes.route("o2");
  routes.route("o3");
  assert.deepEqual(probes, ["transaction_verification/1"], "probed once per interval");
  await eventually(() => probes.length === 1, { timeoutMs: 1000, message: "probe" });
  await Promise.resolve();
  assert.equal(routes.isDown(target), true, "a probe that fails leaves it down");
  serving = true;
  now = 1500;
  routes.route("o4");
  assert.equal(probes.length, 1, "the next probe waits out the interval");
  now = 2000;
  routes.route("o5");
  await eventually(() => !routes.isDown(target), { timeoutMs: 1000, message: "taken back after a probe answers" });
  assert.deepEqual(routes.healthy("transaction_verification"), [1, 2]);
});
