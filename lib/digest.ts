/**
 * SHA-256 digests in hex for values that are not secret (request digests,
 * content hashes). WebCrypto only, so it runs in the browser too.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * The SHA-256 digest of `text`, in hex.
 *
 * @example
 * ```ts
 * import { sha256Hex } from "./digest.ts";
 * console.log(await sha256Hex("abc")); // "ba7816bf…"
 * ```
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}
