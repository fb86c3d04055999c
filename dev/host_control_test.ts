import assert from "node:assert/strict";
import { hostsViewSchema } from "@bookstore/lib/contracts";
import { serveControl } from "./control.ts";
import type { HostLinks } from "./host_control.ts";
import type { Host } from "./hosts/network.ts";
import { eventually } from "../tests/support/wait.ts";

const TOKEN = "a-service-token-of-some-length";
const NAMES = ["order_executor_1", "order_executor_2", "order_executor_3", "order_queue", "web", "dev"];
const HOSTS: Host[] = NAMES.map((name, i) => ({ name, namespace: `bks-1-${name}`, address: `127.77.1.${i + 1}` }));
const [E1, E2, E3, QUEUE] = HOSTS;

/** Links as iptables would keep them: which addresses each host drops, with every call recorded. */
function fakeLinks(): HostLinks & { calls: string[]; drops: Map<string, Set<string>> } {
  // As `iptables -I` does, the newest drop first.
  const drops = new Map(HOSTS.map((host) => [host.name, new Set<string>()]));
  const calls: string[] = [];
  return {
    hosts: HOSTS,
    groups: [NAMES.slice(0, 3)],
    untouchable: ["dev"],
    calls,
    drops,
    cut: (a, b) => {
      calls.push(`cut ${a.name} ${b.name}`);
      drops.get(a.name)!.add(b.address);
      drops.get(b.name)!.add(a.address);
      return Promise.resolve();
    },
    heal: (a, b) => {
      calls.push(`heal ${a.name} ${b.name}`);
      drops.get(a.name)!.delete(b.address);
      drops.get(b.name)!.delete(a.address);
      return Promise.resolve();
    },
    droppedFrom: (hosts) => {
      calls.push("read");
      return Promise.resolve(hosts.map((host) => [...drops.get(host.name)!].reverse()));
    },
  };
}

async function call(url: string, path: string, init: { method?: string; body?: string; token?: string } = {}) {
  const response = await fetch(`${url}${path}`, {
    method: init.method ?? "POST",
    headers: { authorization: `Bearer ${init.token ?? TOKEN}`, "content-type": "application/json" },
    body: init.body,
  });
  return { status: response.status, body: await response.json() };
}

Deno.test("GET /hosts shows every host, its address and the hosts its links are cut from", async () => {
  const links = fakeLinks();
  await using control = serveControl({ token: TOKEN, crashable: [], kill: () => {}, hosts: links });
  const before = await call(control.url, "/hosts", { method: "GET" });
  assert.equal(before.status, 200);
  const view = hostsViewSchema.parse(before.body);
  assert.deepEqual(view.hosts.map((h) => [h.name, h.address, h.cutFrom]), HOSTS.map((h) => [h.name, h.address, []]));
  assert.deepEqual(view.partitionable, NAMES.slice(0, 3));
  // A drop of an address that is no host's is not shown as a link.
  links.drops.get(QUEUE.name)!.add("127.77.9.9");
  await links.cut(E1, E3);
  // Pages polling at once share one read of the rules; a cut made elsewhere shows once it is read again.
  await Promise.all([1, 2, 3].map(() => call(control.url, "/hosts", { method: "GET" })));
  assert.deepEqual(
    links.calls.filter((c) => c === "read"),
    ["read"],
    "one read for every page polling within a second",
  );
  const after = await eventually(async () => {
    const view = hostsViewSchema.parse((await call(control.url, "/hosts", { method: "GET" })).body);
    return view.hosts[0].cutFrom.length > 0 ? view : undefined;
  }, { timeoutMs: 5000, message: "the cut read again" });
  assert.deepEqual(Object.fromEntries(after.hosts.map((h) => [h.name, h.cutFrom])), {
    order_executor_1: ["order_executor_3"],
    order_executor_2: [],
    order_executor_3: ["order_executor_1"],
    order_queue: [],
    web: [],
    dev: [],
  });
  assert.equal((await call(control.url, "/hosts", { method: "GET", token: "x".repeat(TOKEN.length) })).status, 401);
});

