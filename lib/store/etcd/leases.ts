/**
 * `expireIn` on etcd leases, without a lease per key. A key that must live
 * `expireIn` ms is attached to the lease of its expiry bucket: its expiry
 * time rounded up to a granularity of max(1 s, expireIn / 16). Every key of
 * a bucket shares one lease, granted once (the grant is cached, so
 * concurrent commits share it too), whose TTL reaches at least to the end of
 * the bucket: a key is deleted at most one granularity (about 6%) late, and
 * never early — while the etcd leader stays. A new leader gives every lease
 * back the TTL it had at the last checkpoint, so the members must run with
 * `--experimental-enable-lease-checkpoint` (`etcdMemberArgs` does; etcd 3.4
 * checkpoints every 5 minutes): without it every election restarts every
 * lease at its full TTL, and a long-lived key on a cluster that elects more
 * often than its TTL would never expire.
 *
 * @module
 */

const MIN_GRANULARITY_MS = 1000;
const GRANULARITY_FRACTION = 16;

/**
 * When the lease of a key set at `now` to expire `expireIn` ms later ends:
 * its expiry rounded up to the bucket's granularity.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { bucketEnd } from "./leases.ts";
 * assert.equal(bucketEnd(10_500, 2_000), 13_000);
 * assert.equal(bucketEnd(0, 160_000), 160_000);
 * ```
 */
export function bucketEnd(now: number, expireIn: number): number {
  const granularity = Math.max(MIN_GRANULARITY_MS, expireIn / GRANULARITY_FRACTION);
  return Math.ceil((now + expireIn) / granularity) * granularity;
}

/** Options of {@linkcode LeaseBuckets}. */
export interface LeaseBucketsOptions {
  /** Grants a lease of `ttlSeconds` (etcd may make it longer, never shorter) and answers its id. */
  grant: (ttlSeconds: number) => Promise<string>;
  /** The clock (tests give a fake). @default Date.now */
  now?: () => number;
}

/** The leases of the expiry buckets in use, each granted once. */
export class LeaseBuckets {
  readonly #grant: (ttlSeconds: number) => Promise<string>;
  readonly #now: () => number;
  // Each bucket's grant, and its lease id once granted (so that forget() acts at once).
  readonly #buckets = new Map<number, { lease: Promise<string>; id?: string }>();

  /** Buckets whose leases `options.grant` grants. */
  constructor(options: LeaseBucketsOptions) {
    this.#grant = options.grant;
    this.#now = options.now ?? Date.now;
  }

  /** The id of a lease that outlives `expireIn` ms from now by at most one granularity. */
  leaseFor(expireIn: number): Promise<string> {
    const now = this.#now();
    for (const end of this.#buckets.keys()) {
      if (end <= now) this.#buckets.delete(end);
    }
    const end = bucketEnd(now, expireIn);
    const cached = this.#buckets.get(end);
    if (cached) return cached.lease;
    // Counted from before the grant is sent: the lease's own clock starts later, so it ends no earlier than `end`.
    const bucket: { lease: Promise<string>; id?: string } = {
      lease: this.#grant(Math.max(1, Math.ceil((end - now) / 1000))),
    };
    this.#buckets.set(end, bucket);
    bucket.lease.then((id) => bucket.id = id, () => {
      if (this.#buckets.get(end) === bucket) this.#buckets.delete(end);
    });
    return bucket.lease;
  }

  /** Stops handing out `leaseId` (etcd no longer has it). */
  forget(leaseId: string): void {
    for (const [end, bucket] of this.#buckets) {
      if (bucket.id === leaseId) this.#buckets.delete(end);
    }
  }

  /** How many buckets have a lease (granted or being granted). */
  get size(): number {
    return this.#buckets.size;
  }
}
