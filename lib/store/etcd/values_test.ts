import assert from "node:assert/strict";
import { decodeValue, encodeU64, encodeValue } from "./values.ts";

const roundTrip = (value: unknown) => decodeValue(encodeValue(value));

Deno.test("every kind of value the services store round-trips", () => {
  const values: unknown[] = [
    { id: "o1", items: [{ bookId: "b1", quantity: 2 }], total: 12.5, note: undefined, gift: false },
    ["a", 1, null, undefined, [2n]],
    "",
    "text \u{1f4da}",
    0,
    -0,
    NaN,
    -1.25,
    Number.MAX_SAFE_INTEGER,
    123456789012345678901234567890n,
    -5n,
    true,
    false,
    null,
    undefined,
    new Uint8Array([0, 1, 255]),
    new Uint8Array(),
    new Date(1_700_000_000_000),
    new Map<unknown, unknown>([["a", 1], [2, { b: new Set([1, 2]) }]]),
    new Set(["x", "y"]),
    { bytes: new Uint8Array([7]), when: new Date(0) },
  ];
  for (const value of values) assert.deepEqual(roundTrip(value), value);
  assert.ok(Object.is(roundTrip(-0), -0));
});

Deno.test("a Deno.KvU64 keeps its class and its 64 bits", () => {
  for (const n of [0n, 1n, 255n, 1n << 32n, (1n << 64n) - 1n]) {
    const decoded = roundTrip(new Deno.KvU64(n));
    assert.ok(decoded instanceof Deno.KvU64);
    assert.equal(decoded.value, n);
    assert.deepEqual(encodeValue(new Deno.KvU64(n)), encodeU64(n));
  }
  assert.equal(encodeU64(1n).length, 9);
});

Deno.test("a top-level Uint8Array is stored as its bytes, and comes back as its own copy", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  const encoded = encodeValue(bytes);
  assert.equal(encoded.length, 4);
  const decoded = roundTrip(bytes) as Uint8Array;
  assert.deepEqual(decoded, bytes);
  decoded[0] = 9;
  assert.equal(bytes[0], 1);
});

Deno.test("what Deno KV refuses is refused: functions, oversized values, unknown bytes", () => {
  assert.throws(() => encodeValue(() => 1), TypeError);
  assert.throws(() => encodeValue("x".repeat(70_000)), /Value too large/);
  assert.throws(() => decodeValue(new Uint8Array([0x7f, 1])), /not a stored value/);
  assert.throws(() => decodeValue(new Uint8Array([0x03, 1, 2])), /not a stored value/);
});
