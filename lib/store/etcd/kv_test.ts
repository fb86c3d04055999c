/**
 * What only the etcd backend has to get right (the shared semantics are the
 * conformance suite's, `../conformance_test.ts`): paging, lost sum races,
 * shared leases, limits checked before sending, close(), and watches that
 * survive their member's death or silence.
 *
 * @module
 */
import assert from "node:assert/strict";
import { EtcdKv } from "./kv.ts";
import { startEtcdCluster } from "./testing.ts";

/** A fetch that records each call's path and may run `before` ahead of it. */
function recording(before?: (path: string, body: string) => Promise<void>) {
  const paths: string[] = [];
  const wrapped: typeof fetch = async (input, init) => {
    const path = new URL(String(input)).pathname;
    paths.push(path);
    await before?.(path, String(init?.body ?? ""));
    return await fetch(input, init);
  };
  return { fetch: wrapped, paths, count: (path: string) => paths.filter((p) => p === path).length };
}

/** `call`, again while it fails as unavailable (an election under way), for at most 15 s. */
async function retried<T>(call: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await call();
    } catch (error) {
      if ((error as { code?: string }).code !== "unavailable" || Date.now() > deadline) throw error;
    }
  }
}

async function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): Promise<ReadableStreamReadResult<T>> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) =>
    timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms)
  );
  return await Promise.race([reader.read(), timeout]).finally(() => clearTimeout(timer));
}

async function readUntil<T>(reader: ReadableStreamDefaultReader<T>, done: (value: T) => boolean, ms: number) {
  const deadline = Date.now() + ms;
  for (;;) {
    const next = await readWithin(reader, Math.max(1, deadline - Date.now()));
    if (next.done) throw new Error("the watch ended");
    if (done(next.value)) return next.value;
  }
}

