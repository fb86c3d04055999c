/**
 * Each process a host: a tiny topology (two services and a client host) in
 * network namespaces talks only through its hosts' addresses, the machine
 * reaches it only through the relay, and iptables faults cut, heal, lose one
 * direction and lose packets at random; a killed owner's network is reaped;
 * and `deno task dev --hosts` runs the real system, an order placed through
 * 127.0.0.1. Skipped, with the reason printed, where namespaces cannot be made
 * (not root, no `ip`).
 */
import assert from "node:assert/strict";
import {
  createNetwork,
  type Host,
  hostsUnavailable,
  listHosts,
  type Network,
  ourNamespaces,
} from "@bookstore/dev/hosts/network";
import { CUT, cut, dropFrom, droppedFrom, heal, LOSS, loss, noLoss } from "@bookstore/dev/hosts/faults";
import { relayTcpToUnix } from "@bookstore/dev/hosts/relay";
import { routeArg } from "@bookstore/dev/hosts/relay_main";
import { ownerOf, socketDir } from "@bookstore/dev/hosts/names";
import { devTask, spawnDev } from "./support/dev_task.ts";
import { validOrder } from "./support/orders.ts";
import { eventually } from "./support/wait.ts";

const refusal = await hostsUnavailable();
if (refusal) console.log(`tests/hosts_test.ts skipped: ${refusal}`);
const ignore = refusal !== undefined;

const PORT = 9000;
const decoder = new TextDecoder();

async function sh(command: string): Promise<string> {
  const output = await new Deno.Command("sh", { args: ["-c", command], stderr: "inherit" }).output();
  return decoder.decode(output.stdout);
}

/** GET through a relay port on 127.0.0.1: the status and the text, or the error's name. */
async function get(port: number, path: string): Promise<{ status: number; text: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return { status: 0, text: (error as Error).name };
  }
}

