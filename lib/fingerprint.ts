/**
 * Keyed fingerprints (HMAC-SHA-256) of sensitive values such as a card number
 * or a contact address: stable enough to count repeat use (velocity), useless
 * to anyone without the key, and never reversible to the value.
 *
 * @module
 */

const encoder = new TextEncoder();

function toHex(bytes: ArrayBuffer, length = bytes.byteLength): string {
  return Array.from(new Uint8Array(bytes).slice(0, length), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The SHA-256 digest of `text`, in hex (for values that are not secret). */
export async function sha256Hex(text: string): Promise<string> {
  return toHex(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** The hex fingerprint of `value` for `purpose` (purposes never collide). */
export async function keyedHash(value: string, options: { key: string; purpose: string }): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(`${options.purpose}:${options.key}`),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, encoder.encode(value));
  return toHex(mac, 16);
}
