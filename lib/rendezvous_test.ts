import assert from "node:assert/strict";
import fc from "fast-check";
import { rendezvous, rendezvousOrder } from "./rendezvous.ts";

const instanceSets = fc.uniqueArray(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 9 });

Deno.test("the same key and instances give the same instance, whatever their order", () => {
  fc.assert(
    fc.property(fc.string(), instanceSets, (key, instances) => {
      const chosen = rendezvous(key, instances);
      assert.ok(instances.includes(chosen));
      assert.equal(rendezvous(key, [...instances].reverse()), chosen);
    }),
  );
});

Deno.test("an instance leaving moves only the keys it held; coming back takes back exactly those", () => {
  fc.assert(
    fc.property(fc.array(fc.uuid(), { minLength: 1, maxLength: 50 }), instanceSets, fc.nat(), (keys, all, pick) => {
      fc.pre(all.length > 1);
      const gone = all[pick % all.length];
      const left = all.filter((n) => n !== gone);
      for (const key of keys) {
        const before = rendezvous(key, all);
        const after = rendezvous(key, left);
        if (before !== gone) assert.equal(after, before, `key ${key} moved off live instance ${before}`);
        else assert.equal(after, rendezvousOrder(key, all)[1], "a moved key goes to its next heaviest");
      }
    }),
  );
});

Deno.test("keys spread over the instances", () => {
  const counts = new Map<number, number>();
  for (let i = 0; i < 3000; i++) {
    const chosen = rendezvous(crypto.randomUUID(), [1, 2, 3]);
    counts.set(chosen, (counts.get(chosen) ?? 0) + 1);
  }
  for (const instance of [1, 2, 3]) {
    const share = (counts.get(instance) ?? 0) / 3000;
    assert.ok(share > 0.25 && share < 0.42, `instance ${instance} holds ${share} of the keys`);
  }
});

Deno.test("no instance, no choice", () => {
  assert.throws(() => rendezvous("k", []), /at least one instance/);
});
