import assert from "node:assert/strict";
import { bucketEnd, LeaseBuckets } from "./leases.ts";

Deno.test("a bucket ends at or after the expiry, by less than one granularity (max(1 s, expireIn/16))", () => {
  for (const expireIn of [1, 50, 999, 1000, 1500, 20_000, 60_000, 3_600_000]) {
    const granularity = Math.max(1000, expireIn / 16);
    for (const now of [0, 1, 999, 1000, 123_456, 1_700_000_000_123]) {
      const end = bucketEnd(now, expireIn);
      assert.ok(end >= now + expireIn, `never early: ${now} + ${expireIn} -> ${end}`);
      assert.ok(end < now + expireIn + granularity, `at most one granularity late: ${now} + ${expireIn} -> ${end}`);
    }
  }
});

Deno.test("keys expiring in the same bucket share one lease, granted once, with a TTL reaching the bucket's end", async () => {
  let clock = 10_200;
  const grants: number[] = [];
  const buckets = new LeaseBuckets({
    now: () => clock,
    grant: (ttl) => {
      grants.push(ttl);
      return Promise.resolve(`lease${grants.length}`);
    },
  });
  const [a, b] = await Promise.all([buckets.leaseFor(2000), buckets.leaseFor(2000)]);
  clock = 10_700;
  const c = await buckets.leaseFor(2000);
  assert.deepEqual([a, b, c], ["lease1", "lease1", "lease1"]);
  // The bucket ends at 13 000: 2.8 s after the first grant, so 3 s.
  assert.deepEqual(grants, [3]);
  clock = 11_100;
  assert.equal(await buckets.leaseFor(2000), "lease2");
  assert.deepEqual(grants, [3, 3]);
});

Deno.test("past buckets are dropped; a failed grant or a forgotten lease is granted again", async () => {
  let clock = 0;
  let fail = true;
  let granted = 0;
  const buckets = new LeaseBuckets({
    now: () => clock,
    grant: () => fail ? Promise.reject(new Error("down")) : Promise.resolve(`lease${++granted}`),
  });
  await assert.rejects(buckets.leaseFor(5000), /down/);
  fail = false;
  assert.equal(await buckets.leaseFor(5000), "lease1");
  buckets.forget("lease1");
  assert.equal(await buckets.leaseFor(5000), "lease2");
  clock = 60_000;
  await buckets.leaseFor(5000);
  assert.equal(buckets.size, 1);
});
