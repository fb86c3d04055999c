/**
 * Velocity counters in Deno KV: how many orders a card or contact placed in
 * the last ten minutes, in one-minute buckets that expire on their own.
 * Keys hold keyed fingerprints, never the card number or the contact.
 *
 * @module
 */
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";

const BUCKET_MS = 60_000;
/** The counting window. */
export const WINDOW_BUCKETS = 10;

/** Counts an order for `subject` and answers the count within the window, this order included. */
export async function recordAndCount(
  kv: Deno.Kv,
  subject: { kind: "card" | "contact"; fingerprint: string; now?: number },
): Promise<number> {
  const bucket = Math.floor((subject.now ?? Date.now()) / BUCKET_MS);
  const key = ["velocity", subject.kind, subject.fingerprint, bucket];
  // Increment with an expiry: `sum` cannot expire keys, so read, check, write.
  await commitWithRetry(async () => {
    const current = await kv.get<Deno.KvU64>(key);
    const next = new Deno.KvU64((current.value?.value ?? 0n) + 1n);
    const result = await kv.atomic().check(current).set(key, next, {
      expireIn: (WINDOW_BUCKETS + 1) * BUCKET_MS,
    }).commit();
    return result.ok ? undefined : RETRY;
  }, { what: "velocity count" });
  const keys = Array.from(
    { length: WINDOW_BUCKETS },
    (_, i) => ["velocity", subject.kind, subject.fingerprint, bucket - i],
  );
  const entries = await kv.getMany<Deno.KvU64[]>(keys);
  return entries.reduce((sum, entry) => sum + Number(entry.value?.value ?? 0n), 0);
}
