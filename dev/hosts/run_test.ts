import assert from "node:assert/strict";
import { devHosts, parseDevFlags, SUPERVISOR_HOST } from "./run.ts";

Deno.test("dev's flags: none, --hosts, and the inner half's owner; anything else is refused", () => {
  assert.deepEqual(parseDevFlags([]), { hosts: false });
  assert.deepEqual(parseDevFlags(["--hosts"]), { hosts: true });
  assert.deepEqual(parseDevFlags(["--hosts-owner=42"]), { hosts: true, owner: 42 });
  assert.throws(() => parseDevFlags(["--host"]), /unknown argument/);
  assert.throws(() => parseDevFlags(["--hosts-owner=x"]), /unknown argument/);
});

Deno.test("both halves plan the same hosts: every process, then the supervisor's", () => {
  const processes = ["etcd1", "orchestrator", "web"];
  const hosts = devHosts({ owner: 9, processes });
  assert.deepEqual(hosts.map((host) => host.name), [...processes, SUPERVISOR_HOST]);
  assert.deepEqual(devHosts({ owner: 9, processes }), hosts);
});
