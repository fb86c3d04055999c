/**
 * Deno KV's tuple keys as bytes whose byte order is Deno KV's key order:
 * FoundationDB's tuple layer, as Deno KV itself encodes keys. Each part is a
 * type tag and its value: bytes (0x01) and strings (0x02, UTF-8) with 0x00
 * escaped as 0x00 0xff and a 0x00 terminator, so that a shorter part sorts
 * before any longer one it begins; bigints as FoundationDB integers
 * (0x0b–0x1d, the tag saying sign and length); numbers (0x21) as IEEE-754
 * big-endian with the bits arranged to sort numerically; false (0x26) and
 * true (0x27). The tags give the type order: bytes < string < bigint <
 * number < boolean.
 *
 * @module
 */

const BYTES = 0x01;
const STRING = 0x02;
const NEG_INT_START = 0x0b;
const INT_ZERO = 0x14;
const POS_INT_END = 0x1d;
const DOUBLE = 0x21;
const FALSE = 0x26;
const TRUE = 0x27;
const ESCAPE = 0xff;
// Integers up to 8 bytes carry their length in the tag; longer ones in a byte after it.
const MAX_SHORT_INT_BYTES = 8;
const SIGN_BIT = 1n << 63n;
const ALL_BITS = (1n << 64n) - 1n;
// Deno KV keeps a NaN's sign and nothing else of its payload.
const NAN_POSITIVE = 0x7ff8000000000000n;
const NAN_NEGATIVE = 0xfff8000000000000n;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder("utf-8", { fatal: true });

/** A growable byte buffer, so that encoding a key allocates once or twice. */
class ByteWriter {
  #bytes = new Uint8Array(64);
  #length = 0;

  push(byte: number): void {
    if (this.#length === this.#bytes.length) this.#grow(1);
    this.#bytes[this.#length++] = byte;
  }

  pushAll(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#bytes.length) this.#grow(bytes.length);
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  bytes(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  #grow(atLeast: number): void {
    const next = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + atLeast));
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
  }
}

/**
 * The bytes of `key`, ordered as Deno KV orders keys. Throws a `TypeError`
 * (Deno KV's) for a part of another type.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeKey } from "./keys.ts";
 * assert.deepEqual(encodeKey(["hi", true]), new Uint8Array([0x02, 0x68, 0x69, 0x00, 0x27]));
 * ```
 */
export function encodeKey(key: Deno.KvKey): Uint8Array {
  const out = new ByteWriter();
  for (const part of key) encodePart(out, part);
  return out.bytes();
}

function encodePart(out: ByteWriter, part: Deno.KvKeyPart): void {
  if (typeof part === "string") {
    out.push(STRING);
    pushEscaped(out, utf8.encode(part));
  } else if (typeof part === "number") {
    out.push(DOUBLE);
    out.pushAll(encodeDouble(part));
  } else if (typeof part === "bigint") {
    encodeBigInt(out, part);
  } else if (typeof part === "boolean") {
    out.push(part ? TRUE : FALSE);
  } else if (ArrayBuffer.isView(part)) {
    out.push(BYTES);
    pushEscaped(out, new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  } else {
    throw new TypeError("expected string, number, bigint, ArrayBufferView, boolean");
  }
}

function pushEscaped(out: ByteWriter, bytes: Uint8Array): void {
  let from = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    out.pushAll(bytes.subarray(from, i + 1));
    out.push(ESCAPE);
    from = i + 1;
  }
  out.pushAll(bytes.subarray(from));
  out.push(0);
}

// Negative numbers: every bit flipped (a larger magnitude sorts first); others: the sign bit set.
function encodeDouble(n: number): Uint8Array {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, n);
  let bits = view.getBigUint64(0);
  const negative = (bits & SIGN_BIT) !== 0n;
  if (Number.isNaN(n)) bits = negative ? NAN_NEGATIVE : NAN_POSITIVE;
  view.setBigUint64(0, negative ? bits ^ ALL_BITS : bits ^ SIGN_BIT);
  return new Uint8Array(view.buffer);
}

function decodeDouble(bytes: Uint8Array): number {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  const bits = view.getBigUint64(0);
  const scratch = new DataView(new ArrayBuffer(8));
  scratch.setBigUint64(0, (bits & SIGN_BIT) === 0n ? bits ^ ALL_BITS : bits ^ SIGN_BIT);
  return scratch.getFloat64(0);
}

