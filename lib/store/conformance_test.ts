/**
 * The same cases against both backends of {@linkcode Kv}: Deno KV in memory
 * (the reference) and an EtcdKv on a real three-member etcd cluster (one for
 * the whole file; each case under its own prefix). Backend-specific behaviour
 * (deadlines, reconnects, leases) is tested beside the etcd modules.
 *
 * @module
 */
import assert from "node:assert/strict";
import { type EtcdTestCluster, startEtcdCluster } from "./etcd/testing.ts";
import { EtcdKv } from "./etcd/kv.ts";
import { runWorker, type WorkerTask } from "./conformance_worker.ts";
import type { Kv } from "./types.ts";

/** What a case gets: a fresh store, and a way to run workers against it at once. */
interface Backend {
  name: "memory" | "etcd";
  kv: Kv;
  /** Runs one worker per task concurrently (processes on etcd) and answers each one's claims won. */
  concurrently(tasks: WorkerTask[]): Promise<number[]>;
  /** How long after `expireIn` elapses the backend deletes the key; undefined: not checked here. */
  expiresWithinMs?: number;
}

type Case = [name: string, run: (backend: Backend) => Promise<void>];

/** Deno KV's order, written out: bytes < string < bigint < number < boolean, then by value. */
const ORDERED_PARTS: Deno.KvKeyPart[] = [
  new Uint8Array(),
  new Uint8Array([0]),
  new Uint8Array([0, 0]),
  new Uint8Array([1]),
  new Uint8Array([255]),
  "",
  "\0",
  "A",
  "a",
  "a\0",
  "ab",
  "\u00e9",
  -(2n ** 70n),
  -256n,
  -1n,
  0n,
  1n,
  255n,
  256n,
  2n ** 64n,
  -Infinity,
  -1e300,
  -1,
  -Number.MIN_VALUE,
  -0,
  0,
  Number.MIN_VALUE,
  0.5,
  1,
  Infinity,
  NaN,
  false,
  true,
];

const ORDERED_TUPLES: Deno.KvKey[] = [
  ["m", "a"],
  ["m", "a", ""],
  ["m", "a", "b"],
  ["m", "a", 1n],
  ["m", "a", 1],
  ["m", "a", 1, true],
  ["m", "a", true],
  ["m", "ab"],
  ["m", 1n, "a"],
  ["m", 1, "a"],
];

function shuffled<T>(items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

async function keys(iterator: AsyncIterable<Deno.KvEntry<unknown>>): Promise<Deno.KvKey[]> {
  const found: Deno.KvKey[] = [];
  for await (const entry of iterator) found.push(entry.key);
  return found;
}

/** Every key of `selector`, `limit` at a time, each page after the previous one's cursor. */
async function paged(kv: Kv, selector: Deno.KvListSelector, options: { limit: number; reverse?: boolean }) {
  const found: Deno.KvKey[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = kv.list(selector, { ...options, cursor });
    const got = await keys(page);
    found.push(...got);
    if (got.length < options.limit) return found;
    cursor = page.cursor;
  }
  throw new Error("paging did not end");
}

/** Reads `reader` until an answer satisfies `done` (deadline: never a hang). */
async function readUntil<T>(reader: ReadableStreamDefaultReader<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const next = await Promise.race([
      reader.read(),
      new Promise<never>((_, reject) =>
        timer = setTimeout(() => reject(new Error("watch: no change in time")), 10_000)
      ),
    ]).finally(() => clearTimeout(timer));
    if (next.done) throw new Error("the watch ended");
    if (done(next.value)) return next.value;
  }
  throw new Error("watch: the awaited change never came");
}

