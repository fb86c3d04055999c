/**
 * Keyed fingerprints (HMAC-SHA-256) of sensitive values such as a card number
 * or a contact address: stable enough to count repeat use (velocity), useless
 * to anyone without the key, and never reversible to the value. Server-only:
 * it uses `node:crypto`'s synchronous HMAC, which costs a checkout far less
 * than WebCrypto's `importKey` and `sign` round trips (bench/RESULTS.md).
 *
 * @module
 */
import { createHmac } from "node:crypto";

/**
 * The hex fingerprint of `value` for `purpose` (purposes never collide): the
 * first 16 bytes of HMAC-SHA-256 keyed with `purpose:key`.
 */
export function keyedHash(value: string, options: { key: string; purpose: string }): Promise<string> {
  const mac = createHmac("sha256", `${options.purpose}:${options.key}`).update(value).digest("hex");
  return Promise.resolve(mac.slice(0, 32));
}
