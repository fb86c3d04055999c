import assert from "node:assert/strict";
import { compareBytes, encodeKey } from "./keys.ts";
import { cursorOf, rangeAfter, selectorBytes } from "./selectors.ts";

const KEYS: Deno.KvKey[] = [
  ["a"],
  ["a", ""],
  ["a", "b"],
  ["a", "b", 1n],
  ["a", "c"],
  ["a", 1],
  ["a", -1],
  ["a", new Uint8Array([0])],
  ["b"],
  ["b", true],
];

const SELECTORS: Deno.KvListSelector[] = [
  { prefix: [] },
  { prefix: ["a"] },
  { prefix: ["a"], start: ["a", "b"] },
  { prefix: ["a"], end: ["a", "c"] },
  { start: ["a"], end: ["b"] },
  { start: ["a", "b"], end: ["a", 1] },
  { start: ["a", ""], end: ["b", true] },
];

function inRange(range: { start: Uint8Array; end: Uint8Array }, key: Deno.KvKey): boolean {
  const bytes = encodeKey(key);
  return compareBytes(bytes, range.start) >= 0 && compareBytes(bytes, range.end) < 0;
}

Deno.test("selectors, cursors and the ranges after them are Deno KV's, page by page", async () => {
  using kv = await Deno.openKv(":memory:");
  for (const key of KEYS) await kv.set(key, true);
  for (const selector of SELECTORS) {
    const bytes = selectorBytes(selector);
    for (const reverse of [false, true]) {
      const expected: Deno.KvKey[] = [];
      for await (const entry of kv.list(selector, { reverse })) expected.push(entry.key);
      assert.deepEqual(KEYS.filter((key) => inRange(bytes, key)).length, expected.length, JSON.stringify(selector));
      // Page one entry at a time, both ways: the cursor and the range after it must agree with Deno's.
      let cursor: string | undefined;
      for (const key of expected) {
        const page = kv.list(selector, { reverse, cursor, limit: 1 });
        const entry = await page.next();
        assert.deepEqual(entry.value?.key, key);
        const range = rangeAfter(bytes, { cursor, reverse });
        const mine = KEYS.filter((k) => inRange(range, k)).sort((x, y) => compareBytes(encodeKey(x), encodeKey(y)));
        assert.deepEqual(reverse ? mine.at(-1) : mine[0], key, `${JSON.stringify(selector)} after ${cursor}`);
        assert.equal(cursorOf(bytes, encodeKey(key)), page.cursor);
        cursor = page.cursor;
      }
      const rest = rangeAfter(bytes, { cursor, reverse });
      assert.equal(KEYS.filter((k) => inRange(rest, k)).length, 0);
    }
  }
});

Deno.test("what Deno KV refuses in a selector or a cursor is refused with its message", async () => {
  using kv = await Deno.openKv(":memory:");
  const refused: [Deno.KvListSelector, string | undefined][] = [
    [{ prefix: ["a"], start: ["b"] }, undefined],
    [{ prefix: ["a"], start: ["a"] }, undefined],
    [{ prefix: ["a"], end: ["b"] }, undefined],
    [{ start: ["b"], end: ["a"] }, undefined],
    [{ start: ["a"], end: ["b"] }, "AA=="],
    [{ prefix: ["a"], start: ["a", 5] }, "AQ=="],
    [{ prefix: ["a"] }, "AA"],
    [{ prefix: ["a"] }, "AB=="],
    [{ prefix: ["a"] }, "IT/wAAAAAAAA"],
    [{ start: ["a"] } as unknown as Deno.KvListSelector, undefined],
  ];
  for (const [selector, cursor] of refused) {
    const theirs = await (async () => {
      for await (const _ of kv.list(selector, { cursor })) break;
    })().then(() => "accepted", (error) => error.message);
    const mine = (() => {
      try {
        rangeAfter(selectorBytes(selector), { cursor });
        return "accepted";
      } catch (error) {
        assert.ok(error instanceof TypeError);
        return error.message;
      }
    })();
    assert.notEqual(mine, "accepted", JSON.stringify(selector));
    assert.ok(theirs.includes(mine), `${mine} vs ${theirs}`);
  }
});
