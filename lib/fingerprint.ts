/**
 * Keyed fingerprints (HMAC-SHA-256) of sensitive values such as a card number
 * or a contact address: stable enough to count repeat use (velocity), useless
 * to anyone without the key, and never reversible to the value.
 *
 * @module
 */

const encoder = new TextEncoder();

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
  return Array.from(new Uint8Array(mac).slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
}