Deno.test("POST /partition cuts an executor off from the other executors alone, and /heal heals every cut", async () => {
  const links = fakeLinks();
  await using control = serveControl({ token: TOKEN, crashable: [], kill: () => {}, hosts: links });
  // Read once before: the cut must show at once all the same, not a second later.
  assert.equal((await call(control.url, "/hosts", { method: "GET" })).status, 200);
  const cut = await call(control.url, "/partition", { body: JSON.stringify({ host: "order_executor_2" }) });
  assert.equal(cut.status, 202, JSON.stringify(cut.body));
  assert.deepEqual(cut.body.cutFrom, ["order_executor_1", "order_executor_3"]);
  const shown = hostsViewSchema.parse((await call(control.url, "/hosts", { method: "GET" })).body);
  assert.deepEqual(shown.hosts[1].cutFrom, ["order_executor_1", "order_executor_3"], "in the hosts' order");
  assert.deepEqual(links.calls.filter((c) => c !== "read").sort(), [
    "cut order_executor_2 order_executor_1",
    "cut order_executor_2 order_executor_3",
  ]);
  assert.deepEqual([...links.drops.get(QUEUE.name)!], [], "the queue's links are not cut");
  assert.deepEqual([...links.drops.get(E2.name)!].sort(), [E1.address, E3.address]);
  // One more cut made elsewhere (a test, a person with iptables) heals too.
  await links.cut(QUEUE, E1);
  links.calls.length = 0;
  const healed = await call(control.url, "/heal", { body: "{}" });
  assert.equal(healed.status, 200);
  // Each pair once, whichever way round.
  const pairs = links.calls.filter((c) => c.startsWith("heal ")).map((c) => c.split(" ").slice(1).sort().join(" "));
  assert.deepEqual(pairs.sort(), [
    "order_executor_1 order_executor_2",
    "order_executor_1 order_queue",
    "order_executor_2 order_executor_3",
  ], "each cut pair healed once, the one made elsewhere too");
  for (const drops of links.drops.values()) assert.deepEqual([...drops], []);
});

Deno.test('POST /partition {"from": "all"} cuts an executor off from every host but the supervisor\'s', async () => {
  const links = fakeLinks();
  await using control = serveControl({ token: TOKEN, crashable: [], kill: () => {}, hosts: links });
  const cut = await call(control.url, "/partition", {
    body: JSON.stringify({ host: "order_executor_2", from: "all" }),
  });
  assert.equal(cut.status, 202, JSON.stringify(cut.body));
  const others = NAMES.filter((name) => name !== "order_executor_2" && name !== "dev");
  assert.deepEqual(cut.body.cutFrom, others);
  assert.deepEqual([...links.drops.get("dev")!], [], "the supervisor keeps reaching it");
  assert.deepEqual([...links.drops.get(QUEUE.name)!], [E2.address], "the queue too is cut from it");
});

Deno.test("POST /partition refuses what is not a known executor host, naming the field", async () => {
  const links = fakeLinks();
  await using control = serveControl({ token: TOKEN, crashable: [], kill: () => {}, hosts: links });
  const refused = async (body: string, message: RegExp) => {
    const answer = await call(control.url, "/partition", { body });
    assert.equal(answer.status, 400, body);
    assert.equal(answer.body.error.code, "invalid_argument");
    assert.match(answer.body.error.message, message);
  };
  await refused("{", /not JSON/);
  await refused("{}", /^host: /);
  await refused(JSON.stringify({ host: 7 }), /^host: /);
  await refused(JSON.stringify({ host: "order_executor_1", also: 1 }), /also/);
  await refused(JSON.stringify({ host: "order_executor_9" }), /^host: no host named "order_executor_9"/);
  await refused(JSON.stringify({ host: "web" }), /^host: web cannot be cut off/);
  await refused(JSON.stringify({ host: "order_executor_1", from: "queue" }), /^from: /);
  assert.deepEqual(links.calls, []);
  assert.equal((await call(control.url, "/partition", { body: "{}", token: "nope".repeat(8) })).status, 401);
});

Deno.test("without hosts the host routes do not exist, and groups must name hosts", async () => {
  await using control = serveControl({ token: TOKEN, crashable: ["etcd1"], kill: () => {} });
  for (const [method, path] of [["GET", "/hosts"], ["POST", "/partition"], ["POST", "/heal"]]) {
    const answer = await call(control.url, path, { method, body: method === "POST" ? "{}" : undefined });
    assert.equal(answer.status, 404, path);
    assert.match(answer.body.error.message, /not run with --hosts/);
  }
  assert.throws(
    () =>
      serveControl({ token: TOKEN, crashable: [], kill: () => {}, hosts: { ...fakeLinks(), groups: [["nobody"]] } }),
    /nobody/,
  );
});
