/**
 * What a `list` reads, as Deno KV computes it: the byte range of a selector
 * (a prefix's keys lie in [prefix 0x00, prefix 0xff): every part's tag is
 * above 0x00 and below 0xff), narrowed by a cursor. A cursor is the base64url
 * of the last key read without the selector's common prefix, so a page
 * continues right after it (or, in reverse, right before it).
 *
 * @module
 */
import { compareBytes, encodeKey } from "./keys.ts";

/** A range of encoded keys: `[start, end)`. */
export interface ByteRange {
  /** The first key in the range. */
  start: Uint8Array;
  /** The first key past the range. */
  end: Uint8Array;
}

/** A selector as bytes: where a listing starts and ends, and the prefix its cursors leave out. */
export interface SelectorBytes extends ByteRange {
  /** The bytes every key of the selector begins with (the prefix, or what start and end share). */
  common: Uint8Array;
  /** The selector's own start key, when it has one (a cursor may not reach before it). */
  lower?: Uint8Array;
  /** The selector's own end key, when it has one (a cursor may not reach past it). */
  upper?: Uint8Array;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

const ZERO = new Uint8Array([0x00]);
const FF = new Uint8Array([0xff]);

/**
 * The bytes of `selector`; throws Deno KV's `TypeError`s for a selector it
 * refuses (start outside the prefix, start after end, …).
 */
export function selectorBytes(selector: Deno.KvListSelector): SelectorBytes {
  const prefix = "prefix" in selector && selector.prefix !== undefined ? encodeKey(selector.prefix) : undefined;
  const start = "start" in selector && selector.start !== undefined ? encodeKey(selector.start) : undefined;
  const end = "end" in selector && selector.end !== undefined ? encodeKey(selector.end) : undefined;
  if (prefix) {
    if (start && end) {
      throw new TypeError("Selector can not specify both 'start' and 'end' key when specifying 'prefix'");
    }
    if (start && (!startsWith(start, prefix) || start.length === prefix.length)) {
      throw new TypeError("Start key is not in the keyspace defined by prefix");
    }
    if (end && (!startsWith(end, prefix) || end.length === prefix.length)) {
      throw new TypeError("End key is not in the keyspace defined by prefix");
    }
    return {
      start: start ?? concat(prefix, ZERO),
      end: end ?? concat(prefix, FF),
      common: prefix,
      lower: start,
      upper: end,
    };
  }
  if (!start || !end) throw new TypeError("Selector must specify either 'prefix' or both 'start' and 'end' key");
  if (compareBytes(start, end) > 0) throw new TypeError("Start key is greater than end key");
  let shared = 0;
  while (shared < start.length && shared < end.length && start[shared] === end[shared]) shared++;
  return { start, end, common: start.slice(0, shared), lower: start, upper: end };
}

/** The range still to read of `selector` after `cursor` (before it, in reverse). */
export function rangeAfter(selector: SelectorBytes, options: { cursor?: string; reverse?: boolean }): ByteRange {
  if (!options.cursor) return { start: selector.start, end: selector.end };
  let tail: Uint8Array;
  try {
    // Padding and all, as Deno KV reads cursors.
    tail = Uint8Array.fromBase64(options.cursor, { alphabet: "base64url", lastChunkHandling: "strict" });
  } catch (error) {
    throw new TypeError("invalid cursor", { cause: error });
  }
  const at = concat(selector.common, tail);
  const range = options.reverse ? { start: selector.start, end: at } : { start: concat(at, ZERO), end: selector.end };
  if (selector.lower && compareBytes(range.start, selector.lower) < 0) throw new TypeError("cursor out of bounds");
  if (selector.upper && compareBytes(range.end, selector.upper) > 0) throw new TypeError("cursor out of bounds");
  return range;
}

/** The cursor after `key` (encoded), for `selector`. */
export function cursorOf(selector: SelectorBytes, key: Uint8Array): string {
  return key.subarray(selector.common.length).toBase64({ alphabet: "base64url" });
}