Deno.test("EtcdKv on a real cluster", async (t) => {
  await using cluster = await startEtcdCluster();
  let n = 0;
  const open = (options: { fetch?: typeof fetch; timeoutMs?: number; endpoints?: string[] } = {}) =>
    new EtcdKv({ endpoints: cluster.endpoints, prefix: `kv_test/${n++}/`, timeoutMs: 5000, ...options });

  await t.step("a long listing comes page by page, never in one answer", async () => {
    const calls = recording();
    using kv = open({ fetch: calls.fetch });
    for (let batch = 0; batch < 5; batch++) {
      const atomic = kv.atomic();
      for (let i = 0; i < 100; i++) atomic.set(["many", batch * 100 + i], i);
      assert.ok((await atomic.commit()).ok);
    }
    const before = calls.count("/v3/kv/range");
    let listed = 0;
    for await (const entry of kv.list<number>({ prefix: ["many"] })) assert.equal(entry.key[1], listed++);
    assert.equal(listed, 500);
    assert.equal(calls.count("/v3/kv/range") - before, 6, "five full pages of 100, then an empty one");
    const reversed = [];
    for await (const entry of kv.list({ prefix: ["many"] }, { reverse: true, batchSize: 300 })) reversed.push(entry);
    assert.equal(reversed.length, 500);
    assert.deepEqual(reversed[0].key, ["many", 499]);
  });

  await t.step("a sum that loses a race is tried again with the fresh value: no update lost", async () => {
    using rival = open();
    let raced = false;
    const calls = recording(async (path, body) => {
      if (path === "/v3/kv/txn" && body.includes('"compare"') && !raced) {
        raced = true;
        await rival.atomic().sum(["counter"], 10n).commit();
      }
    });
    using kv = new EtcdKv({ endpoints: cluster.endpoints, prefix: `kv_test/${n - 1}/`, timeoutMs: 5000, ...calls });
    await kv.atomic().sum(["counter"], 5n).commit();
    raced = false;
    const result = await kv.atomic().sum(["counter"], 1n).commit();
    assert.ok(result.ok);
    assert.deepEqual((await kv.get(["counter"])).value, new Deno.KvU64(26n));
    assert.ok(calls.count("/v3/kv/txn") >= 4, "the lost transaction was tried again");
  });

  await t.step("a sum beside a check that a rival broke is not applied: the commit is ok: false", async () => {
    using rival = open();
    using kv = new EtcdKv({ endpoints: cluster.endpoints, prefix: `kv_test/${n - 1}/`, timeoutMs: 5000 });
    const entry = await kv.get(["guard"]);
    await rival.set(["guard"], "taken");
    const result = await kv.atomic().check(entry).sum(["guarded"], 1n).commit();
    assert.deepEqual(result, { ok: false });
    assert.equal((await kv.get(["guarded"])).value, null);
  });

  await t.step("keys expiring together share one lease, and a lease gone meanwhile is granted anew", async () => {
    const calls = recording();
    using kv = open({ fetch: calls.fetch });
    for (let i = 0; i < 20; i++) await kv.set(["lease", i], i, { expireIn: 60_000 });
    assert.ok(calls.count("/v3/lease/grant") <= 2, `${calls.count("/v3/lease/grant")} grants for 20 keys`);
    const stored = await fetch(`${cluster.endpoints[0]}/v3/kv/range`, {
      method: "POST",
      body: JSON.stringify({ key: btoa(`kv_test/${n - 1}/`), range_end: btoa(`kv_test/${n - 1}0`) }),
    }).then((response) => response.json());
    // Every lease the keys hold (two when the keys straddled a bucket's edge), so that the next key's bucket, whichever
    // it is, has no lease left but a gone one — or is a new bucket: one grant either way.
    const leases = new Set<string>(stored.kvs.map((kv: { lease?: string }) => kv.lease).filter(Boolean));
    assert.ok(leases.size >= 1);
    for (const lease of leases) {
      await fetch(`${cluster.endpoints[0]}/v3/lease/revoke`, { method: "POST", body: JSON.stringify({ ID: lease }) })
        .then((response) => response.body?.cancel());
    }
    const grants = calls.count("/v3/lease/grant");
    assert.ok((await kv.set(["lease", "after"], 1, { expireIn: 60_000 })).ok);
    assert.equal((await kv.get(["lease", "after"])).value, 1);
    assert.equal(calls.count("/v3/lease/grant"), grants + 1);
  });

  await t.step("a commit over the limits is refused before anything is sent", async () => {
    const calls = recording();
    using kv = open({ fetch: calls.fetch });
    const many = kv.atomic();
    for (let i = 0; i < 129; i++) many.set(["m", i], i);
    await assert.rejects(many.commit(), /Too many mutations \(max 128\)/);
    const heavy = kv.atomic();
    for (let i = 0; i < 13; i++) heavy.set(["h", i], new Uint8Array(65_000));
    await assert.rejects(heavy.commit(), /Total mutation size too large/);
    await assert.rejects(kv.set([], 1), /key cannot be empty/);
    assert.deepEqual(calls.paths, []);
  });

  await t.step("close() ends watches and fails pending calls", async () => {
    const kv = open();
    const reader = kv.watch([["w"]]).getReader();
    await readWithin(reader, 5000);
    const pending = kv.get(["w"]);
    kv.close();
    await assert.rejects(pending, /closed|canceled/);
    assert.equal((await readWithin(reader, 5000)).done, true);
  });

  await t.step("a watch moves to another member when its member dies, and misses nothing", async () => {
    using watcher = open({ timeoutMs: 1000 });
    const prefix = `kv_test/${n - 1}/`;
    using writer = new EtcdKv({ endpoints: cluster.endpoints.slice(1), prefix, timeoutMs: 1000 });
    const reader = watcher.watch([["w"]]).getReader();
    await readWithin(reader, 5000);
    assert.equal(watcher.client.preferred, cluster.endpoints[0]);
    await cluster.kill(0);
    try {
      // A write in flight while the leader dies waits out etcd's own timeout: the caller retries, as services do.
      const { versionstamp } = await retried(() => writer.set(["w"], "after the kill"));
      const seen = await readUntil(reader, ([entry]) => entry.versionstamp === versionstamp, 10_000);
      assert.equal(seen[0].value, "after the kill");
    } finally {
      await reader.cancel();
      await cluster.restart(0);
    }
  });

  await t.step("a watch leaves a paused member, and reads afresh what etcd compacted meanwhile", async () => {
    using watcher = open({ timeoutMs: 500 });
    const prefix = `kv_test/${n - 1}/`;
    using writer = new EtcdKv({ endpoints: cluster.endpoints.slice(1), prefix, timeoutMs: 1000 });
    await writer.set(["w"], 0);
    const reader = watcher.watch([["w"]]).getReader();
    await readWithin(reader, 5000);
    // A change seen through the stream: it is open on member 0, and only its probe can find the member silent.
    const live = await writer.set(["w"], "live");
    await readUntil(reader, ([entry]) => entry.versionstamp === live.versionstamp, 5000);
    assert.equal(watcher.client.preferred, cluster.endpoints[0]);
    await cluster.pause(0);
    try {
      let last = "";
      for (let i = 1; i <= 3; i++) last = (await retried(() => writer.set(["w"], i))).versionstamp;
      const revision = BigInt(`0x${last.slice(0, 16)}`).toString();
      const compacted = await fetch(`${cluster.endpoints[1]}/v3/kv/compaction`, {
        method: "POST",
        body: JSON.stringify({ revision, physical: true }),
      });
      assert.ok(compacted.ok);
      const seen = await readUntil(reader, ([entry]) => entry.versionstamp === last, 10_000);
      assert.equal(seen[0].value, 3);
      assert.notEqual(watcher.client.preferred, cluster.endpoints[0]);
    } finally {
      await reader.cancel();
      cluster.resume(0);
    }
  });
});
