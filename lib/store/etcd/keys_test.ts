import assert from "node:assert/strict";
import fc from "fast-check";
import { compareBytes, decodeKey, encodeKey } from "./keys.ts";

// A NaN with the sign bit set: Deno KV keeps it apart from NaN and sorts it first.
const negativeNaN = (() => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, 0xfff8000000000001n);
  return view.getFloat64(0);
})();

const keyPart: fc.Arbitrary<Deno.KvKeyPart> = fc.oneof(
  fc.uint8Array({ maxLength: 4 }),
  fc.string({ maxLength: 4, unit: "binary" }),
  fc.constantFrom("", "\0", "a\0", "a", "ab", "\u00ff", "\u{10ffff}"),
  fc.bigInt({ min: -(1n << 80n), max: 1n << 80n }),
  fc.constantFrom(0n, -1n, 1n, 255n, -255n, 256n, -256n, (1n << 64n) - 1n, -(1n << 64n), 1n << 2000n, -(1n << 2000n)),
  // V8 may drop a NaN's sign wherever it copies a number (double arrays): the sign has its own test below.
  fc.double().map((n) => Number.isNaN(n) ? NaN : n),
  fc.constantFrom(0, -0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE),
  fc.boolean(),
);
const kvKey = fc.array(keyPart, { minLength: 1, maxLength: 3 });

// How Deno KV tells keys apart, to compare lists without tripping on NaN or -0.
function keyId(key: Deno.KvKey): string {
  return Array.from(encodeKey(key), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("encoded keys sort as Deno KV sorts the keys", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(kvKey, { minLength: 1, maxLength: 40 }), async (keys) => {
      using kv = await Deno.openKv(":memory:");
      for (const key of keys) await kv.set(key, 1);
      const listed: string[] = [];
      for await (const entry of kv.list({ prefix: [] })) listed.push(keyId(entry.key));
      const sorted = [...new Set(keys.map(keyId))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      assert.deepEqual(listed, sorted);
    }),
    { numRuns: 60 },
  );
});

Deno.test("a NaN with its sign bit set is its own key, before -Infinity, as in Deno KV", async () => {
  using kv = await Deno.openKv(":memory:");
  // Mixed arrays keep each number boxed, sign bit and all.
  const keys: Deno.KvKey[] = [["n", NaN], ["n", negativeNaN], ["n", -Infinity], ["n", -0], ["n", 0]];
  for (const key of keys) await kv.set(key, 1);
  // Reading a key back copies it into a new array, which loses the sign: compare labels.
  const label = (key: Deno.KvKey) => Object.is(key[1], -0) ? "-0" : String(key[1]);
  const listed: string[] = [];
  for await (const entry of kv.list({ prefix: ["n"] })) listed.push(label(entry.key));
  assert.deepEqual(listed, ["NaN", "-Infinity", "-0", "0", "NaN"]);
  const sorted = [...keys].sort((a, b) => compareBytes(encodeKey(a), encodeKey(b)));
  assert.deepEqual(sorted.map(label), listed);
  assert.ok(keyId(sorted[0]).endsWith("210007ffffffffffff"));
});

Deno.test("a key decodes to itself, -0 included", () => {
  fc.assert(
    fc.property(kvKey, (key) => {
      const decoded = decodeKey(encodeKey(key));
      assert.equal(decoded.length, key.length);
      decoded.forEach((part, i) => {
        const original = key[i];
        if (typeof original === "number") {
          assert.ok(Object.is(part, original) || (Number.isNaN(part) && Number.isNaN(original)));
        } else {
          assert.deepEqual(part, original instanceof Uint8Array ? new Uint8Array(original) : original);
        }
      });
      assert.deepEqual(encodeKey(decoded), encodeKey(key));
    }),
    { numRuns: 500 },
  );
});

Deno.test("the byte layout is FoundationDB's tuple layer, as Deno KV's", () => {
  const hex = (key: Deno.KvKey) => Array.from(encodeKey(key), (b) => b.toString(16).padStart(2, "0")).join(" ");
  assert.equal(hex(["a\0b"]), "02 61 00 ff 62 00");
  assert.equal(hex([new Uint8Array([0, 1])]), "01 00 ff 01 00");
  assert.equal(hex([0n, 1n, -1n, 256n, -256n]), "14 15 01 13 fe 16 01 00 12 fe ff");
  assert.equal(hex([1n << 64n]), "1d 09 01 00 00 00 00 00 00 00 00");
  assert.equal(hex([-(1n << 64n)]), "0b f6 fe ff ff ff ff ff ff ff ff");
  assert.equal(hex([1]), "21 bf f0 00 00 00 00 00 00");
  assert.equal(hex([-1]), "21 40 0f ff ff ff ff ff ff");
  assert.equal(hex([-0]), "21 7f ff ff ff ff ff ff ff");
  assert.equal(hex([NaN]), "21 ff f8 00 00 00 00 00 00");
  assert.equal(hex([negativeNaN]), "21 00 07 ff ff ff ff ff ff");
  assert.equal(hex([false, true]), "26 27");
});

Deno.test("types sort bytes < string < bigint < number < boolean", () => {
  const ordered: Deno.KvKey[] = [[new Uint8Array([0xff])], [""], [-(1n << 100n)], [1n << 100n], [-Infinity], [
    NaN,
  ], [false]];
  for (let i = 1; i < ordered.length; i++) {
    assert.ok(compareBytes(encodeKey(ordered[i - 1]), encodeKey(ordered[i])) < 0, `${i}`);
  }
});

Deno.test("what is not a key part is refused, as Deno KV refuses it", () => {
  assert.throws(() => encodeKey([{} as unknown as string]), TypeError);
  assert.throws(() => encodeKey([1n << 2048n]), RangeError);
  assert.throws(() => decodeKey(new Uint8Array([0x02, 0x61])), /no terminator/);
  assert.throws(() => decodeKey(new Uint8Array([0x21, 0x00])), /ends inside a part/);
  assert.throws(() => decodeKey(new Uint8Array([0x99])), /unknown tag/);
});

Deno.test("compareBytes orders a prefix first", () => {
  assert.ok(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0])) < 0);
  assert.ok(compareBytes(new Uint8Array([2]), new Uint8Array([1, 0xff])) > 0);
  assert.equal(compareBytes(new Uint8Array([1, 2]), new Uint8Array([1, 2])), 0);
});
