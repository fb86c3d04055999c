/**
 * "Bought together" counts, learned from approved orders and kept in this
 * service's store: for each book, how often it was bought with each other.
 *
 * Recording is a group commit. Orders that arrive while a commit is under way
 * wait for the next one, which counts them all: each order's marker (checked
 * absent, so an order counts once) and one `sum` per pair for the whole
 * group. On etcd a `sum` is a compare-and-swap, and the same popular pair
 * summed by every concurrent checkout made them retry one another (at 8 at
 * once, about 50 a second with some giving up); one commit at a time never
 * races itself.
 *
 * @module
 */
import { commitWithRetry, RETRY } from "@bookstore/lib/kv";
import { type Kv, MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "@bookstore/lib/store";

/** An order's books, to count as bought together. */
export interface BoughtTogether {
  /** The order, counted once. */
  orderId: string;
  /** Its books (repeats count once). */
  bookIds: readonly string[];
}

// An order waiting for its commit: its marker, its pairs, and its caller.
interface Waiting {
  orderId: string;
  pairs: (readonly [string, string])[];
  settle: (counted: boolean) => void;
  fail: (error: unknown) => void;
}

const markerKey = (orderId: string): Deno.KvKey => ["copurchase_order", orderId];
const pairKey = (a: string, b: string): Deno.KvKey => ["copurchase", a, b];

// What one commit may hold: a marker is a check and a set, a pair's sum a check and a mutation.
const COMMIT_SIZE = Math.min(MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS);

/** Counts, for each book, how often it was bought with each other book. */
export class CoPurchases {
  readonly #kv: Kv;
  readonly #countedMs: number;
  readonly #waiting: Waiting[] = [];
  #draining = false;

  /**
   * Uses `kv` for the counts. An order is remembered as counted for the orders' `retentionMs`, longer than any
   * retry under its idempotency key (kept half as long).
   */
  constructor(kv: Kv, options: { retentionMs: number }) {
    this.#kv = kv;
    this.#countedMs = options.retentionMs;
  }

  /**
   * Records that the books of `order` were bought together (each pair, both
   * ways), once per order: a repeated call for the same order (a retried
   * checkout) counts nothing. Answers whether it counted, once committed.
   */
  record(order: BoughtTogether): Promise<boolean> {
    const unique = [...new Set(order.bookIds)];
    const pairs = unique.flatMap((a) => unique.filter((b) => b !== a).map((b) => [a, b] as const));
    return new Promise((settle, fail) => {
      this.#waiting.push({ orderId: order.orderId, pairs, settle, fail });
      this.#drain();
    });
  }

  /** For every book bought with any of `bookIds`, how often. */
  async with(bookIds: readonly string[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    for (const id of new Set(bookIds)) {
      for await (const entry of this.#kv.list<Deno.KvU64>({ prefix: ["copurchase", id] })) {
        const other = entry.key[2] as string;
        counts.set(other, (counts.get(other) ?? 0) + Number(entry.value.value));
      }
    }
    return counts;
  }

  // Commits the waiting orders a group at a time, one commit at a time, until none waits.
  async #drain() {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#waiting.length > 0) {
        const group = this.#nextGroup();
        try {
          const counted = group.length === 1 && !fits(group)
            ? [await this.#alone(group[0])]
            : await this.#together(group);
          group.forEach((waiting, i) => waiting.settle(counted[i]));
        } catch (error) {
          for (const waiting of group) waiting.fail(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  // The longest run of waiting orders whose markers and pairs fit one commit (at least one; no order twice).
  #nextGroup(): Waiting[] {
    const group: Waiting[] = [this.#waiting.shift()!];
    while (this.#waiting.length > 0) {
      const next = this.#waiting[0];
      if (group.some((waiting) => waiting.orderId === next.orderId) || !fits([...group, next])) break;
      group.push(this.#waiting.shift()!);
    }
    return group;
  }

  // Counts a group in one commit; answers, for each order, whether it counted (false: it had been before).
  async #together(group: readonly Waiting[]): Promise<boolean[]> {
    const counted = new Map(group.map((waiting) => [waiting.orderId, true]));
    await commitWithRetry(async () => {
      const counting = group.filter((waiting) => counted.get(waiting.orderId));
      if (counting.length === 0) return;
      const atomic = this.#kv.atomic();
      const sums = new Map<string, { pair: readonly [string, string]; n: bigint }>();
      for (const { orderId, pairs } of counting) {
        atomic.check({ key: markerKey(orderId), versionstamp: null })
          .set(markerKey(orderId), true, { expireIn: this.#countedMs });
        for (const pair of pairs) {
          const id = pair.join("\u0000");
          sums.set(id, { pair, n: (sums.get(id)?.n ?? 0n) + 1n });
        }
      }
      for (const { pair, n } of sums.values()) atomic.sum(pairKey(...pair), n);
      if ((await atomic.commit()).ok) return;
      // An order of the group was counted before: leave it out, and count the others.
      const markers = await Promise.all(counting.map(({ orderId }) => this.#kv.get(markerKey(orderId))));
      markers.forEach((marker, i) => {
        if (marker.versionstamp !== null) counted.set(counting[i].orderId, false);
      });
      return RETRY;
    }, { what: "co-purchase count" });
    return group.map((waiting) => counted.get(waiting.orderId)!);
  }

  // An order too large for one commit: its marker with the first pairs, the rest in more commits. A repeat stops at
  // the marker; a failure midway leaves the order undercounted, which only weakens a suggestion.
  async #alone({ orderId, pairs }: Waiting): Promise<boolean> {
    const first = COMMIT_SIZE - 1;
    for (let i = 0; i === 0 || i < pairs.length; i += i === 0 ? first : COMMIT_SIZE) {
      const atomic = this.#kv.atomic();
      if (i === 0) {
        atomic.check({ key: markerKey(orderId), versionstamp: null })
          .set(markerKey(orderId), true, { expireIn: this.#countedMs });
      }
      for (const pair of pairs.slice(i, i + (i === 0 ? first : COMMIT_SIZE))) atomic.sum(pairKey(...pair), 1n);
      if (!(await atomic.commit()).ok) return false;
    }
    return true;
  }
}

// Whether `group`'s markers and distinct pairs fit in one commit.
function fits(group: readonly Waiting[]): boolean {
  const pairs = new Set(group.flatMap((waiting) => waiting.pairs.map((pair) => pair.join("\u0000"))));
  return group.length + pairs.size <= COMMIT_SIZE;
}