function spawnIn(host: Host, args: string[]): Deno.ChildProcess {
  return new Deno.Command("ip", {
    args: ["netns", "exec", host.namespace, Deno.execPath(), "run", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

async function firstLine(child: Deno.ChildProcess): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const { value } = await reader.read();
  reader.releaseLock();
  return value ?? "";
}

Deno.test(
  { name: "hosts talk by address, the machine only through the relay; faults cut, heal and lose", ignore },
  async (t) => {
    await using network: Network = await createNetwork({ names: ["a", "b", "client"] });
    const [a, b, client] = ["a", "b", "client"].map((name) => network.host(name));
    const echo = new URL("./support/hosts_echo.ts", import.meta.url).pathname;
    const services = [a, b].map((host) => spawnIn(host, ["--allow-net", echo, host.name, host.address, String(PORT)]));
    const sockets = [a, b].map((host) => ({ path: `${socketDir(network.owner)}/${host.name}.sock`, host }));
    const relay = spawnIn(client, [
      "--allow-net",
      "--allow-read",
      "--allow-write",
      new URL("../dev/hosts/relay_main.ts", import.meta.url).pathname,
      ...sockets.map(({ path, host }) => routeArg({ path, hostname: host.address, port: PORT })),
    ]);
    try {
      await Promise.all([...services, relay].map(firstLine));
      const [toA, toB] = sockets.map(({ path }) =>
        relayTcpToUnix({ listen: { hostname: "127.0.0.1", port: 0 }, path })
      );
      const call = (from: number, to: Host) => get(from, `/call?to=http://${to.address}:${PORT}/`);
      const answers = (from: number, to: Host) => async () => (await call(from, to)).text === to.name;

      await t.step("each host reaches the others at their addresses", async () => {
        assert.deepEqual(await get(toA.port, "/"), { status: 200, text: "a" });
        const listed = await listHosts({ owner: network.owner });
        assert.deepEqual(
          listed.sort((x, y) => x.name.localeCompare(y.name)),
          [a, b, client],
          "listHosts reads them back",
        );
        await eventually(answers(toA.port, b), { timeoutMs: 20_000, message: "a reaching b" });
        await eventually(answers(toB.port, a), { timeoutMs: 20_000, message: "b reaching a" });
      });

      await t.step(
        "the root namespace cannot reach a host's address, and no host has a route off 127.77/16",
        async () => {
          const direct = await fetch(`http://${a.address}:${PORT}/`, { signal: AbortSignal.timeout(2000) })
            .then((response) => response.text(), (error: Error) => error.name);
          assert.notEqual(direct, "a");
          for (const host of [a, b, client]) {
            const routes = (await sh(`ip -n ${host.namespace} -4 route show table all`)).trim().split("\n");
            const main = routes.filter((route) => !/table local/.test(route));
            assert.deepEqual(main.map((route) => route.split(" ")[0]), ["127.77.0.0/16"], main.join("\n"));
            assert.deepEqual(
              (await sh(`ip -n ${host.namespace} -4 -o addr show dev lo`)).match(/inet \S+/g),
              ["inet 127.0.0.1/32"],
            );
          }
        },
      );

      await t.step("a cut link fails within the deadline, both ways, and works again once healed", async () => {
        await cut(a, b);
        assert.deepEqual(await droppedFrom(a), [b.address]);
        const started = Date.now();
        const during = await call(toA.port, b);
        assert.equal(during.status, 502, during.text);
        assert.ok(Date.now() - started < 4000, `the caller's 1 s deadline held (${Date.now() - started} ms)`);
        assert.equal((await call(toB.port, a)).status, 502);
        assert.deepEqual(await get(toA.port, "/"), { status: 200, text: "a" }, "the client's link is not cut");
        await heal(a, b);
        assert.deepEqual(await droppedFrom(a), []);
        await eventually(answers(toA.port, b), { timeoutMs: 20_000, message: "a reaching b after the heal" });
      });

      // The packets a rule of `host` matched, by the rule's comment.
      const matched = async (host: Host, comment: string) => {
        const rules = await sh(`ip netns exec ${host.namespace} iptables -w -L INPUT -v -x -n`);
        return Number(new RegExp(`^\\s*(\\d+)\\s.*/\\* ${comment} \\*/`, "m").exec(rules)?.[1] ?? NaN);
      };

      await t.step("one-way loss: a's requests reach b, b's replies are lost", async () => {
        await dropFrom(a, b);
        assert.equal((await call(toA.port, b)).status, 502);
        // b sends a nothing but answers (a handshake's or a request's): what a dropped from b proves b heard a.
        assert.ok(await matched(a, CUT) > 0, "b answered a");
        assert.equal((await call(toB.port, a)).status, 502, "and b cannot reach a either: a drops all it sends");
        await heal(a, b);
        await eventually(answers(toA.port, b), { timeoutMs: 20_000, message: "a reaching b after the one-way heal" });
      });

      await t.step("random loss drops roughly the configured share of what a host receives", async () => {
        // A rule that only counts, ahead of the loss rule, sees every packet the loss rule decides on.
        await sh(`ip netns exec ${a.namespace} iptables -w -I INPUT 1 -i eth0 -m comment --comment bks-count`);
        await loss(a, { probability: 0.2 });
        await eventually(async () => (await call(toA.port, b), await matched(a, "bks-count") >= 400), {
          timeoutMs: 60_000,
          message: "400 packets received by a",
        });
        const share = await matched(a, LOSS) / await matched(a, "bks-count");
        await noLoss(a);
        assert.ok(share > 0.1 && share < 0.3, `dropped ${share} of the packets, configured 0.2`);
        assert.ok(Number.isNaN(await matched(a, LOSS)), "the loss rule is gone");
      });
      toA.close();
      toB.close();
    } finally {
      for (const child of [...services, relay]) {
        child.kill("SIGKILL");
        await child.status;
      }
    }
  },
);

Deno.test({ name: "the reaper removes the network of an owner killed with SIGKILL", ignore }, async () => {
  const modules = new URL("../dev/hosts/", import.meta.url).href;
  const owner = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { createNetwork } from "${modules}network.ts";
       import { startReaper } from "${modules}reaper.ts";
       await createNetwork({ names: ["x", "y"] });
       startReaper();
       console.log("ready");
       setInterval(() => {}, 1000);`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  assert.equal((await firstLine(owner)).trim(), "ready");
  const mine = async () => (await ourNamespaces()).filter((namespace) => ownerOf(namespace) === owner.pid);
  assert.equal((await mine()).length, 3, "two hosts and the bridge");
  owner.kill("SIGKILL");
  await owner.status;
  await eventually(async () => (await mine()).length === 0, { timeoutMs: 15_000, message: "the namespaces reaped" });
  await assert.rejects(Deno.stat(socketDir(owner.pid)), Deno.errors.NotFound);
});

Deno.test(
  { name: "deno task dev --hosts runs the system as hosts; an order goes through 127.0.0.1", ignore },
  async () => {
    const task = await devTask({ prefix: "bookstore-hosts-", store: "etcd" });
    const dev = spawnDev(task, { args: ["--hosts"] });
    try {
      const result = await eventually(async () => {
        const response = await fetch(`http://127.0.0.1:${task.ports.orchestrator}/checkout`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(validOrder()),
          signal: AbortSignal.timeout(10_000),
        });
        return response.ok ? await response.json() : (await response.body?.cancel(), undefined);
      }, { timeoutMs: 120_000, intervalMs: 500, message: "an order approved through the relay" })
        .catch((error) => {
          throw new Error(`${error.message}\n${dev.output().slice(-3000)}`);
        });
      assert.equal(result.status, "Order Approved");
      assert.match(dev.output(), /order_executor_1\s+127\.77\.\d+\.\d+\s+bks-\d+-order_executor_1/, "hosts are listed");
      await eventually(async () => {
        const shop = await fetch(`http://127.0.0.1:${task.ports.web}/`, { signal: AbortSignal.timeout(10_000) });
        await shop.body?.cancel();
        return shop.status === 200;
      }, { timeoutMs: 120_000, intervalMs: 500, message: "the shop through the relay" });
    } finally {
      await dev.stop();
      await Deno.remove(task.dataDir, { recursive: true });
    }
    const left = (await ourNamespaces()).filter((namespace) => ownerOf(namespace) === dev.child.pid);
    assert.deepEqual(left, [], "a normal stop removes every namespace");
  },
);

Deno.test({ name: "without root, --hosts is refused with one line saying so", ignore }, async () => {
  // As nobody (setpriv, util-linux), with a Deno cache of its own: the module needs nothing from a registry.
  const denoDir = await Deno.makeTempDir({ prefix: "bookstore-nobody-" });
  await Deno.chmod(denoDir, 0o777);
  const module = new URL("../dev/hosts/network.ts", import.meta.url).href;
  const output = await new Deno.Command("setpriv", {
    args: [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      Deno.execPath(),
      "eval",
      `import { hostsUnavailable } from "${module}"; console.log(await hostsUnavailable());`,
    ],
    env: { DENO_DIR: denoDir },
    stdin: "null",
  }).output();
  await Deno.remove(denoDir, { recursive: true });
  assert.equal(
    decoder.decode(output.stdout).trim(),
    "--hosts needs root to create network namespaces: run it with sudo",
  );
});