function magnitudeBytes(magnitude: bigint): Uint8Array {
  let hex = magnitude.toString(16);
  if (hex.length % 2 === 1) hex = `0${hex}`;
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

// The tag orders by sign, then length; a negative's magnitude is stored inverted, so a larger one sorts first.
function encodeBigInt(out: ByteWriter, n: bigint): void {
  if (n === 0n) {
    out.push(INT_ZERO);
    return;
  }
  const negative = n < 0n;
  const bytes = magnitudeBytes(negative ? -n : n);
  if (bytes.length > 255) throw new RangeError("a bigint key part may have at most 255 bytes");
  if (bytes.length <= MAX_SHORT_INT_BYTES) {
    out.push(negative ? INT_ZERO - bytes.length : INT_ZERO + bytes.length);
  } else {
    out.push(negative ? NEG_INT_START : POS_INT_END);
    out.push(negative ? bytes.length ^ 0xff : bytes.length);
  }
  if (negative) { for (let i = 0; i < bytes.length; i++) bytes[i] ^= 0xff; }
  out.pushAll(bytes);
}

function decodeBigInt(bytes: Uint8Array, tag: number, at: number): [bigint, number] {
  let length: number;
  if (tag === NEG_INT_START || tag === POS_INT_END) {
    length = tag === NEG_INT_START ? need(bytes, at, 1)[0] ^ 0xff : need(bytes, at, 1)[0];
    at += 1;
  } else {
    length = Math.abs(tag - INT_ZERO);
  }
  const negative = tag < INT_ZERO;
  const raw = need(bytes, at, length);
  let magnitude = 0n;
  for (const byte of raw) magnitude = (magnitude << 8n) | BigInt(negative ? byte ^ 0xff : byte);
  return [negative ? -magnitude : magnitude, at + length];
}

function need(bytes: Uint8Array, at: number, length: number): Uint8Array {
  if (at + length > bytes.length) throw new TypeError("invalid key: it ends inside a part");
  return bytes.subarray(at, at + length);
}

// An escaped byte string up to its terminator, and where the next part starts.
function decodeEscaped(bytes: Uint8Array, at: number): [Uint8Array, number] {
  const out = new ByteWriter();
  for (let i = at; i < bytes.length; i++) {
    if (bytes[i] !== 0) continue;
    out.pushAll(bytes.subarray(at, i));
    if (bytes[i + 1] !== ESCAPE) return [out.bytes(), i + 1];
    out.push(0);
    at = i + 2;
    i++;
  }
  throw new TypeError("invalid key: a byte string has no terminator");
}

/**
 * The key `bytes` encode (see {@linkcode encodeKey}); throws a `TypeError`
 * for bytes that are not an encoded key.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decodeKey, encodeKey } from "./keys.ts";
 * const key = ["order", -1.5, 42n, new Uint8Array([0, 1]), false];
 * assert.deepEqual(decodeKey(encodeKey(key)), key);
 * ```
 */
export function decodeKey(bytes: Uint8Array): Deno.KvKey {
  const key: Deno.KvKeyPart[] = [];
  let at = 0;
  while (at < bytes.length) {
    const tag = bytes[at++];
    if (tag === STRING || tag === BYTES) {
      const [raw, next] = decodeEscaped(bytes, at);
      key.push(tag === STRING ? utf8Strict.decode(raw) : raw);
      at = next;
    } else if (tag >= NEG_INT_START && tag <= POS_INT_END) {
      const [n, next] = decodeBigInt(bytes, tag, at);
      key.push(n);
      at = next;
    } else if (tag === DOUBLE) {
      key.push(decodeDouble(need(bytes, at, 8)));
      at += 8;
    } else if (tag === FALSE || tag === TRUE) {
      key.push(tag === TRUE);
    } else {
      throw new TypeError(`invalid key: unknown tag 0x${tag.toString(16)}`);
    }
  }
  return key;
}

/** Compares byte strings as etcd orders keys: bytewise, a prefix first. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    if (a[i] !== b[i]) return a[i] - b[i];
  }
  return a.length - b.length;
}
