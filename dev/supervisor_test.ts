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
