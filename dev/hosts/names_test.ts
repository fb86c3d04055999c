import assert from "node:assert/strict";
import fc from "fast-check";
import {
  hostAddress,
  HOSTS_PREFIX,
  isLoopback,
  MAX_HOSTS,
  namespaceOf,
  ownerOf,
  parseNamespace,
  socketDir,
} from "./names.ts";

Deno.test("host addresses are distinct, in 127.77.0.0/16, and never 127.0.0.1 nor a network or broadcast address", () => {
  const seen = new Set<string>();
  for (let i = 0; i < MAX_HOSTS; i++) {
    const address = hostAddress(i);
    assert.ok(isLoopback(address), address);
    assert.match(address, /^127\.77\.\d+\.\d+$/);
    const [, , third, fourth] = address.split(".").map(Number);
    assert.ok(third >= 1 && third <= 254 && fourth >= 1 && fourth <= 254, address);
    assert.ok(!seen.has(address), `${address} twice`);
    seen.add(address);
  }
  assert.throws(() => hostAddress(MAX_HOSTS), RangeError);
  assert.throws(() => hostAddress(-1), RangeError);
});

Deno.test("isLoopback admits 127/8 only", () => {
  for (const address of ["127.0.0.1", "127.77.1.2", "127.255.255.255"]) assert.ok(isLoopback(address), address);
  for (
    const address of ["0.0.0.0", "0.127.0.1", "240.0.0.1", "255.255.255.255", "127.0.0", "127.0.0.256", "localhost"]
  ) {
    assert.ok(!isLoopback(address), address);
  }
  fc.assert(fc.property(fc.ipV4(), (address) => isLoopback(address) === address.startsWith("127.")));
});

Deno.test("namespaces carry the prefix and their owner, and nothing else is taken for one", () => {
  assert.equal(namespaceOf(42, "order_executor_1"), `${HOSTS_PREFIX}42-order_executor_1`);
  assert.equal(ownerOf(namespaceOf(42, "web")), 42);
  assert.deepEqual(parseNamespace(namespaceOf(42, "order_queue_1")), { owner: 42, host: "order_queue_1" });
  assert.equal(ownerOf("bks-web"), undefined);
  assert.equal(ownerOf("other-42-web"), undefined);
  assert.throws(() => namespaceOf(1, "a b"));
  assert.ok(socketDir(42).includes(HOSTS_PREFIX));
});
