/**
 * Velocity counters in the store: how many orders a card or contact placed in
 * the last ten minutes, in one-minute buckets that expire on their own.
 * Keys hold keyed fingerprints, never the card number or the contact.
 *
 * @module
 */
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import type { Kv } from "@bookstore/lib/store";

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
  kv: Kv,
  subject: { kind: "card" | "contact"; fingerprint: string; orderId: string; now?: number },
): Promise<number> {
  const bucket = Math.floor((subject.now ?? Date.now()) / BUCKET_MS);
  const prefix = ["velocity", subject.kind, subject.fingerprint];
  const key = [...prefix, bucket];
  const counted = ["velocity_order", subject.kind, subject.fingerprint, subject.orderId];
  const expireIn = (WINDOW_BUCKETS + 1) * BUCKET_MS;
  // Increment with an expiry: `sum` cannot expire keys, so read, check, write. The window is
  // one range read; the order's marker is written (and checked absent) in the same commit, so
  // the order counts once: a commit refused because the marker exists is a repeat. For the same reason a commit
  // whose outcome is unknown (the etcd leader died under it) is tried again rather than failing the checkout.
  return await commitWithRetry(async () => {
    let total = 0;
    let current: Deno.KvEntryMaybe<Deno.KvU64> = { key, value: null, versionstamp: null };
    const window = kv.list<Deno.KvU64>({
      start: [...prefix, bucket - WINDOW_BUCKETS + 1],
      end: [...prefix, bucket + 1],
    });
    for await (const entry of window) {
      total += Number(entry.value.value);
      if (entry.key[3] === bucket) current = entry;
    }
    const next = new Deno.KvU64((current.value?.value ?? 0n) + 1n);
    const result = await kv.atomic().check(current).check({ key: counted, versionstamp: null })
      .set(key, next, { expireIn })
      .set(counted, true, { expireIn })
      .commit();
    if (result.ok) return total + 1;
    if ((await kv.get(counted)).versionstamp !== null) return total; // counted before: a retried order
    return RETRY;
  }, { what: "velocity count", unknownRetries: 2 });
}
