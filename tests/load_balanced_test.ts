/**
 * `BOOKSTORE_REPLICAS=2` as `deno task dev` runs it: HAProxy on the public
 * ports in front of two web apps and two orchestrators. Pages, checkouts and
 * an order's live updates (server-sent events) all go through it, spread
 * over both instances; the per-client checkout limit still counts each
 * client apart behind it; with an orchestrator SIGKILLed, checkouts through
 * the load balancer keep being approved.
 */
import assert from "node:assert/strict";
import { haproxyVersion } from "@bookstore/dev/load_balancer";
import { startCluster } from "./support/cluster.ts";
import { validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

const missing = await haproxyVersion().then(() => undefined, (error: Error) => error.message);
if (missing) console.log(`tests/load_balanced_test.ts skipped: ${missing}`);

/** The pid of the instance that answered `/healthz` through the load balancer on `port`. */
async function answeredBy(port: number): Promise<number> {
  const response = await fetch(`http://127.0.0.1:${port}/healthz`);
  assert.equal(response.status, 200);
  return (await response.json()).pid;
}

Deno.test({
  name: "behind HAProxy: two web apps and two orchestrators serve the shop, checkouts and live updates",
  ignore: missing !== undefined,
}, async (t) => {
  await using cluster = await startCluster({
    store: "etcd",
    replicas: 2,
    web: true,
    // On, so that the test can see the load balancer's clients counted apart.
    env: { CHECKOUT_RATE_LIMIT: "2" },
  });
  const { web, orchestrator } = cluster.ports;
  const checkout = async (forwardedFor?: string) => {
    const response = await fetch(`http://127.0.0.1:${orchestrator}/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json", ...forwardedFor && { "x-forwarded-for": forwardedFor } },
      body: JSON.stringify(validOrder()),
    });
    return { status: response.status, body: await response.json() };
  };

  await t.step("both instances of each answer on the public ports, in turn", async () => {
    for (const port of [web, orchestrator]) {
      const pids = new Set<number>();
      await eventually(async () => {
        pids.add(await answeredBy(port));
        return pids.size === 2;
      }, { timeoutMs: 15_000, message: `both instances behind port ${port}` });
    }
    const page = await fetch(`http://127.0.0.1:${web}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<html/);
  });

  let orderId = "";
  await t.step("a checkout through the load balancer is approved, and its live updates stream through it", async () => {
    const placed = await checkout();
    assert.equal(placed.body.status, "Order Approved", JSON.stringify(placed.body));
    orderId = placed.body.orderId;
    const stream = await fetch(`http://127.0.0.1:${web}/orders/${orderId}/events`);
    assert.equal(stream.status, 200);
    assert.equal(stream.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const reader = stream.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    try {
      await eventually(async () => {
        const { value, done } = await reader.read();
        if (done) throw new Error(`the stream ended: ${text}`);
        text += value;
        return /"executed"/.test(text);
      }, { timeoutMs: 30_000, intervalMs: 1, message: "the order's executed status through the load balancer" });
    } finally {
      await reader.cancel();
    }
  });

  await t.step(
    "a checkout's retries under one Idempotency-Key reach the orchestrator of the first attempt",
    async () => {
      // HAProxy's own count of the sessions each orchestrator instance served (its /stats;csv, `stot`).
      const served = async () => {
        const csv = await (await fetch(`http://127.0.0.1:${cluster.ports.loadBalancer}/stats;csv`)).text();
        const [header, ...rows] = csv.replace(/^# /, "").trim().split("\n").map((line) => line.split(","));
        const [proxy, server, stot] = ["pxname", "svname", "stot"].map((name) => header.indexOf(name));
        return Object.fromEntries(
          rows.filter((row) => row[proxy] === "orchestrator" && row[server].startsWith("orchestrator_"))
            .map((row) => [row[server], Number(row[stot])]),
        );
      };
      const key = crypto.randomUUID();
      const order = validOrder();
      const before = await served();
      const answers = new Set<string>();
      for (let i = 0; i < 4; i++) {
        const response = await fetch(`http://127.0.0.1:${orchestrator}/checkout`, {
          method: "POST",
          headers: { "content-type": "application/json", "idempotency-key": key },
          body: JSON.stringify(order),
        });
        const body = await response.json();
        // Answered as the first attempt, or refused by the limit this cluster runs with: either way, by one instance.
        if (response.status !== 429) answers.add(`${response.status} ${body.status} ${body.orderId}`);
      }
      assert.equal(answers.size, 1, `every attempt answered as the first: ${[...answers]}`);
      assert.match([...answers][0], /^200 Order Approved /);
      const after = await served();
      const took = Object.keys(after).filter((name) => after[name] > (before[name] ?? 0));
      assert.equal(took.length, 1, `one orchestrator served all four: ${JSON.stringify({ before, after })}`);
    },
  );

  await t.step("behind it, the checkout limit counts each client the load balancer forwards apart", async () => {
    // The load balancer appends the peer it sees (the test, 127.0.0.1) to what the client wrote: every request
    // below is one client, whatever it claims. Each orchestrator keeps its own count, two a second: of six
    // checkouts at once, spread over the two, at most four are let through.
    // Sent at once, so that the test's speed on a loaded machine does not refill the limit meanwhile.
    const statuses = await Promise.all(
      Array.from({ length: 6 }, async (_, i) => (await checkout(`127.0.0.${50 + i}`)).status),
    );
    assert.ok(statuses.includes(429), `a client that writes X-Forwarded-For itself is still itself: ${statuses}`);
    // Straight to an instance, from 127.0.0.1 (not the load balancer's source address), the header is not believed.
    const direct = await Promise.all(Array.from({ length: 3 }, async (_, i) => {
      const response = await fetch(`${cluster.url("orchestrator_2")}/checkout`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": `127.0.0.${60 + i}` },
        body: JSON.stringify(validOrder()),
      });
      await response.body?.cancel();
      return response.status;
    }));
    assert.ok(direct.includes(429), `a local client is not trusted as the load balancer: ${direct}`);
  });

  await t.step("an orchestrator SIGKILLed: checkouts through the load balancer keep being approved", async () => {
    cluster.supervisor.kill("orchestrator_1");
    // In flight at the kill a checkout may fail (502); from then on the health check keeps the dead instance out.
    // Refusals by the limit (429, this test is one client) neither count nor break the run.
    let inARow = 0;
    await eventually(async () => {
      const placed = await checkout();
      if (placed.status === 429) return false;
      inARow = placed.body.status === "Order Approved" ? inARow + 1 : 0;
      return inARow === 4;
    }, { timeoutMs: 30_000, intervalMs: 100, message: "four checkouts in a row approved with orchestrator_1 dead" });
    const status = await fetch(`http://127.0.0.1:${orchestrator}/orders/${orderId}`);
    assert.equal(status.status, 200, "an order placed before is still found through the survivor");
    await status.body?.cancel();
  });
});
