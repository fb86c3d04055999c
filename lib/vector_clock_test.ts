import assert from "node:assert/strict";
import { compare, happenedBefore, isConcurrent, lessOrEqual, merge, tick, zeroClock } from "./vector_clock.ts";

Deno.test("tick advances only the process's own counter", () => {
  assert.deepEqual(tick({ a: 1, b: 2 }, "a"), { a: 2, b: 2 });
  assert.deepEqual(tick({}, "c"), { c: 1 });
});

Deno.test("merge takes the element-wise maximum, absent entries counting as zero", () => {
  assert.deepEqual(merge({ a: 3, b: 1 }, { b: 4, c: 2 }), { a: 3, b: 4, c: 2 });
});

Deno.test("compare tells before, after, equal and concurrent", () => {
  assert.equal(compare({ a: 1 }, { a: 2 }), "before");
  assert.equal(compare({ a: 2, b: 1 }, { a: 1 }), "after");
  assert.equal(compare({ a: 1, b: 0 }, { a: 1 }), "equal");
  assert.equal(compare({ a: 1 }, { b: 1 }), "concurrent");
  assert.ok(happenedBefore({ a: 1 }, { a: 1, b: 1 }));
  assert.ok(isConcurrent({ a: 2, b: 0 }, { a: 1, b: 1 }));
  assert.ok(lessOrEqual({}, { a: 0 }));
  assert.ok(!lessOrEqual({ a: 1 }, {}));
});

Deno.test("the checkout's event order is a partial order under these clocks", () => {
  const start = zeroClock(["items", "user", "fraud", "sugg"]);
  const a = tick(start, "items");
  const b = tick(start, "user");
  const c = tick(a, "items");
  const d = tick(b, "fraud");
  const e = tick(merge(c, d), "fraud");
  const f = tick(e, "sugg");
  assert.ok(isConcurrent(a, b));
  assert.ok(isConcurrent(c, d));
  assert.ok(happenedBefore(a, c) && happenedBefore(b, d));
  assert.ok(happenedBefore(c, e) && happenedBefore(d, e) && happenedBefore(e, f));
});
