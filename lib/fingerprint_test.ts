import assert from "node:assert/strict";
import { keyedHash } from "./fingerprint.ts";

Deno.test("fingerprints are HMAC-SHA-256 keyed by purpose and key, cut to 16 bytes", async () => {
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode("card:a-secret-key-of-16"),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode("4111111111111111")));
  const expected = Array.from(mac.slice(0, 16), (b) => b.toString(16).padStart(2, "0")).join("");
  assert.equal(await keyedHash("4111111111111111", { key: "a-secret-key-of-16", purpose: "card" }), expected);
  assert.notEqual(
    await keyedHash("4111111111111111", { key: "a-secret-key-of-16", purpose: "contact" }),
    expected,
    "purposes never collide",
  );
});
