/** Free ports: distinct, consecutive where asked, and never from the range outgoing connections take theirs from. */
import assert from "node:assert/strict";
import { ephemeralPorts, freePorts } from "./free_ports.ts";

Deno.test("freePorts: distinct ports below the ephemeral range, the first ones consecutive", () => {
  const { low } = ephemeralPorts();
  for (let round = 0; round < 20; round++) {
    const ports = freePorts(14, { consecutive: 3 });
    assert.equal(new Set(ports).size, 14);
    assert.deepEqual(ports.slice(0, 3), [ports[0], ports[0] + 1, ports[0] + 2]);
    for (const port of ports) assert.ok(port >= 10_000 && port < Math.min(low, 20_000), `port ${port}`);
  }
});

Deno.test("ephemeralPorts: the kernel's range on Linux", () => {
  const { low, high } = ephemeralPorts();
  assert.ok(low > 11_000 && high > low, `${low}-${high}`);
});
