/**
 * Versionstamps from etcd revisions. Deno KV's versionstamp is 20 hex
 * digits that grow with every commit; etcd's revision is a 64-bit counter
 * that grows with every write transaction. A revision `r` is the versionstamp
 * `r` in 16 hex digits followed by `0000`, so that versionstamps compare as
 * strings in revision order.
 *
 * @module
 */

const VERSIONSTAMP = /^[0-9a-f]{20}$/;

/**
 * The versionstamp of revision `revision` (decimal, as the gateway writes it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { revisionOf, versionstampOf } from "./versionstamps.ts";
 * assert.equal(versionstampOf("255"), "00000000000000ff0000");
 * assert.equal(revisionOf("00000000000000ff0000"), "255");
 * ```
 */
export function versionstampOf(revision: string): string {
  return `${BigInt(revision).toString(16).padStart(16, "0")}0000`;
}

/**
 * The revision (decimal) of `versionstamp`, or `undefined` when it is a
 * well-formed versionstamp no etcd revision has (not ending in `0000`: a
 * check on it can only fail). Throws a `TypeError` when it is not a
 * versionstamp at all, as Deno KV does.
 */
export function revisionOf(versionstamp: string): string | undefined {
  if (typeof versionstamp !== "string" || !VERSIONSTAMP.test(versionstamp)) {
    throw new TypeError(`Invalid check: ${JSON.stringify(versionstamp)} is not a versionstamp (20 hex digits)`);
  }
  if (!versionstamp.endsWith("0000")) return undefined;
  return BigInt(`0x${versionstamp.slice(0, 16)}`).toString();
}
