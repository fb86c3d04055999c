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

/**
 * What identifies an order for its `Idempotency-Key`: the SHA-256 digest of
 * the order with the card reduced to its last four digits and no CVV. The
 * orchestrator stores it to refuse a key reused for another order; the
 * checkout form derives its key from it, so a card number retyped with other
 * spacing (or formatted by autofill) is still the same order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { orderDigest } from "./digest.ts";
 * const order = { creditCard: { number: "4111 1111 1111 1111", expirationDate: "12/30", cvv: "123" } };
 * const retyped = { creditCard: { number: "4111111111111111", expirationDate: "12/30", cvv: "" } };
 * assert.equal(await orderDigest(order), await orderDigest(retyped));
 * ```
 */
export async function orderDigest<T extends { creditCard: { number: string; cvv: string } }>(
  order: T,
): Promise<string> {
  const scrubbed = {
    ...order,
    creditCard: { ...order.creditCard, number: order.creditCard.number.replace(/\D/g, "").slice(-4), cvv: "" },
  };
  return await sha256Hex(JSON.stringify(scrubbed));
}
