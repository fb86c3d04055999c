/** The supervisor keeps every line by default (tests read runs back), or only a child's latest `keepLines`. */
import assert from "node:assert/strict";
import { waitFor } from "@bookstore/lib/async";
import { Supervisor } from "./supervisor.ts";

async function run(keepLines: number | undefined): Promise<readonly string[]> {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    "for (let i = 1; i <= 3000; i++) console.log(`line ${i}`); setInterval(() => {}, 1000);",
  );
  let seen = 0;
  const supervisor = new Supervisor([{ name: "talker", entry: script, port: 0, env: {} }], {
    root: new URL("file:///"),
    restart: false,
    keepLines,
    onLine: () => seen++,
  });
  try {
    supervisor.start();
    await waitFor(() => seen >= 3000, 30_000);
    return supervisor.lines("talker");
  } finally {
    await supervisor.stopAll();
    await Deno.remove(script);
  }
}

Deno.test("a supervisor keeps every line, or a child's latest keepLines", async () => {
  const all = await run(undefined);
  assert.equal(all.length, 3000);
  const window = await run(100);
  assert.equal(window.length, 100);
  assert.deepEqual([window[0], window.at(-1)], ["line 2901", "line 3000"]);
  assert.deepEqual(await run(0), []);
});

Deno.test("a program that is not a Deno entry point runs, answers its own health path and is restarted", async () => {
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await Deno.writeTextFile(
    script,
    `Deno.serve({ hostname: "127.0.0.1", port: ${port}, onListen: () => console.log("up") }, (r) =>
      new Response(null, { status: new URL(r.url).pathname === "/ready" ? 200 : 404 }));`,
  );
  const supervisor = new Supervisor([{
    name: "program",
    command: Deno.execPath(),
    args: ["run", "--allow-net", script],
    port,
    env: {},
    healthPath: "/ready",
  }], { root: new URL("file:///"), backoffMs: 10 });
  try {
    supervisor.start();
    await supervisor.waitHealthy({ timeoutMs: 30_000 });
    const first = supervisor.pid("program");
    supervisor.kill("program");
    await waitFor(() => supervisor.restarts("program") === 1 && supervisor.pid("program") !== undefined, 30_000);
    assert.notEqual(supervisor.pid("program"), first);
    await supervisor.waitHealthy({ timeoutMs: 30_000 });
    assert.ok(supervisor.lines("program").includes("up"));
  } finally {
    await supervisor.stopAll();
    await Deno.remove(script);
  }
});

Deno.test("a program that is not installed is a start-up error naming it", () => {
  const supervisor = new Supervisor(
    [{ name: "ghost", command: "no-such-program-of-the-bookstore", args: [], port: 0, env: {} }],
    { root: new URL("file:///") },
  );
  assert.throws(() => supervisor.start(), /cannot start ghost \(no-such-program-of-the-bookstore\)/);
  assert.equal(supervisor.pid("ghost"), undefined);
});
