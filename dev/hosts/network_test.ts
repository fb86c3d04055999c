import assert from "node:assert/strict";
import fc from "fast-check";
import { isLoopback } from "./names.ts";
import { planNetwork, setupCommands } from "./network.ts";
import { cut } from "./faults.ts";

const names = fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9_]{0,20}$/).filter((name) => name !== "net"), {
  minLength: 1,
  maxLength: 30,
});

Deno.test("a planned network names no address outside 127/8, and every namespace carries the prefix", () => {
  fc.assert(fc.property(names, fc.integer({ min: 2, max: 4_000_000 }), (hosts, owner) => {
    const plan = planNetwork({ owner, names: hosts });
    const commands = setupCommands(plan).join("\n");
    for (const address of commands.match(/\d+\.\d+\.\d+\.\d+/g) ?? []) assert.ok(isLoopback(address), address);
    for (const namespace of commands.match(/(?:-n|netns (?:add|exec)) (\S+)/g) ?? []) {
      assert.match(namespace, new RegExp(` bks-${owner}-`), namespace);
    }
    assert.equal(new Set(plan.hosts.map((host) => host.address)).size, hosts.length);
  }));
});

Deno.test("each host's lo keeps 127.0.0.1/32 alone, route_localnet is on, and no route is added", () => {
  const commands = setupCommands(planNetwork({ owner: 7, names: ["a", "b"] }));
  for (const host of ["bks-7-a", "bks-7-b"]) {
    const mine = commands.filter((command) => command.includes(` ${host} `));
    const del = mine.findIndex((command) => command.endsWith("addr del 127.0.0.1/8 dev lo"));
    assert.ok(del > mine.findIndex((command) => command.endsWith("link set lo up")), "the /8 goes after lo is up");
    assert.ok(mine.some((command) => command.endsWith("addr add 127.0.0.1/32 dev lo")));
    assert.ok(mine.some((command) => /route_localnet=1/.test(command)));
  }
  assert.ok(!commands.some((command) => / route /.test(command)), "no route, least of all a default one");
  const noIpv6 = commands.findIndex((command) =>
    command.includes("bks-7-net sysctl") && /disable_ipv6=1/.test(command)
  );
  const firstLink = commands.findIndex((command) => command.includes("bks-7-net link add"));
  assert.ok(noIpv6 >= 0 && noIpv6 < firstLink, "the bridge's namespace speaks no IPv6 before its first link");
});

Deno.test("a joining host is linked in the namespace it has: not created, and not its owner's to remove", () => {
  const plan = planNetwork({ owner: 7, names: ["client", "a"], joins: { client: "bks-3-client" } });
  assert.deepEqual(plan.hosts.map((host) => host.namespace), ["bks-3-client", "bks-7-a"]);
  const commands = setupCommands(plan);
  assert.deepEqual(commands.filter((command) => command.startsWith("ip netns add")), [
    "ip netns add bks-7-net",
    "ip netns add bks-7-a",
  ]);
  assert.ok(commands.some((command) => command.startsWith("ip -n bks-3-client link add eth0 type veth")));
  assert.ok(commands.some((command) => command.endsWith("addr add 127.0.0.1/32 dev lo")));
});

Deno.test("two hosts of one name, or one named like the bridge, are refused", () => {
  assert.throws(() => planNetwork({ owner: 1, names: ["a", "a"] }), /repeat/);
  assert.throws(() => planNetwork({ owner: 1, names: ["net"] }), /bridge/);
});

Deno.test("a fault refuses an address that is not a host's before running anything", async () => {
  await assert.rejects(
    cut({ namespace: "bks-1-a", address: "0.0.0.0" }, { namespace: "bks-1-b", address: "127.77.1.2" }),
  );
});
