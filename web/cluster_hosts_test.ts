/**
 * The cluster page's hosts (`deno task dev --hosts`), rendered in memory
 * around a fake shop: the hosts' table and, with faults on, the buttons that
 * cut the executor leader off and heal it, and the admin routes behind them;
 * on one machine, none of it.
 */
import assert from "node:assert/strict";
import { createLogger } from "@bookstore/lib/log";
import manifest from "../fresh.gen.ts";
import { fakeCluster, fakeShop } from "../utils/fake_shop.ts";
import type { ShopCluster } from "../utils/shop_api.ts";
import type { State } from "../utils/state.ts";
import { createWebApp } from "./server.ts";

const ORIGIN = "http://localhost:8000";

function shopApp(state: Partial<State>, cluster: ShopCluster) {
  const shop = fakeShop({ origin: ORIGIN, ...state }, { cluster });
  const app = createWebApp(manifest, {
    state: shop.state,
    bundle: { code: "", hash: "test" },
    log: createLogger("web-test", { level: "error" }),
  });
  return { app, ...shop };
}

const POST = {
  method: "POST",
  headers: { "content-type": "application/json", origin: ORIGIN },
  body: "{}",
};

async function page(state: Partial<State>, cluster: ShopCluster): Promise<string> {
  const response = await shopApp(state, cluster).app.request(`${ORIGIN}/cluster`);
  assert.equal(response.status, 200);
  return await response.text();
}

Deno.test("on hosts the page shows each host, its address and cut links, the leader's host marked", async () => {
  const cluster = fakeCluster({ hosts: true });
  cluster.hosts!.hosts[0].cutFrom = ["order_executor_4"];
  cluster.hosts!.hosts[3].cutFrom = ["order_executor_1"];
  const html = await page({ faults: false }, cluster);
  const rows = [...html.matchAll(/<tr data-host="([^"]+)" data-cut="(yes|no)"/g)].map((m) => `${m[1]} ${m[2]}`);
  assert.deepEqual(rows, [
    "order_executor_1 yes",
    "order_executor_2 no",
    "order_executor_3 no",
    "order_executor_4 yes",
    "order_queue no",
    "web no",
  ]);
  assert.match(html, /<code>127\.77\.1\.2<\/code>/);
  assert.match(html, /order_executor_4 \(leader\)/);
  assert.match(html, /data-cut-hosts="2"/);
  assert.doesNotMatch(html, /Cut the leader off/, "no buttons with faults off");
});

Deno.test("with faults on, the hosts have the cut and heal buttons; on one machine nothing of hosts shows", async () => {
  const onHosts = await page({ faults: true }, fakeCluster({ hosts: true }));
  assert.match(onHosts, /<button type="button">Cut the leader off<\/button>/);
  assert.match(onHosts, /<button type="button">\s*Cut the leader off from everything\s*<\/button>/);
  assert.match(onHosts, /<button type="button" disabled>Heal<\/button>/, "nothing to heal yet");
  const oneMachine = await page({ faults: true }, fakeCluster({ hosts: false }));
  assert.doesNotMatch(oneMachine, /data-host=|Cut the leader off|Hosts/);
});

Deno.test("the cut button cuts the leader's host as the queue names it; heal heals", async () => {
  const { app, actions } = shopApp({ faults: true }, fakeCluster({ hosts: true }));
  const cut = await app.request(`${ORIGIN}/admin/hosts/cut_leader`, POST);
  assert.equal(cut.status, 202);
  assert.deepEqual(await cut.json(), { action: "cut_leader", replica: 4, host: "order_executor_4" });
  const isolated = await app.request(`${ORIGIN}/admin/hosts/isolate_leader`, POST);
  assert.equal(isolated.status, 202);
  assert.deepEqual(await isolated.json(), { action: "isolate_leader", replica: 4, host: "order_executor_4" });
  assert.equal((await app.request(`${ORIGIN}/admin/hosts/heal`, POST)).status, 202);
  assert.equal((await app.request(`${ORIGIN}/admin/hosts/unplug`, POST)).status, 404);
  assert.deepEqual(actions, ["partition order_executor_4 from group", "partition order_executor_4 from all", "heal"]);
});

Deno.test("the cut button refuses without hosts, without a leader, and with faults off", async () => {
  const oneMachine = shopApp({ faults: true }, fakeCluster({ hosts: false }));
  const refused = await oneMachine.app.request(`${ORIGIN}/admin/hosts/cut_leader`, POST);
  assert.equal(refused.status, 404);
  assert.match((await refused.json()).error.message, /do not run on hosts/);

  const leaderless = fakeCluster({ hosts: true });
  leaderless.queue = { reachable: false, error: "down" };
  for (const executor of leaderless.executors) if (executor.reachable) executor.role = "follower";
  const noLeader = shopApp({ faults: true }, leaderless);
  assert.equal((await noLeader.app.request(`${ORIGIN}/admin/hosts/cut_leader`, POST)).status, 409);

  const faultsOff = shopApp({ faults: false }, fakeCluster({ hosts: true }));
  assert.equal((await faultsOff.app.request(`${ORIGIN}/admin/hosts/cut_leader`, POST)).status, 404);
  assert.deepEqual([...oneMachine.actions, ...noLeader.actions, ...faultsOff.actions], []);
});