const CASES: Case[] = [
  ["keys sort across types and within mixed tuples, nested prefixes apart", async ({ kv }) => {
    for (const part of shuffled(ORDERED_PARTS)) await kv.set(["order", part], 1);
    for (const key of shuffled(ORDERED_TUPLES)) await kv.set(key, 1);
    assert.deepEqual(await keys(kv.list({ prefix: ["order"] })), ORDERED_PARTS.map((part) => ["order", part]));
    assert.deepEqual(await keys(kv.list({ prefix: ["m"] })), ORDERED_TUPLES);
    assert.deepEqual(await keys(kv.list({ prefix: ["m", "a"] })), ORDERED_TUPLES.slice(1, 7));
    assert.deepEqual(await keys(kv.list({ prefix: ["m", "a", 1] })), [["m", "a", 1, true]]);
    assert.deepEqual((await kv.get(["order", -0])).key, ["order", -0]);
    assert.equal((await kv.get(["order", 0.25])).versionstamp, null);
  }],
  ["list by prefix, start, end, reverse, limit, and page by page with cursors", async ({ kv }) => {
    const all: Deno.KvKey[] = Array.from({ length: 23 }, (_, i) => ["p", i]);
    await kv.set(["p"], "the prefix itself");
    await kv.set(["q"], "after");
    for (const key of shuffled(all)) await kv.set(key, key[1]);
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] })), all);
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] }, { reverse: true })), [...all].reverse());
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] }, { limit: 4 })), all.slice(0, 4));
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] }, { limit: 3, reverse: true })), all.slice(-3).reverse());
    assert.deepEqual(await keys(kv.list({ start: ["p", 5], end: ["p", 9] })), all.slice(5, 9));
    assert.deepEqual(await keys(kv.list({ start: ["p"], end: ["q"] })), [["p"], ...all]);
    assert.deepEqual(await keys(kv.list({ prefix: ["p"], start: ["p", 20] })), all.slice(20));
    assert.deepEqual(await keys(kv.list({ prefix: ["p"], end: ["p", 2] })), all.slice(0, 2));
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] }, { batchSize: 2 })), all);
    assert.deepEqual(await keys(kv.list({ prefix: ["p"] }, { batchSize: 5, reverse: true })), [...all].reverse());
    assert.deepEqual(await paged(kv, { prefix: ["p"] }, { limit: 5 }), all);
    assert.deepEqual(await paged(kv, { prefix: ["p"] }, { limit: 5, reverse: true }), [...all].reverse());
    assert.deepEqual(await paged(kv, { start: ["p", 3], end: ["p", 17] }, { limit: 4 }), all.slice(3, 17));
    assert.deepEqual(
      await paged(kv, { prefix: ["p"], start: ["p", 10] }, { limit: 6, reverse: true }),
      [
        ...all.slice(10),
      ].reverse(),
    );
    const exhausted = kv.list({ prefix: ["p"] });
    assert.throws(() => exhausted.cursor, /before first iteration/);
    await keys(exhausted);
    assert.equal(exhausted.cursor, "");
    await assert.rejects(keys(kv.list({ prefix: ["p"], start: ["q"] })), /Start key is not in the keyspace/);
    await assert.rejects(keys(kv.list({ start: ["q"], end: ["p"] })), /Start key is greater than end key/);
    assert.throws(() => kv.list({ start: ["p"] } as unknown as Deno.KvListSelector), /must specify either/);
    await assert.rejects(keys(kv.list({ prefix: ["p"] }, { cursor: "AA" })), /invalid cursor/);
  }],
  ["get and getMany answer entries, absent ones as nulls, in the order asked", async ({ kv }) => {
    const { versionstamp } = await kv.set(["g", 1], { one: 1 });
    assert.deepEqual(await kv.get(["g", 1]), { key: ["g", 1], value: { one: 1 }, versionstamp });
    assert.deepEqual(await kv.get(["g", 2]), { key: ["g", 2], value: null, versionstamp: null });
    assert.deepEqual(await kv.getMany([["g", 2], ["g", 1]]), [
      { key: ["g", 2], value: null, versionstamp: null },
      { key: ["g", 1], value: { one: 1 }, versionstamp },
    ]);
    assert.deepEqual(await kv.getMany([]), []);
    await assert.rejects(kv.getMany(Array.from({ length: 11 }, (_, i) => ["g", i])), /Too many ranges/);
  }],
  ["versionstamps grow with every commit, and a check on a stale one fails", async ({ kv }) => {
    const first = await kv.set(["v"], 1);
    const other = await kv.set(["v", "other"], 1);
    const second = await kv.set(["v"], 2);
    assert.ok(first.versionstamp < other.versionstamp && other.versionstamp < second.versionstamp);
    assert.match(second.versionstamp, /^[0-9a-f]{20}$/);
    assert.equal((await kv.get(["v"])).versionstamp, second.versionstamp);
    assert.deepEqual(await kv.atomic().check({ key: ["v"], versionstamp: first.versionstamp }).set(["v"], 3).commit(), {
      ok: false,
    });
    assert.equal((await kv.get(["v"])).value, 2);
    const third = await kv.atomic().check({ key: ["v"], versionstamp: second.versionstamp }).set(["v"], 3).commit();
    assert.ok(third.ok && third.versionstamp > second.versionstamp);
    await assert.rejects(kv.atomic().check({ key: ["v"], versionstamp: "not a versionstamp" }).commit(), TypeError);
  }],
  ["a check on null holds only while the key is absent", async ({ kv }) => {
    const claim = () => kv.atomic().check({ key: ["c"], versionstamp: null }).set(["c"], "mine").commit();
    assert.ok((await claim()).ok);
    assert.deepEqual(await claim(), { ok: false });
    await kv.delete(["c"]);
    assert.ok((await claim()).ok);
  }],
  ["set, delete and sum in one commit apply all together or not at all", async ({ kv }) => {
    const x = await kv.set(["x"], 1);
    await kv.set(["x"], 2);
    const stale = await kv.atomic().check({ key: ["x"], versionstamp: x.versionstamp })
      .set(["y"], "y").delete(["x"]).sum(["n"], 1n).commit();
    assert.deepEqual(stale, { ok: false });
    assert.deepEqual((await kv.getMany([["x"], ["y"], ["n"]])).map((e) => e.value), [2, null, null]);
    const current = await kv.get(["x"]);
    const done = await kv.atomic().check(current).set(["y"], "y").delete(["x"]).sum(["n"], 1n).commit();
    assert.ok(done.ok);
    const [gone, y, n] = await kv.getMany([["x"], ["y"], ["n"]]);
    assert.equal(gone.value, null);
    assert.deepEqual([y.value, y.versionstamp, n.value, n.versionstamp], [
      "y",
      done.versionstamp,
      new Deno.KvU64(1n),
      done.versionstamp,
    ]);
  }],
  ["sum adds as Deno.KvU64, wraps at 2^64, and refuses what is not one", async ({ kv }) => {
    await kv.atomic().sum(["s"], 2n ** 64n - 1n).commit();
    await kv.atomic().sum(["s"], 2n).commit();
    assert.deepEqual((await kv.get(["s"])).value, new Deno.KvU64(1n));
    await kv.atomic().set(["s2"], new Deno.KvU64(5n)).sum(["s2"], 1n).sum(["s2"], 2n).commit();
    assert.deepEqual((await kv.get(["s2"])).value, new Deno.KvU64(8n));
    await kv.atomic().delete(["s2"]).sum(["s2"], 3n).commit();
    assert.deepEqual((await kv.get(["s2"])).value, new Deno.KvU64(3n));
    await kv.set(["text"], "not a number");
    await assert.rejects(kv.atomic().sum(["text"], 1n).commit(), TypeError);
    assert.throws(() => kv.atomic().sum(["s"], -1n));
    assert.throws(() => kv.atomic().sum(["s"], 2n ** 64n));
  }],
  ["a commit over the limits is refused before anything is written", async ({ kv }) => {
    const big = kv.atomic();
    for (let i = 0; i < 101; i++) big.check({ key: ["limit", i], versionstamp: null });
    await assert.rejects(big.set(["limit", "x"], 1).commit(), /Too many checks/);
    await assert.rejects(kv.set(["huge"], "x".repeat(70_000)), /Value too large/);
    await assert.rejects(kv.set(["k".repeat(2100)], 1), /Key too large/);
    assert.equal((await kv.get(["limit", "x"])).versionstamp, null);
  }],
  ["a key set with expireIn is there at first and gone some time after", async ({ kv, expiresWithinMs }) => {
    const expireIn = 3000;
    const set = Date.now();
    await kv.set(["e"], "soon gone", { expireIn });
    await kv.set(["e", "kept"], "kept");
    assert.equal((await kv.get(["e"])).value, "soon gone");
    // Not early: still there at 75% of the time (if the machine was slower than that, nothing to check).
    await new Promise((resolve) => setTimeout(resolve, expireIn * 0.75));
    const early = await kv.get(["e"]);
    if (Date.now() - set < expireIn) assert.equal(early.value, "soon gone");
    if (expiresWithinMs === undefined) return;
    const deadline = set + expireIn + expiresWithinMs;
    while ((await kv.get(["e"])).value !== null) {
      assert.ok(Date.now() < deadline, `still there ${Date.now() - set} ms after set with expireIn ${expireIn}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.equal((await kv.get(["e", "kept"])).value, "kept");
  }],
  ["watch answers the entries now, then after each change", async ({ kv }) => {
    await kv.set(["w", "b"], "b0");
    const reader = kv.watch([["w", "a"], ["w", "b"]]).getReader();
    const now = await readUntil(reader, () => true);
    assert.deepEqual(now.map((e) => e.value), [null, "b0"]);
    await kv.set(["w", "unwatched"], 1);
    const { versionstamp } = await kv.set(["w", "a"], "a1");
    const changed = await readUntil(reader, (entries) => entries[0].value === "a1");
    assert.deepEqual(changed[0], { key: ["w", "a"], value: "a1", versionstamp });
    await kv.delete(["w", "b"]);
    const deleted = await readUntil(reader, (entries) => entries[1].versionstamp === null);
    assert.deepEqual(deleted.map((e) => e.value), ["a1", null]);
    await reader.cancel();
  }],
  ["every kind of value round-trips", async ({ kv }) => {
    const values: unknown[] = [
      { order: { id: "o1", items: [{ bookId: "b1", quantity: 2 }] }, total: 12.5, note: undefined },
      ["a", 1, null, [true]],
      "",
      "\u{1f4da}",
      -0,
      NaN,
      2n ** 80n,
      false,
      null,
      undefined,
      new Uint8Array([0, 255]),
      new Date(1_700_000_000_000),
      new Map([["k", new Set([1])]]),
      new Deno.KvU64(7n),
    ];
    for (const [i, value] of values.entries()) {
      await kv.set(["value", i], value);
      assert.deepEqual((await kv.get(["value", i])).value, value, `value ${i}`);
    }
  }],
  ["concurrent sums lose no increment", async ({ kv, concurrently }) => {
    await concurrently(Array.from({ length: 4 }, (_, i) => ({ mode: "sum", count: 25, name: `w${i}` })));
    assert.deepEqual((await kv.get(["counter"])).value, new Deno.KvU64(100n));
  }],
  ["concurrent check-and-set increments with commitWithRetry lose none", async ({ kv, concurrently }) => {
    await concurrently(Array.from({ length: 4 }, (_, i) => ({ mode: "cas", count: 15, name: `w${i}` })));
    assert.equal((await kv.get(["counter"])).value, 60);
  }],
  ["concurrent claims of one key (check null) have exactly one winner", async ({ kv, concurrently }) => {
    const won = await concurrently(Array.from({ length: 4 }, (_, i) => ({ mode: "claim", count: 10, name: `w${i}` })));
    assert.equal(won.reduce((a, b) => a + b, 0), 10);
    for (let i = 0; i < 10; i++) assert.match(String((await kv.get(["claim", i])).value), /^w\d$/);
  }],
];

/** Runs the workers as processes against the etcd cluster, started together. */
async function workerProcesses(cluster: EtcdTestCluster, prefix: string, tasks: WorkerTask[]): Promise<number[]> {
  const worker = new URL("./conformance_worker.ts", import.meta.url).pathname;
  const children = tasks.map((task) =>
    new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", worker, JSON.stringify({ endpoints: cluster.endpoints, prefix, task })],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn()
  );
  const outputs = children.map((child) => child.stdout.pipeThrough(new TextDecoderStream()).getReader());
  const kill = setTimeout(() => children.forEach((child) => child.kill("SIGKILL")), 120_000);
  try {
    for (const output of outputs) assert.equal((await output.read()).value?.trim(), "ready");
    for (const child of children) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode("go\n"));
      await writer.close();
    }
    const results: number[] = [];
    for (const [i, output] of outputs.entries()) {
      let text = "";
      for (let chunk = await output.read(); !chunk.done; chunk = await output.read()) text += chunk.value;
      assert.ok((await children[i].status).success, `worker ${i} failed`);
      results.push(JSON.parse(text).won);
    }
    return results;
  } finally {
    clearTimeout(kill);
  }
}

Deno.test("conformance: Deno KV in memory (the reference)", async (t) => {
  for (const [name, run] of CASES) {
    await t.step(name, async () => {
      using kv = await Deno.openKv(":memory:");
      await run({
        name: "memory",
        kv,
        concurrently: (tasks) => Promise.all(tasks.map((task) => runWorker(kv, task))),
        // Deno KV sweeps expired keys about once a minute (60.3 s measured): too slow to wait for here.
        expiresWithinMs: undefined,
      });
    });
  }
});

Deno.test("conformance: EtcdKv on a three-member etcd cluster", async (t) => {
  await using cluster = await startEtcdCluster();
  for (const [i, [name, run]] of CASES.entries()) {
    await t.step(name, async () => {
      const prefix = `conformance/${i}/`;
      using kv = new EtcdKv({ endpoints: cluster.endpoints, prefix, timeoutMs: 5000 });
      await run({
        name: "etcd",
        kv,
        concurrently: (tasks) => workerProcesses(cluster, prefix, tasks),
        // One bucket granularity (1 s) late at most, plus etcd's lease checks and a loaded machine.
        expiresWithinMs: 5000,
      });
    });
  }
  await t.step("with the whole cluster paused, a call fails as unavailable within about its deadline", async () => {
    using kv = new EtcdKv({ endpoints: cluster.endpoints, prefix: "conformance/deadline/", timeoutMs: 1000 });
    await kv.set(["before"], 1);
    await Promise.all(cluster.endpoints.map((_, i) => cluster.pause(i)));
    try {
      const timed = async (call: () => Promise<unknown>) => {
        const started = Date.now();
        const error = await call().then(() => undefined, (e) => e);
        assert.equal(error?.code, "unavailable", String(error));
        return { error, elapsed: Date.now() - started };
      };
      // A read waits out its deadline (asking every member in turn)…
      const read = await timed(() => kv.get(["before"]));
      assert.ok(read.elapsed >= 950 && read.elapsed < 3000, `read failed after ${read.elapsed} ms, deadline 1000 ms`);
      assert.match(read.error.message, /within 1000 ms/);
      // …a write gives up as soon as its member does not answer a status probe, its outcome unknown.
      const write = await timed(() => kv.set(["during"], 1));
      assert.ok(write.elapsed < 3000, `write failed after ${write.elapsed} ms, deadline 1000 ms`);
      assert.match(write.error.message, /outcome unknown/);
    } finally {
      cluster.endpoints.forEach((_, i) => cluster.resume(i));
    }
    await cluster.leaderIndex();
    assert.equal((await kv.get(["before"])).value, 1);
  });
});
