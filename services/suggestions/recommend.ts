/**
 * Recommendations: content similarity blended with "bought together" counts
 * learned from past orders (kept in this service's store). A book already
 * in the cart is never suggested.
 *
 * @module
 */
import type { Catalog } from "@bookstore/lib/catalog";
import type { BookRef } from "@bookstore/lib/contracts";
import type { SimilarityIndex } from "./similarity.ts";
import { type Kv, MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS } from "@bookstore/lib/store";

/** Weight of co-purchases against content similarity (0..1). */
export const COPURCHASE_WEIGHT = 0.35;

// Pairs one commit counts: a sum is a check and a mutation, and the first commit also checks and sets the marker.
const PAIRS_PER_COMMIT = Math.min(MAX_COMMIT_CHECKS, MAX_COMMIT_MUTATIONS) - 1;

/** Counts, for each book, how often it was bought with each other book. */
export class CoPurchases {
  readonly #kv: Kv;
  readonly #countedMs: number;

  /**
   * Uses `kv` for the counts. An order is remembered as counted for the orders' `retentionMs`, longer than any
   * retry under its idempotency key (kept half as long).
   */
  constructor(kv: Kv, options: { retentionMs: number }) {
    this.#kv = kv;
    this.#countedMs = options.retentionMs;
  }

  /**
   * Records that the books of order `orderId` were bought together (each
   * pair, both ways), once per order: a repeated call for the same order
   * (a retried checkout) counts nothing. Answers whether it counted.
   */
  async record(order: { orderId: string; bookIds: readonly string[] }): Promise<boolean> {
    const unique = [...new Set(order.bookIds)];
    const pairs = unique.flatMap((a) => unique.filter((b) => b !== a).map((b) => [a, b] as const));
    const counted = ["copurchase_order", order.orderId];
    // A commit holds a bounded number of sums (lib/store/limits.ts); commit in chunks, the first with the
    // order's marker, so that a repeat stops there.
    for (let i = 0; i === 0 || i < pairs.length; i += PAIRS_PER_COMMIT) {
      const atomic = this.#kv.atomic();
      if (i === 0) {
        atomic.check({ key: counted, versionstamp: null }).set(counted, true, { expireIn: this.#countedMs });
      }
      for (const [a, b] of pairs.slice(i, i + PAIRS_PER_COMMIT)) atomic.sum(["copurchase", a, b], 1n);
      const result = await atomic.commit();
      if (!result.ok) return false;
    }
    return true;
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
}

interface Scored {
  id: string;
  score: number;
}

/** The `limit` best books to suggest for a cart, never one already in it. */
export function recommend(
  cart: readonly string[],
  options: { catalog: Catalog; index: SimilarityIndex; coPurchases: Map<string, number>; limit: number },
): BookRef[] {
  const similarity = options.index.similarTo(cart);
  const maxCount = Math.max(0, ...options.coPurchases.values());
  const candidates = new Set([...similarity.keys(), ...options.coPurchases.keys()].filter((id) => !cart.includes(id)));
  // Only the best `limit` are kept (a few, against hundreds of candidates): no full sort.
  const better = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.id.localeCompare(b.id) < 0);
  const scored: Scored[] = [];
  for (const id of candidates) {
    if (!options.catalog.get(id)) continue;
    const together = maxCount > 0 ? (options.coPurchases.get(id) ?? 0) / maxCount : 0;
    const entry = { id, score: (1 - COPURCHASE_WEIGHT) * (similarity.get(id) ?? 0) + COPURCHASE_WEIGHT * together };
    if (scored.length === options.limit && !better(entry, scored[scored.length - 1])) continue;
    let at = scored.length;
    while (at > 0 && better(entry, scored[at - 1])) at--;
    scored.splice(at, 0, entry);
    if (scored.length > options.limit) scored.pop();
  }
  // Books with nothing in common with the cart score 0 and follow in id order, as ties do.
  for (const book of options.catalog.books) {
    if (scored.length >= options.limit) break;
    if (!candidates.has(book.bookId) && !cart.includes(book.bookId)) scored.push({ id: book.bookId, score: 0 });
  }
  return scored.slice(0, options.limit).map(({ id }) => {
    const book = options.catalog.get(id)!;
    return { bookId: book.bookId, title: book.title, author: book.author };
  });
}
