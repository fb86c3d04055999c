/**
 * Values as bytes, every value Deno KV stores round-tripping: V8's
 * structured serialization (what Deno KV uses) behind a tag byte; a
 * top-level `Uint8Array` as its bytes, and a `Deno.KvU64` as 8 bytes of its
 * own, so that `sum` reads and writes counters without V8.
 *
 * @module
 */
import { deserialize, serialize } from "node:v8";
import { MAX_VALUE_BYTES } from "../limits.ts";

const V8 = 0x01;
const BYTES = 0x02;
const U64 = 0x03;

/**
 * The bytes of `value`. Throws a `TypeError` for a value V8 cannot clone (a
 * function, say) or one larger than Deno KV allows.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeValue, encodeValue } from "./values.ts";
 * const order = { id: "o1", items: new Map([["b1", 2]]), at: new Date(0) };
 * assert.deepEqual(decodeValue(encodeValue(order)), order);
 * ```
 */
export function encodeValue(value: unknown): Uint8Array {
  let body: Uint8Array;
  let tag: number;
  if (value instanceof Deno.KvU64) {
    return encodeU64(value.value);
  } else if (value instanceof Uint8Array && value.constructor === Uint8Array) {
    [tag, body] = [BYTES, value];
  } else {
    try {
      [tag, body] = [V8, serialize(value)];
    } catch (error) {
      throw new TypeError(error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
  if (body.length > MAX_VALUE_BYTES) throw new TypeError(`Value too large (max ${MAX_VALUE_BYTES} bytes)`);
  const bytes = new Uint8Array(body.length + 1);
  bytes[0] = tag;
  bytes.set(body, 1);
  return bytes;
}

/** The bytes of a `Deno.KvU64` holding `n` (little-endian, as Deno KV stores it). */
export function encodeU64(n: bigint): Uint8Array {
  const bytes = new Uint8Array(9);
  bytes[0] = U64;
  new DataView(bytes.buffer).setBigUint64(1, n, true);
  return bytes;
}

/** The value `bytes` encode (see {@linkcode encodeValue}); throws a `TypeError` for anything else. */
export function decodeValue(bytes: Uint8Array): unknown {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case V8:
      return deserialize(body);
    case BYTES:
      return body.slice();
    case U64:
      if (body.length !== 8) break;
      return new Deno.KvU64(new DataView(body.buffer, body.byteOffset, 8).getBigUint64(0, true));
  }
  throw new TypeError(`not a stored value (tag ${bytes[0]}, ${bytes.length} bytes)`);
}
