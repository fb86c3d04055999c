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

/**
 * Counts order `orderId` for `subject` and answers the count within the
 * window, this order included. Counting is idempotent per order id: the same
 * order validated again (a client's retry under its Idempotency-Key) is not
 * counted a second time.
 */
export async function recordAndCount(
  kv: Deno.Kv,
  subject: { kind: "card" | "contact"; fingerprint: string; orderId: string; now?: number },
): Promise<number> {
  const bucket = Math.floor((subject.now ?? Date.now()) / BUCKET_MS);
  const key = ["velocity", subject.kind, subject.fingerprint, bucket];
  const counted = ["velocity_order", subject.kind, subject.fingerprint, subject.orderId];
  const expireIn = (WINDOW_BUCKETS + 1) * BUCKET_MS;
  // Increment with an expiry: `sum` cannot expire keys, so read, check, write;
  // the order's marker is written in the same commit, so it counts once.
  await commitWithRetry(async () => {
    const [current, marker] = await kv.getMany<[Deno.KvU64, true]>([key, counted]);
    if (marker.versionstamp !== null) return undefined;
    const next = new Deno.KvU64((current.value?.value ?? 0n) + 1n);
    const result = await kv.atomic().check(current).check(marker)
      .set(key, next, { expireIn })
      .set(counted, true, { expireIn })
      .commit();
    return result.ok ? undefined : RETRY;
  }, { what: "velocity count" });
  const keys = Array.from(
    { length: WINDOW_BUCKETS },
    (_, i) => ["velocity", subject.kind, subject.fingerprint, bucket - i],
  );
  const entries = await kv.getMany<Deno.KvU64[]>(keys);
  return entries.reduce((sum, entry) => sum + Number(entry.value?.value ?? 0n), 0);
}
